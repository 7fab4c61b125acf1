"""Build the installable Blender extension zip: the add-on, the vendored bridge, its manifests and setup script.

Layout of the zip (the zip root IS the add-on package, as Blender's extension format requires):
    blender_manifest.toml, __init__.py and the other arts_blender modules
    bridge/                 the bridge package with its assets (imported by the add-on as a sub-package,
                            run by the bridge's own interpreter as `python -m bridge` from the add-on folder)
    addon_manifest/         pinned bridge requirements, model registry, protocol and results schemas
    scripts/setup_env.py    creates the bridge's private environment with those pins
    wheels/                 only in a platform build (--pack): an offline package folder from
                            scripts/build_bridge_pack.py, which "Create private environment" installs from
                            without network access; the zip's manifest is then limited to that platform
                            and to the Blender releases that bundle the pack's Python

Usage: python scripts/build_extension.py [--out dist] [--pack DIR]   (standard library only)
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import re
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXCLUDE = ("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", ".DS_Store", "*.tmp.npz", "*.pkl")


def _excluded(path: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in path.parts for pattern in EXCLUDE)


def _tree(folder: Path, arc_prefix: str) -> list[tuple[Path, str]]:
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not _excluded(rel):
            out.append((path, f"{arc_prefix}{rel.as_posix()}"))
    return out


def extension_files(repo: Path = REPO) -> list[tuple[Path, str]]:
    """(source file, path in the zip) for every file the extension ships."""
    files = [(repo / "blender_manifest.toml", "blender_manifest.toml")]
    files += _tree(repo / "arts_blender", "")
    files += _tree(repo / "bridge", "bridge/")
    files += _tree(repo / "addon_manifest", "addon_manifest/")
    files.append((repo / "scripts" / "setup_env.py", "scripts/setup_env.py"))
    for extra in ("LICENSE", "README.md"):
        if (repo / extra).is_file():
            files.append((repo / extra, extra))
    return files


#: Blender's platform names for build_bridge_pack.py's platforms.
BLENDER_PLATFORMS = {"linux": "linux-x64", "windows": "windows-x64", "macos": "macos-arm64"}
#: The first Blender release that bundles Python 3.13 (4.2-5.0 bundle 3.11).
PYTHON_313_BLENDER = "5.1.0"


def platform_manifest(text: str, pack: dict) -> str:
    """The manifest of a platform build: only the pack's platform, and only Blender releases whose Python
    is the pack's (its wheels are for one Python version)."""
    lines = [line for line in text.splitlines() if not re.match(r"\s*(platforms|blender_version_max)\s*=", line)]
    text = "\n".join(lines) + "\n"
    extra = f'platforms = ["{BLENDER_PLATFORMS[pack["platform"]]}"]\n'
    if pack["python"] == "3.11":
        extra += f'blender_version_max = "{PYTHON_313_BLENDER}"\n'
    else:
        text = re.sub(r'blender_version_min = "[^"]*"', f'blender_version_min = "{PYTHON_313_BLENDER}"', text)
    return text.replace("\nlicense = ", f"\n{extra}\nlicense = ", 1)


def build(out_dir: Path, repo: Path = REPO, pack_dir: Path | None = None) -> Path:
    """Write `<id>-<version>.zip` (a platform build with --pack: `<id>-<version>-<platform>-py<X.Y>.zip`)
    into `out_dir` and return its path."""
    manifest_text = (repo / "blender_manifest.toml").read_text()
    manifest = tomllib.loads(manifest_text)
    pack = json.loads((pack_dir / "pack.json").read_text()) if pack_dir else None
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = f"-{pack['platform']}-py{pack['python']}" if pack else ""
    target = out_dir / f"{manifest['id']}-{manifest['version']}{suffix}.zip"
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for source, arcname in extension_files(repo):
            if pack and arcname == "blender_manifest.toml":
                zf.writestr(arcname, platform_manifest(manifest_text, pack))
            else:
                zf.write(source, arcname)
        for source in sorted(pack_dir.iterdir()) if pack else ():
            zf.write(source, f"wheels/{source.name}")
    tmp.replace(target)
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "dist")
    ap.add_argument("--pack", type=Path, default=None, help="offline package folder to carry (platform build)")
    args = ap.parse_args()
    path = build(args.out, pack_dir=args.pack)
    with zipfile.ZipFile(path) as zf:
        count, size = len(zf.namelist()), sum(i.file_size for i in zf.infolist())
    print(f"wrote {path} ({count} files, {size / 1e6:.1f} MB uncompressed, {path.stat().st_size / 1e6:.1f} MB zip)")


if __name__ == "__main__":
    main()
