"""Retarget maths on synthetic rigs: another rest pose (A-pose), other rolls, other proportions, extra bones."""
from __future__ import annotations

import numpy as np
import pytest

from arts_blender import rig_math
from arts_blender.retarget.mapping import detect
from arts_blender.retarget.solve import RigRest, retarget
from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.geometry import rotations, swing_twist
from scripts.retarget_rigs import a_posed_rest

FRAMES = 12


def matrix(rot: np.ndarray, head: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = rot, head
    return out


@pytest.fixture(scope="module")
def source():
    vertices, joints = shaped_rest(load_body_model_arrays(), None)
    rest = rig_math.rest_skeleton(np.asarray(joints), np.asarray(vertices))
    names = rig_math.SMPL_JOINT_NAMES
    rig = RigRest(matrix={n: matrix(rest.rest_rotmats[j], rest.heads[j]) for j, n in enumerate(names)},
                  length={n: float(np.linalg.norm(rest.tails[j] - rest.heads[j])) for j, n in enumerate(names)},
                  parent={n: (names[p] if p >= 0 else None) for n, p in zip(names, rig_math.SMPL_PARENTS)})
    return rig


def posed(rig: RigRest, basis_rot: dict[str, np.ndarray], hips: str, hips_loc: np.ndarray) -> dict[str, np.ndarray]:
    """Blender's pose evaluation: pose = parent_pose @ parent_rest^-1 @ rest @ basis."""
    out = {}
    for name in rig.order():
        basis = np.broadcast_to(np.eye(4), (FRAMES, 4, 4)).copy()
        if name in basis_rot:
            basis[:, :3, :3] = basis_rot[name]
        if name == hips:
            basis[:, :3, 3] = hips_loc
        parent = rig.parent[name]
        chain = (out[parent] @ np.linalg.inv(rig.matrix[parent])) if parent else np.eye(4)
        out[name] = chain @ rig.matrix[name] @ basis
    return out


def a_posed_mixamo(source: RigRest, scale: float = 1.25) -> RigRest:
    """The source skeleton renamed to Mixamo's bones, 1.25x taller with 1.4x longer arms, A-posed, rolled."""
    return a_posed_rest(source, "MIXAMO", scale)


def test_every_mapped_bone_points_like_its_source_and_the_hips_follow_the_scaled_path(source):
    rng = np.random.default_rng(0)
    basis = {n: rotations.axis_angle_to_matrix(rng.normal(0, 0.4, (FRAMES, 3))) for n in source.matrix}
    walk = np.cumsum(rng.normal(0, 0.03, (FRAMES, 3)), axis=0)
    source_pose = posed(source, basis, "pelvis", walk)
    target = a_posed_mixamo(source)
    mapping = detect(list(target.matrix))
    assert mapping.preset == "MIXAMO"
    result = retarget(source, source_pose, target, mapping)
    target_pose = posed(target, {n: rotations.quaternion_to_matrix(q) for n, q in result.rotations.items()},
                        result.hips, result.hips_location)
    for s, t in mapping.bones.items():
        got, want = target_pose[t][:, :3, 1], source_pose[s][:, :3, 1]
        angle = np.degrees(np.arccos(np.clip(np.einsum("fi,fi->f", got, want), -1, 1)))
        assert angle.max() < 0.01, (s, t, angle.max())
    scale = (target.length["mixamorig:LeftUpLeg"] + target.length["mixamorig:LeftLeg"]) / (
        source.length["left_hip"] + source.length["left_knee"])
    assert scale == pytest.approx(1.25, abs=0.01)
    hips_path = target_pose["mixamorig:Hips"][:, :3, 3] - target.matrix["mixamorig:Hips"][:3, 3]
    source_path = source_pose["pelvis"][:, :3, 3] - source.matrix["pelvis"][:3, 3]
    np.testing.assert_allclose(hips_path, scale * source_path, atol=1e-9)
    still = retarget(source, source_pose, target, mapping, in_place=True)
    still_pose = posed(target, {n: rotations.quaternion_to_matrix(q) for n, q in still.rotations.items()},
                       still.hips, still.hips_location)
    still_path = still_pose["mixamorig:Hips"][:, :3, 3] - target.matrix["mixamorig:Hips"][:3, 3]
    np.testing.assert_allclose(still_path[:, :2], np.broadcast_to(scale * source_path[:1, :2], (FRAMES, 2)), atol=1e-9)
    np.testing.assert_allclose(still_path[:, 2], scale * source_path[:, 2], atol=1e-9)  # up and down stays


def test_contacts_keep_the_targets_planted_foot_on_one_spot(source):
    """With the clip's contacts, the target's left ankle stays on one spot through the contact (its thigh and
    shin re-solved), the right leg, free, is left exactly as without contacts."""
    rng = np.random.default_rng(3)
    basis = {n: rotations.axis_angle_to_matrix(rng.normal(0, 0.15, (FRAMES, 3))) for n in source.matrix}
    walk = np.cumsum(rng.normal(0, 0.01, (FRAMES, 3)), axis=0)
    source_pose = posed(source, basis, "pelvis", walk)
    target = a_posed_mixamo(source)
    mapping = detect(list(target.matrix))
    contacts = np.zeros((FRAMES, 4))
    contacts[2:10, 0:2] = 1.0
    free = retarget(source, source_pose, target, mapping)
    pinned = retarget(source, source_pose, target, mapping, contacts=contacts, fps=30.0)

    def ankles(result):
        pose = posed(target, {n: rotations.quaternion_to_matrix(q) for n, q in result.rotations.items()},
                     result.hips, result.hips_location)
        return pose["mixamorig:LeftFoot"][:, :3, 3], pose["mixamorig:RightFoot"][:, :3, 3]

    (left_free, right_free), (left, right) = ankles(free), ankles(pinned)
    assert np.ptp(left_free[2:10], axis=0).max() > 0.01
    assert np.ptp(left[2:10], axis=0).max() < 1e-3
    np.testing.assert_allclose(right, right_free, atol=1e-9)


def test_contacts_are_kept_only_while_the_arts_foot_stands():
    """A foot the clip lets slide (the bridge let go of a plant the image contradicted) is not pinned on the
    target; speeds are read in metres whatever the target's units."""
    from arts_blender.retarget.solve import still_contacts

    t = np.arange(30) / 30.0
    standing = np.zeros((30, 3))
    sliding = np.stack([0.5 * t, np.zeros_like(t), np.zeros_like(t)], axis=1)  # 0.5 m/s
    contacts = np.ones((30, 4))
    kept = still_contacts(contacts, standing, sliding, 30.0)
    assert (kept[:, :2] == 1.0).all() and (kept[:, 2:] == 0.0).all()
    in_cm = still_contacts(contacts, standing * 100, sliding * 100, 30.0, units_per_m=100.0)
    np.testing.assert_array_equal(in_cm, kept)


def test_within_slack_leaves_short_strays_and_never_passes_the_slack():
    from arts_blender.retarget.solve import _within_slack

    centres = np.zeros((200, 3))
    distance = np.linspace(0.0, 1.0, 200)
    points = distance[:, None] * np.array([0.6, 0.0, 0.8])
    kept = np.linalg.norm(_within_slack(points, centres, 0.1), axis=-1)
    short = distance <= 0.05
    np.testing.assert_allclose(kept[short], distance[short], atol=1e-12)
    assert kept.max() <= 0.1 + 1e-12 and kept[-1] > 0.099
    assert (np.diff(kept) > -1e-12).all()


def long_thighs(rig: RigRest, shift: float = 0.06) -> RigRest:
    """`rig` (SMPL names) with each knee `shift` metres further down the leg: longer thighs, shorter shins,
    the same legs' length, the ankles where they were."""
    out = RigRest(matrix={n: m.copy() for n, m in rig.matrix.items()}, length=dict(rig.length), parent=dict(rig.parent))
    for side in ("left", "right"):
        hip, knee, ankle = (rig.matrix[f"{side}_{j}"][:3, 3] for j in ("hip", "knee", "ankle"))
        moved = knee + shift * (knee - hip) / np.linalg.norm(knee - hip)
        for bone, head, tail in ((f"{side}_hip", hip, moved), (f"{side}_knee", moved, ankle)):
            y = (tail - head) / np.linalg.norm(tail - head)
            x = np.cross(y, out.matrix[bone][:3, 2])
            x /= np.linalg.norm(x)
            out.matrix[bone] = matrix(np.stack([x, y, np.cross(x, y)], axis=1), head)
            out.length[bone] = float(np.linalg.norm(tail - head))
    return out


def test_feet_stay_near_their_scaled_path_on_legs_of_other_proportions(source):
    """A crouch on a rig with longer thighs and shorter shins: the copied pose puts the planted feet far
    from where the ARTS feet are; the retarget keeps them within PATH_SLACK, pinned, with the hips taking
    at most HIPS_SHARE of the stray and the thighs and shins still close to the ARTS ones."""
    from arts_blender.retarget.mapping import Mapping
    from arts_blender.retarget.solve import HIPS_SHARE, PATH_SLACK, evaluate, leg_length, scaled_ankles

    bend = np.radians(np.linspace(0.0, 70.0, FRAMES))
    basis = {}
    for side in ("left", "right"):  # every joint turns about the armature's x axis, in its bone's own axes
        for joint, turn in (("hip", -1.0), ("knee", 2.0), ("ankle", -1.0)):
            axis = source.matrix[f"{side}_{joint}"][:3, :3].T @ np.array([1.0, 0.0, 0.0])
            basis[f"{side}_{joint}"] = rotations.axis_angle_to_matrix(turn * bend[:, None] * axis)
    lifted = posed(source, basis, "pelvis", np.zeros((FRAMES, 3)))["left_ankle"][:, :3, 3]
    sink = (lifted[0] - lifted) @ source.matrix["pelvis"][:3, :3]  # in the pelvis' own axes
    source_pose = posed(source, basis, "pelvis", sink)  # the hips sink, the feet stay
    target = long_thighs(source)
    names = {n: n for n in target.matrix}
    mapping = Mapping(preset="SMPL", bones=names)
    contacts = np.ones((FRAMES, 4))
    copied = retarget(source, source_pose, target, mapping)
    kept = retarget(source, source_pose, target, mapping, contacts=contacts, fps=30.0)

    def pose_of(result):
        return posed(target, {n: rotations.quaternion_to_matrix(q) for n, q in result.rotations.items()},
                     result.hips, result.hips_location)

    aims = scaled_ankles(source, source_pose, target, names, source_pose["pelvis"][:, :3, 3])
    slack = PATH_SLACK * leg_length(target, "left_hip", "left_knee")
    stray_copied = np.linalg.norm(pose_of(copied)["left_ankle"][:, :3, 3] - aims["left"], axis=-1)
    assert stray_copied.max() > 2 * slack
    pose = pose_of(kept)
    for side in ("left", "right"):
        ankle = pose[f"{side}_ankle"][:, :3, 3]
        assert np.linalg.norm(ankle - aims[side], axis=-1).max() < slack + 1e-6
        assert np.ptp(ankle, axis=0).max() < 1e-3  # planted throughout
    hips_moved = np.linalg.norm(pose["pelvis"][:, :3, 3] - source_pose["pelvis"][:, :3, 3], axis=-1)
    assert hips_moved.max() <= HIPS_SHARE * stray_copied.max() + 1e-9
    for bone in ("left_hip", "left_knee"):
        angle = np.degrees(np.arccos(np.clip(np.einsum("fi,fi->f", pose[bone][:, :3, 1],
                                                       source_pose[bone][:, :3, 1]), -1, 1)))
        assert angle.mean() < 10.0, (bone, angle.mean())


def test_twist_bones_share_the_hands_roll_along_the_forearm(source):
    """A forearm twist bone half way down turns with the forearm plus half the hand's roll about it; the
    upper arm's twist bone, at the shoulder, stays at rest on its arm."""
    target = a_posed_mixamo(source)
    forearm, hand = "mixamorig:LeftForeArm", "mixamorig:LeftHand"
    middle = target.matrix[forearm].copy()
    middle[:3, 3] += 0.5 * target.length[forearm] * target.direction(forearm)
    twist = "mixamorig:LeftForeArmTwist"
    target.matrix[twist], target.length[twist], target.parent[twist] = middle, 0.05, forearm
    roll = np.radians(np.linspace(0.0, 80.0, FRAMES))
    axis = source.matrix["left_wrist"][:3, :3].T @ source.direction("left_elbow")  # the forearm, in the hand's axes
    source_pose = posed(source, {"left_wrist": rotations.axis_angle_to_matrix(roll[:, None] * axis)}, "pelvis",
                        np.zeros((FRAMES, 3)))
    result = retarget(source, source_pose, target, detect(list(target.matrix)))
    pose = posed(target, {n: rotations.quaternion_to_matrix(q) for n, q in result.rotations.items()},
                 result.hips, result.hips_location)

    def turned(child: str, parent: str) -> np.ndarray:
        """The child's turn on its parent since rest, in the parent's axes."""
        now = np.swapaxes(pose[parent][:, :3, :3], -1, -2) @ pose[child][:, :3, :3]
        return now @ (target.matrix[parent][:3, :3].T @ target.matrix[child][:3, :3]).T

    y = np.array([0.0, 1.0, 0.0])
    _, hand_roll = swing_twist.swing_twist_decompose(turned(hand, forearm), y)
    np.testing.assert_allclose(hand_roll - hand_roll[0], roll, atol=1e-3)  # the A-pose adds a fixed roll
    np.testing.assert_allclose(turned(twist, forearm), rotations.axis_angle_to_matrix(0.5 * hand_roll[:, None] * y),
                               atol=1e-9)
    np.testing.assert_allclose(turned("mixamorig:LeftArm_twist", "mixamorig:LeftArm"),
                               np.broadcast_to(np.eye(3), (FRAMES, 3, 3)), atol=1e-9)


def test_the_same_character_moves_the_same_whichever_way_up_its_armature_is(source):
    """A character imported Y-up (a Mixamo FBX: its armature turned 90 degrees) gets the world motion it gets
    Z-up, with a foot that lifts between two contacts and legs of other proportions, so the foot lock's
    heights, which must be heights, are in play."""
    from arts_blender.retarget.mapping import Mapping
    from arts_blender.retarget.solve import UP

    lift = np.radians(60.0) * np.sin(np.pi * np.clip((np.arange(FRAMES) - 3) / 5, 0.0, 1.0))
    basis = {}
    for joint, turn in (("hip", -1.0), ("knee", 2.0)):
        axis = source.matrix[f"left_{joint}"][:3, :3].T @ np.array([1.0, 0.0, 0.0])
        basis[f"left_{joint}"] = rotations.axis_angle_to_matrix(turn * lift[:, None] * axis)
    travel = np.zeros((FRAMES, 3))
    travel[:, 1] = -0.04 * np.arange(FRAMES)
    source_pose = posed(source, basis, "pelvis", travel @ source.matrix["pelvis"][:3, :3])
    contacts = np.zeros((FRAMES, 4))
    contacts[:3, :2] = contacts[9:, :2] = contacts[:, 2:] = 1.0
    target = long_thighs(source)
    mapping = Mapping(preset="SMPL", bones={n: n for n in target.matrix})
    turned = matrix(rotations.axis_angle_to_matrix(np.array([np.pi / 2, 0.0, 0.0])), np.zeros(3))
    back = np.linalg.inv(turned)

    def in_armature(rig: RigRest) -> RigRest:
        return RigRest(matrix={n: back @ m for n, m in rig.matrix.items()}, length=dict(rig.length),
                       parent=dict(rig.parent))

    z_up = retarget(source, source_pose, target, mapping, contacts=contacts, fps=30.0)
    y_up = retarget(in_armature(source), {n: back @ m for n, m in source_pose.items()}, in_armature(target), mapping,
                    contacts=contacts, fps=30.0, up=back[:3, :3] @ UP)
    pose_z = posed(target, {n: rotations.quaternion_to_matrix(q) for n, q in z_up.rotations.items()},
                   z_up.hips, z_up.hips_location)
    rig_y = in_armature(target)
    pose_y = posed(rig_y, {n: rotations.quaternion_to_matrix(q) for n, q in y_up.rotations.items()},
                   y_up.hips, y_up.hips_location)
    assert np.ptp(pose_z["left_ankle"][:, 2, 3]) > 0.05  # the foot lifts
    for bone in target.matrix:
        np.testing.assert_allclose(turned @ pose_y[bone], pose_z[bone], atol=1e-9)
