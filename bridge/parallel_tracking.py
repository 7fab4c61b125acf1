"""Follow one person on several CPUs at once: the clip is cut into consecutive pieces, each tracked by its own
VIDEO-mode landmarker in its own thread.

MediaPipe's landmarker runs on one core per instance and releases the GIL, so one pass over a clip leaves the
other cores idle and caps the bridge at the detector's single-core rate (about 40 frames/s on 720p). Pieces
run side by side instead. Each piece after the first starts WARMUP_FRAMES early and drops those frames, so its
tracker has found the person and its filters have settled by the piece's first frame.

What this changes: MediaPipe carries each frame's region of interest and filter state to the next, so a piece
does not reproduce one pass's landmarks bit for bit; after the seam they differ by about a pixel, as two
passes started on different frames do. `workers=1` is one pass, exactly tracking.track_person. Frames reach
`on_landmarks` as the pieces find them, with their place in the clip (bridge/overlap.py takes them in any
order); the returned track is what counts, and a caller keeps nothing it was handed that differs from it.

Seams are checked: OpenCV seeks by time, one pass counts frames, and on a variable-frame-rate video (a phone
that dropped frames) the two disagree, so a piece would repeat or skip frames at its start. A piece's warm-up
frames are the previous piece's last frames when the seek landed where counting would; if any seam's frames
differ, the clip is tracked again in one pass. If a piece ends before its last frame (a damaged file), later
pieces are dropped, so the frames kept are those one pass would decode.
"""
from __future__ import annotations

import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from .detection import PoseDetector
from .tracking import TrackedClip, person_landmarks, timestamp_ms, track_person
from .video import VideoError, VideoInfo, expected_frames, iter_frames, prefetch

#: Frames a piece is tracked before its own first frame, then dropped: MediaPipe has found the person and its
#: landmark filters have settled after a few frames (measured: within about a pixel of one pass by frame 5).
WARMUP_FRAMES = 8
#: Size (px) of the thumbnails compared at a seam. A decoder that seeks gives the same frames, bit for bit, as one
#: that counts from the start (checked on rendered clips and the shared real video), so equal thumbnails mean
#: the same frame; neighbouring frames of a moving person differ in them.
FINGERPRINT_SIZE = (64, 36)
#: No piece is shorter than this. A piece costs about a dozen frames' worth of extra detection (its landmarker's
#: start, 0.17 s, and the warm-up); at 150 frames that is under 8 %. Two jobs side by side on 2 cores then still
#: get as much done as one (600-frame 720p clips: 34.9 frames/s together, 35.9 alone), where 60-frame pieces of
#: 4-s clips lost 14 %.
MIN_PIECE_FRAMES = 150


