"""Swing–twist decomposition and analytic IK: exact inverses of forward kinematics on the SMPL tree."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from bridge.geometry import analytic_ik, kinematics, rotations, swing_twist
from bridge.skeleton import NUM_JOINTS, SMPL_PARENTS

TOL = 1e-5
LEAVES = [j for j in range(NUM_JOINTS) if j not in set(SMPL_PARENTS[1:].tolist())]
WITH_CHILD = [j for j in range(NUM_JOINTS) if j not in LEAVES]

#: A plausible SMPL neutral rest skeleton (metres, Y up, +X the person's left), written for this test.
HAND_BUILT_REST = np.array([
    [0.00, 0.00, 0.00], [0.06, -0.09, 0.00], [-0.06, -0.09, 0.00], [0.00, 0.11, -0.02],
    [0.10, -0.47, 0.01], [-0.10, -0.47, 0.01], [0.00, 0.24, 0.00], [0.09, -0.87, -0.03],
    [-0.09, -0.87, -0.03], [0.00, 0.30, 0.03], [0.12, -0.93, 0.10], [-0.12, -0.93, 0.10],
    [0.00, 0.52, -0.01], [0.08, 0.42, 0.00], [-0.08, 0.42, 0.00], [0.00, 0.60, 0.04],
    [0.19, 0.46, -0.01], [-0.19, 0.46, -0.01], [0.45, 0.44, -0.03], [-0.45, 0.44, -0.03],
    [0.71, 0.45, -0.01], [-0.71, 0.45, -0.01], [0.79, 0.44, -0.02], [-0.79, 0.44, -0.02],
])


def body_model_rest() -> np.ndarray | None:
    """Rest joints of the project's default body model, when that module and asset exist yet."""
    try:
        from bridge.body_model import load_body_model_arrays, shaped_rest
        arrays = load_body_model_arrays()
    except (ImportError, FileNotFoundError, OSError):
        return None
    return np.asarray(shaped_rest(arrays, np.zeros(10))[1], dtype=np.float64)


def random_rest_layouts(count: int, seed: int) -> np.ndarray:
    """(count, 24, 3) rest skeletons: the base skeleton with every joint moved by up to ~3 cm."""
    base = body_model_rest()
    base = HAND_BUILT_REST if base is None else base
    rng = np.random.default_rng(seed)
    return base + rng.normal(scale=0.015, size=(count, NUM_JOINTS, 3))


def random_poses(count: int, seed: int) -> np.ndarray:
    """(count, 24, 3, 3) local rotations with angles up to ~2.5 rad (avoiding exact half turns)."""
    rng = np.random.default_rng(seed)
    return rotations.axis_angle_to_matrix(rng.normal(scale=0.9, size=(count, NUM_JOINTS, 3)))


# ---- swing–twist ------------------------------------------------------------------------------------

def test_swing_twist_recomposes_and_swing_moves_the_axis_like_r():
    rng = np.random.default_rng(0)
    r = random_poses(20, seed=1).reshape(-1, 3, 3)
    axes = rng.normal(size=(r.shape[0], 3)) * rng.uniform(0.1, 3.0, size=(r.shape[0], 1))
    swing, angle = swing_twist.swing_twist_decompose(r, axes)
    assert angle.shape == (r.shape[0],) and np.abs(angle).max() <= np.pi
    assert np.abs(swing_twist.compose_swing_twist(swing, axes, angle) - r).max() < 1e-12
    unit = axes / np.linalg.norm(axes, axis=-1, keepdims=True)
    assert np.abs(swing @ unit[..., None] - r @ unit[..., None]).max() < 1e-12
    # The swing has no twist of its own: its rotation axis is perpendicular to the bone.
    swing_axis_angle = rotations.matrix_to_axis_angle(swing)
    assert np.abs(np.sum(swing_axis_angle * unit, axis=-1)).max() < 1e-12


