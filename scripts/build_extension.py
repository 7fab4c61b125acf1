"""Build the installable Blender extension zip: the add-on, the vendored bridge, its manifests and setup script.

Layout of the zip (the zip root IS the add-on package, as Blender's extension format requires):
    blender_manifest.toml, __init__.py and the other arts_blender modules
    bridge/                 the bridge package with its assets (imported by the add-on as a sub-package,
                            run by the bridge's own interpreter as `python -m bridge` from the add-on folder)
    addon_manifest/         pinned bridge requirements, model registry, protocol and results schemas
    scripts/setup_env.py    creates the bridge's private environment with those pins

Usage: python scripts/build_extension.py [--out dist]   (standard library only)
"""
from __future__ import annotations

import argparse
import fnmatch
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


def build(out_dir: Path, repo: Path = REPO) -> Path:
    """Write `<id>-<version>.zip` into `out_dir` and return its path."""
    manifest = tomllib.loads((repo / "blender_manifest.toml").read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{manifest['id']}-{manifest['version']}.zip"
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for source, arcname in extension_files(repo):
            zf.write(source, arcname)
    tmp.replace(target)
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "dist")
    args = ap.parse_args()
    path = build(args.out)
    with zipfile.ZipFile(path) as zf:
        count, size = len(zf.namelist()), sum(i.file_size for i in zf.infolist())
    print(f"wrote {path} ({count} files, {size / 1e6:.1f} MB uncompressed, {path.stat().st_size / 1e6:.1f} MB zip)")


if __name__ == "__main__":
    main()
