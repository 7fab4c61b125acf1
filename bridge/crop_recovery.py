"""Find the followed person in the frames MediaPipe missed next to frames where it found them.

Why: MediaPipe's person detector looks at the whole frame shrunk to 224 px, so a small person (a walker
7-8 m away in a 640x480 video, about a fifth of the frame high) goes unseen for seconds, while its landmark
model finds them at once in a crop around where they were one frame earlier (measured on rendered held-out
walks: every missed frame of such a stretch was found this way).

How: each run of missed frames is worked from its ends inwards. The frame next to a found one is cropped
around that one's box (CROP_SCALE times its larger side, square, inside the frame), detected again in IMAGE
mode, and kept when the pose found overlaps the box it was looked for at (TRACK_MIN_IOU: the same person, not
someone beside them); its box is then where the following frame is looked at. A run stops at the first frame
whose crop shows nobody. Only missed frames are decoded again, and going backwards a chunk at a time.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .detection import FramePoses
from .tracking import TRACK_MIN_IOU, TrackedClip, box_iou, landmarks_box

#: Crop side as a multiple of the larger side of the person's box one frame earlier.
CROP_SCALE = 2.0
#: Smallest crop side (px): a crop much smaller than this gives the landmark model too little to work on.
MIN_CROP_PX = 64
#: Frames decoded at once when a run is worked backwards (bounds memory for long runs in large videos).
BACKWARD_CHUNK = 32

ReadFrames = Callable[[list[int]], Iterator[tuple[int, np.ndarray]]]
DetectImage = Callable[[np.ndarray], FramePoses]


def crop_window(box: np.ndarray, image_size: tuple[int, int], scale: float = CROP_SCALE
                ) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) px of a square crop centred on `box`, shifted (not shrunk) to stay inside the frame."""
    width, height = image_size
    side = max(scale * max(box[2] - box[0], box[3] - box[1]), MIN_CROP_PX)
    side = int(round(min(side, width, height)))
    cx, cy = 0.5 * (box[0] + box[2]), 0.5 * (box[1] + box[3])
    x0 = int(round(np.clip(cx - side / 2, 0, width - side)))
    y0 = int(round(np.clip(cy - side / 2, 0, height - side)))
    return x0, y0, x0 + side, y0 + side


def find_in_crop(detect: DetectImage, frame: np.ndarray, box: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """(image landmarks (33, 4) in frame px, world landmarks (33, 3)) of the person near `box`, or None."""
    height, width = frame.shape[:2]
    x0, y0, x1, y1 = crop_window(box, (width, height))
    poses = detect(np.ascontiguousarray(frame[y0:y1, x0:x1]))
    for image, world in zip(poses.image, poses.world):
        image = image.copy()
        image[:, 0] += x0
        image[:, 1] += y0
        if box_iou(landmarks_box(image), box) >= TRACK_MIN_IOU:
            return image, world
    return None


def missed_runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) positions of every run of missed frames that touches a found one."""
    valid = np.asarray(valid, bool)
    if not valid.any():
        return []
    padded = np.concatenate([[True], valid, [True]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def recover_missed(clip: TrackedClip, read_frames: ReadFrames, detect: DetectImage,
                   should_cancel: Callable[[], bool] | None = None) -> int:
    """Fill what can be found of `clip`'s missed frames in place; returns how many were found.

    read_frames(indices) yields (video frame index, BGR frame) for sorted video frame indices (decoding
    through short gaps, as video.iter_selected_frames does); detect(frame) runs the landmarker in IMAGE mode.
    Forwards, one pass over all missed frames tries each one whose previous frame is found by now;
    backwards, each run not yet filled is tried from its end, BACKWARD_CHUNK frames at a time."""
    position_of = {int(index): position for position, index in enumerate(clip.frame_indices)}
    runs = missed_runs(clip.valid)
    found = 0

    def accept(position: int, frame: np.ndarray, neighbour: int) -> bool:
        if should_cancel is not None and should_cancel():
            raise InterruptedError("cancelled")
        hit = find_in_crop(detect, frame, landmarks_box(clip.image_landmarks[neighbour]))
        if hit is None:
            return False
        clip.image_landmarks[position], clip.world_landmarks[position] = hit
        clip.valid[position] = True
        return True

    forward = [int(i) for start, stop in runs if start > 0 for i in clip.frame_indices[start:stop]]
    for index, frame in read_frames(forward):
        position = position_of[index]
        if clip.valid[position - 1]:
            found += accept(position, frame, position - 1)

    for start, stop in runs:
        while start < stop and clip.valid[start]:  # the head the forward pass filled
            start += 1
        end = stop  # first found position of the run's tail
        while stop < len(clip.valid) and end > start:
            first = max(start, end - BACKWARD_CHUNK)
            chunk = list(read_frames(clip.frame_indices[first:end].tolist()))
            for index, frame in reversed(chunk):
                position = position_of[index]
                if position != end - 1 or not accept(position, frame, end):
                    break
                end = position
                found += 1
            if end != first:
                break
    return found
