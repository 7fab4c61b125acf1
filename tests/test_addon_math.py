"""The add-on's pure math (no bpy): rig frames, pose-bone rotations, resampling, keyframe reduction."""
from __future__ import annotations

import numpy as np
import pytest

from arts_blender import keyframes, rig_math
from bridge.geometry import kinematics, rotations
from bridge.skeleton import SMPL_PARENTS

# An adult-sized skeleton in SMPL's rest frame (Y up, facing +Z, +X the person's left), metres.
REST_JOINTS = np.array([
    [0.0, -0.22, 0.03], [0.06, -0.31, 0.01], [-0.06, -0.31, 0.01], [0.0, -0.11, -0.01],
    [0.11, -0.69, 0.01], [-0.11, -0.69, 0.01], [0.0, 0.03, 0.0], [0.09, -1.09, -0.03],
    [-0.09, -1.09, -0.03], [0.0, 0.08, 0.03], [0.12, -1.15, 0.09], [-0.12, -1.15, 0.09],
    [0.0, 0.29, -0.01], [0.08, 0.2, 0.0], [-0.08, 0.2, 0.0], [0.0, 0.36, 0.05],
    [0.2, 0.23, -0.01], [-0.2, 0.23, -0.01], [0.45, 0.22, -0.03], [-0.45, 0.22, -0.03],
    [0.7, 0.23, -0.03], [-0.7, 0.23, -0.03], [0.78, 0.22, -0.04], [-0.78, 0.22, -0.04]])
REST_VERTICES = np.concatenate([REST_JOINTS, [[0.1, -1.2, 0.1], [0.0, 0.55, 0.0]]])


def blender_fk(quats: np.ndarray, locs: np.ndarray, rest: rig_math.RestSkeleton) -> np.ndarray:
    """Blender's pose evaluation written out: M_b = M_parent @ Rest_parent^-1 @ Rest_b @ Local_b."""
    frames = len(quats)
    rest_m = np.tile(np.eye(4), (24, 1, 1))
    rest_m[:, :3, :3], rest_m[:, :3, 3] = rest.rest_rotmats, rest.heads
    local = np.tile(np.eye(4), (frames, 24, 1, 1))
    local[:, :, :3, :3] = rotations.quaternion_to_matrix(quats)
    local[:, 0, :3, 3] = locs
    posed = np.empty((frames, 24, 4, 4))
    for j, parent in enumerate(SMPL_PARENTS):
        base = rest_m[j] if parent < 0 else posed[:, parent] @ np.linalg.inv(rest_m[parent]) @ rest_m[j]
        posed[:, j] = base @ local[:, j]
    return posed[:, :, :3, 3]


@pytest.fixture(scope="module")
def rest() -> rig_math.RestSkeleton:
    return rig_math.rest_skeleton(REST_JOINTS, REST_VERTICES)


def test_rest_frames_are_rotations_along_bones(rest):
    eye = np.broadcast_to(np.eye(3), rest.rest_rotmats.shape)
    np.testing.assert_allclose(np.swapaxes(rest.rest_rotmats, 1, 2) @ rest.rest_rotmats, eye, atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rest.rest_rotmats), 1.0, atol=1e-12)
    along = (rest.tails - rest.heads) / np.linalg.norm(rest.tails - rest.heads, axis=1, keepdims=True)
    np.testing.assert_allclose(rest.rest_rotmats[:, :, 1], along, atol=1e-12)
    # The knee bone points at the ankle; the upright rest stands on Z = 0 with the pelvis above the origin.
    np.testing.assert_allclose(rest.tails[4], rest.heads[7])
    assert rest.heads[15][2] > rest.heads[0][2] > rest.heads[7][2]
    np.testing.assert_allclose(rest.heads[0][:2], 0.0, atol=1e-12)
    np.testing.assert_allclose(rig_math.to_rest_space(REST_VERTICES, rest.offset)[:, 2].min(), 0.0, atol=1e-12)
    # The person faces -Y in the rest pose and their left (+X in SMPL) stays +X.
    assert rest.heads[10][1] < rest.heads[7][1] and rest.heads[16][0] > 0


