"""Sliding windows: mid frame at T//2, edge replication, batches covering every window once, and strided windows'
answers cross-faded into one answer per frame."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.windows import (answer_offsets, blend_answers, gather_windows, iter_window_batches, num_batches,
                            stride_for, window_centres, window_indices)


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


def test_strided_batches_cover_every_strided_centre():
    centres = np.concatenate([c for c, _ in iter_window_batches(23, 16, 3, stride=4)])
    assert centres.tolist() == [0, 4, 8, 12, 16, 20] == window_centres(23, 4).tolist()
    assert num_batches(23, 3, stride=4) == 2
    assert answer_offsets(1).tolist() == [-1, 0, 1] and answer_offsets(2).tolist() == [-3, -2, -1, 0, 1, 2, 3]
    # answers reach 2 strides - 1 past the centre (index T // 2): the window's length caps the stride
    assert [stride_for(16, s) for s in (1, 2, 4, 8)] == [1, 2, 4, 4]
    assert stride_for(8, 2) == 2 and stride_for(6, 2) == 1 and stride_for(2, 4) == 1


def _about_z(angles):
    return np.stack([np.zeros_like(angles), np.zeros_like(angles), angles], -1)[..., None, :].repeat(24, -2)


@pytest.mark.parametrize("frames, stride", [(1, 3), (17, 1), (17, 2), (20, 4), (21, 4)])
def test_windows_that_agree_give_their_answer_and_every_frame_gets_one(frames, stride):
    centres, offsets = window_centres(frames, stride), answer_offsets(stride)
    truth = np.linspace(-1.0, 2.0, frames + 4 * stride)  # radians about z, one per frame (and past the ends)
    answers = _about_z(truth[centres[:, None] + offsets + 2 * stride])
    betas = np.tile(np.arange(10.0), (len(centres), 1))
    pose, blended_betas = blend_answers(answers, betas, frames, stride)
    assert pose.shape == (frames, 24, 3) and blended_betas.shape == (frames, 10)
    np.testing.assert_allclose(pose[:, 5, 2], truth[2 * stride:2 * stride + frames], atol=1e-6)
    np.testing.assert_allclose(blended_betas, np.tile(np.arange(10.0), (frames, 1)))


def test_a_frame_averages_the_windows_within_two_strides_weighted_towards_their_centres():
    stride, frames = 2, 9
    centres = window_centres(frames, stride)  # 0, 2, 4, 6, 8
    answers = _about_z(np.repeat(0.1 * centres[:, None].astype(float), 7, 1))  # each window its own angle
    betas = np.repeat(centres[:, None].astype(float), 10, 1)
    pose, blended_betas = blend_answers(answers, betas, frames, stride)
    # inside the clip the weights (1 - |d| / 4) are symmetric about every frame: windows at 2, 4, 6 give frame 4
    # weights 1/2, 1, 1/2, windows at 0, 2, 4, 6 give frame 3 weights 1/4, 3/4, 3/4, 1/4
    np.testing.assert_allclose(pose[2:7, 0, 2], 0.1 * np.arange(2, 7), atol=1e-6)
    np.testing.assert_allclose(blended_betas[2:7, 0], np.arange(2.0, 7.0))
    assert np.isclose(blended_betas[0, 0], (0 * 1.0 + 2 * 0.5) / 1.5)  # at the end, only the windows there
    assert np.all(np.diff(pose[:, 0, 2]) > 0)  # no seam: the answer moves steadily from window to window


def test_blending_takes_the_short_way_between_rotations_near_half_a_turn():
    answers = _about_z(np.array([[np.pi - 0.05] * 3, [-(np.pi - 0.05)] * 3]))  # 175 and 185 (as -175) deg about z
    pose, _ = blend_answers(answers, np.zeros((2, 10)), 2, 1)  # windows on frames 0 and 1
    assert np.all(np.linalg.norm(pose[:, 0], axis=-1) > np.pi - 0.05)  # between the two, not near 0


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
    with pytest.raises(ValueError):
        window_centres(5, 0)
    with pytest.raises(ValueError):  # answers for some of the windows only
        blend_answers(np.zeros((2, 7, 24, 3)), np.zeros((2, 10)), 6, 2)  # 6 frames at stride 2 have 3 windows
    with pytest.raises(ValueError):  # answers at the wrong number of offsets
        blend_answers(np.zeros((3, 1, 24, 3)), np.zeros((3, 10)), 6, 2)
