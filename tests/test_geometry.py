"""Rotation conversions and forward kinematics: round trips, numpy/torch agreement, gradients."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from bridge.geometry import kinematics, rotations
from bridge.skeleton import SMPL_PARENTS

TOL = 1e-5


def random_axis_angles(count: int, seed: int = 0) -> np.ndarray:
    """(count + 150, 3) rotation vectors: uniform angles in [0, π) plus angles near 0 and just below π."""
    rng = np.random.default_rng(seed)
    axes = rng.normal(size=(count + 150, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    angles = np.concatenate([
        rng.uniform(0.0, np.pi, count),
        np.logspace(-14, -2, 50),                 # near 0, through the Taylor branch switch
        np.pi - np.logspace(-9, -2, 50),          # near π
        np.zeros(50),
    ])
    return axes * angles[:, None]


def random_rotmats(count: int, seed: int = 0) -> np.ndarray:
    return rotations.axis_angle_to_matrix(random_axis_angles(count, seed))


def test_axis_angle_to_matrix_matches_hand_worked_rotation():
    quarter_turn_z = rotations.axis_angle_to_matrix(np.array([0.0, 0.0, np.pi / 2]))
    np.testing.assert_allclose(quarter_turn_z @ np.array([1.0, 0.0, 0.0]), [0.0, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(rotations.axis_angle_to_matrix(np.zeros(3)), np.eye(3), atol=0)


def test_matrices_are_rotations():
    r = random_rotmats(500)
    np.testing.assert_allclose(r @ np.swapaxes(r, -1, -2), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)


def test_axis_angle_matrix_round_trip_near_zero_and_pi():
    aa = random_axis_angles(500)
    back = rotations.matrix_to_axis_angle(rotations.axis_angle_to_matrix(aa))
    assert np.abs(back - aa).max() < TOL


def test_axis_angle_quaternion_round_trip():
    aa = random_axis_angles(500)
    q = rotations.axis_angle_to_quaternion(aa)
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-14)
    assert (q[:, 0] >= 0).all()
    assert np.abs(rotations.quaternion_to_axis_angle(q) - aa).max() < TOL
    # The negated quaternion is the same rotation.
    assert np.abs(rotations.quaternion_to_axis_angle(-q) - aa).max() < TOL


def test_quaternion_matrix_round_trip_and_consistency():
    aa = random_axis_angles(500)
    r = rotations.axis_angle_to_matrix(aa)
    q = rotations.axis_angle_to_quaternion(aa)
    assert np.abs(rotations.quaternion_to_matrix(q) - r).max() < TOL
    q_back = rotations.matrix_to_quaternion(r)
    assert (q_back[:, 0] >= 0).all()
    # Equal up to sign (only ambiguous at exactly π, where w = 0).
    sign = np.where(np.sum(q_back * q, axis=-1) < 0, -1.0, 1.0)[:, None]
    assert np.abs(q_back * sign - q).max() < TOL


def test_exact_half_turns_round_trip_through_matrices():
    axes = np.eye(3).tolist() + [[1.0, 1.0, 0.0], [0.0, -1.0, 1.0], [1.0, 2.0, -3.0]]
    aa = np.pi * np.array(axes) / np.linalg.norm(axes, axis=-1, keepdims=True)
    r = rotations.axis_angle_to_matrix(aa)
    back = rotations.matrix_to_axis_angle(r)
    np.testing.assert_allclose(np.linalg.norm(back, axis=-1), np.pi, atol=1e-7)
    assert np.abs(rotations.axis_angle_to_matrix(back) - r).max() < TOL


def test_angles_beyond_pi_map_to_the_equivalent_shortest_rotation():
    aa = np.array([0.0, 1.5 * np.pi, 0.0])
    np.testing.assert_allclose(rotations.matrix_to_axis_angle(rotations.axis_angle_to_matrix(aa)),
                               [0.0, -0.5 * np.pi, 0.0], atol=1e-12)


def test_rot6d_round_trip_and_layout():
    r = random_rotmats(300)
    six = rotations.matrix_to_rot6d(r)
    assert six.shape == (r.shape[0], 6)
    np.testing.assert_array_equal(six[:, 0::2], r[:, :, 0])      # first column
    np.testing.assert_array_equal(six[:, 1::2], r[:, :, 1])      # second column
    assert np.abs(rotations.rot6d_to_matrix(six) - r).max() < TOL


def test_rot6d_gram_schmidt_orthonormalises_any_input():
    rng = np.random.default_rng(3)
    r = rotations.rot6d_to_matrix(rng.normal(size=(200, 6)) * 3.0)
    np.testing.assert_allclose(r @ np.swapaxes(r, -1, -2), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)
    raw = np.array([2.0, 1.0, 0.0, 1.0, 0.0, 0.0])        # columns (2, 0, 0) and (1, 1, 0)
    np.testing.assert_allclose(rotations.rot6d_to_matrix(raw), np.eye(3), atol=1e-15)


def test_quaternion_multiply_matches_matrix_product():
    a, b = random_axis_angles(100, seed=1), random_axis_angles(100, seed=2)
    qa, qb = rotations.axis_angle_to_quaternion(a), rotations.axis_angle_to_quaternion(b)
    product = rotations.quaternion_to_matrix(rotations.quaternion_multiply(qa, qb))
    expected = rotations.axis_angle_to_matrix(a) @ rotations.axis_angle_to_matrix(b)
    assert np.abs(product - expected).max() < TOL


def test_quaternion_continuity_removes_sign_flips():
    t = np.linspace(0.0, 6.0, 40)
    aa = np.stack([np.zeros_like(t), t, 0.3 * np.sin(t)], -1)[:, None, :].repeat(2, axis=1)   # (T, 2, 3)
    q = rotations.axis_angle_to_quaternion(aa)
    rng = np.random.default_rng(4)
    flipped = q * rng.choice([-1.0, 1.0], size=q.shape[:2])[..., None]
    fixed = rotations.quaternion_continuity(flipped)
    assert (np.sum(fixed[1:] * fixed[:-1], axis=-1) >= 0).all()
    np.testing.assert_array_equal(fixed[0], flipped[0])
    assert np.abs(np.abs(np.sum(fixed * q, axis=-1)) - 1.0).max() < 1e-12       # same rotations
    # Angles grow past π along the path, so the continuous sequence must leave w >= 0.
    assert (fixed[:, :, 0] < 0).any()
    torch_fixed = rotations.quaternion_continuity(torch.from_numpy(flipped))
    np.testing.assert_allclose(torch_fixed.numpy(), fixed, atol=0)


def test_quaternion_slerp():
    q0 = rotations.axis_angle_to_quaternion(np.array([0.0, 0.0, 0.2]))
    q1 = rotations.axis_angle_to_quaternion(np.array([0.0, 0.0, 1.4]))
    half = rotations.quaternion_slerp(q0, q1, 0.5)
    np.testing.assert_allclose(rotations.quaternion_to_axis_angle(half), [0.0, 0.0, 0.8], atol=1e-12)
    np.testing.assert_allclose(rotations.quaternion_slerp(q0, -q1, 1.0) * np.sign(q1[0]), q1, atol=1e-12)
    np.testing.assert_allclose(rotations.quaternion_slerp(q0, q0, 0.3), q0, atol=1e-12)
    fractions = np.array([0.0, 0.25, 1.0])
    batch = rotations.quaternion_slerp(np.broadcast_to(q0, (3, 4)), np.broadcast_to(q1, (3, 4)), fractions)
    np.testing.assert_allclose(rotations.quaternion_to_axis_angle(batch)[:, 2], [0.2, 0.5, 1.4], atol=1e-12)


CONVERSIONS = [
    ("axis_angle_to_matrix", "aa"), ("axis_angle_to_quaternion", "aa"), ("quaternion_to_axis_angle", "q"),
    ("quaternion_to_matrix", "q"), ("matrix_to_quaternion", "R"), ("matrix_to_axis_angle", "R"),
    ("rot6d_to_matrix", "6d"), ("matrix_to_rot6d", "R"),
]


def _inputs(kind: str) -> np.ndarray:
    aa = random_axis_angles(60, seed=5)
    return {"aa": aa, "q": rotations.axis_angle_to_quaternion(aa), "R": rotations.axis_angle_to_matrix(aa),
            "6d": rotations.matrix_to_rot6d(rotations.axis_angle_to_matrix(aa))}[kind]


@pytest.mark.parametrize("name,kind", CONVERSIONS)
def test_numpy_and_torch_agree_for_any_batch_shape(name, kind):
    function = getattr(rotations, name)
    x = _inputs(kind)[:210]
    batched = x.reshape((2, 3, 35) + x.shape[1:])
    expected = function(batched)
    assert isinstance(expected, np.ndarray) and expected.dtype == np.float64
    assert expected.shape[:3] == (2, 3, 35)
    np.testing.assert_allclose(expected.reshape((210,) + expected.shape[3:]), function(x), atol=0)
    result = function(torch.from_numpy(batched))
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float64
    np.testing.assert_allclose(result.numpy(), expected, atol=1e-12)
    single = function(torch.from_numpy(batched).float())
    assert single.dtype == torch.float32
    # float32 cannot resolve the sign of w within ~1e-3 of a half turn: compare away from it.
    away_from_pi = np.linalg.norm(random_axis_angles(60, seed=5)[:210], axis=-1).reshape(2, 3, 35) < 3.1
    np.testing.assert_allclose(single.numpy()[away_from_pi], expected[away_from_pi], atol=2e-6)


@pytest.mark.parametrize("name", ["axis_angle_to_matrix", "rot6d_to_matrix", "axis_angle_to_quaternion",
                                  "quaternion_to_axis_angle"])
def test_gradcheck(name):
    rng = np.random.default_rng(6)
    if name.startswith("axis_angle"):     # random, exactly zero, and inside the Taylor branch
        x = np.concatenate([rng.normal(size=(3, 3)), np.zeros((1, 3)), np.full((1, 3), 1e-5)])
    elif name == "quaternion_to_axis_angle":
        x = np.concatenate([rng.normal(size=(3, 4)), [[1.0, 0.0, 0.0, 0.0], [0.9, 1e-5, -2e-5, 0.0]]])
    else:
        x = rng.normal(size=(4, 6))
    inputs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(getattr(rotations, name), (inputs,), eps=1e-7, atol=1e-6)


@pytest.mark.parametrize("name,kind", [
    ("axis_angle_to_matrix", "aa"), ("axis_angle_to_quaternion", "aa"), ("quaternion_to_axis_angle", "q"),
    ("matrix_to_quaternion", "R"), ("matrix_to_axis_angle", "R")])
def test_gradients_are_finite_at_the_identity(name, kind):
    identity = {"aa": torch.zeros(2, 3), "q": torch.tensor([[1.0, 0, 0, 0]] * 2), "R": torch.eye(3).repeat(2, 1, 1)}
    x = identity[kind].double().requires_grad_(True)
    getattr(rotations, name)(x).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_gradient_of_axis_angle_to_matrix_at_zero_is_the_skew_generator():
    aa = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    r = rotations.axis_angle_to_matrix(aa)
    # dR/da_z at the identity is [e_z]x, whose (1, 0) entry is +1.
    r[1, 0].backward()
    np.testing.assert_allclose(aa.grad.numpy(), [0.0, 0.0, 1.0], atol=1e-12)


def test_geometry_imports_without_torch():
    code = ("import sys; sys.path.insert(0, '.');"
            "from bridge.geometry import rotations, kinematics, swing_twist, analytic_ik;"
            "import numpy as np; rotations.axis_angle_to_matrix(np.ones(3));"
            "assert 'torch' not in sys.modules, 'torch was imported'")
    repo = __import__("pathlib").Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], cwd=repo, check=True)


# ---- forward kinematics ----------------------------------------------------------------------------

def rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_forward_kinematics_two_bone_chain_by_hand():
    rest = np.array([[1.0, 2.0, 3.0], [1.0, 3.0, 3.0], [1.0, 5.0, 3.0]])     # bones of 1 m and 2 m along +Y
    local = np.stack([rot_z(np.pi / 2), rot_z(np.pi / 2), np.eye(3)])
    posed, global_rotmats = kinematics.forward_kinematics(local, rest, [-1, 0, 1])
    # Root turns +90° about Z: the first bone points along -X; the elbow adds another 90°: -Y.
    np.testing.assert_allclose(posed, [[1.0, 2.0, 3.0], [0.0, 2.0, 3.0], [0.0, 0.0, 3.0]], atol=1e-12)
    np.testing.assert_allclose(global_rotmats, [rot_z(np.pi / 2), rot_z(np.pi), rot_z(np.pi)], atol=1e-12)


def test_forward_kinematics_branching_tree_by_hand():
    rest = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 2.0, 0.0]])
    local = np.stack([np.eye(3), np.eye(3), rot_z(-np.pi / 2), np.eye(3)])
    posed, _ = kinematics.forward_kinematics(local, rest, [-1, 0, 0, 2])
    np.testing.assert_allclose(posed, [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], atol=1e-12)


def test_forward_kinematics_identity_pose_returns_rest_and_preserves_bone_lengths():
    rng = np.random.default_rng(7)
    rest = rng.normal(size=(24, 3))
    posed, global_rotmats = kinematics.forward_kinematics(np.broadcast_to(np.eye(3), (24, 3, 3)), rest, SMPL_PARENTS)
    np.testing.assert_allclose(posed, rest, atol=1e-15)
    local = rotations.axis_angle_to_matrix(rng.normal(size=(6, 24, 3)))
    posed, global_rotmats = kinematics.forward_kinematics(local, rest, SMPL_PARENTS)
    bones = lambda j: np.linalg.norm(j[..., 1:, :] - j[..., SMPL_PARENTS[1:], :], axis=-1)  # noqa: E731
    np.testing.assert_allclose(bones(posed), np.broadcast_to(bones(rest), bones(posed).shape), atol=1e-12)
    np.testing.assert_allclose(global_rotmats[..., 0, :, :], local[..., 0, :, :], atol=0)


def test_forward_kinematics_numpy_torch_and_broadcasting_agree():
    rng = np.random.default_rng(9)
    rest = rng.normal(size=(24, 3))
    local = rotations.axis_angle_to_matrix(rng.normal(size=(2, 5, 24, 3)))
    posed, global_rotmats = kinematics.forward_kinematics(local, rest, SMPL_PARENTS)
    assert posed.shape == (2, 5, 24, 3) and global_rotmats.shape == (2, 5, 24, 3, 3)
    one, _ = kinematics.forward_kinematics(local[1, 3], rest, SMPL_PARENTS)
    np.testing.assert_allclose(posed[1, 3], one, atol=0)
    posed_t, global_t = kinematics.forward_kinematics(torch.from_numpy(local), torch.from_numpy(rest),
                                                      torch.from_numpy(SMPL_PARENTS))
    np.testing.assert_allclose(posed_t.numpy(), posed, atol=1e-12)
    np.testing.assert_allclose(global_t.numpy(), global_rotmats, atol=1e-12)


@pytest.mark.parametrize("parents", [[0, 0], [-1, 1], [-1, 0, 3, 1]])
def test_forward_kinematics_rejects_bad_trees(parents):
    with pytest.raises(ValueError, match="parent"):
        kinematics.forward_kinematics(np.broadcast_to(np.eye(3), (len(parents), 3, 3)),
                                      np.zeros((len(parents), 3)), parents)


def test_forward_kinematics_rejects_joint_count_mismatch():
    with pytest.raises(ValueError, match="expected 24 joints"):
        kinematics.forward_kinematics(np.broadcast_to(np.eye(3), (22, 3, 3)), np.zeros((22, 3)), SMPL_PARENTS)
