"""Find the followed person in the frames MediaPipe missed next to frames where it found them.

Why: MediaPipe's person detector looks at the whole frame shrunk to 224 px, so a small person (a walker
7-8 m away in a 640x480 video, about a fifth of the frame high) goes unseen for seconds, while its landmark
model finds them at once in a crop around where they were one frame earlier (measured on rendered held-out
walks: every missed frame of such a stretch was found this way).

How: each run of missed frames is worked from its ends inwards. The frame next to a found one is cropped
around that one's box (CROP_SCALE times its larger side, square, inside the frame), detected again in IMAGE
mode, and kept when the pose found overlaps the box it was looked for at (TRACK_MIN_IOU: the same person, not
someone beside them); its box is then where the following frame is looked at. A run stops at the first frame
whose crop shows nobody, so few frames besides those tried are decoded again.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .detection import FramePoses
from .tracking import TRACK_MIN_IOU, TrackedClip, box_iou, landmarks_box, runs_of

#: Crop side as a multiple of the larger side of the person's box one frame earlier.
CROP_SCALE = 2.0
#: Smallest crop side (px): a crop much smaller than this gives the landmark model too little to work on.
MIN_CROP_PX = 64
#: Frames decoded at once when a run is worked backwards: bounds memory, and costs one seek per chunk.
BACKWARD_CHUNK = 32

ReadFrame = Callable[[int], np.ndarray | None]
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
    return runs_of(~valid) if valid.any() else []


def recover_missed(clip: TrackedClip, read_frame: ReadFrame, detect: DetectImage,
                   should_cancel: Callable[[], bool] | None = None,
                   looked: Callable[[int], None] | None = None) -> int:
    """Fill what can be found of `clip`'s missed frames in place; returns how many were found.

    read_frame(video frame index) -> BGR frame or None (a video.FrameReader's read); detect(frame) runs the
    landmarker in IMAGE mode. Each run is tried forwards from the found frame before it, then backwards from
    the found frame after it, down to what the forward pass reached. Backwards, frames are decoded forwards
    BACKWARD_CHUNK at a time (one seek per chunk, not per frame). looked(n), for progress, is told of the
    frames of missed_runs as they are dealt with: each one found, then the rest of its run when the run stops
    (a run stops at its first miss), so n sums to their count."""
    indices = clip.frame_indices

    def forwards(start: int, stop: int) -> Iterator[tuple[int, np.ndarray | None]]:
        for position in range(start, stop):
            yield position, read_frame(int(indices[position]))

    def backwards(start: int, stop: int) -> Iterator[tuple[int, np.ndarray | None]]:
        while stop > start:
            first = max(start, stop - BACKWARD_CHUNK)
            chunk = [read_frame(int(indices[position])) for position in range(first, stop)]
            yield from zip(range(stop - 1, first - 1, -1), reversed(chunk))
            stop = first

    def extend(frames: Iterator[tuple[int, np.ndarray | None]], step: int) -> int:
        """Positions found in order, each from its neighbour (position - step); stops at the first miss."""
        count = 0
        for position, frame in frames:
            if should_cancel is not None and should_cancel():
                raise InterruptedError("cancelled")
            box = landmarks_box(clip.image_landmarks[position - step])
            hit = None if frame is None else find_in_crop(detect, frame, box)
            if hit is None:
                break
            clip.image_landmarks[position], clip.world_landmarks[position] = hit
            clip.valid[position] = True
            count += 1
            if looked is not None:
                looked(1)
        return count

    found = 0
    for start, stop in missed_runs(clip.valid):
        ahead = extend(forwards(start, stop), 1) if start > 0 else 0
        behind = extend(backwards(start + ahead, stop), -1) if stop < len(clip.valid) else 0
        found += ahead + behind
        if looked is not None and stop - start > ahead + behind:
            looked(stop - start - ahead - behind)
    return found
