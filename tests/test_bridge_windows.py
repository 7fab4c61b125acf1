"""Sliding windows: stride 1, mid frame at T//2, edge replication, batches covering every frame once."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.windows import gather_windows, iter_window_batches, num_batches, window_indices


def test_window_is_centred_on_its_frame_and_replicates_edges():
    idx = window_indices(np.array([0, 5, 9]), num_frames=10, window=4)
    assert idx.shape == (3, 4)
    assert idx[:, 4 // 2].tolist() == [0, 5, 9]
    assert idx[0].tolist() == [0, 0, 0, 1]
    assert idx[1].tolist() == [3, 4, 5, 6]
    assert idx[2].tolist() == [7, 8, 9, 9]


def test_odd_window_and_single_frame_clip():
    assert window_indices(np.array([2]), 5, 5)[0].tolist() == [0, 1, 2, 3, 4]
    assert window_indices(np.array([0]), 1, 16)[0].tolist() == [0] * 16


@pytest.mark.parametrize("frames, batch", [(1, 4), (7, 3), (64, 64), (65, 64)])
def test_batches_cover_every_frame_once_in_order(frames, batch):
    seen = []
    for centres, idx in iter_window_batches(frames, 16, batch):
        assert len(centres) <= batch and idx.shape == (len(centres), 16)
        assert np.array_equal(idx[:, 8], centres)
        seen.extend(centres.tolist())
    assert seen == list(range(frames))
    assert num_batches(frames, batch) == -(-frames // batch)


def test_gather_windows_shapes_and_values():
    per_frame = np.arange(10 * 33 * 4, dtype=np.float32).reshape(10, 33, 4)
    idx = window_indices(np.array([0, 9]), 10, 16)
    win = gather_windows(per_frame, idx)
    assert win.shape == (2, 16, 33, 4)
    assert np.array_equal(win[0, 0], per_frame[0]) and np.array_equal(win[1, -1], per_frame[9])
    assert np.array_equal(win[0, 8], per_frame[0]) and np.array_equal(win[0, 9], per_frame[1])


def test_invalid_arguments():
    with pytest.raises(ValueError):
        window_indices(np.array([0]), 0, 16)
    with pytest.raises(ValueError):
        list(iter_window_batches(5, 16, 0))
