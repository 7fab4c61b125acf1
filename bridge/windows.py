"""Sliding windows over a clip for the sequence model: T frames, stride 1, each window predicts its mid frame.

Pure numpy. Window k is centred on frame k (index T//2 inside the window), so every frame is predicted
exactly once from its own temporal context; frames near the clip's ends see their edge frame repeated
(replication padding), which keeps a constant pose constant instead of inventing motion.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def window_indices(centres: np.ndarray, num_frames: int, window: int) -> np.ndarray:
    """(B,) centre frames -> (B, T) frame indices of their windows, edges replicated; centre at column T//2."""
    if window < 1:
        raise ValueError(f"window must be >= 1 frame, got {window}")
    if num_frames < 1:
        raise ValueError("a clip needs at least one frame")
    centres = np.asarray(centres, dtype=np.int64)
    offsets = np.arange(window, dtype=np.int64) - window // 2
    return np.clip(centres[:, None] + offsets[None, :], 0, num_frames - 1)


def num_batches(num_frames: int, batch_size: int) -> int:
    """How many batches iter_window_batches yields (for progress totals)."""
    return -(-num_frames // batch_size)


def iter_window_batches(num_frames: int, window: int, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (centres (B,), indices (B, T)) covering frames 0..num_frames-1 in order, B <= batch_size."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    for start in range(0, num_frames, batch_size):
        centres = np.arange(start, min(start + batch_size, num_frames), dtype=np.int64)
        yield centres, window_indices(centres, num_frames, window)


def gather_windows(per_frame: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """(F, ...) per-frame array and (B, T) indices -> (B, T, ...) windows (a copy)."""
    return np.asarray(per_frame)[indices]
