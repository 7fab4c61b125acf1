"""Build an offline package folder for the bridge: every wheel its private environment needs, for one platform
and Python, so studios without network access can install it (`setup_env.py --wheels DIR`, or the add-on's
"Offline packages" preference).

Runs on any machine with network access to PyPI (and, for Linux's CPU torch, PyTorch's CPU index). The
dependency closure is resolved for the target, not for this machine, with uv (`uv pip compile
--python-platform`; pip evaluates dependency markers for the machine it runs on), then each wheel is
fetched with `pip download --no-deps --only-binary=:all: --platform … --python-version …`. Steps that
setup_env.py installs without dependencies (MediaPipe) are fetched the same way here. The folder gets a
pack.json naming the platform, Python, requirements digest and files.

  python scripts/build_bridge_pack.py --platform windows --python 3.13 --out packs/windows-py313
Needs uv (`python -m pip install uv`).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts.check_bridge_wheels import PLATFORM_TAGS, REQUIREMENTS  # noqa: E402

#: uv's names for the platforms the add-on supports.
UV_PLATFORMS = {"linux": "x86_64-manylinux_2_28", "windows": "x86_64-pc-windows-msvc", "macos": "aarch64-apple-darwin"}
#: The oldest macOS the pinned torch has wheels for (uv assumes 13.0 otherwise).
MACOS_DEPLOYMENT_TARGET = "14.0"
PYPI = "https://pypi.org/simple"


def runtime_steps(requirements: dict) -> list[dict]:
    return [s for s in requirements["steps"] if not s.get("dev_only") and not s.get("asset_tools")]


def torch_pin(requirements: dict, platform: str, cuda: bool, find_links: str | None = None
              ) -> tuple[str, list[str]]:
    """(pin, extra source arguments): the CPU build on Linux (PyPI's Linux build is the CUDA one, several GB)
    from PyTorch's index or from `find_links` (a folder or page holding that wheel, e.g. a local mirror);
    PyPI's build elsewhere (CPU on Windows and macOS) or when CUDA is asked for."""
    spec = requirements["torch"]
    if platform == "linux" and not cuda:
        source = ["--find-links", find_links] if find_links else ["--extra-index-url", spec["cpu_index_url"]]
        return f"torch=={spec['cpu_local_version']}", source
    return f"torch=={spec['version']}", []


def resolve(pins: list[str], platform: str, python: str, extra_index: list[str]) -> list[str]:
    """The full dependency closure of `pins` for the target, as exact pins (uv pip compile)."""
    uv = shutil.which("uv") or [sys.executable, "-m", "uv"]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(pins) + "\n")
    index = ["--index-url", PYPI]
    if extra_index[:1] == ["--extra-index-url"]:
        index += [*extra_index, "--index-strategy", "unsafe-best-match"]
    elif extra_index:
        index += extra_index  # --find-links
    cmd = [*([uv] if isinstance(uv, str) else uv), "pip", "compile", handle.name, "--python-platform",
           UV_PLATFORMS[platform], "--python-version", python, "--only-binary", ":all:", "--no-header",
           "--no-annotate", "--quiet", *index]
    env = {**os.environ, "MACOSX_DEPLOYMENT_TARGET": MACOS_DEPLOYMENT_TARGET}
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    except FileNotFoundError as exc:
        raise SystemExit("uv is needed to resolve for another platform: python -m pip install uv") from exc
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"resolution failed for {platform} / Python {python}:\n{exc.stderr}") from exc
    finally:
        Path(handle.name).unlink(missing_ok=True)
    return [line.strip() for line in out.splitlines() if line.strip() and not line.startswith("#")]


def download(pin: str, platform: str, python: str, out: Path, extra_index: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "--quiet", "--python-version", python, "--dest", str(out),
           *[arg for tag in PLATFORM_TAGS[platform] for arg in ("--platform", tag)], *extra_index, pin]
    subprocess.run(cmd, check=True)


def build_pack(platform: str, python: str, out: Path, cuda: bool = False, find_links: str | None = None,
               log=print) -> dict:
    """Fill `out` with the wheels and write out/pack.json; returns what pack.json holds."""
    requirements = json.loads(REQUIREMENTS.read_text())
    torch, extra_index = torch_pin(requirements, platform, cuda, find_links)
    with_deps = [torch] + [p for s in runtime_steps(requirements) if not s.get("no_deps") for p in s["packages"]]
    without_deps = [p for s in runtime_steps(requirements) if s.get("no_deps") for p in s["packages"]]
    pins = resolve(with_deps, platform, python, extra_index) + without_deps
    out.mkdir(parents=True, exist_ok=True)
    for i, pin in enumerate(pins, 1):
        log(f"[{i}/{len(pins)}] {pin}")
        download(pin, platform, python, out, extra_index if pin.startswith("torch==") else [])
    pack = {"schema": "arts-bridge-pack/1", "platform": platform, "python": python, "cuda": cuda,
            "requirements_sha256": hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest(), "pins": pins,
            "files": sorted(p.name for p in out.glob("*.whl"))}
    (out / "pack.json").write_text(json.dumps(pack, indent=2) + "\n")
    return pack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", required=True, choices=list(UV_PLATFORMS))
    parser.add_argument("--python", required=True, choices=["3.11", "3.13"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cuda", action="store_true", help="PyPI's torch build (CUDA on Linux) instead of CPU")
    parser.add_argument("--find-links", default=None,
                        help="Linux CPU torch from this folder or page instead of PyTorch's index (a mirror)")
    args = parser.parse_args()
    pack = build_pack(args.platform, args.python, args.out, args.cuda, args.find_links)
    print(f"{len(pack['files'])} wheels for {args.platform} / Python {args.python} in {args.out}")


if __name__ == "__main__":
    main()
