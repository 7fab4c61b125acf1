"""Planted feet in results files: what foot lock is for, measured on any video (no ground truth needed).

Per foot, over the frames where the person was found:
- contact: share of frames where its heel or toe contact is above 0.5;
- skate: median horizontal speed of its toe joint in those frames (cm/s);
- lowest toe: the lowest its toe joint comes, less its resting height over the sole (cm; 0 = on the floor).
And the tilt of a floor fitted to the contact points (ground.floor_tilt_deg; sole heights taken off).
The body is the bundled one unless --body-model names the one the results were made with.

    python scripts/foot_report.py RESULTS.npz [MORE.npz ...] [--body-model FILE] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge import contacts, ground  # noqa: E402
from bridge.foot_lock import FOOT_CONTACTS, TOES  # noqa: E402
from bridge.results import ClipResult, read_results  # noqa: E402


def foot_report(result: ClipResult, sole_heights: dict[int, float]) -> dict[str, float]:
    """The numbers above for one results file with world-frame joints and contacts."""
    if result.joints_world_m is None or result.contacts is None:
        raise ValueError("these results have no world frame or contacts (arts-results/1): re-run the bridge")
    world = np.asarray(result.joints_world_m, np.float64)
    found = np.asarray(result.valid, bool)
    probabilities = np.asarray(result.contacts, np.float64)
    report: dict[str, float] = {}
    for side, toe, columns in zip(("left", "right"), TOES, FOOT_CONTACTS):
        planted = (probabilities[:, list(columns)].max(axis=1) > 0.5) & found
        speed = np.linalg.norm(np.gradient(world[:, toe, :2], axis=0), axis=-1) * float(result.fps)
        report[f"{side} contact %"] = 100.0 * float(planted.sum()) / max(int(found.sum()), 1)
        report[f"{side} skate cm/s"] = 100.0 * float(np.median(speed[planted])) if planted.any() else float("nan")
        report[f"{side} lowest toe cm"] = 100.0 * float((world[found, toe, 2] - sole_heights[toe]).min())
    resting = contacts.resting_points(world, sole_heights)[(probabilities > 0.5) & found[:, None]]
    report["floor tilt deg"] = ground.floor_tilt_deg(resting) if len(resting) >= 3 else float("nan")
    return report


def body_sole_heights(betas: np.ndarray, body_model: str | None) -> dict[int, float]:
    from bridge.body_model import shaped_rest
    from bridge.pipeline import load_body_model, sole_heights

    vertices, rest = shaped_rest(load_body_model(body_model), betas)
    return sole_heights(vertices, rest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--body-model", default=None, help="body model .npz or SMPL_NEUTRAL.pkl (default: bundled)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    reports = {}
    for path in args.results:
        result = read_results(path)
        reports[str(path)] = foot_report(result, body_sole_heights(result.betas, args.body_model))
    if args.json:
        print(json.dumps(reports, indent=1))
        return 0
    columns = list(next(iter(reports.values())))
    print("| results | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for path, report in reports.items():
        print(f"| {Path(path).name} | " + " | ".join(f"{report[c]:.1f}" for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
