"""bridge.metrics against values worked out by hand."""
from __future__ import annotations

import numpy as np
import pytest

from bridge import metrics
from bridge.geometry.rotations import axis_angle_to_matrix
from bridge.skeleton import LIMB_BONES, SMPL_JOINT_NAMES


def test_mpjpe_aligns_roots_before_measuring():
    gt = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    # Shifted by (5, 5, 5) (removed by root alignment), joint 1 off by 0.3 and joint 2 by 0.4 after it.
    pred = gt + 5.0
    pred[1] += [0.0, 0.3, 0.0]
    pred[2] += [0.0, 0.0, 0.4]
    assert metrics.mpjpe(pred, gt) == pytest.approx((0.0 + 0.3 + 0.4) / 3)


def test_pa_mpjpe_removes_scale_rotation_translation():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(2, 14, 3))
    rotation = axis_angle_to_matrix(np.array([0.3, -1.1, 0.5]))
    pred = 2.5 * gt @ rotation.T + np.array([1.0, -2.0, 3.0])
    assert metrics.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-9)
    assert metrics.mpjpe(pred, gt) > 0.5


def test_pa_mpjpe_of_a_reflection_is_not_zero():
    # Procrustes must use a proper rotation: a mirrored, non-planar point set cannot be aligned exactly.
    gt = np.array([[0.0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 3]])
    pred = gt * np.array([-1.0, 1.0, 1.0])
    assert metrics.pa_mpjpe(pred, gt) > 0.1


def test_pa_mpjpe_hand_computed_scale():
    # Two points: pred is gt shrunk to half about its centroid plus one point pushed sideways.
    gt = np.array([[[-1.0, 0, 0], [1.0, 0, 0]]])
    pred = np.array([[[-0.5, 0, 0], [0.5, 0, 0]]])
    assert metrics.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-12)
    aligned = metrics.procrustes_align(pred, gt)
    np.testing.assert_allclose(aligned, gt, atol=1e-12)


def test_mpvpe_aligns_pelvis():
    gt_v = np.zeros((1, 4, 3))
    pred_v = np.zeros((1, 4, 3)) + [0.0, 0.0, 2.0]
    pred_v[0, 0] += [0.0, 0.6, 0.0]
    # Pelvis of pred also at z=2: after alignment only vertex 0 is off, by 0.6.
    assert metrics.mpvpe(pred_v, gt_v, np.array([[0, 0, 2.0]]), np.zeros((1, 3))) == pytest.approx(0.6 / 4)


def test_accel_error_hand_computed():
    # One joint; gt moves at constant speed (zero acceleration); pred has one bump of 0.2 at frame 2.
    gt = np.arange(5, dtype=float)[:, None, None] * np.array([1.0, 0, 0])
    pred = gt.copy()
    pred[2, 0, 1] += 0.2
    # Second differences of the bump along y: frames 1, 2, 3 -> 0.2, -0.4, 0.2; mean |.| = 0.8 / 3.
    assert metrics.accel_error(pred, gt) == pytest.approx(0.8 / 3)
    with pytest.raises(ValueError):
        metrics.accel_error(pred[:2], gt[:2])


def test_rotation_angle_error():
    a = axis_angle_to_matrix(np.array([[0.0, 0.0, 0.5], [0.2, 0.0, 0.0]]))
    b = axis_angle_to_matrix(np.array([[0.0, 0.0, 0.2], [0.2, 0.0, 0.0]]))
    np.testing.assert_allclose(metrics.rotation_angle_error(a, b), [0.3, 0.0], atol=1e-7)


def test_twist_error_sees_only_the_turn_about_the_bone():
    rest = np.zeros((24, 3))
    rng = np.random.default_rng(0)
    rest[1:] = rng.normal(size=(23, 3))
    gt = np.broadcast_to(np.eye(3), (24, 3, 3)).copy()
    pred = gt.copy()
    # Joint 18 (left elbow) twists about its rest bone to the wrist (joint 20) by 0.7 rad.
    bone = rest[20] - rest[18]
    pred[18] = axis_angle_to_matrix(0.7 * bone / np.linalg.norm(bone))
    err = metrics.twist_error(pred, gt, rest)
    assert err[17] == pytest.approx(0.7, abs=1e-9)
    assert np.delete(err, 17).max() < 1e-9


def test_lsp14_subset_names():
    names = [SMPL_JOINT_NAMES[j] for j in metrics.LSP14_FROM_SMPL]
    assert names[:6] == ["right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle"]
    assert names[-2:] == ["neck", "head"] and len(set(names)) == 14


