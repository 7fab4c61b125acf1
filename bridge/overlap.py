"""Run the network on windows while detection is still going: the model stage overlaps the detect stage.

Detection hands over each frame's landmarks, with its place in the clip, as soon as the tracker has chosen the
person (track_person's on_landmarks); frames may come out of order when pieces of the clip are tracked side by
side (bridge/parallel_tracking.py). A worker thread runs the model stage's own batches (windows [k B, (k + 1) B)
of bridge.windows.window_centres at the pipeline's stride) as soon as every frame of their windows is in, with
the person found: none reaches past the clip's end (whose windows repeat the last frame, unknown until
detection stops). Such a batch's input is final: crop recovery and gap filling only change frames where nobody
was found, so the pipeline's model stage later takes these results as they are and runs only the batches left
(with a gap, or at the end). Same batches, same inputs: the same numbers, bit for bit, whichever thread runs
them. Memory stays flat: the landmark arrays are the ones detection keeps anyway, and results are a few poses
per window.
"""
from __future__ import annotations

import heapq
import threading
from typing import Any

import numpy as np

from .tracking import TrackedClip
from .windows import answer_offsets, window_indices


class WindowsAhead:
    """Collect landmarks frame by frame and predict ready windows in a background thread, batch by batch."""

    def __init__(self, predictor: Any, image_size: tuple[int, int], batch_size: int,
                 flip_average: bool = False, stride: int = 1, focal_px: float | None = None) -> None:
        self.predictor = predictor
        self.flip_average = flip_average
        self.focal_px = focal_px  # the video's, for networks that read world landmarks in camera axes
        self.image_size = image_size
        self.batch_size = batch_size
        self.stride = stride
        self.window = int(predictor.window)
        self._step = stride * batch_size  # frames from one batch's first centre to the next one's
        self._frames: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # position -> (image, world), person found
        self._missing: dict[int, int] = {}  # batch -> frames of its windows not in yet
        self._dead: set[int] = set()  # batches over a frame where nobody was found: left to the model stage
        self._ready: list[int] = []  # batches whose frames are all in, not yet run (a heap)
        # centre -> (pose_aa (P, 24, 3) at answer_offsets(stride), betas (10,))
        self.results: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Condition()
        self._stopping = False
        self._finish = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="arts-windows-ahead", daemon=True)
        self._thread.start()

    def _span(self, batch: int) -> tuple[int, int]:
        """[first, stop) frames the batch's windows read, before the clip's end is known (its start is)."""
        first = max(0, batch * self._step - self.window // 2)
        return first, batch * self._step + self.stride * (self.batch_size - 1) + self.window - self.window // 2

    def _batches_over(self, position: int) -> range:
        low = (position - (self.window - self.window // 2) - self.stride * (self.batch_size - 1)) // self._step + 1
        return range(max(low, 0), (position + self.window // 2) // self._step + 1)

    def add(self, position: int, image_lm: np.ndarray, world_lm: np.ndarray, valid: bool) -> None:
        """One frame's chosen landmarks, `position` frames from the clip's first (called from detection)."""
        with self._lock:
            if valid:
                self._frames[position] = (np.asarray(image_lm, np.float32), np.asarray(world_lm, np.float32))
            for batch in self._batches_over(position):
                if batch in self._dead:
                    continue
                if not valid:
                    self._dead.add(batch)
                    self._missing.pop(batch, None)
                    continue
                first, stop = self._span(batch)
                left = self._missing.get(batch, stop - first) - 1
                self._missing[batch] = left
                if left == 0:
                    del self._missing[batch]
                    heapq.heappush(self._ready, batch)
                    self._lock.notify()

    def stop(self, finish: bool = True, track: TrackedClip | None = None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Stop, after running the windows that are ready (`finish`, detection is done) or after the batch in
        progress (a cancel or an error); the results (centre -> (pose_aa (P, 24, 3), betas)). Given the final
        track, only batches whose every frame is in it, as it was handed over, are kept:
        a damaged file may end before frames already seen, and a clip tracked again in one pass
        (bridge/parallel_tracking.py) has other landmarks."""
        with self._lock:
            self._stopping, self._finish = True, finish
            self._lock.notify()
        self._thread.join()
        if track is None:
            return self.results
        final = {batch for batch in {c // self._step for c in self.results} if self._unchanged(batch, track)}
        return {c: v for c, v in self.results.items() if c // self._step in final}

    def _unchanged(self, batch: int, track: TrackedClip) -> bool:
        first, stop = self._span(batch)
        return stop <= track.num_frames and all(
            track.valid[k] and np.array_equal(self._frames[k][0], track.image_landmarks[k])
            and np.array_equal(self._frames[k][1], track.world_landmarks[k]) for k in range(first, stop))

    def _take_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Under the lock: the lowest ready batch's centres and windows."""
        batch = heapq.heappop(self._ready)
        centres = self.stride * np.arange(batch * self.batch_size, (batch + 1) * self.batch_size, dtype=np.int64)
        first, stop = self._span(batch)
        indices = window_indices(centres, stop, self.window) - first
        image = np.stack([self._frames[k][0] for k in range(first, stop)])[indices]
        world = np.stack([self._frames[k][1] for k in range(first, stop)])[indices]
        return centres, image, world

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    while not self._stopping and not self._ready:
                        self._lock.wait()
                    if self._stopping and not (self._finish and self._ready):
                        return
                    centres, image, world = self._take_batch()
                out = self.predictor.predict_windows(image, world, self.image_size, flip_average=self.flip_average,
                                                     offsets=answer_offsets(self.stride), focal_px=self.focal_px)
                for k, centre in enumerate(centres.tolist()):
                    self.results[centre] = (out["pose_aa"][k], out["betas"][k])
        except BaseException as exc:  # handed to the caller, which runs those windows itself
            self.error = exc
