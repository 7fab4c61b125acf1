"""SMPL-like pickles for the body-model tests, assembled opcode by opcode (no chumpy needed).

Random arrays in SMPL's file layout, not SMPL data.
"""
from __future__ import annotations

import pickle
import struct

import numpy as np


# --------------------------------------------------------------------------- Python 2 pickle writer
# chumpy is not installed (and cannot run here), so SMPL-like pickles are assembled opcode by
# opcode exactly as Python 2 + numpy + chumpy + scipy wrote them: py2 `str` (BINSTRING) payloads,
# `copy_reg`/`__builtin__` module names, numpy.core.multiarray._reconstruct, NEWOBJ + BUILD for
# chumpy.ch.Ch and scipy.sparse.csc.csc_matrix with their __dict__ as state.

def op_str(data: bytes) -> bytes:
    if len(data) < 256:
        return pickle.SHORT_BINSTRING + bytes([len(data)]) + data
    return pickle.BINSTRING + struct.pack("<i", len(data)) + data


def op_int(value: int) -> bytes:
    return pickle.BININT + struct.pack("<i", value)


def op_global(module: str, name: str) -> bytes:
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def op_tuple(*items: bytes) -> bytes:
    return pickle.MARK + b"".join(items) + pickle.TUPLE


def op_dict(entries: dict[str, bytes]) -> bytes:
    body = b"".join(op_str(k.encode()) + v for k, v in entries.items())
    return pickle.EMPTY_DICT + pickle.MARK + body + pickle.SETITEMS


def op_ndarray(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array)
    descr = array.dtype.str  # e.g. '<f8'
    dtype = (op_global("numpy", "dtype") + op_tuple(op_str(descr[1:].encode()), op_int(0), op_int(1)) + pickle.REDUCE
             + op_tuple(op_int(3), op_str(descr[0].encode()), pickle.NONE, pickle.NONE, pickle.NONE,
                      op_int(-1), op_int(-1), op_int(0)) + pickle.BUILD)
    shape = op_tuple(*[op_int(n) for n in array.shape])
    return (op_global("numpy.core.multiarray", "_reconstruct")
            + op_tuple(op_global("numpy", "ndarray"), op_tuple(op_int(0)), op_str(b"b")) + pickle.REDUCE
            + op_tuple(op_int(1), shape, dtype, pickle.NEWFALSE, op_str(array.tobytes())) + pickle.BUILD)


def op_chumpy(array: np.ndarray) -> bytes:
    state = op_dict({
        "x": op_ndarray(array),
        "_dirty_vars": op_global("__builtin__", "set") + op_tuple(pickle.EMPTY_LIST) + pickle.REDUCE,
        "_itr": pickle.NONE,
        "_make_dense": pickle.NEWFALSE,
        "_depends_on_deps": pickle.EMPTY_DICT,
    })
    return op_global("chumpy.ch", "Ch") + pickle.EMPTY_TUPLE + pickle.NEWOBJ + state + pickle.BUILD


def op_csc(dense: np.ndarray) -> bytes:
    rows, cols = dense.shape
    data, indices, indptr = [], [], [0]
    for c in range(cols):
        nz = np.flatnonzero(dense[:, c])
        indices += nz.tolist()
        data += dense[nz, c].tolist()
        indptr.append(len(indices))
    state = op_dict({
        "_shape": op_tuple(op_int(rows), op_int(cols)), "maxprint": op_int(50),
        "data": op_ndarray(np.array(data, dtype=np.float64)),
        "indices": op_ndarray(np.array(indices, dtype=np.int32)),
        "indptr": op_ndarray(np.array(indptr, dtype=np.int32)),
    })
    return op_global("scipy.sparse.csc", "csc_matrix") + pickle.EMPTY_TUPLE + pickle.NEWOBJ + state + pickle.BUILD


def py2_pickle(entries: dict[str, bytes]) -> bytes:
    return pickle.PROTO + b"\x02" + op_dict(entries) + pickle.STOP


def smpl_like_arrays(n_vertices: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random arrays in SMPL's file layout (not SMPL data): small, well-formed."""
    rng = np.random.default_rng(seed)
    weights = rng.random((n_vertices, 24))
    regressor = np.zeros((24, n_vertices))
    for j in range(24):
        ids = rng.choice(n_vertices, size=4, replace=False)
        regressor[j, ids] = 0.25
    kintree = np.array([[4294967295, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21],
                        np.arange(24)], dtype=np.int64)
    return {
        "v_template": rng.normal(size=(n_vertices, 3)),
        "shapedirs": rng.normal(scale=1e-3, size=(n_vertices, 3, 10)),
        "posedirs": np.zeros((n_vertices, 3, 207), dtype=np.float32),
        "weights": weights / weights.sum(axis=1, keepdims=True),
        "J_regressor": regressor,
        "kintree_table": kintree,
        "f": rng.integers(0, n_vertices, size=(2 * n_vertices, 3)).astype(np.uint32),
    }


def smpl_like_pickle(arrays: dict[str, np.ndarray]) -> bytes:
    entries = {}
    for key, value in arrays.items():
        if key in ("v_template", "shapedirs", "posedirs", "weights"):
            entries[key] = op_chumpy(value)
        elif key == "J_regressor":
            entries[key] = op_csc(value)
        else:
            entries[key] = op_ndarray(value)
    entries["bs_type"] = op_str(b"lrotmin")
    return py2_pickle(entries)


def skeleton_body_arrays(body, scale: float = 1.05, seed: int = 0) -> dict[str, np.ndarray]:
    """A small SMPL-format model (4 vertices round each joint) whose skeleton is `body`'s scaled by `scale`, with
    its shape space mixed by a random rotation, in SMPL's file layout (for smpl_like_pickle). Not SMPL data: a
    stand-in for a user's different body model."""
    rng = np.random.default_rng(seed)
    mixing, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    regressor = np.asarray(body.J_regressor, np.float64)
    joints = scale * regressor @ np.asarray(body.v_template, np.float64)
    joint_dirs = scale * np.einsum("jv,vcb->jcb", regressor, np.asarray(body.shapedirs, np.float64)[..., :10])
    offsets = 0.01 * np.array([[1, 1, 1], [-1, -1, 1], [-1, 1, -1], [1, -1, -1]], dtype=np.float64)
    v_template = (joints[:, None, :] + offsets).reshape(-1, 3)
    shapedirs = np.repeat(joint_dirs @ mixing, 4, axis=0)
    j_regressor = np.kron(np.eye(24), np.full((1, 4), 0.25))
    kintree = np.array([[4294967295, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21],
                        np.arange(24)], dtype=np.int64)
    faces = np.array([[4 * j, 4 * j + 1, 4 * j + 2] for j in range(24)], dtype=np.uint32)
    return {
        "v_template": v_template, "shapedirs": shapedirs,
        "posedirs": np.zeros((96, 3, 207), dtype=np.float32), "weights": np.repeat(np.eye(24), 4, axis=0),
        "J_regressor": j_regressor, "kintree_table": kintree, "f": faces,
    }
