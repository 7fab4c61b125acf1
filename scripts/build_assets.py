"""Build or verify every asset the product ships, so a fresh checkout is ready to run offline.

- the PoseLandmarker `.task` is built from the pinned mediapipe 0.10.21 wheel (not committed);
- committed assets (the free body model, the ARTS checkpoint) are checked against the sha256 in their
  registry entries under addon_manifest/models/, so a corrupted or half-fetched checkout fails here with
  a clear message instead of deep inside a run. `--rebuild-body-model` regenerates the body model
  (needs `scripts/setup_env.py --asset-tools`).
Fast when everything is in place: it only hashes files.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(REPO))

from bridge.hashing import sha256_file  # noqa: E402
from scripts.build_pose_task import build_pose_task  # noqa: E402

REGISTRY = REPO / "addon_manifest" / "models"
#: Registry entries whose file this script builds (and checks) rather than finds committed.
BUILT_AT_SETUP = {"pose_landmarker.json"}


class AssetError(RuntimeError):
    """A shipped asset is missing or differs from its registry entry."""


def verify_committed(entry_name: str) -> Path:
    """Check a committed asset against its registry entry; returns its path."""
    entry = json.loads((REGISTRY / entry_name).read_text())
    path = REPO / entry["file"]
    if not path.is_file():
        raise AssetError(f"{entry['file']} is missing: restore it with `git checkout -- {entry['file']}`")
    got = sha256_file(path)
    if got != entry["sha256"]:
        raise AssetError(f"{entry['file']} has sha256 {got[:12]}…, the registry {entry_name} says "
                         f"{entry['sha256'][:12]}…: restore it with `git checkout -- {entry['file']}` or rebuild it "
                         f"with `{entry['build']['command']}`")
    return path


def build_assets(rebuild_body_model: bool = False, log=print) -> None:
    t0 = time.perf_counter()
    log(f"pose model: {build_pose_task(log=log).relative_to(REPO)}")
    if rebuild_body_model:
        subprocess.run([sys.executable, str(REPO / "scripts" / "build_body_model.py")], check=True)
    for entry in sorted(REGISTRY.glob("*.json")):
        if entry.name not in BUILT_AT_SETUP:
            log(f"verified: {verify_committed(entry.name).relative_to(REPO)}")
    log(f"assets ready in {time.perf_counter() - t0:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rebuild-body-model", action="store_true", help="regenerate bridge/assets/body_model_free.npz")
    args = ap.parse_args()
    try:
        build_assets(rebuild_body_model=args.rebuild_body_model)
    except AssetError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
