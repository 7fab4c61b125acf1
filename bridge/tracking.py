"""One person per clip: pick who to follow, follow them through the video, and fill the gaps for the model.

Choosing: `list_people` samples a few frames in IMAGE mode with several poses allowed, groups the
detections into candidates by matching boxes one to one from sample to sample, and ranks them (seen most
often, then largest and most central in the frame). Candidate 0 is the default person; the user may pick
another (index or box).
Following: with one candidate, MediaPipe's own VIDEO-mode tracking follows the person (num_poses = 1, the
fast path); with several, every frame reports up to that many poses and the one overlapping the person's
last box is kept. Frames where the person is not found stay `valid = False`; `fill_missing` interpolates
them for the sequence model only, and the results keep them marked invalid with zero confidence.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from .detection import FramePoses, PoseDetector
from .keypoints import COCO17_FROM_MEDIAPIPE
from .video import VideoInfo, expected_frames, iter_frames, iter_selected_frames, prefetch

#: Landmark confidence below which a point does not count towards a person's box.
BOX_MIN_CONFIDENCE = 0.3
#: A frame's pose is the tracked person's when it is assigned to them (see PersonTracker) with a box that
#: overlaps where they should be by at least this IoU.
TRACK_MIN_IOU = 0.2
#: Someone else's track is forgotten after this many frames unseen.
TRACK_FORGET_FRAMES = 60

#: Detection and presence thresholds when looking for several people: MediaPipe scores a second, smaller
#: person lower, and at its default of 0.5 often reports only the most prominent one.
MULTI_PERSON_MIN_CONFIDENCE = 0.3
#: Sampled frames are kept at most this large for thumbnails (bounds the first pass's memory).
THUMBNAIL_SOURCE_SIDE_PX = 640


# ---------------------------------------------------------------------------------------------------------
# Pure helpers.

def keypoint_confidence(image_landmarks: np.ndarray) -> np.ndarray:
    """(..., 33, 4) [x, y, visibility, presence] -> (..., 33) confidence in [0, 1] = visibility * presence."""
    lm = np.asarray(image_landmarks, dtype=np.float32)
    return np.clip(lm[..., 2], 0.0, 1.0) * np.clip(lm[..., 3], 0.0, 1.0)


def frame_confidence(image_landmarks: np.ndarray) -> np.ndarray:
    """(..., 33, 4) -> (...,) mean keypoint confidence over the 17 COCO body points (face details excluded)."""
    return keypoint_confidence(image_landmarks)[..., list(COCO17_FROM_MEDIAPIPE)].mean(axis=-1)


def landmarks_box(image_landmarks: np.ndarray) -> np.ndarray:
    """(..., 33, 4) landmarks -> (..., 4) box [x0, y0, x1, y1] px around the confident points (all if none)."""
    lm = np.asarray(image_landmarks, dtype=np.float64)
    confident = keypoint_confidence(lm) >= BOX_MIN_CONFIDENCE
    confident = np.where(confident.any(axis=-1, keepdims=True), confident, True)
    xy = lm[..., :2]
    lo = np.where(confident[..., None], xy, np.inf).min(axis=-2)
    hi = np.where(confident[..., None], xy, -np.inf).max(axis=-2)
    return np.concatenate([lo, hi], axis=-1)


def box_diagonal(boxes: np.ndarray) -> np.ndarray:
    """(..., 4) boxes -> (...) diagonal length px: the person's size that moves and jumps are measured in."""
    boxes = np.asarray(boxes, dtype=np.float64)
    return np.hypot(boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1])


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes (..., 4) and (..., 4) (broadcast) -> (...)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    lo = np.maximum(a[..., :2], b[..., :2])
    hi = np.minimum(a[..., 2:], b[..., 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=-1)
    area = lambda box: np.prod(np.clip(box[..., 2:] - box[..., :2], 0.0, None), axis=-1)  # noqa: E731
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def prominence(boxes: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(..., 4) boxes -> (...) score in [0, 1]: area fraction of the frame times closeness to its centre."""
    width, height = image_size
    boxes = np.asarray(boxes, dtype=np.float64)
    size = np.clip(boxes[..., 2:] - boxes[..., :2], 0.0, None)
    area = size[..., 0] * size[..., 1] / float(width * height)
    centre = 0.5 * (boxes[..., :2] + boxes[..., 2:])
    offset = np.hypot((centre[..., 0] - width / 2) / width, (centre[..., 1] - height / 2) / height)
    return np.clip(area, 0.0, 1.0) * np.clip(1.0 - offset / np.hypot(0.5, 0.5), 0.0, 1.0)


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of consecutive True entries."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def fill_missing(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(F, ...) per-frame values, (F,) bool -> copy with invalid frames linearly interpolated between the
    nearest valid ones (held constant beyond the first/last). Raises ValueError if no frame is valid."""
    values = np.asarray(values)
    valid = np.asarray(valid, dtype=bool)
    if not valid.any():
        raise ValueError("no valid frame to interpolate from")
    if valid.all():
        return values.copy()
    frames = np.arange(len(values))
    flat = values.reshape(len(values), -1).astype(np.float64)
    out = flat.copy()
    for c in range(flat.shape[1]):
        out[~valid, c] = np.interp(frames[~valid], frames[valid], flat[valid, c])
    return out.reshape(values.shape).astype(values.dtype)


@dataclass
class _Track:
    """One person's box, the velocity of its centre (px per frame) and the frames since it was last seen."""

    box: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    unseen: int = 0

    def expected_box(self) -> np.ndarray:
        shift = self.velocity * (self.unseen + 1)
        return self.box + np.concatenate([shift, shift])

    def update(self, box: np.ndarray) -> None:
        moved = (0.5 * (box[:2] + box[2:]) - 0.5 * (self.box[:2] + self.box[2:])) / (self.unseen + 1)
        self.velocity = moved if not self.velocity.any() else 0.5 * self.velocity + 0.5 * moved
        self.box, self.unseen = np.asarray(box, dtype=np.float64), 0


class PersonTracker:
    """Keeps one person across frames by following everyone: each frame's poses are assigned one to one to
    the people being followed (the chosen one and everyone else seen), by overlap with where each should
    be now (their last box moved on at their recent velocity). When someone crosses in front of the chosen
    person and hides them, that pose goes to the one crossing, whose track expects it there, and the chosen
    person gets none for those frames (interpolated later) instead of being swapped for someone else."""

    def __init__(self, initial_box: np.ndarray):
        self.chosen = _Track(np.asarray(initial_box, dtype=np.float64))
        self.others: list[_Track] = []

    @property
    def box(self) -> np.ndarray:
        return self.chosen.box

    def choose(self, poses: FramePoses) -> int | None:
        """Index of the tracked person among this frame's poses, or None (and the last box is kept)."""
        tracks = [self.chosen, *self.others]
        matched_tracks: set[int] = set()
        picked = None
        if poses.count:
            boxes = landmarks_box(poses.image)
            expected = np.stack([t.expected_box() for t in tracks])
            overlap = box_iou(boxes[:, None], expected[None])  # (poses, tracks)
            matched_poses = set()
            for r, c in zip(*linear_sum_assignment(-overlap)):
                if overlap[r, c] >= TRACK_MIN_IOU:
                    tracks[c].update(boxes[r])
                    matched_poses.add(int(r))
                    matched_tracks.add(int(c))
                    picked = int(r) if c == 0 else picked
            newcomers = [_Track(boxes[r]) for r in range(len(boxes)) if r not in matched_poses]
        else:
            newcomers = []
        for c, track in enumerate(tracks):
            if c not in matched_tracks:
                track.unseen += 1
        self.others = [t for t in self.others if t.unseen <= TRACK_FORGET_FRAMES] + newcomers
        return picked


# ---------------------------------------------------------------------------------------------------------
# Candidates (first pass).

@dataclass
class Candidate:
    """A person seen in the sampled frames. box: median box [x0, y0, x1, y1] px; score ranks candidates."""

    index: int
    box: np.ndarray
    frames_seen: int
    samples: int
    score: float
    best_frame: int
    best_box: np.ndarray
    first_frame: int
    first_box: np.ndarray  # where the person was at the earliest sampled frame: where tracking starts
    thumbnail: str | None = None

    def to_dict(self) -> dict:
        return {"index": self.index, "box": [round(float(v), 1) for v in self.box], "frames_seen": self.frames_seen,
                "samples": self.samples, "score": round(float(self.score), 4), "best_frame": self.best_frame,
                "first_frame": self.first_frame, "first_box": [round(float(v), 1) for v in self.first_box],
                "thumbnail": self.thumbnail}


@dataclass
class _Cluster:
    boxes: list = field(default_factory=list)
    frames: list = field(default_factory=list)


def _box_distance(a: np.ndarray, b: np.ndarray) -> float:
    """How unlike two person boxes are: centre distance in box heights plus the log of their height ratio."""
    ha, hb = max(a[3] - a[1], 1.0), max(b[3] - b[1], 1.0)
    centre_a, centre_b = 0.5 * (a[:2] + a[2:]), 0.5 * (b[:2] + b[2:])
    return float(np.linalg.norm(centre_a - centre_b) / (0.5 * (ha + hb)) + abs(np.log(ha / hb)))


def _assign(boxes: list[np.ndarray], latest: list[np.ndarray]) -> list[tuple[int, int]]:
    """One-to-one (box, person) pairs of least total distance; min(len) pairs."""
    if not boxes or not latest:
        return []
    cost = np.array([[_box_distance(b, p) for p in latest] for b in boxes])
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j)) for i, j in zip(rows, cols)]


