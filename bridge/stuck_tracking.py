"""Where MediaPipe's tracking held on to a wrong pose, look again without it.

Why: in VIDEO mode the landmarker looks for the person in a region predicted from its own last answer. After
a fast rotation (a flip, a spin) that answer can be wrong in a way the landmark model stays sure of, and the
region it predicts keeps it wrong. On the rendered unseen-kinds flip (CMU 088_06) frames 21-37 are 17-32 % of
the body's image size off the true joints with MediaPipe's visibility still 0.85, while the same frames looked
at afresh (IMAGE mode, in a crop around the person) are 2-5 % off from frame 26 on. Such a stretch begins or
ends with a jump: the landmarks leap a quarter of the body's size in one frame.

How: every frame where the limb landmarks move more than JUMP_FLAG box diagonals since the previous frame
marks a suspect stretch REACH_S seconds either side. Each found frame there is detected again in IMAGE mode in
a crop around the person (crop_recovery.find_in_crop). Of the tracked and the fresh answer, the ones kept are
chosen for the whole stretch at once: the sequence whose limb landmarks move least from frame to frame
(a Viterbi pass over two states per frame, joined to the tracked frames either side), with FRESH_PRICE on
each fresh answer so that ties keep the tracked one. A real body moving fast keeps both answers close and
loses nothing; a stuck track pays its jumps and is replaced where the fresh answers run smoothly into the
frames after it.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .crop_recovery import DetectImage, ReadFrame, find_in_crop
from .tracking import TrackedClip, box_diagonal, landmarks_box, runs_of

#: MediaPipe's limb landmarks: shoulders, elbows, wrists, hips, knees, ankles.
LIMB_LANDMARKS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
#: Mean limb-landmark move between consecutive frames, in box diagonals, that marks a suspect stretch. On
#: the ground truth of 179 upright and 213 acrobatic, tumbled and floor renders, the 99th percentile of the
#: true move is 0.06 and 0.10; MediaPipe's own moves exceed 0.15 on 2 % and 6 % of their frames.
JUMP_FLAG = 0.15
#: Seconds either side of a jump looked at again (the flip's stuck stretch lasted 0.57 s).
REACH_S = 0.75
#: Cost (box diagonals) of keeping a fresh answer over the tracked one.
FRESH_PRICE = 0.02


def limb_moves(image_landmarks: np.ndarray) -> np.ndarray:
    """(F, 33, 4) landmarks -> (F-1,) mean limb-landmark move from each frame to the next, in diagonals of
    the larger of the two frames' boxes."""
    diagonal = box_diagonal(landmarks_box(image_landmarks))
    return _pixel_moves(image_landmarks[:-1], image_landmarks[1:]) / np.maximum(
        np.maximum(diagonal[:-1], diagonal[1:]), 1.0)


def _pixel_moves(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(..., 33, C) and (..., 33, C) -> (...) mean limb-landmark move, px."""
    limbs = list(LIMB_LANDMARKS)
    return np.linalg.norm(np.asarray(after, dtype=np.float64)[..., limbs, :2]
                          - np.asarray(before, dtype=np.float64)[..., limbs, :2], axis=-1).mean(axis=-1)


def suspect_stretches(image_landmarks: np.ndarray, valid: np.ndarray, fps: float) -> list[tuple[int, int]]:
    """[start, stop) positions of found frames within REACH_S of a jump (a move over JUMP_FLAG between two
    consecutive found frames), merged, each inside one run of found frames."""
    valid = np.asarray(valid, bool)
    reach = max(1, int(round(REACH_S * fps)))
    suspect = np.zeros(len(valid), bool)
    for start, stop in runs_of(valid):
        if stop - start < 2:
            continue
        for jump in np.flatnonzero(limb_moves(image_landmarks[start:stop]) > JUMP_FLAG) + start + 1:
            suspect[max(start, jump - reach):min(stop, jump + reach)] = True
    return runs_of(suspect)


def choose(tracked: np.ndarray, fresh: list[np.ndarray | None], before: np.ndarray | None,
           after: np.ndarray | None) -> np.ndarray:
    """(S,) bool: which frames of a stretch keep the fresh answer.

    tracked (S, 33, 4) the tracked landmarks; fresh[s] the fresh ones or None; before / after the tracked
    landmarks of the frames just outside the stretch (None at the clip's ends or a gap). Moves are measured
    in one length for the whole stretch, the tracked boxes' median diagonal: per-frame boxes would let
    scattered answers, whose boxes are larger, look as if they moved less."""
    scale = max(float(np.median(box_diagonal(landmarks_box(tracked)))), 1.0)
    move = lambda a, b: _pixel_moves(a, b) / scale  # noqa: E731
    count = len(tracked)
    options = [[tracked[s]] + ([fresh[s]] if fresh[s] is not None else []) for s in range(count)]
    cost = np.array([(0.0 if before is None else move(before, lm)) + FRESH_PRICE * k
                     for k, lm in enumerate(options[0])])
    back: list[np.ndarray] = []
    for s in range(1, count):
        step = np.array([[cost[a] + move(options[s - 1][a], lm) + FRESH_PRICE * b for a in range(len(cost))]
                         for b, lm in enumerate(options[s])])
        back.append(step.argmin(axis=1))
        cost = step.min(axis=1)
    if after is not None:
        cost = cost + np.array([move(lm, after) for lm in options[-1]])
    state = int(cost.argmin())
    picked = [state]
    for links in reversed(back):
        state = int(links[state])
        picked.append(state)
    return np.array(picked[::-1]) == 1


def repair_stuck(clip: TrackedClip, stretches: list[tuple[int, int]], read_frame: ReadFrame, detect: DetectImage,
                 should_cancel: Callable[[], bool] | None = None,
                 looked: Callable[[int], None] | None = None) -> int:
    """Replace, in place, the tracked landmarks of the frames where a fresh look runs smoother (see the
    module's docstring); returns how many frames were replaced. `stretches` are suspect_stretches of the clip
    as it is now (the caller has them to decide whether to look again at all); looked(1), for progress,
    follows every frame of them looked at."""
    replaced = 0
    image, world, valid = clip.image_landmarks, clip.world_landmarks, clip.valid
    for start, stop in stretches:
        fresh: list[tuple[np.ndarray, np.ndarray] | None] = []
        for position in range(start, stop):
            if should_cancel is not None and should_cancel():
                raise InterruptedError("cancelled")
            boxes = landmarks_box(image[max(start, position - 1):min(stop, position + 2)])
            box = np.concatenate([boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)])
            frame = read_frame(int(clip.frame_indices[position]))
            fresh.append(None if frame is None else find_in_crop(detect, frame, box))
            if looked is not None:
                looked(1)
        before = image[start - 1] if start > 0 and valid[start - 1] else None
        after = image[stop] if stop < len(valid) and valid[stop] else None
        keep = choose(image[start:stop], [None if f is None else f[0] for f in fresh], before, after)
        for offset in np.flatnonzero(keep):
            image[start + offset], world[start + offset] = fresh[offset]
        replaced += int(keep.sum())
    return replaced