def test_pure_twist_and_pure_swing():
    axis = np.array([0.0, 2.0, 0.0])
    for angle in (-2.5, -0.3, 0.0, 1e-9, 1.2, 3.0):
        swing, twist = swing_twist.swing_twist_decompose(rotations.axis_angle_to_matrix(np.array([0, angle, 0])), axis)
        np.testing.assert_allclose(twist, angle, atol=1e-12)
        np.testing.assert_allclose(swing, np.eye(3), atol=1e-12)
    swing_only = rotations.axis_angle_to_matrix(np.array([0.7, 0.0, -0.4]))
    swing, twist = swing_twist.swing_twist_decompose(swing_only, axis)
    np.testing.assert_allclose(twist, 0.0, atol=1e-12)
    np.testing.assert_allclose(swing, swing_only, atol=1e-12)


def test_swing_twist_torch_matches_numpy_and_broadcasts_one_axis():
    r = random_poses(3, seed=2)                                   # (3, 24, 3, 3)
    axis = np.array([0.3, -1.0, 0.2])
    swing, angle = swing_twist.swing_twist_decompose(r, axis)
    assert swing.shape == (3, 24, 3, 3) and angle.shape == (3, 24)
    swing_t, angle_t = swing_twist.swing_twist_decompose(torch.from_numpy(r), torch.from_numpy(axis))
    np.testing.assert_allclose(swing_t.numpy(), swing, atol=1e-12)
    np.testing.assert_allclose(angle_t.numpy(), angle, atol=1e-12)


def test_swing_rotation_is_the_smallest_rotation_between_directions():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(200, 3)), rng.normal(size=(200, 3)) * 2.0
    r = swing_twist.swing_rotation(a, b)
    unit_a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    unit_b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    np.testing.assert_allclose((r @ unit_a[..., None])[..., 0], unit_b, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(rotations.matrix_to_axis_angle(r), axis=-1),
                               np.arccos(np.clip(np.sum(unit_a * unit_b, axis=-1), -1, 1)), atol=1e-7)
    for direction in (np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.3, -0.2, 0.9])):
        half_turn = swing_twist.swing_rotation(direction, -direction)
        np.testing.assert_allclose(half_turn @ direction, -direction, atol=1e-12)
        np.testing.assert_allclose(np.linalg.det(half_turn), 1.0, atol=1e-12)
    np.testing.assert_allclose(swing_twist.swing_rotation(a[0], a[0] * 3), np.eye(3), atol=1e-12)


def test_kabsch_recovers_rotation_from_coplanar_points_and_never_reflects():
    r = random_poses(1, seed=4)[0, :5]                                        # (5, 3, 3)
    planar = np.array([[0.06, -0.09, 0.0], [-0.06, -0.09, 0.0], [0.0, 0.11, 0.0]])
    targets = planar @ np.swapaxes(r, -1, -2)                                 # rows R @ p
    np.testing.assert_allclose(analytic_ik.kabsch_rotation(planar, targets), r, atol=1e-12)
    mirrored = planar * np.array([-1.0, 1.0, 1.0])
    best = analytic_ik.kabsch_rotation(np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]), mirrored[[0, 1, 2]])
    np.testing.assert_allclose(np.linalg.det(best), 1.0, atol=1e-12)


# ---- analytic IK -------------------------------------------------------------------------------------

def test_twist_axes_follow_the_first_child_or_the_incoming_bone():
    axes = analytic_ik.twist_axes(HAND_BUILT_REST, SMPL_PARENTS)
    assert axes.shape == (23, 3)
    np.testing.assert_allclose(axes[18 - 1], HAND_BUILT_REST[20] - HAND_BUILT_REST[18])   # elbow -> wrist
    np.testing.assert_allclose(axes[9 - 1], HAND_BUILT_REST[12] - HAND_BUILT_REST[9])     # spine3 -> neck
    np.testing.assert_allclose(axes[15 - 1], HAND_BUILT_REST[15] - HAND_BUILT_REST[12])   # neck -> head (leaf)