def test_pose_bone_rotations_reproduce_smpl_forward_kinematics(rest):
    rng = np.random.default_rng(3)
    pose = rng.normal(0.0, 0.6, size=(7, 24, 3))
    pose[0, 0] = [np.pi, 0.0, 0.0]  # upright, facing the camera
    trans = rng.normal(0.0, 0.5, size=(7, 3)) + [0.0, 0.0, 4.0]
    quats = rig_math.pose_bone_quaternions(pose, rest.rest_rotmats)
    locs = rig_math.pelvis_locations(trans, REST_JOINTS[0], rest.heads[0], rest.rest_rotmats[0])
    expected_cam, _ = kinematics.forward_kinematics(rotations.axis_angle_to_matrix(pose), REST_JOINTS, SMPL_PARENTS)
    expected = rig_math.camera_to_world(expected_cam + trans[:, None])
    np.testing.assert_allclose(blender_fk(quats, locs, rest), expected, atol=1e-9)
    # Consecutive keys stay in one hemisphere, so F-curve interpolation never takes the long way round.
    assert np.all(np.sum(quats[1:] * quats[:-1], axis=-1) >= 0)


def test_upright_person_facing_camera_is_the_rest_pose(rest):
    pose = np.zeros((1, 24, 3))
    pose[0, 0] = [np.pi, 0.0, 0.0]  # SMPL Y up -> camera y down, facing -z (the camera)
    quats = rig_math.pose_bone_quaternions(pose, rest.rest_rotmats)
    np.testing.assert_allclose(np.abs(quats[..., 0]), 1.0, atol=1e-12)


def test_camera_lens_matches_focal_length():
    assert rig_math.camera_lens_mm(1000.0, (1920, 1080)) == pytest.approx(18.75)
    assert rig_math.camera_lens_mm(1000.0, (1080, 1920)) == pytest.approx(18.75)  # portrait: the same lens


def test_reduce_keys_keeps_corners_and_respects_tolerance():
    t = np.arange(101, dtype=np.float64)
    piecewise = np.interp(t, [0, 30, 70, 100], [0.0, 1.0, -0.5, 0.2])[:, None]
    assert keyframes.reduce_keys(piecewise, 1e-9).tolist() == [0, 30, 70, 100]
    wave = np.stack([np.sin(t / 7.0), np.cos(t / 11.0)], axis=1)
    for tol in (0.001, 0.01, 0.1):
        keep = keyframes.reduce_keys(wave, tol)
        rebuilt = np.stack([np.interp(t, t[keep], wave[keep, c]) for c in range(2)], axis=1)
        assert np.abs(rebuilt - wave).max() <= tol
        assert keep[0] == 0 and keep[-1] == 100
    assert len(keyframes.reduce_keys(wave, 0.1)) < len(keyframes.reduce_keys(wave, 0.001)) < 101
    assert len(keyframes.reduce_keys(wave, 0.0)) == 101


def test_reduce_keys_measures_rotation_error_as_an_angle():
    angles = np.linspace(0.0, 2.0, 81) ** 2  # accelerating turn about Z
    quats = rotations.axis_angle_to_quaternion(np.stack([0 * angles, 0 * angles, angles], axis=1))
    tol = np.radians(0.5)
    keep = keyframes.reduce_keys(quats, tol, quaternion=True)
    t = np.arange(81)
    rebuilt = np.stack([np.interp(t, t[keep], quats[keep, c]) for c in range(4)], axis=1)
    rebuilt /= np.linalg.norm(rebuilt, axis=1, keepdims=True)
    err = 2 * np.arccos(np.abs(np.sum(rebuilt * quats, axis=1)).clip(max=1))
    assert err.max() <= tol and 2 < len(keep) < 81