def cluster_candidates(detections: list[tuple[int, np.ndarray]], image_size: tuple[int, int], samples: int,
                       max_people: int) -> list[Candidate]:
    """Group per-sample boxes into people. detections: [(frame_index, boxes (P, 4))], in time order.

    Samples are far apart in time, so a person walking through the video need not overlap their own box
    from one sample to the next. Each sample's boxes are matched one to one with the people seen so far
    (least total distance: centre offset in box heights plus change of size), and a new person starts only
    for the boxes left over when a sample shows more people than any before it. So one person crossing the
    frame stays one candidate; two people seen apart in time (one leaves, another enters) also merge, as
    MediaPipe's own single-person tracking would follow either. Ranked by frames seen, then mean
    prominence; at most max_people are returned.
    """
    clusters: list[_Cluster] = []
    for frame, frame_boxes in detections:
        boxes = [np.asarray(box, dtype=np.float64) for box in frame_boxes]
        pairs = _assign(boxes, [c.boxes[-1] for c in clusters])
        targets = {i: clusters[j] for i, j in pairs}
        for i, box in enumerate(boxes):
            if i not in targets:
                targets[i] = _Cluster()
                clusters.append(targets[i])
            targets[i].boxes.append(box)
            targets[i].frames.append(frame)
    ranked = []
    for c in clusters:
        boxes = np.stack(c.boxes)
        scores = prominence(boxes, image_size)
        best = int(np.argmax(scores))
        ranked.append(Candidate(index=-1, box=np.median(boxes, axis=0), frames_seen=len(c.frames), samples=samples,
                                score=float(len(c.frames) / samples * scores.mean()), best_frame=int(c.frames[best]),
                                best_box=boxes[best], first_frame=int(c.frames[0]), first_box=boxes[0]))
    ranked.sort(key=lambda cand: (cand.frames_seen, cand.score), reverse=True)
    for i, cand in enumerate(ranked[:max_people]):
        cand.index = i
    return ranked[:max_people]