def fingerprint(frame_bgr: np.ndarray) -> np.ndarray:
    """A small grey thumbnail of a frame, for telling whether two decoders gave the same one."""
    return cv2.cvtColor(cv2.resize(frame_bgr, FINGERPRINT_SIZE, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)


def pieces(start: int, total: int, workers: int, min_piece_frames: int = MIN_PIECE_FRAMES
           ) -> list[tuple[int, int]]:
    """[first, stop) frame ranges covering [start, start + total) in order, at most `workers` of them and none
    shorter than min_piece_frames (one piece when the clip is short or its length unknown)."""
    count = max(1, min(int(workers), int(total) // max(int(min_piece_frames), 1)))
    bounds = [start + round(total * k / count) for k in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


class _Piece:
    """One piece's landmarks as its thread finds them."""

    def __init__(self, first: int, stop: int | None):
        self.first, self.stop = first, stop
        self.indices: list[int] = []
        self.image: list[np.ndarray] = []
        self.world: list[np.ndarray] = []
        self.valid: list[bool] = []
        self.head: list[np.ndarray] = []  # thumbnails of the warm-up frames (the previous piece's last ones)
        self.tail: list[np.ndarray] = []  # thumbnails of its own last WARMUP_FRAMES frames
        self.finished = False
        self.error: BaseException | None = None

    def joins(self, before: _Piece) -> bool:
        """Whether this piece's warm-up decoded the same frames as the end of the piece before it."""
        theirs = before.tail[-len(self.head):] if self.head else []
        return len(theirs) == len(self.head) and all(np.array_equal(a, b) for a, b in zip(self.head, theirs))

    def short(self) -> bool:
        """Ended before its last frame (the video is shorter than its header says, or damaged there)."""
        return self.stop is not None and self.first + len(self.indices) < self.stop


def track_person_parallel(info: VideoInfo, start_frame: int = 0, end_frame: int | None = None,
                          person_box: np.ndarray | None = None, num_poses: int = 1,
                          task_path: str | Path | None = None, max_side_px: int | None = 1280, workers: int = 1,
                          should_cancel: Callable[[], bool] | None = None,
                          progress: Callable[[int, int, float], None] | None = None, progress_every: int = 10,
                          on_landmarks: Callable[[int, np.ndarray, np.ndarray, bool], None] | None = None,
                          min_piece_frames: int | None = None) -> TrackedClip:
    """tracking.track_person's job split over `workers` threads (same arguments and callbacks, all called from
    this thread). Following a given person (person_box, several poses) needs one pass: their identity is
    carried from frame to frame, so that case, one worker and short clips run tracking.track_person."""
    total = expected_frames(info, start_frame, end_frame)
    spans = pieces(start_frame, total, workers, min_piece_frames or MIN_PIECE_FRAMES)
    if person_box is not None or num_poses != 1 or len(spans) == 1:
        return track_person(info, start_frame, end_frame, person_box=person_box, num_poses=num_poses,
                            task_path=task_path, max_side_px=max_side_px, should_cancel=should_cancel,
                            progress=progress, progress_every=progress_every, on_landmarks=on_landmarks)
    # The last piece reads on to wherever the video really ends, as one pass would.
    parts = [_Piece(first, stop) for first, stop in spans[:-1]] + [_Piece(spans[-1][0], end_frame)]
    changed = threading.Condition()
    stopping = threading.Event()

    def follow(part: _Piece, lead: int) -> None:
        try:
            frames = prefetch(iter_frames(info.path, part.first - lead, part.stop))
            with closing(frames), PoseDetector(task_path, video_mode=True, num_poses=1,
                                               max_side_px=max_side_px) as detector:
                for index, frame in frames:
                    if stopping.is_set():
                        break
                    poses = detector.detect(frame, timestamp_ms(index, info.fps))
                    if index < part.first:
                        part.head.append(fingerprint(frame))
                        continue
                    if part.stop is not None and index >= part.stop - WARMUP_FRAMES:
                        part.tail.append(fingerprint(frame))
                    image, world = person_landmarks(poses, 0 if poses.count else None)
                    with changed:
                        part.indices.append(index)
                        part.image.append(image)
                        part.world.append(world)
                        part.valid.append(poses.count > 0)
                        changed.notify()
        except VideoError as exc:
            if exc.code != "no_frames" or part.first == start_frame:
                part.error = exc  # a later piece past the real end is just empty (and dropped below)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            part.error = exc
        finally:
            with changed:
                part.finished = True
                changed.notify()

    threads = [threading.Thread(target=follow, args=(part, min(WARMUP_FRAMES, part.first - start_frame)),
                                name=f"arts-track-{k}", daemon=True) for k, part in enumerate(parts)]
    for thread in threads:
        thread.start()
    t0 = time.perf_counter()
    handed = [0] * len(parts)  # frames of each piece handed to on_landmarks
    reported = 0  # frames found at the last progress report
    try:
        while True:
            with changed:
                changed.wait(timeout=0.05)
                found = [len(p.indices) for p in parts]
                finished = all(p.finished for p in parts)
            for part in parts:
                if part.error is not None:
                    raise part.error
            if on_landmarks is not None:
                for k, part in enumerate(parts):
                    for j in range(handed[k], found[k]):
                        on_landmarks(part.indices[j] - start_frame, part.image[j], part.world[j], part.valid[j])
                    handed[k] = found[k]
            if finished:
                break
            if sum(found) - reported >= progress_every:
                reported = sum(found)
                if should_cancel is not None and should_cancel():
                    raise InterruptedError("cancelled")
                if progress is not None:
                    progress(reported, total, time.perf_counter() - t0)
    finally:
        stopping.set()
        for thread in threads:
            thread.join()
    for k, part in enumerate(parts):
        if part.short():
            del parts[k + 1:]
            break
    if not all(after.joins(before) for before, after in zip(parts, parts[1:]) if after.indices):
        return track_person(info, start_frame, end_frame, task_path=task_path, max_side_px=max_side_px,
                            should_cancel=should_cancel, progress=progress, progress_every=progress_every)
    kept = [p for p in parts if p.indices]
    frames = sum(len(p.indices) for p in kept)
    if progress is not None:
        progress(frames, frames, time.perf_counter() - t0)
    return TrackedClip.of_frames([i for p in kept for i in p.indices], [x for p in kept for x in p.image],
                                 [x for p in kept for x in p.world], [v for p in kept for v in p.valid])
