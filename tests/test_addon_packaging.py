"""The extension zip: manifest, layout, no caches or licensed files, and the vendored bridge importable."""
from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from scripts import build_extension


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory) -> Path:
    return build_extension.build(tmp_path_factory.mktemp("dist"))


def test_manifest_follows_blenders_extension_schema(repo_root):
    manifest = tomllib.loads((repo_root / "blender_manifest.toml").read_text())
    assert manifest["schema_version"] == "1.0.0"
    assert manifest["id"] == "arts_mocap" and manifest["type"] == "add-on"
    assert manifest["blender_version_min"] == "4.2.0"
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"]
    assert len(manifest["tagline"]) <= 64 and manifest["tagline"][-1].isalnum()
    assert isinstance(manifest["permissions"]["files"], str) and manifest["permissions"]["files"]
    major, minor, patch = (int(p) for p in manifest["version"].split("."))
    assert (major, minor, patch) >= (0, 1, 0)


def test_zip_layout(extension_zip, repo_root):
    manifest = tomllib.loads((repo_root / "blender_manifest.toml").read_text())
    assert extension_zip.name == f"arts_mocap-{manifest['version']}.zip"
    with zipfile.ZipFile(extension_zip) as zf:
        names = set(zf.namelist())
        assert tomllib.loads(zf.read("blender_manifest.toml").decode()) == manifest
    addon_modules = {p.name for p in (repo_root / "arts_blender").glob("*.py")}
    assert addon_modules <= names and "__init__.py" in names  # the zip root is the add-on package
    bridge_files = {f"bridge/{p.relative_to(repo_root / 'bridge').as_posix()}"
                    for p in (repo_root / "bridge").rglob("*.py") if "__pycache__" not in p.parts}
    assert bridge_files <= names
    assert {"scripts/setup_env.py", "addon_manifest/bridge_requirements.json"} <= names
    assert not any("__pycache__" in n or n.endswith((".pyc", ".pkl")) for n in names)
    assert not any(n.startswith(("arts_blender/", "tests/", ".venv/")) for n in names)


def _validate(extension_zip: Path) -> None:
    """Blender's extension validator (shipped in the bpy wheel) with Blender's list of valid tags."""
    bpy_spec = importlib.util.find_spec("bpy")
    if bpy_spec is None:
        pytest.skip("bpy is not installed (dev step of scripts/setup_env.py)")
    scripts = next(Path(bpy_spec.origin).parent.glob("*/scripts"))
    tool = scripts / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    tags = scripts / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    out = subprocess.run([sys.executable, str(tool), "validate", "--valid-tags", str(tags), str(extension_zip)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Success" in out.stdout


def test_blenders_own_validator_accepts_the_zip(extension_zip):
    _validate(extension_zip)


@pytest.mark.parametrize("python, version_key", [("3.11", "blender_version_max"), ("3.13", "blender_version_min")])
def test_a_platform_build_carries_its_offline_packages(tmp_path, python, version_key):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.json").write_text(json.dumps({"platform": "windows", "python": python}))
    (pack / "tqdm-4.67.1-py3-none-any.whl").write_bytes(b"stand-in wheel")
    built = build_extension.build(tmp_path / "dist", pack_dir=pack)
    assert built.name.endswith(f"-windows-py{python}.zip")
    with zipfile.ZipFile(built) as zf:
        assert {"wheels/pack.json", "wheels/tqdm-4.67.1-py3-none-any.whl"} <= set(zf.namelist())
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
    assert manifest["platforms"] == ["windows-x64"] and manifest[version_key] == "5.1.0"
    _validate(built)


def test_addon_never_imports_torch(repo_root):
    for path in (repo_root / "arts_blender").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "torch" for n in names), f"{path.name} imports torch"


def test_vendored_bridge_imports_as_a_subpackage(extension_zip, tmp_path):
    """Unzipped like Blender does (a package inside bl_ext.<repo>), the add-on finds its own bridge copy."""
    pkg = tmp_path / "bl_ext" / "user_default"
    pkg.mkdir(parents=True)
    for folder in (tmp_path / "bl_ext", pkg):
        (folder / "__init__.py").write_text("")
    with zipfile.ZipFile(extension_zip) as zf:
        zf.extractall(pkg / "arts_mocap")
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from bl_ext.user_default.arts_mocap import bridge_locator as bl\n"
        "results = bl.import_bridge('results')\n"
        "print(results.__name__); print(bl.bridge_root()); print(bl.setup_env_script().is_file())\n"
        "argv, cwd, env = bl.bridge_command(sys.executable, 'serve'); print(cwd)\n")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True,
                         cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    addon_dir = str(pkg / "arts_mocap")
    assert lines == ["bl_ext.user_default.arts_mocap.bridge.results", addon_dir, "True", addon_dir]
    # The bridge's own process imports the same copy as a top-level package from the add-on folder.
    run = subprocess.run([sys.executable, "-c", "import bridge.protocol as p, bridge; print(p.PROTOCOL_VERSION, bridge.__file__)"],
                         cwd=addon_dir, capture_output=True, text=True, env={"PYTHONPATH": addon_dir})
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[1].startswith(addon_dir)