def test_twist_angle_index_belongs_to_joint_plus_one():
    local = np.broadcast_to(np.eye(3), (NUM_JOINTS, 3, 3)).copy()
    forearm = HAND_BUILT_REST[20] - HAND_BUILT_REST[18]
    local[18] = swing_twist.twist_matrix(forearm, 0.8)
    angles = analytic_ik.twist_angles_from_rotmats(local, HAND_BUILT_REST, SMPL_PARENTS)
    expected = np.zeros(23)
    expected[17] = 0.8
    np.testing.assert_allclose(angles, expected, atol=1e-12)


def _assert_inverts_forward_kinematics(rest, local, posed_offset=0.0, scale=1.0):
    is_torch = isinstance(local, torch.Tensor)
    posed, _ = kinematics.forward_kinematics(local, rest, SMPL_PARENTS)
    twists = analytic_ik.twist_angles_from_rotmats(local, rest, SMPL_PARENTS)
    solved = analytic_ik.analytic_swing(rest, posed * scale + posed_offset, SMPL_PARENTS, twists)
    assert isinstance(solved, torch.Tensor) == is_torch
    solved_posed, _ = kinematics.forward_kinematics(solved, rest, SMPL_PARENTS)
    as_np = (lambda x: x.detach().numpy()) if is_torch else np.asarray
    assert np.abs(as_np(solved_posed) - as_np(posed)).max() < TOL
    assert np.abs(as_np(solved)[..., WITH_CHILD, :, :] - as_np(local)[..., WITH_CHILD, :, :]).max() < TOL
    return solved


def test_analytic_swing_inverts_forward_kinematics_numpy():
    rest = random_rest_layouts(64, seed=5)
    local = random_poses(64, seed=6)
    solved = _assert_inverts_forward_kinematics(rest, local, posed_offset=np.array([0.3, -1.2, 4.0]))
    # Leaves carry no position information: they come back as their twist about the incoming bone.
    axes = analytic_ik.twist_axes(rest, SMPL_PARENTS)
    leaf_twist = analytic_ik.twist_angles_from_rotmats(local, rest, SMPL_PARENTS)
    for leaf in LEAVES:
        np.testing.assert_allclose(solved[:, leaf], swing_twist.twist_matrix(axes[:, leaf - 1], leaf_twist[:, leaf - 1]),
                                   atol=1e-12)


def test_analytic_swing_inverts_forward_kinematics_torch_and_matches_numpy():
    rest = random_rest_layouts(16, seed=7)
    local = random_poses(16, seed=8)
    solved = _assert_inverts_forward_kinematics(torch.from_numpy(rest), torch.from_numpy(local))
    posed, _ = kinematics.forward_kinematics(local, rest, SMPL_PARENTS)
    twists = analytic_ik.twist_angles_from_rotmats(local, rest, SMPL_PARENTS)
    np.testing.assert_allclose(solved.numpy(), analytic_ik.analytic_swing(rest, posed, SMPL_PARENTS, twists),
                               atol=1e-10)


def test_analytic_swing_recovers_leaf_rotations_that_are_pure_twists():
    rest = random_rest_layouts(8, seed=9)
    local = random_poses(8, seed=10)
    axes = analytic_ik.twist_axes(rest, SMPL_PARENTS)
    for leaf in LEAVES:
        local[:, leaf] = swing_twist.twist_matrix(axes[:, leaf - 1], np.linspace(-2.0, 2.0, 8))
    posed, _ = kinematics.forward_kinematics(local, rest, SMPL_PARENTS)
    twists = analytic_ik.twist_angles_from_rotmats(local, rest, SMPL_PARENTS)
    solved = analytic_ik.analytic_swing(rest, posed, SMPL_PARENTS, twists)
    assert np.abs(solved - local).max() < TOL


