"""Warnings about the track itself: where the followed person may have been swapped for someone else, and
where they were lost for long. Pure numpy, on the landmarks the detector kept (tracking.TrackedClip).

A real person's box cannot leap: between consecutive frames its centre moves a few percent of its size
(a sprinter at 30 fps: about a tenth) and its size changes smoothly. A swap to another person, or a
camera cut, moves or rescales the box at once. Gaps are allowed the motion the person could have made
while unseen.
"""
from __future__ import annotations

import numpy as np

from .tracking import box_diagonal, landmarks_box, runs_of

#: Largest centre shift between consecutive frames, in box diagonals, that a person can make.
MAX_SHIFT = 0.35
#: Extra shift allowed per unseen frame at 30 fps (a fast run is about 0.1 diagonal per frame).
SHIFT_PER_FRAME = 0.12
#: Largest change of box size (ratio of diagonals) within MAX_SIZE_GAP frames.
MAX_SIZE_RATIO = 1.6
MAX_SIZE_GAP = 3
#: A stretch without the person this long (seconds) is worth telling the user about.
LOST_WARNING_S = 1.0


def identity_jumps(image_landmarks: np.ndarray, valid: np.ndarray, fps: float) -> list[int]:
    """Positions (into the track) of detected frames whose person's box cannot be the previous one's.

    image_landmarks (F, 33, 4), valid (F,) bool."""
    found = np.flatnonzero(np.asarray(valid, bool))
    if len(found) < 2:
        return []
    boxes = landmarks_box(np.asarray(image_landmarks)[found])
    centres = 0.5 * (boxes[:, :2] + boxes[:, 2:])
    diagonals = np.maximum(box_diagonal(boxes), 1.0)
    gaps = np.diff(found)
    reference = np.maximum(diagonals[1:], diagonals[:-1])
    shift = np.linalg.norm(np.diff(centres, axis=0), axis=-1) / reference
    allowed = MAX_SHIFT + SHIFT_PER_FRAME * (gaps - 1) * 30.0 / max(fps, 1.0)
    ratio = np.maximum(diagonals[1:] / diagonals[:-1], diagonals[:-1] / diagonals[1:])
    jumps = (shift > allowed) | ((ratio > MAX_SIZE_RATIO) & (gaps <= MAX_SIZE_GAP))
    return found[1:][jumps].tolist()


def lost_stretches(valid: np.ndarray, fps: float, min_s: float = LOST_WARNING_S) -> list[tuple[int, int]]:
    """[start, stop) positions of runs without the person lasting at least min_s seconds."""
    return [(a, b) for a, b in runs_of(~np.asarray(valid, bool)) if (b - a) >= min_s * fps]


def tracking_warnings(frame_indices: np.ndarray, image_landmarks: np.ndarray, valid: np.ndarray,
                      fps: float) -> list[str]:
    """User-facing warnings (video frame numbers) for identity jumps and long losses; [] when the track is clean."""
    frames = np.asarray(frame_indices)
    warnings = []
    jumps = identity_jumps(image_landmarks, valid, fps)
    if jumps:
        listed = ", ".join(str(int(frames[j])) for j in jumps[:8]) + (" …" if len(jumps) > 8 else "")
        warnings.append(f"the followed person may have been swapped for someone else (or the camera cut) at "
                        f"frame(s) {listed}: check the animation there, or choose the person with a box or "
                        "a frame range")
    lost = lost_stretches(valid, fps)
    if lost:
        missing = int(sum(b - a for a, b in lost))
        longest = max(lost, key=lambda run: run[1] - run[0])
        warnings.append(f"the person was not found for {missing} frame(s) in {len(lost)} stretch(es) of "
                        f"{LOST_WARNING_S:g} s or more (longest: frames {int(frames[longest[0]])}-"
                        f"{int(frames[longest[1] - 1])}); the motion there is interpolated")
    return warnings
