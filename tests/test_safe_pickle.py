"""The restricted unpickler: SMPL-style pickles load to numpy, anything else is refused unexecuted."""
from __future__ import annotations

import os
import pickle
import sys
import types

import numpy as np
import pytest

from bridge.safe_pickle import UnsafePickleError, load_pickle, loads
from smpl_pickle_fixtures import op_dict, op_global, op_int, op_str, op_tuple, py2_pickle, smpl_like_arrays, smpl_like_pickle


# --------------------------------------------------------------------------- loading

def test_python2_smpl_like_pickle_loads_to_numpy(tmp_path):
    arrays = smpl_like_arrays(50)
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(smpl_like_pickle(arrays))
    loaded = load_pickle(path)
    for key, expected in arrays.items():
        assert isinstance(loaded[key], np.ndarray), key
        np.testing.assert_array_equal(loaded[key], expected, err_msg=key)
    assert loaded["J_regressor"].shape == (24, 50)
    assert loaded["bs_type"] == "lrotmin"


def test_python3_pickle_with_fake_chumpy_and_real_sparse_loads(monkeypatch):
    """A chumpy class registered only while pickling; the loader must not need it."""
    sparse = pytest.importorskip("scipy.sparse")
    chumpy = types.ModuleType("chumpy")
    chumpy_ch = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = x
            self._dirty_vars = set()

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    chumpy_ch.Ch = Ch
    monkeypatch.setitem(sys.modules, "chumpy", chumpy)
    monkeypatch.setitem(sys.modules, "chumpy.ch", chumpy_ch)
    dense = np.zeros((3, 5))
    dense[0, 1], dense[2, 4], dense[1, 0] = 0.5, 1.0, 0.25
    payload = {"shapedirs": Ch(np.arange(12.0).reshape(2, 3, 2)), "J_regressor": sparse.csc_matrix(dense),
               "csr": sparse.csr_matrix(dense), "f": np.array([[0, 1, 2]], dtype=np.uint32)}
    blobs = [pickle.dumps(payload, protocol=p) for p in (2, 4, 5)]
    monkeypatch.delitem(sys.modules, "chumpy.ch")
    monkeypatch.delitem(sys.modules, "chumpy")
    for blob in blobs:
        loaded = loads(blob)
        np.testing.assert_array_equal(loaded["shapedirs"], np.arange(12.0).reshape(2, 3, 2))
        np.testing.assert_array_equal(loaded["J_regressor"], dense)
        np.testing.assert_array_equal(loaded["csr"], dense)
        np.testing.assert_array_equal(loaded["f"], [[0, 1, 2]])


# --------------------------------------------------------------------------- refusing


class _SystemCall:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _EvalCall:
    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return (eval, (self.code,))


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_malicious_reduce_is_refused_without_running(tmp_path, protocol):
    marker = tmp_path / "pwned"
    blob = pickle.dumps({"v_template": _SystemCall(f"touch {marker}")}, protocol=protocol)
    with pytest.raises(UnsafePickleError, match="system"):
        loads(blob)
    assert not marker.exists()
    code = f"open({str(marker)!r}, 'w').write('x')"
    with pytest.raises(UnsafePickleError, match="eval"):
        loads(pickle.dumps([_EvalCall(code)], protocol=protocol))
    assert not marker.exists()


def test_refused_global_hidden_inside_chumpy_state(tmp_path):
    marker = tmp_path / "pwned"
    evil = (op_global("os", "system") + op_tuple(op_str(f"touch {marker}".encode())) + pickle.REDUCE)
    state = op_dict({"x": evil})
    blob = py2_pickle({"v_template": op_global("chumpy.ch", "Ch") + pickle.EMPTY_TUPLE + pickle.NEWOBJ + state + pickle.BUILD})
    with pytest.raises(UnsafePickleError, match="os.system"):
        loads(blob)
    assert not marker.exists()


@pytest.mark.parametrize("module,name", [("builtins", "getattr"), ("subprocess", "Popen"),
                                         ("numpy", "load"), ("scipy.sparse", "load_npz"),
                                         ("__builtin__", "__import__")])
def test_other_globals_are_refused_by_name(module, name):
    blob = pickle.PROTO + b"\x02" + op_global(module, name) + pickle.STOP
    with pytest.raises(UnsafePickleError, match=f"{module}.{name}"):
        loads(blob)


def test_allowed_callables_reject_abuse():
    # numpy's reconstruct hook with a non-ndarray class, copyreg's reconstructor with a real class.
    bad_reconstruct = (pickle.PROTO + b"\x02" + op_global("numpy.core.multiarray", "_reconstruct")
                       + op_tuple(op_global("__builtin__", "set"), op_tuple(op_int(0)), op_str(b"b")) + pickle.REDUCE + pickle.STOP)
    with pytest.raises(UnsafePickleError):
        loads(bad_reconstruct)
    bad_reconstructor = (pickle.PROTO + b"\x02" + op_global("copy_reg", "_reconstructor")
                         + op_tuple(op_global("__builtin__", "set"), op_global("__builtin__", "object"), pickle.NONE)
                         + pickle.REDUCE + pickle.STOP)
    with pytest.raises(UnsafePickleError):
        loads(bad_reconstructor)


def test_chumpy_expression_without_value_is_reported():
    blob = py2_pickle({"J": op_global("chumpy.ch_ops", "add") + pickle.EMPTY_TUPLE + pickle.NEWOBJ
                       + op_dict({"a": pickle.NONE}) + pickle.BUILD})
    with pytest.raises(ValueError, match="chumpy.ch_ops.add"):
        loads(blob)