def test_analytic_swing_uses_bone_directions_only():
    rest = random_rest_layouts(8, seed=11)
    local = random_poses(8, seed=12)
    _assert_inverts_forward_kinematics(rest, local, posed_offset=np.array([0.0, 0.5, 2.0]), scale=1.3)


def test_analytic_swing_without_twists_still_reaches_every_joint_with_zero_twist():
    rest = random_rest_layouts(16, seed=13)
    posed, _ = kinematics.forward_kinematics(random_poses(16, seed=14), rest, SMPL_PARENTS)
    solved = analytic_ik.analytic_swing(rest, posed, SMPL_PARENTS)
    solved_posed, _ = kinematics.forward_kinematics(solved, rest, SMPL_PARENTS)
    assert np.abs(solved_posed - posed).max() < TOL
    twists = analytic_ik.twist_angles_from_rotmats(solved, rest, SMPL_PARENTS)
    single_child = [j for j in WITH_CHILD if j not in (0, 9)]
    assert np.abs(twists[:, [j - 1 for j in single_child]]).max() < 1e-9
    np.testing.assert_allclose(solved[:, LEAVES], np.broadcast_to(np.eye(3), (16, len(LEAVES), 3, 3)), atol=0)


def test_analytic_swing_broadcasts_one_rest_skeleton_over_a_clip():
    rest = HAND_BUILT_REST
    local = random_poses(10, seed=15).reshape(2, 5, NUM_JOINTS, 3, 3)
    solved = _assert_inverts_forward_kinematics(rest, local)
    assert solved.shape == (2, 5, NUM_JOINTS, 3, 3)


def test_analytic_swing_on_another_tree_with_a_single_child_root():
    parents = [-1, 0, 1, 1, 3]
    rest = np.array([[0.0, 0, 0], [0, 1.0, 0], [0.5, 1.5, 0], [-0.5, 1.5, 0.2], [-1.0, 1.0, 0.3]])
    local = random_poses(1, seed=16)[0, :5]
    axes = analytic_ik.twist_axes(rest, parents)
    local[0] = swing_twist.swing_rotation(rest[1] - rest[0], np.array([1.0, 0.2, -0.4]))   # root: swing only
    posed, _ = kinematics.forward_kinematics(local, rest, parents)
    twists = analytic_ik.twist_angles_from_rotmats(local, rest, parents)
    solved = analytic_ik.analytic_swing(rest, posed, parents, twists)
    np.testing.assert_allclose(solved[[0, 1, 3]], local[[0, 1, 3]], atol=1e-12)
    np.testing.assert_allclose(solved[[2, 4]], swing_twist.twist_matrix(axes[[1, 3]], twists[[1, 3]]), atol=1e-12)


def test_analytic_swing_gradients_are_finite():
    rest = torch.from_numpy(random_rest_layouts(4, seed=17))
    local = torch.from_numpy(random_poses(4, seed=18))
    local[:, 4] = torch.eye(3, dtype=torch.float64)                     # a straight knee: zero swing
    posed, _ = kinematics.forward_kinematics(local, rest, SMPL_PARENTS)
    posed.requires_grad_(True)
    twists = torch.zeros(4, 23, dtype=torch.float64, requires_grad=True)
    solved = analytic_ik.analytic_swing(rest, posed, SMPL_PARENTS, twists)
    (solved * torch.linspace(-1, 1, 9, dtype=torch.float64).reshape(3, 3)).sum().backward()
    assert torch.isfinite(posed.grad).all() and torch.isfinite(twists.grad).all()
    assert posed.grad.abs().sum() > 0 and twists.grad.abs().sum() > 0


@pytest.mark.skipif(body_model_rest() is None, reason="bridge.body_model or its bundled asset is not available")
def test_analytic_swing_on_the_bundled_body_model_skeleton():
    rest = body_model_rest()
    _assert_inverts_forward_kinematics(rest, random_poses(32, seed=19))
