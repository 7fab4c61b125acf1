"""Print PoseLandmarker's CPU time per 640x480 frame in IMAGE and VIDEO mode with the built bundle.

IMAGE mode runs the person detector on every frame; VIDEO mode tracks the previous frame's
pose and runs the detector only when tracking is lost, so it is the bridge's case. Frames show
scikit-image's astronaut photo moving across a grey 640x480 canvas.
    python scripts/bench_pose_landmarker.py [--frames 60]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a file: make the `scripts` package importable
    sys.path.insert(0, str(REPO))

from scripts.build_pose_task import build_pose_task  # noqa: E402

WIDTH_PX, HEIGHT_PX = 640, 480
PERSON_PX = 400


def moving_person_frames(n: int) -> list[np.ndarray]:
    """n RGB frames (480, 640, 3) uint8 with the photo sliding 2 px right per frame and back."""
    import cv2
    from skimage import data

    person = cv2.resize(data.astronaut(), (PERSON_PX, PERSON_PX), interpolation=cv2.INTER_AREA)
    span = WIDTH_PX - PERSON_PX
    frames = []
    for k in range(n):
        x0 = abs((2 * k) % (2 * span) - span)
        frame = np.full((HEIGHT_PX, WIDTH_PX, 3), 90, dtype=np.uint8)
        frame[HEIGHT_PX - PERSON_PX :, x0 : x0 + PERSON_PX] = person
        frames.append(frame)
    return frames


def time_mode(task: Path, frames: list[np.ndarray], video: bool, warmup: int = 5) -> list[float]:
    """Milliseconds per detect call after `warmup` calls; asserts a pose is found in every frame."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
    options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(task)), running_mode=mode)
    times_ms = []
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for k, frame in enumerate(frames):
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame)
            t0 = time.perf_counter()
            result = landmarker.detect_for_video(image, k * 33) if video else landmarker.detect(image)
            elapsed_ms = (time.perf_counter() - t0) * 1e3
            if len(result.pose_landmarks) != 1:
                raise RuntimeError(f"frame {k}: expected one pose, got {len(result.pose_landmarks)}")
            if k >= warmup:
                times_ms.append(elapsed_ms)
    return times_ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=60)
    args = ap.parse_args()
    task = build_pose_task()
    frames = moving_person_frames(args.frames)
    print(f"{task.name}: {task.stat().st_size / 1e6:.1f} MB; {WIDTH_PX}x{HEIGHT_PX} px; "
          f"{os.cpu_count()} CPUs visible; {args.frames} frames (first 5 not timed)")
    for video in (False, True):
        ms = time_mode(task, frames, video)
        print(f"{'VIDEO' if video else 'IMAGE'} mode: median {statistics.median(ms):.1f} ms/frame, "
              f"mean {statistics.fmean(ms):.1f}, p90 {np.percentile(ms, 90):.1f}")


if __name__ == "__main__":
    main()
