"""Root motion for engine exports (no bpy): the root follows the pelvis on the floor and the body's heading,
smoothly; re-parented under it the pelvis keeps its world pose; in place removes the travel only; engine
bone names cover every bone once."""
from __future__ import annotations

import numpy as np
import pytest

from arts_blender import export_presets, root_motion
from bridge.geometry import rotations

FPS = 30.0


def walking_pelvis(frames: int = 90, turn_rad: float = 1.2, bob_m: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """(pose (F, 4, 4), rest (4, 4)) of a pelvis walking along a gentle curve, bobbing and swaying."""
    rest = np.eye(4)
    rest[:3, :3] = rotations.axis_angle_to_matrix(np.array([-np.pi / 2, 0.0, 0.0]))  # a bone pointing up
    rest[:3, 3] = [0.0, 0.0, 0.9]
    t = np.arange(frames) / FPS
    yaw = turn_rad * t / t[-1] + 0.15 * np.sin(2 * np.pi * t)  # steady turn + hip swing every stride
    pose = np.tile(np.eye(4), (frames, 1, 1))
    heading = rotations.axis_angle_to_matrix(np.stack([np.zeros_like(yaw), np.zeros_like(yaw), yaw], -1))
    pose[:, :3, :3] = heading @ rest[:3, :3]
    speed = 1.2
    pose[:, 0, 3] = speed * np.cumsum(-np.sin(turn_rad * t / t[-1])) / FPS + 0.02 * np.sin(2 * np.pi * t)
    pose[:, 1, 3] = -speed * np.cumsum(np.cos(turn_rad * t / t[-1])) / FPS
    pose[:, 2, 3] = 0.9 + bob_m * np.sin(4 * np.pi * t)
    return pose, rest


def test_root_is_on_the_floor_under_the_pelvis_and_turns_with_the_body():
    pose, rest = walking_pelvis()
    root, pelvis = root_motion.root_track(pose, rest, FPS)
    np.testing.assert_array_equal(pelvis, pose)
    assert np.abs(root[:, 2, 3]).max() == 0.0
    assert np.linalg.norm(root[:, :2, 3] - pose[:, :2, 3], axis=1).max() < 0.03  # only the sway is left out
    yaw = np.arctan2(root[:, 1, 0], root[:, 0, 0])
    assert yaw[-1] == pytest.approx(1.2, abs=0.1)  # the steady turn ...
    assert np.abs(np.diff(yaw, 2)).max() < np.abs(np.diff(root_motion.heading_yaw(pose, rest), 2)).max() / 3
    np.testing.assert_allclose(root[:, :3, :3] @ root[:, :3, :3].transpose(0, 2, 1), np.tile(np.eye(3), (90, 1, 1)),
                               atol=1e-12)  # ... about the vertical only


def test_heading_stays_level_when_the_body_bends_forward():
    pose, rest = walking_pelvis(frames=10, turn_rad=0.0)
    bend = rotations.axis_angle_to_matrix(np.array([1.3, 0.0, 0.0]))  # 75 degrees about the body's left axis
    pose[:, :3, :3] = pose[:, :3, :3] @ rest[:3, :3].T @ bend @ rest[:3, :3]
    np.testing.assert_allclose(root_motion.heading_yaw(pose, rest), root_motion.heading_yaw(
        walking_pelvis(frames=10, turn_rad=0.0)[0], rest), atol=1e-9)


def test_the_pelvis_keeps_its_world_pose_under_the_root():
    pose, rest = walking_pelvis()
    root, pelvis = root_motion.root_track(pose, rest, FPS)
    bases = root_motion.pose_bases({"root": root, "pelvis": pelvis}, {"root": root_motion.ROOT_REST, "pelvis": rest},
                                   {"root": None, "pelvis": "root"})
    rebuilt = root @ np.linalg.inv(root_motion.ROOT_REST) @ rest @ bases["pelvis"]  # Blender's pose formula
    np.testing.assert_allclose(rebuilt, pose, atol=1e-12)
    location, quats = root_motion.basis_channels(bases["root"])
    np.testing.assert_allclose(location, root[:, :3, 3])
    assert (np.sum(quats[1:] * quats[:-1], axis=1) >= 0).all()  # sign-continuous keys


def test_in_place_keeps_the_heading_and_drops_the_travel():
    pose, rest = walking_pelvis()
    root, pelvis = root_motion.root_track(pose, rest, FPS, in_place=True)
    assert np.abs(root[:, :3, 3]).max() == 0.0
    travel = np.ptp(pose[:, :2, 3], axis=0).max()
    assert travel > 2.0 and np.ptp(pelvis[:, :2, 3], axis=0).max() < 0.1
    np.testing.assert_array_equal(pelvis[:, 2, 3], pose[:, 2, 3])  # bobbing kept
    moving, _ = root_motion.root_track(pose, rest, FPS)
    np.testing.assert_allclose(root[:, :3, :3], moving[:, :3, :3])


def test_smoothing_keeps_a_straight_path_and_short_clips():
    line = np.linspace(0.0, 3.0, 40)[:, None] * [1.0, 0.5]
    np.testing.assert_allclose(root_motion.smooth(line, 3.0), line, atol=1e-12)
    assert root_motion.smooth(np.ones((2, 2)), 3.0).shape == (2, 2)


@pytest.mark.parametrize("naming", list(export_presets.BONE_NAMINGS))
def test_every_bone_gets_one_name(naming):
    names = export_presets.export_bone_names(naming)
    assert len(names) == 24 and len(set(names.values())) == 24 and root_motion.ROOT_BONE not in names.values()


def test_humanoid_names_are_unitys():
    names = export_presets.export_bone_names("UNITY")
    assert [names[b] for b in ("pelvis", "spine1", "spine2", "neck", "head", "left_hip", "left_knee", "left_ankle",
                               "left_foot", "left_collar", "left_shoulder", "left_elbow", "left_wrist")] == [
        "Hips", "Spine", "Chest", "Neck", "Head", "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "LeftToes",
        "LeftShoulder", "LeftUpperArm", "LeftLowerArm", "LeftHand"]
    with pytest.raises(ValueError, match="unknown bone naming"):
        export_presets.export_bone_names("RIGIFY")
