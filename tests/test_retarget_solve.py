"""Retarget maths on synthetic rigs: another rest pose (A-pose), other rolls, other proportions, extra bones."""
from __future__ import annotations

import numpy as np
import pytest

from arts_blender import rig_math
from arts_blender.retarget.mapping import detect
from arts_blender.retarget.solve import RigRest, retarget
from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.geometry import rotations
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