def test_resampling_doubles_rate_with_slerp_midpoints():
    positions = keyframes.resample_times(31, 30.0, 60.0)
    assert len(positions) == 61 and positions[1] == pytest.approx(0.5)
    angles = np.linspace(0.0, 1.5, 31)
    quats = rotations.axis_angle_to_quaternion(np.stack([angles, 0 * angles, 0 * angles], axis=1))[:, None]
    out = keyframes.resample_quaternions(quats, positions)
    expected = rotations.axis_angle_to_quaternion(
        np.stack([np.linspace(0.0, 1.5, 61), np.zeros(61), np.zeros(61)], axis=1))[:, None]
    np.testing.assert_allclose(out, expected, atol=1e-12)
    locs = keyframes.resample_linear(np.arange(31.0)[:, None] * [1.0, 2.0, 3.0], positions)
    np.testing.assert_allclose(locs[:, 2], 3.0 * positions)
    # 30 -> 24 fps keeps the duration: 1 s of 31 frames becomes 25 frames.
    assert len(keyframes.resample_times(31, 30.0, 24.0)) == 25


def test_channels_cover_every_bone_and_the_pelvis_location():
    quats = np.tile([1.0, 0.0, 0.0, 0.0], (5, 24, 1))
    locs = np.zeros((5, 3))
    channels = keyframes.pose_channels(rig_math.SMPL_JOINT_NAMES, quats, locs, frame_start=10,
                                       rotation_tolerance_rad=0.01, location_tolerance_m=0.001)
    assert len(channels) == 24 * 4 + 3
    assert channels[0].data_path == 'pose.bones["pelvis"].rotation_quaternion'
    assert channels[-1].data_path == 'pose.bones["pelvis"].location' and channels[-1].index == 2
    # Constant curves reduce to their two end keys, placed on the requested frames.
    assert all(ch.frames.tolist() == [10.0, 14.0] for ch in channels)


@pytest.mark.parametrize("order", ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"])
def test_bvh_euler_round_trip_in_every_channel_order(order):
    from arts_blender import bvh_axes

    angles = np.random.default_rng(3).uniform(-1.4, 1.4, size=(50, 3))  # middle angle inside +-90 degrees
    matrix = bvh_axes.euler_to_matrix(angles, order)
    np.testing.assert_allclose(bvh_axes.matrix_to_euler(matrix, order), angles, atol=1e-9)


def test_bvh_rewritten_y_up_keeps_the_motion():
    from arts_blender import bvh_axes

    text = ("HIERARCHY\nROOT pelvis\n{\n\tOFFSET 0.0 0.1 0.9\n\tCHANNELS 6 Xposition Yposition Zposition "
            "Zrotation Xrotation Yrotation\n\tJOINT spine\n\t{\n\t\tOFFSET 0.0 0.0 0.2\n\t\tCHANNELS 3 Zrotation "
            "Xrotation Yrotation\n\t\tEnd Site\n\t\t{\n\t\t\tOFFSET 0.0 0.0 0.1\n\t\t}\n\t}\n}\nMOTION\nFrames: 2\n"
            "Frame Time: 0.033333\n0.5 1.0 0.9 10 20 30 0 90 0\n0.6 1.0 0.9 -170 20 30 5 0 0\n")
    converted = bvh_axes.to_y_up(text)
    assert "OFFSET 0.000000 0.900000 -0.100000" in converted and "OFFSET 0.000000 0.200000 0.000000" in converted
    rows = [[float(v) for v in line.split()] for line in converted.splitlines()[-2:]]
    np.testing.assert_allclose(rows[0][:3], [0.5, 0.9, -1.0])
    c = bvh_axes.Z_UP_TO_Y_UP
    for before, after in zip(([10, 20, 30], [0, 90, 0], [-170, 20, 30]), (rows[0][3:6], rows[0][6:9], rows[1][3:6])):
        expected = c @ bvh_axes.euler_to_matrix(np.radians([before]), "ZXY")[0] @ c.T
        np.testing.assert_allclose(bvh_axes.euler_to_matrix(np.radians([after]), "ZXY")[0], expected, atol=1e-5)


def test_at_most_four_normalised_weights_per_vertex():
    weights = np.random.default_rng(0).dirichlet(np.full(24, 0.3), size=500)
    kept = rig_math.top_weights(weights)
    assert ((kept > 0).sum(axis=1) <= 4).all()
    np.testing.assert_allclose(kept.sum(axis=1), 1.0)
    order = np.argsort(-weights, axis=1)[:, :4]
    assert (np.take_along_axis(kept, order, axis=1) > 0).all()  # the four largest are the ones kept
