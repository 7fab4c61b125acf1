"""A restricted unpickler for a user's own SMPL model file (`SMPL_NEUTRAL.pkl` and friends).

Official SMPL pickles were written by Python 2 with chumpy arrays and a scipy.sparse joint
regressor inside. chumpy does not run on Python 3.11 / numpy 2, and a plain `pickle.load` would
execute whatever a tampered file asks for. This unpickler resolves only a short allow-list of
globals (numpy array and dtype reconstruction, `set`, copyreg's object reconstructor) and stands
in inert placeholder classes for chumpy objects and scipy.sparse CSC/CSR/COO matrices, which are
turned into plain dense numpy arrays afterwards. Every other global is refused before anything is
called, so loading never runs code from the file. Numpy only: scipy is not needed.
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy 1.x (e.g. an older Blender)
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle references a global this loader refuses to resolve."""


class _Placeholder:
    """Inert stand-in for a refused-but-known class: records constructor args and state only."""

    class_path = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> "_Placeholder":
        instance = object.__new__(cls)
        instance.args = args
        instance.state = None
        return instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # INST/OBJ opcodes call the class
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _ChumpyObject(_Placeholder):
    """A chumpy object (chumpy.ch.Ch and subclasses); a leaf Ch keeps its value in state['x']."""


class _SparseMatrix(_Placeholder):
    """A scipy.sparse matrix; `format` is 'csc', 'csr' or 'coo'."""

    format = ""


_placeholder_classes: dict[tuple[str, str], type[_Placeholder]] = {}


def _placeholder(module: str, name: str, base: type[_Placeholder], **attributes: Any) -> type[_Placeholder]:
    key = (module, name)
    if key not in _placeholder_classes:
        _placeholder_classes[key] = type(name, (base,), {"class_path": f"{module}.{name}", **attributes})
    return _placeholder_classes[key]


def _reconstruct_ndarray(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's pickle hook for arrays, limited to plain ndarrays."""
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"refusing to reconstruct an array of type {subtype!r}")
    return _multiarray._reconstruct(np.ndarray, shape, dtype)


def _array_from_buffer(buffer: Any, dtype: Any, shape: Any, order: str) -> np.ndarray:
    """numpy's protocol-5 pickle hook for arrays; object arrays are refused."""
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise UnsafePickleError("refusing an object array in a protocol-5 buffer")
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order)


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """copyreg._reconstructor (protocol 0/1 objects), only for placeholders built on `object`."""
    if not (isinstance(cls, type) and issubclass(cls, _Placeholder)) or base is not object or state is not None:
        raise UnsafePickleError(f"refusing to reconstruct {cls!r} from {base!r}")
    return cls.__new__(cls)


