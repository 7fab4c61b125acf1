"""Find the `bridge` package the add-on drives, wherever the add-on was installed from.

In the extension zip `bridge/` sits inside the add-on folder (a sub-package, imported relatively); in a
source checkout it is a sibling of `arts_blender/` at the repository root. Only the bridge's pure modules
(results, skeleton, body_model's numpy half, smoothing, protocol, geometry.rotations) are imported in
Blender; the heavy half (torch, MediaPipe) runs in a separate process started with `python -m bridge`.
No bpy here, so the bridge client and the tests can use it anywhere.
"""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

ADDON_DIR = Path(__file__).resolve().parent


class BridgeNotFoundError(ImportError):
    """Neither the add-on folder nor the repository root holds the bridge package."""


def bridge_root() -> Path:
    """The folder that CONTAINS `bridge/` (add-on folder first, then the repository root)."""
    for candidate in (ADDON_DIR, ADDON_DIR.parent):
        if (candidate / "bridge" / "__init__.py").is_file():
            return candidate
    raise BridgeNotFoundError(
        f"the ARTS bridge package was not found in {ADDON_DIR} or {ADDON_DIR.parent}; "
        "reinstall the extension zip (it ships bridge/ inside the add-on folder)")


def _bridge_package_name() -> str:
    root = bridge_root()
    if root == ADDON_DIR and __package__:
        return f"{__package__}.bridge"  # vendored: a sub-package of the add-on
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # source checkout: the repository root holds a top-level package
    return "bridge"


def import_bridge(module: str = "") -> ModuleType:
    """Import `bridge` or one of its modules, e.g. import_bridge("results") or import_bridge("geometry.rotations")."""
    name = _bridge_package_name()
    return importlib.import_module(f"{name}.{module}" if module else name)


def bridge_asset(name: str) -> Path:
    """A file shipped in bridge/assets (bundled body model, default checkpoint)."""
    return bridge_root() / "bridge" / "assets" / name


def setup_env_script() -> Path:
    """scripts/setup_env.py, shipped beside the bridge (the extension zip carries a copy)."""
    return bridge_root() / "scripts" / "setup_env.py"


def bridge_command(python: str | os.PathLike, *args: str) -> tuple[list[str], Path, dict[str, str]]:
    """(argv, working directory, environment) that run `python -m bridge ARGS` on this bridge copy.

    The working directory and PYTHONPATH both point at the folder holding `bridge/`, so the bridge imports
    as a top-level package in its own process whatever the add-on's package name is inside Blender.
    """
    root = bridge_root()
    env = dict(os.environ)
    # Blender's own Python settings must not leak into the bridge's interpreter.
    for key in ("PYTHONHOME", "PYTHONSTARTUP", "PYTHONNOUSERSITE"):
        env.pop(key, None)
    env["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH", "")])])
    env["PYTHONUNBUFFERED"] = "1"
    return [str(python), "-m", "bridge", *args], root, env