def test_mpjpe14_aligns_on_the_hips_not_on_an_ankle():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(3, 24, 3))
    pred = gt + [0.5, -0.2, 3.0]  # a pure translation: zero error after any root alignment
    assert metrics.mpjpe14(pred, gt) == pytest.approx(0.0, abs=1e-12)
    moved = gt.copy()
    moved[:, 8] += [0.0, 0.0, 0.14]  # only the right ankle (LSP joint 0) is off by 14 cm
    # Hip-aligned, one of 14 joints is off: 0.01 on average. Ankle-aligned, 13 joints would be off instead.
    assert metrics.mpjpe14(moved, gt) == pytest.approx(0.14 / 14)
    assert metrics.accel14(gt, gt) == pytest.approx(0.0)
    assert metrics.pa_mpjpe14(2.0 * gt, gt) == pytest.approx(0.0, abs=1e-9)


def test_mpjpe14_axes_split_depth_from_the_image_plane():
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(2, 24, 3))
    moved = gt.copy()
    moved[:, 8] += [0.03, 0.04, 0.0]  # right ankle: 5 cm across the image
    moved[:, 20] += [0.0, 0.0, -0.28]  # left wrist: 28 cm nearer the camera
    depth, plane = metrics.mpjpe14_axes(moved, gt)
    assert depth == pytest.approx(0.28 / 14) and plane == pytest.approx(0.05 / 14)
    moved[:, 1] += [0.0, 0.0, 0.1]  # a hip moves the hips' midpoint: every other joint now errs in depth
    assert metrics.mpjpe14_axes(moved, gt)[0] > 0.28 / 14


def test_depth_order_counts_only_limbs_that_clearly_reach_towards_or_away_from_the_camera():
    gt = np.zeros((3, 24, 3))
    names = {name: index for index, name in enumerate(SMPL_JOINT_NAMES)}
    shoulder, elbow, wrist = names["left_shoulder"], names["left_elbow"], names["left_wrist"]
    assert (shoulder, elbow) in LIMB_BONES and (elbow, wrist) in LIMB_BONES
    gt[:, elbow] = [[0.3, 0.0, 0.0], [0.25, 0.0, 0.15], [0.29, 0.0, 0.05]]  # side-on, away, barely away
    gt[:, wrist] = gt[:, elbow] + [0.25, 0.0, 0.0]  # the forearm side-on in every frame
    gt += [0.0, 0.0, 3.0]  # the camera 3 m away: only depths along a bone count
    assert metrics.depth_order_errors(gt, gt) == (1, 0)  # of the six arm bones, the second frame's upper arm
    pred = gt.copy()
    pred[:, [elbow, wrist], 2] = 6.0 - pred[:, [elbow, wrist], 2]  # the arm mirrored through the shoulder's depth
    assert metrics.depth_order_errors(pred, gt) == (1, 1)
    pred[1, [elbow, wrist], 2] = 3.01  # still a little away: the order is right, however short the reach
    assert metrics.depth_order_errors(pred, gt) == (1, 0)


def test_turn_aligned_mpjpe14_takes_out_the_whole_body_turn_and_nothing_else():
    from bridge.geometry import rotations

    rng = np.random.default_rng(4)
    gt = rng.normal(scale=0.3, size=(3, 24, 3))
    turns = rotations.axis_angle_to_matrix(np.array([[0.0, 0.2, 0.0], [0.1, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    hips = 0.5 * (gt[:, 1:2] + gt[:, 2:3])
    turned = np.einsum("fab,fjb->fja", turns, gt - hips) + hips + [0.5, 0.0, 2.0]  # about the hips, then moved
    error, angle = metrics.turn_aligned14(turned, gt)
    assert error == pytest.approx(0.0, abs=1e-9) and metrics.mpjpe14(turned, gt) > 0.02
    np.testing.assert_allclose(angle, [0.2, 0.1, 0.0], atol=1e-6)
    bent = gt.copy()
    bent[:, 20] += [0.0, 0.0, 0.14]  # a wrist 14 cm off: no turn of the body explains it
    error, angle = metrics.turn_aligned14(bent, gt)
    assert error > 0.005 and np.all(angle < 0.1)


def test_slow_turn_aligned_mpjpe14_takes_out_a_held_turn_but_not_a_flickering_one():
    from bridge.geometry import rotations

    rng = np.random.default_rng(5)
    gt = rng.normal(scale=0.3, size=(40, 24, 3))
    hips = 0.5 * (gt[:, 1:2] + gt[:, 2:3])

    def turned(angles: np.ndarray) -> np.ndarray:
        turns = rotations.axis_angle_to_matrix(np.stack([np.zeros(40), angles, np.zeros(40)], -1))
        return np.einsum("fab,fjb->fja", turns, gt - hips) + hips

    held = turned(np.full(40, 0.2))  # one heading error for the whole clip
    assert metrics.slow_turn_aligned14(held, gt, 15) == pytest.approx(0.0, abs=1e-9)
    flicker = turned(np.where(np.arange(40) % 2 == 0, 0.2, -0.2))  # the same size, changing every frame
    assert metrics.slow_turn_aligned14(flicker, gt, 15) > 0.5 * metrics.mpjpe14(flicker, gt)
    assert metrics.slow_turn_aligned14(flicker, gt, 0) == pytest.approx(metrics.turn_aligned14(flicker, gt)[0])
