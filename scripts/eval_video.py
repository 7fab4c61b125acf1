"""Look at results on footage without ground truth: does the 3D motion agree with the image, and is it smooth?

    python -m bridge run VIDEO -o A.npz --checkpoint A.pt --smooth none --foot-lock 0
    python scripts/eval_video.py "model A=A.npz" "model B=B.npz"

Per results file, on the frames where the person was detected (the same frames for every file only if the
files come from the same video and range):
- image agreement: the 12 limb joints (shoulders, elbows, wrists, hips, knees, ankles) of the posed body,
  projected with the file's focal length, against MediaPipe's image landmarks, in % of the person's height
  in the image (median, 90th percentile, and per joint group). MediaPipe's 2D landmarks are its most reliable
  output (2–3 % of the person's size on renders, scripts/synth/README.md), so a pose that disagrees with
  them by much more is wrong in a way the user sees in the overlay. SMPL's hip joints sit inside the pelvis
  where MediaPipe's sit nearer its surface: compare files with each other, not with zero.
- smoothness: mean acceleration of the 14 hip-aligned LSP joints, mm/frame² (no ground truth: this is the
  motion's own acceleration, real movement included).
For looking, not for tuning: footage in ../shared/video must not be used to choose a model.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge.camera import SMPL_MEDIAPIPE_PAIRS, principal_point, project  # noqa: E402
from bridge.metrics import lsp14_hip_aligned, second_difference  # noqa: E402
from bridge.results import ClipResult, read_results  # noqa: E402
from scripts.synth.detector_noise import person_size_px  # noqa: E402

#: SMPL joints of each reported group (all in SMPL_MEDIAPIPE_PAIRS, the pairs the bridge's camera fit uses).
GROUPS = {"shoulders, hips": (16, 17, 1, 2), "elbows, knees": (18, 19, 4, 5), "wrists, ankles": (20, 21, 7, 8)}


def image_agreement(result: ClipResult) -> dict[str, np.ndarray]:
    """Per detected frame and limb joint, distance from the projected joint to MediaPipe's landmark, as a
    fraction of the person's height (extent of MediaPipe's body landmarks in the frame)."""
    valid = result.valid.astype(bool)
    smpl, mp = [s for s, _ in SMPL_MEDIAPIPE_PAIRS], [m for _, m in SMPL_MEDIAPIPE_PAIRS]
    projected = project(result.joints_3d[valid][:, smpl], result.focal_px, principal_point(result.image_size))
    landmarks = result.keypoints_2d[valid][:, :, :2].astype(np.float64)
    height = person_size_px(landmarks[:, 11:33])[:, None]
    error = np.linalg.norm(projected - landmarks[:, mp], axis=-1) / height
    return {name: error[:, [smpl.index(j) for j in joints]] for name, joints in GROUPS.items()}


def smoothness_mm(result: ClipResult) -> float:
    """Mean acceleration norm of the hip-aligned LSP joints over runs of detected frames, mm/frame²."""
    joints = lsp14_hip_aligned(result.joints_3d)
    accel = np.linalg.norm(second_difference(joints), axis=-1).mean(axis=-1)
    valid = result.valid.astype(bool)
    inside = valid[2:] & valid[1:-1] & valid[:-2]
    return float(1000.0 * accel[inside].mean()) if inside.any() else float("nan")


def report(named: list[tuple[str, ClipResult]]) -> str:
    header = ("| results | frames | image, median % | image, 90th pct % | "
              + " | ".join(f"{g} median %" for g in GROUPS) + " | accel mm/frame² |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for name, result in named:
        errors = image_agreement(result)
        every = np.concatenate([e.ravel() for e in errors.values()])
        groups = " | ".join(f"{100 * np.median(e):.1f}" for e in errors.values())
        lines.append(f"| {name} | {int(result.valid.sum())} | {100 * np.median(every):.1f} | "
                     f"{100 * np.percentile(every, 90):.1f} | {groups} | {smoothness_mm(result):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", metavar="[NAME=]FILE", help="bridge results .npz")
    args = parser.parse_args(argv)
    named = []
    for item in args.results:
        name, _, path = item.rpartition("=")
        named.append((name or Path(path).stem, read_results(path)))
    print(report(named))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
