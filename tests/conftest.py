"""Shared fixtures: repository paths and the motion corpus beside the checkout."""
from __future__ import annotations

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
