"""BVH reader: hierarchy, any Euler order, position channels, forward kinematics, clear errors."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from scripts.synth.bvh import BvhError, parse_bvh, read_bvh

TINY = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Chest
  {
    OFFSET 0 10 0
    CHANNELS 3 Yrotation Xrotation Zrotation
    JOINT Head
    {
      OFFSET 0 5 1
      CHANNELS 3 Xrotation Yrotation Zrotation
      End Site
      {
        OFFSET 0 2 0
      }
    }
  }
  JOINT Leg
  {
    OFFSET 3 -1 0
    CHANNELS 3 Zrotation Yrotation Xrotation
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
1 2 3 90 30 -20 10 45 5 0 0 70 15 25 35
"""


def test_tiny_bvh_hierarchy_and_rest_pose():
    motion = parse_bvh(TINY)
    assert motion.joint_names == ("Hips", "Chest", "Head", "Leg")
    assert motion.parents.tolist() == [-1, 0, 1, 0]
    assert motion.channels[1] == ("Yrotation", "Xrotation", "Zrotation")
    assert motion.num_frames == 2 and motion.fps == pytest.approx(30.0, rel=1e-5)
    np.testing.assert_allclose(motion.end_sites[2], [0, 2, 0])
    positions, rotations = motion.forward_kinematics()
    np.testing.assert_allclose(positions[0], [[0, 0, 0], [0, 10, 0], [0, 15, 1], [3, -1, 0]])
    np.testing.assert_allclose(rotations[0], np.broadcast_to(np.eye(3), (4, 3, 3)), atol=1e-12)


def test_tiny_bvh_forward_kinematics_matches_intrinsic_euler():
    positions, rotations = parse_bvh(TINY).forward_kinematics()
    # Intrinsic rotations in channel order (scipy: upper-case axes are intrinsic).
    root = Rotation.from_euler("ZXY", [90, 30, -20], degrees=True).as_matrix()
    chest = Rotation.from_euler("YXZ", [10, 45, 5], degrees=True).as_matrix()
    head = Rotation.from_euler("XYZ", [0, 0, 70], degrees=True).as_matrix()
    leg = Rotation.from_euler("ZYX", [15, 25, 35], degrees=True).as_matrix()
    trans = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(positions[1, 0], trans, atol=1e-9)
    np.testing.assert_allclose(positions[1, 1], trans + root @ [0, 10, 0], atol=1e-9)
    np.testing.assert_allclose(positions[1, 2], positions[1, 1] + root @ chest @ [0, 5, 1], atol=1e-9)
    np.testing.assert_allclose(positions[1, 3], trans + root @ [3, -1, 0], atol=1e-9)
    np.testing.assert_allclose(rotations[1, 2], root @ chest @ head, atol=1e-9)
    np.testing.assert_allclose(rotations[1, 3], root @ leg, atol=1e-9)


def test_position_channels_add_to_the_offset():
    text = TINY.replace("ROOT Hips\n{\n  OFFSET 0 0 0", "ROOT Hips\n{\n  OFFSET 0 100 0")
    positions, _ = parse_bvh(text).forward_kinematics()
    np.testing.assert_allclose(positions[1, 0], [1, 102, 3])


@pytest.mark.parametrize("broken, message", [
    (TINY.replace("CHANNELS 3 Yrotation Xrotation Zrotation", "CHANNELS 4 Yrotation Xrotation Zrotation"),
     "CHANNELS says 4 but lists 3"),
    (TINY.replace("Yrotation Xrotation Zrotation", "Yrotation Wrotation Zrotation"), "unknown channel"),
    (TINY.replace("Frames: 2", "Frames: 3"), "header says 3 frames"),
    (TINY.replace("1 2 3 90", "1 2 90"), "motion line has 14 values"),
    (TINY.replace("OFFSET 0 10 0", "OFFSET 0 ten 0"), "not a number"),
    (TINY.replace("HIERARCHY", "HIERARCH"), "expected HIERARCHY"),
    (TINY.split("MOTION")[0].rstrip().rsplit("}", 1)[0], "file ends"),
])
def test_malformed_files_raise_clear_errors(broken, message):
    with pytest.raises(BvhError, match=message):
        parse_bvh(broken, source="broken.bvh")


def test_error_names_file_and_line():
    with pytest.raises(BvhError, match=r"broken\.bvh:8: OFFSET needs 3 numbers"):
        parse_bvh(TINY.replace("OFFSET 0 10 0", "OFFSET 0 10"), source="broken.bvh")


def test_real_cmu_file(motion_dir):
    motion = read_bvh(motion_dir / "cmu_original" / "01_01.bvh")
    assert len(motion.joint_names) == 31 and motion.num_frames == 2752
    assert motion.fps == pytest.approx(120.0, rel=1e-4)
    positions, _ = motion.forward_kinematics()
    names = motion.joint_names
    # Bones are rigid: every parent-child distance is constant over the whole take.
    lengths = np.linalg.norm(positions[:, 1:] - positions[:, motion.parents[1:]], axis=-1)
    assert np.ptp(lengths, axis=0).max() < 1e-6
    # Y is up: the head stays well above the feet, the feet near the floor.
    head, foot = positions[:, names.index("Head"), 1], positions[:, names.index("LeftFoot"), 1]
    assert (head - foot).min() > 15.0  # file units (1/0.45 inch): ~0.85 m
    assert np.percentile(positions[1:, :, 1].min(axis=1), 50) < 2.0


def test_real_iclone_file_opens_on_t_pose(motion_dir):
    motion = read_bvh(motion_dir / "cmu_iclone" / "007" / "007_04.bvh")
    assert motion.joint_names[0] == "CC_Base_Hip" and motion.fps == pytest.approx(60.0, rel=1e-4)
    positions, _ = motion.forward_kinematics()
    left, right = motion.index("CC_Base_L_Hand"), motion.index("CC_Base_R_Hand")
    span = np.linalg.norm(positions[:, left] - positions[:, right], axis=-1)
    assert span[0] > 130.0 and span[1:].max() < 100.0  # cm: arms spread only in the calibration frame
    dropped = motion.drop_frames(1)
    assert dropped.num_frames == motion.num_frames - 1
    np.testing.assert_array_equal(dropped.motion[0], motion.motion[1])