def sample_frames(info: VideoInfo, start_frame: int, end_frame: int | None, samples: int) -> list[int]:
    """Evenly spaced frame indices in [start, end) (end unknown: the first `samples` seconds)."""
    total = expected_frames(info, start_frame, end_frame)
    if total <= 0:
        total = int(samples * info.fps)
    picks = np.linspace(start_frame, start_frame + total - 1, num=min(samples, total))
    return sorted({int(round(p)) for p in picks})


def _thumbnail(frame_bgr: np.ndarray, box: np.ndarray, path: Path, size_px: int = 160) -> None:
    """Save the box (with a margin) as a PNG of height size_px, for the add-on's person picker."""
    height, width = frame_bgr.shape[:2]
    x0, y0, x1, y1 = box
    margin = 0.1 * max(x1 - x0, y1 - y0)
    x0, y0 = int(max(0, x0 - margin)), int(max(0, y0 - margin))
    x1, y1 = int(min(width, x1 + margin)), int(min(height, y1 + margin))
    crop = frame_bgr[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
    scale = size_px / max(crop.shape[0], 1)
    crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), size_px), interpolation=cv2.INTER_AREA)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), crop):
        raise OSError(f"cannot write thumbnail {path}")


def list_people(info: VideoInfo, start_frame: int = 0, end_frame: int | None = None, samples: int = 12,
                max_people: int = 4, thumbnails_dir: str | Path | None = None, task_path: str | Path | None = None,
                should_cancel: Callable[[], bool] | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[Candidate]:
    """Candidates for the person to track, best first, from `samples` evenly spaced frames.

    Thumbnails (PNG) are written to thumbnails_dir as person_<index>.png when it is given.
    """
    picks = sample_frames(info, start_frame, end_frame, samples)
    detections: list[tuple[int, np.ndarray]] = []
    kept: dict[int, tuple[np.ndarray, float]] = {}  # frame -> (downscaled frame, scale) for thumbnails
    with PoseDetector(task_path, video_mode=False, num_poses=max_people,
                      min_detection_confidence=MULTI_PERSON_MIN_CONFIDENCE,
                      min_presence_confidence=MULTI_PERSON_MIN_CONFIDENCE) as detector:
        for done, (index, frame) in enumerate(iter_selected_frames(info.path, picks), start=1):
            if should_cancel is not None and should_cancel():
                raise InterruptedError("cancelled")
            poses = detector.detect(frame)
            detections.append((index, landmarks_box(poses.image) if poses.count else np.zeros((0, 4))))
            if thumbnails_dir is not None:
                scale = min(1.0, THUMBNAIL_SOURCE_SIDE_PX / max(frame.shape[:2]))
                small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                kept[index] = (small, scale)
            if progress is not None:
                progress(done, len(picks))
    candidates = cluster_candidates(detections, info.image_size, len(detections), max_people)
    if thumbnails_dir is not None:
        for cand in candidates:
            path = Path(thumbnails_dir) / f"person_{cand.index}.png"
            small, scale = kept[cand.best_frame]
            _thumbnail(small, cand.best_box * scale, path)
            cand.thumbnail = str(path)
    return candidates


# ---------------------------------------------------------------------------------------------------------
# The tracked clip (main pass).

@dataclass
class TrackedClip:
    """The followed person's landmarks per frame. Invalid frames hold zeros (use fill_missing for the model).

    frame_indices (F,) int64; image_landmarks (F, 33, 4) [x_px, y_px, visibility, presence];
    world_landmarks (F, 33, 3) metres; valid (F,) bool.
    """

    frame_indices: np.ndarray
    image_landmarks: np.ndarray
    world_landmarks: np.ndarray
    valid: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(len(self.frame_indices))

    @classmethod
    def of_frames(cls, indices: list[int], image: list[np.ndarray], world: list[np.ndarray], valid: list[bool]
                  ) -> TrackedClip:
        """From per-frame lists, as a tracker gathers them."""
        return cls(frame_indices=np.asarray(indices, dtype=np.int64),
                   image_landmarks=np.asarray(image, dtype=np.float32).reshape(-1, 33, 4),
                   world_landmarks=np.asarray(world, dtype=np.float32).reshape(-1, 33, 3),
                   valid=np.asarray(valid, dtype=bool))


def person_landmarks(poses: FramePoses, chosen: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(image (33, 4), world (33, 3)) of pose `chosen`, zeros when nobody was chosen."""
    if chosen is None:
        return np.zeros((33, 4), np.float32), np.zeros((33, 3), np.float32)
    return poses.image[chosen], poses.world[chosen]


def timestamp_ms(frame_index: int, fps: float) -> int:
    """Presentation time of a frame in whole milliseconds (MediaPipe VIDEO mode needs increasing integers)."""
    return int(round(frame_index * 1000.0 / fps))


def track_person(info: VideoInfo, start_frame: int = 0, end_frame: int | None = None,
                 person_box: np.ndarray | None = None, num_poses: int = 1, task_path: str | Path | None = None,
                 max_side_px: int | None = 1280, frames: Iterator[tuple[int, np.ndarray]] | None = None,
                 on_frame: Callable[[int, np.ndarray, FramePoses], None] | None = None,
                 should_cancel: Callable[[], bool] | None = None,
                 progress: Callable[[int, int, float], None] | None = None,
                 progress_every: int = 10,
                 on_landmarks: Callable[[int, np.ndarray, np.ndarray, bool], None] | None = None) -> TrackedClip:
    """Run the landmarker over [start, end) and keep one person per frame.

    on_landmarks(position, image (33, 4), world (33, 3), found) is called for each frame (`position` frames from
    start_frame) once the person is chosen (zeros when nobody was), so later stages can start before the clip is
    done (bridge/overlap.py).
    person_box: the person's box near the start (from list_people or the user) for multi-person tracking;
    None with num_poses = 1 lets MediaPipe follow whoever it finds. progress(done, total, elapsed_s) is
    called every `progress_every` frames (total 0 = unknown). should_cancel is polled at the same times.
    """
    total = expected_frames(info, start_frame, end_frame)
    tracker = PersonTracker(person_box) if person_box is not None else None
    indices, image_lm, world_lm, valid = [], [], [], []
    t0 = time.perf_counter()
    source = frames if frames is not None else prefetch(iter_frames(info.path, start_frame, end_frame))
    threshold = MULTI_PERSON_MIN_CONFIDENCE if num_poses > 1 else 0.5
    with PoseDetector(task_path, video_mode=True, num_poses=num_poses, max_side_px=max_side_px,
                      min_detection_confidence=threshold, min_presence_confidence=threshold,
                      min_tracking_confidence=threshold) as detector:
        for index, frame in source:
            poses = detector.detect(frame, timestamp_ms(index, info.fps))
            if on_frame is not None:
                on_frame(index, frame, poses)
            if tracker is not None:
                chosen = tracker.choose(poses)
            else:
                chosen = 0 if poses.count else None
            indices.append(index)
            valid.append(chosen is not None)
            image, world = person_landmarks(poses, chosen)
            image_lm.append(image)
            world_lm.append(world)
            if on_landmarks is not None:
                on_landmarks(len(indices) - 1, image_lm[-1], world_lm[-1], valid[-1])
            if len(indices) % progress_every == 0:
                if should_cancel is not None and should_cancel():
                    raise InterruptedError("cancelled")
                if progress is not None:
                    progress(len(indices), total, time.perf_counter() - t0)
    if progress is not None:
        progress(len(indices), len(indices), time.perf_counter() - t0)
    return TrackedClip.of_frames(indices, image_lm, world_lm, valid)
