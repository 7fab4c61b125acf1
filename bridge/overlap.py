"""Run the network on windows while detection is still going: the model stage overlaps the detect stage.

Detection hands over each frame's landmarks as soon as the tracker has chosen the person (track_person's
on_landmarks). A worker thread runs the model stage's own batches (windows [k B, (k + 1) B) of
bridge.windows.window_centres at the pipeline's stride) whose windows' frames are all detected, all with the
person found, and none near the clip's end (whose windows repeat the last frame, unknown until detection
stops). Such a batch's input is final: crop recovery and gap filling only change frames where nobody was
found, so the pipeline's model stage later takes these results as they are and runs only the batches left
(with a gap, or at the end). Same batches, same inputs: the same numbers, bit for bit, whichever thread runs
them. Memory stays flat: the landmark arrays are the ones detection keeps anyway, and results are a few poses
per window.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .windows import answer_offsets, window_indices


class WindowsAhead:
    """Collect landmarks frame by frame and predict ready windows in a background thread, batch by batch."""

    def __init__(self, predictor: Any, image_size: tuple[int, int], batch_size: int,
                 flip_average: bool = False, stride: int = 1) -> None:
        self.predictor = predictor
        self.flip_average = flip_average
        self.image_size = image_size
        self.batch_size = batch_size
        self.stride = stride
        self.window = int(predictor.window)
        self._image: list[np.ndarray] = []
        self._world: list[np.ndarray] = []
        self._valid: list[bool] = []
        self._next = 0  # number (in window_centres) of the next batch's first window
        # centre -> (pose_aa (P, 24, 3) at answer_offsets(stride), betas (10,))
        self.results: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Condition()
        self._stopping = False
        self._finish = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="arts-windows-ahead", daemon=True)
        self._thread.start()

    def add(self, image_lm: np.ndarray, world_lm: np.ndarray, valid: bool) -> None:
        """One more frame's chosen landmarks (called from the detection loop, in frame order)."""
        with self._lock:
            self._image.append(np.asarray(image_lm, np.float32))
            self._world.append(np.asarray(world_lm, np.float32))
            self._valid.append(bool(valid))
            if self._ready_count() >= self.batch_size:
                self._lock.notify()

    def stop(self, finish: bool = True) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Stop, after running the windows that are ready (`finish`, detection is done) or after the batch in
        progress (a cancel or an error); the results (centre -> (pose_aa (P, 24, 3), betas))."""
        with self._lock:
            self._stopping, self._finish = True, finish
            self._lock.notify()
        self._thread.join()
        return self.results

    def _ready_count(self) -> int:
        """Windows from self._next that lie inside the frames received, end padding excluded."""
        last_centre = len(self._image) - 1 - (self.window - 1 - self.window // 2)
        return max(0, last_centre // self.stride + 1 - self._next) if last_centre >= 0 else 0

    def _take_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Under the lock: the next whole batch if every frame of its windows has the person, with its windows
        (None, and the batch left to the model stage, if not)."""
        centres = self.stride * np.arange(self._next, self._next + self.batch_size, dtype=np.int64)
        self._next += self.batch_size
        indices = window_indices(centres, len(self._image), self.window)
        first, last = int(indices.min()), int(indices.max()) + 1  # the batch's frames: one short run
        if not all(self._valid[first:last]):
            return None
        local = indices - first
        image = np.stack(self._image[first:last])[local]
        world = np.stack(self._world[first:last])[local]
        return centres, image, world

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    while not self._stopping and self._ready_count() < self.batch_size:
                        self._lock.wait()
                    if self._stopping and not (self._finish and self._ready_count() >= self.batch_size):
                        return
                    batch = self._take_batch()
                if batch is None:
                    continue
                centres, image, world = batch
                out = self.predictor.predict_windows(image, world, self.image_size, flip_average=self.flip_average,
                                                     offsets=answer_offsets(self.stride))
                for k, centre in enumerate(centres.tolist()):
                    self.results[centre] = (out["pose_aa"][k], out["betas"][k])
        except BaseException as exc:  # handed to the caller, which runs those windows itself
            self.error = exc
