"""Do the bridge's pinned packages exist as wheels for every Python and platform the add-on supports?

Blender 4.2-5.0 bundle Python 3.11 and 5.1+ Python 3.13; users run Linux x86-64, Windows x86-64 and macOS on
Apple silicon. For each pair this asks pip (resolution only: `pip install --dry-run --only-binary=:all:
--no-deps --python-version … --platform …`, nothing is installed) whether every pin of the runtime steps in
addon_manifest/bridge_requirements.json has a wheel, and prints a table. Dependencies are not followed:
pip evaluates their environment markers for the machine it runs on, not the target, so they would be
checked wrongly; the runtime steps that pip resolves with dependencies install them at setup time.
torch on Linux is the CPU build from PyTorch's index in use, checked here as the PyPI build of the same
version.

  python scripts/check_bridge_wheels.py [--python 3.11 3.13] [--platform linux windows macos] [--json]
Exit status 1 if any pin lacks a wheel somewhere.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO / "addon_manifest" / "bridge_requirements.json"
#: pip platform tags per platform, newest first (pip matches --platform tags exactly, so every
#: acceptable tag is listed: wheels of older manylinux or macOS releases install on newer systems).
PLATFORM_TAGS = {
    "linux": ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
              "manylinux_2_12_x86_64", "manylinux2010_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64"],
    "windows": ["win_amd64"],
    "macos": [f"macosx_{major}_0_arm64" for major in (15, 14, 13, 12, 11)],
}


def runtime_pins(requirements: dict) -> list[str]:
    """Every pinned runtime package (no dev, Blender-module or asset-tool steps), torch first."""
    pins = [f"torch=={requirements['torch']['version']}"]
    for step in requirements["steps"]:
        if step.get("dev_only") or step.get("asset_tools"):
            continue
        pins += [p for p in step["packages"] if "==" in p]
    return pins


def missing_wheels(pins: list[str], python: str, platform: str) -> list[str]:
    """The pins pip finds no wheel for on (python, platform); [] when all resolve."""
    missing = []
    with tempfile.TemporaryDirectory() as target:
        for pin in pins:
            cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps",
                   "--only-binary=:all:", "--disable-pip-version-check", "--quiet", "--python-version", python,
                   "--target", target, *[arg for tag in PLATFORM_TAGS[platform] for arg in ("--platform", tag)], pin]
            if subprocess.run(cmd, capture_output=True, text=True).returncode != 0:
                missing.append(pin)
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", nargs="+", default=["3.11", "3.13"])
    parser.add_argument("--platform", nargs="+", default=list(PLATFORM_TAGS), choices=list(PLATFORM_TAGS))
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    pins = runtime_pins(json.loads(REQUIREMENTS.read_text()))
    table = {f"{platform} / Python {python}": missing_wheels(pins, python, platform)
             for platform in args.platform for python in args.python}
    if args.json:
        print(json.dumps({"pins": pins, "missing": table}, indent=2))
    else:
        print(f"{len(pins)} pins: {', '.join(pins)}")
        for target, missing in table.items():
            print(f"{target:24s} {'all wheels found' if not missing else 'NO WHEEL: ' + ', '.join(missing)}")
    return 1 if any(table.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
