"""Characters to retarget onto, for the retarget tests and scripts/eval_retarget.py: skeletons named as Mixamo,
Unreal's mannequin, Unity's Humanoid or VRM name their bones, in another rest pose and proportions than the
ARTS rig, built in code; and a Rigify rig generated from Rigify's own human metarig.

The pure part (a_posed_rest) needs numpy only; the builders take `bpy` as an argument so this module imports
anywhere.
"""
from __future__ import annotations

import numpy as np

from arts_blender.retarget.mapping import PRESETS
from arts_blender.retarget.solve import RigRest
from bridge.geometry import rotations

#: Mixamo's FBX files import turned 90 degrees about X and scaled 0.01 (armature space in centimetres).
MIXAMO_OBJECT = np.eye(4)
MIXAMO_OBJECT[:3, :3] = rotations.axis_angle_to_matrix(np.array([np.pi / 2, 0.0, 0.0])) * 0.01


def _matrix(rot: np.ndarray, head: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = rot, head
    return out


def arts_rest() -> RigRest:
    """The ARTS rig's rest skeleton (mean body) as a RigRest, without Blender: what rig_builder builds."""
    from arts_blender import rig_math
    from bridge.body_model import load_body_model_arrays, shaped_rest

    vertices, joints = shaped_rest(load_body_model_arrays(), None)
    rest = rig_math.rest_skeleton(np.asarray(joints), np.asarray(vertices))
    names = rig_math.SMPL_JOINT_NAMES
    return RigRest(matrix={n: _matrix(rest.rest_rotmats[j], rest.heads[j]) for j, n in enumerate(names)},
                   length={n: float(np.linalg.norm(rest.tails[j] - rest.heads[j])) for j, n in enumerate(names)},
                   parent={n: (names[p] if p >= 0 else None) for n, p in zip(names, rig_math.SMPL_PARENTS)})


def a_posed_rest(source: RigRest, preset: str = "MIXAMO", scale: float = 1.25, arm_scale: float = 1.4,
                 arm_down_deg: float = 40.0, seed: int = 2) -> RigRest:
    """The ARTS skeleton `source` renamed by `preset`, `scale` times taller with arms `arm_scale` times longer,
    arms `arm_down_deg` down (A-pose), every bone rolled at random, and an unmapped twist bone under each
    upper arm."""
    names = PRESETS[preset]
    rng = np.random.default_rng(seed)
    heads = {n: source.matrix[n][:3, 3] * scale for n in names}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        shoulder = heads[f"{side}_shoulder"]
        down = rotations.axis_angle_to_matrix(np.array([0.0, sign * np.radians(arm_down_deg), 0.0]) * -1)
        for bone in (f"{side}_elbow", f"{side}_wrist"):
            heads[bone] = shoulder + arm_scale * (down @ (heads[bone] - shoulder))
    children = {n: [c for c in names if source.parent[c] == n] for n in names}
    matrices, lengths = {}, {}
    for n in names:
        kids = children[n]
        main = {"pelvis": "spine1", "spine3": "neck"}.get(n, kids[0] if kids else None)
        tail = heads[main] if main else heads[n] + (heads[n] - heads[source.parent[n]]) * 0.3
        y = (tail - heads[n]) / np.linalg.norm(tail - heads[n])
        x = np.cross(y, rng.normal(size=3))
        x /= np.linalg.norm(x)
        matrices[names[n]] = _matrix(np.stack([x, y, np.cross(x, y)], axis=1), heads[n])
        lengths[names[n]] = float(np.linalg.norm(tail - heads[n]))
    parent = {names[n]: (names[source.parent[n]] if source.parent[n] in names else None) for n in names}
    for side in ("left", "right"):
        arm = names[f"{side}_shoulder"]
        twist = f"{arm}_twist"
        matrices[twist], lengths[twist], parent[twist] = matrices[arm].copy(), 0.1, arm
    return RigRest(matrix=matrices, length=lengths, parent=parent)


def build_armature(bpy, name: str, rest: RigRest, object_matrix: np.ndarray = np.eye(4)):
    """An armature whose bones have `rest`'s world matrices once placed by `object_matrix`."""
    from mathutils import Matrix

    from arts_blender.rig_builder import editing

    data = bpy.data.armatures.new(name)
    armature = bpy.data.objects.new(name, data)
    bpy.context.collection.objects.link(armature)
    armature.matrix_world = Matrix(object_matrix.tolist())
    inverse = np.linalg.inv(object_matrix)
    scale = np.cbrt(abs(np.linalg.det(inverse[:3, :3])))
    with editing(armature):
        for bone in rest.order():
            local = inverse @ rest.matrix[bone]
            local[:3, :3] /= scale
            edit = data.edit_bones.new(bone)
            edit.head, edit.tail = (0.0, 0.0, 0.0), (0.0, 1.0, 0.0)
            edit.matrix = Matrix(local.tolist())
            edit.length = rest.length[bone] * scale
            if rest.parent[bone]:
                edit.parent = data.edit_bones[rest.parent[bone]]
    return armature


def generate_rigify(bpy):
    """Rigify's human metarig, generated (Rigify ships inside Blender): the generated rig object."""
    import addon_utils

    addon_utils.enable("rigify", default_set=True, handle_error=None)
    before = set(bpy.data.objects)
    if bpy.context.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    bpy.ops.object.armature_human_metarig_add()
    metarig = bpy.context.active_object
    bpy.ops.pose.rigify_generate()
    return next(o for o in bpy.data.objects if o.type == "ARMATURE" and o is not metarig and o not in before)
