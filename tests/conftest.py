"""Shared fixtures: repository paths and the motion corpus beside the checkout."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def motion_dir() -> Path:
    """The CMU motion corpus in ../shared/motion (skips where a checkout has none)."""
    path = REPO.parent / "shared" / "motion"
    if not path.is_dir():
        pytest.skip("no ../shared/motion beside this checkout")
    return path


@pytest.fixture(scope="session")
def free_body():
    """The bundled free body model's arrays, loaded once for the whole run."""
    from bridge.body_model import load_body_model_arrays

    return load_body_model_arrays()


@pytest.fixture(scope="session")
def free_smpl_layer(free_body):
    """An smplx.SMPL layer of the bundled body model (torch), built once for the whole run."""
    from bridge.smpl_layer import make_smpl_layer

    return make_smpl_layer(free_body)


_EXIT_STATUS: dict[str, int] = {}


def pytest_sessionfinish(session, exitstatus) -> None:
    _EXIT_STATUS["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    """Blender 4.2's bpy module crashes while Python shuts down after tests that used it (a segfault, exit
    139, though every test passed); leave without that teardown, keeping pytest's own exit status."""
    bpy = sys.modules.get("bpy")
    if bpy is not None and tuple(bpy.app.version) < (4, 3, 0) and "code" in _EXIT_STATUS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS["code"])