def _latin1_encode(text: Any, encoding: str = "latin1") -> bytes:
    """_codecs.encode as Python 3 writes bytes into protocol-2 pickles; latin-1 text only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError("refusing _codecs.encode other than latin-1 text")
    return text.encode("latin1")


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {("_codecs", "encode"): _latin1_encode}
for _module in ("copy_reg", "copyreg"):
    _ALLOWED_GLOBALS[(_module, "_reconstructor")] = _reconstructor
for _module in ("__builtin__", "builtins"):
    _ALLOWED_GLOBALS.update({(_module, "object"): object, (_module, "set"): set, (_module, "frozenset"): frozenset})
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED_GLOBALS[(_module, "_reconstruct")] = _reconstruct_ndarray
    _ALLOWED_GLOBALS[(_module, "scalar")] = _multiarray.scalar
for _module in ("numpy.core.numeric", "numpy._core.numeric"):
    _ALLOWED_GLOBALS[(_module, "_frombuffer")] = _array_from_buffer
_ALLOWED_GLOBALS[("numpy", "ndarray")] = np.ndarray
_ALLOWED_GLOBALS[("numpy", "dtype")] = np.dtype

_SPARSE_FORMATS = {"csc_matrix": "csc", "csr_matrix": "csr", "coo_matrix": "coo"}


class RestrictedUnpickler(pickle.Unpickler):
    """pickle.Unpickler that resolves only allow-listed globals (see module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "chumpy" or module.startswith("chumpy."):
            return _placeholder(module, name, _ChumpyObject)
        if (module == "scipy.sparse" or module.startswith("scipy.sparse.")) and name in _SPARSE_FORMATS:
            return _placeholder(module, name, _SparseMatrix, format=_SPARSE_FORMATS[name])
        allowed = _ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise UnsafePickleError(
                f"the file references {module}.{name}, which is not allowed in a body model "
                "(only numpy arrays, chumpy arrays and scipy.sparse matrices are)")
        return allowed

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("persistent ids are not allowed in a body model file")


def loads(data: bytes) -> Any:
    """Unpickle `data` (Python 2 or 3 pickle) with the restrictions; chumpy/sparse become numpy."""
    return load_pickle(io.BytesIO(data))


def load_pickle(source: str | Path | BinaryIO) -> Any:
    """Unpickle a file path or binary file object with the restrictions; chumpy/sparse become numpy.

    Raises UnsafePickleError naming the first refused global, ValueError for chumpy expressions
    that cannot be evaluated without chumpy.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            raw = RestrictedUnpickler(handle, encoding="latin1").load()
    else:
        raw = RestrictedUnpickler(source, encoding="latin1").load()
    return _to_plain(raw, {})


def _to_plain(value: Any, memo: dict[int, Any]) -> Any:
    """Replace placeholders by numpy arrays, recursively through dicts, lists and tuples."""
    key = id(value)
    if key in memo:
        return memo[key]
    if isinstance(value, _ChumpyObject):
        result = _chumpy_to_numpy(value, memo)
    elif isinstance(value, _SparseMatrix):
        result = _sparse_to_dense(value, memo)
    elif isinstance(value, dict):
        result = {k: _to_plain(v, memo) for k, v in value.items()}
    elif isinstance(value, list):
        result = [_to_plain(v, memo) for v in value]
    elif isinstance(value, tuple):
        result = tuple(_to_plain(v, memo) for v in value)
    else:
        result = value
    memo[key] = result
    return result


def _chumpy_to_numpy(obj: _ChumpyObject, memo: dict[int, Any]) -> np.ndarray:
    state = obj.state
    if isinstance(state, dict) and "x" in state:
        return np.asarray(_to_plain(state["x"], memo))
    if obj.args and not isinstance(obj.args[0], _Placeholder):
        return np.asarray(_to_plain(obj.args[0], memo))
    raise ValueError(f"the file stores a chumpy expression ({obj.class_path}) instead of an array; "
                     "re-save the model with plain arrays (e.g. with chumpy installed: np.array(value))")


def _sparse_to_dense(obj: _SparseMatrix, memo: dict[int, Any]) -> np.ndarray:
    state = _to_plain(obj.state, memo)
    if not isinstance(state, dict):
        raise ValueError(f"unreadable {obj.class_path} in the file")
    shape = state.get("_shape", state.get("shape"))
    if shape is None or len(shape) != 2:
        raise ValueError(f"{obj.class_path} without a 2-D shape in the file")
    rows, cols = int(shape[0]), int(shape[1])
    dense = np.zeros((rows, cols), dtype=np.asarray(state.get("data", np.zeros(0))).dtype)
    if obj.format == "coo":
        row, col = np.asarray(state["row"], np.int64), np.asarray(state["col"], np.int64)
        np.add.at(dense, (row, col), np.asarray(state["data"]))
        return dense
    data = np.asarray(state["data"])
    indices = np.asarray(state["indices"], dtype=np.int64)
    indptr = np.asarray(state["indptr"], dtype=np.int64)
    major = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    if obj.format == "csc":
        np.add.at(dense, (indices, major), data)
    else:
        np.add.at(dense, (major, indices), data)
    return dense
