"""Sliding windows over a clip for the sequence model: T frames, centred on every `stride`-th frame.

Pure numpy. Windows sit on frames 0, s, 2s, ... (index T//2 inside the window) and each answers for the
frames up to 2s - 1 either side of its centre (the network predicts all T frames of a window at once). A
frame's answer is the mean of every answer for it, weighted by a triangle that peaks at the window's centre
(where it has most context both ways) and reaches zero two strides away: with a hop of s those weights sum
to the same at every frame, so no frame leans on one window more than its neighbours do. The network runs s
times less often than one window per frame. Measured on the rendered sets (scripts/eval_rendered.py, issue
14): stride 2 is as accurate as one window per frame answering only for its mid frame, and steadier; answers
that only reached one stride (each frame from at most two windows) almost doubled the jitter, and windows
that simply took turns tripled it. Frames near the clip's ends see their edge frame repeated (replication
padding), which keeps a constant pose constant instead of inventing motion.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .geometry import rotations

#: A window answers for frames up to 2 strides - 1 from its centre (index T // 2): all inside T = 16.
MAX_WINDOW_STRIDE = 4
DEFAULT_WINDOW_STRIDE = 2
#: Windows per network call. Small, so that while detection goes on most batches run as soon as their frames
#: are in and only the last one waits for the end of the clip: on a 4-s 720p clip at stride 2, 16 windows gave a
#: median of 19.4 frames/s end to end against 15.3 for 64 (scripts/bench_bridge.py's clip, 4 runs each, 2 cores).
DEFAULT_BATCH_WINDOWS = 16


def window_indices(centres: np.ndarray, num_frames: int, window: int) -> np.ndarray:
    """(B,) centre frames -> (B, T) frame indices of their windows, edges replicated; centre at column T//2."""
    if window < 1:
        raise ValueError(f"window must be >= 1 frame, got {window}")
    if num_frames < 1:
        raise ValueError("a clip needs at least one frame")
    centres = np.asarray(centres, dtype=np.int64)
    offsets = np.arange(window, dtype=np.int64) - window // 2
    return np.clip(centres[:, None] + offsets[None, :], 0, num_frames - 1)


def window_centres(num_frames: int, stride: int = 1) -> np.ndarray:
    """The centre frames of the windows that cover a clip: 0, s, 2s, ... < num_frames."""
    if stride < 1:
        raise ValueError(f"the window stride must be >= 1 frame, got {stride}")
    return np.arange(0, num_frames, stride, dtype=np.int64)


def stride_for(window: int, requested: int) -> int:
    """The requested stride, or less where the window is too short for its answers (T // 2 + 2s - 1 < T)."""
    return max(1, min(int(requested), (window - window // 2) // 2))


def answer_offsets(stride: int) -> np.ndarray:
    """The frames, relative to its centre, a window answers for at this stride: -(2s-1) .. 2s-1."""
    return np.arange(1 - 2 * stride, 2 * stride, dtype=np.int64)


def num_batches(num_frames: int, batch_size: int, stride: int = 1) -> int:
    """How many batches iter_window_batches yields (for progress totals)."""
    return -(-len(window_centres(num_frames, stride)) // batch_size)


def iter_window_batches(num_frames: int, window: int, batch_size: int,
                        stride: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (centres (B,), indices (B, T)) of every window_centres in order, B <= batch_size windows."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    centres = window_centres(num_frames, stride)
    for start in range(0, len(centres), batch_size):
        batch = centres[start:start + batch_size]
        yield batch, window_indices(batch, num_frames, window)


def blend_answers(pose_aa: np.ndarray, betas: np.ndarray, num_frames: int,
                  stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-window answers -> per-frame (pose_aa (F, 24, 3), betas (F, 10)).

    pose_aa (W, P, 24, 3) axis-angle, for every window of window_centres(num_frames, stride) in order, at the
    frames answer_offsets(stride) around its centre; betas (W, 10), one per window. A frame's answer is the
    weighted mean of the windows' answers for it, weight 1 - |offset| / (2 stride): joint rotations as the
    normalised weighted sum of their quaternions taken in one hemisphere, β linearly.
    """
    pose_aa, betas = np.asarray(pose_aa), np.asarray(betas)
    centres = window_centres(num_frames, stride)
    reach = 2 * stride
    offsets = answer_offsets(stride)
    if pose_aa.shape[:2] != (len(centres), len(offsets)) or betas.shape[0] != len(centres):
        raise ValueError(f"expected answers for {len(centres)} windows x {len(offsets)} frames, got pose "
                         f"{pose_aa.shape} and betas {betas.shape}")
    frames = centres[:, None] + offsets[None, :]  # (W, P)
    weights = np.broadcast_to(1.0 - np.abs(offsets) / reach, frames.shape)
    used = (frames >= 0) & (frames < num_frames)
    frame, window = frames[used], np.nonzero(used)[0]
    weight = weights[used]
    quats = rotations.axis_angle_to_quaternion(pose_aa.astype(np.float64))[used]  # (N, 24, 4)
    own = np.arange(num_frames)  # each frame's own window (centre at or before it) sets the hemisphere
    reference = rotations.axis_angle_to_quaternion(
        pose_aa[own // stride, own % stride + reach - 1].astype(np.float64))
    sign = np.where(np.sum(quats * reference[frame], axis=-1, keepdims=True) < 0, -1.0, 1.0)
    summed = np.zeros((num_frames, pose_aa.shape[2], 4))
    np.add.at(summed, frame, weight[:, None, None] * sign * quats)
    total = np.zeros(num_frames)
    np.add.at(total, frame, weight)
    summed_betas = np.zeros((num_frames, betas.shape[1]))
    np.add.at(summed_betas, frame, weight[:, None] * betas[window])
    pose = rotations.quaternion_to_axis_angle(summed / np.linalg.norm(summed, axis=-1, keepdims=True))
    return pose.astype(pose_aa.dtype), (summed_betas / total[:, None]).astype(betas.dtype)


def gather_windows(per_frame: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """(F, ...) per-frame array and (B, T) indices -> (B, T, ...) windows (a copy)."""
    return np.asarray(per_frame)[indices]
