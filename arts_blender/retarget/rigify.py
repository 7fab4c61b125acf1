"""Bake ARTS motion onto a generated Rigify rig through its FK controls.

A generated rig's deform (DEF-) bones copy tweak and ORG bones, which copy the FK or IK controls through
constraints and drivers, so keys on deform bones do nothing. The animator's rig is driven instead where an
animator would drive it: the four limbs are switched to FK (the switch is keyed in the new action too), the
FK controls of the spine, neck, head, clavicles, arms, legs and toes are turned so that each ORG bone (the
full-length copy of its metarig bone) turns as its ARTS bone does, and the torso control carries the body's
path. Constraints and drivers between a control and its ORG bone are Blender's to evaluate: each frame sets
the controls from the trunk outwards, letting Blender evaluate the rig after each level, so a control is
solved in the pose its parents really have (the `matrix` setter of a pose bone accounts for its parent's
evaluated pose).
"""
from __future__ import annotations

from collections.abc import Callable

import bpy
import numpy as np
from mathutils import Matrix

from ..bridge_locator import import_bridge
from ..keyframe_writer import new_action_for, write_channels
from ..keyframes import Channel
from .mapping import RIGIFY_FK_CONTROLS, RIGIFY_FK_SWITCHES, RIGIFY_TORSO, Mapping, rigify_org_mapping
from .solve import UP, RigRest, grounded, hips_path, wanted_rotation

_rotations = import_bridge("geometry.rotations")

def is_generated_rigify(armature: bpy.types.Object) -> bool:
    """A rig Rigify generated (it has the torso, the spine's FK controls and the ORG bones they move)."""
    bones = armature.data.bones
    return all(name in bones for name in (RIGIFY_TORSO, "spine_fk", "ORG-spine", *RIGIFY_FK_SWITCHES))


def _solve_order(armature: bpy.types.Object, controls: list[str]) -> list[list[str]]:
    """`controls` in groups to solve one after another: each control after every control it depends on (through
    parents and bone constraints' targets, as Blender evaluates them), the group as early as that allows. The
    rig is evaluated once per group and frame, the bake's main cost (about 15 ms each for Rigify's human)."""
    bones = armature.pose.bones
    wanted = set(controls)
    rank: dict[str, int] = {}

    def upstream(name: str) -> list[str]:
        bone = bones[name]
        found = [bone.parent.name] if bone.parent is not None else []
        for constraint in bone.constraints:
            for attribute in ("subtarget", "pole_subtarget"):
                target = getattr(constraint, attribute, "")
                if target and target in bones and getattr(constraint, "target", None) == armature:
                    found.append(target)
        return found

    def rank_of(name: str, visiting: frozenset[str]) -> int:
        if name not in rank:
            deps = [d for d in upstream(name) if d not in visiting]
            rank[name] = max((rank_of(d, visiting | {name}) + (d in wanted) for d in deps), default=0)
        return rank[name]

    groups: dict[int, list[str]] = {}
    for c in controls:
        groups.setdefault(rank_of(c, frozenset()), []).append(c)
    return [groups[k] for k in sorted(groups)]


def bake_controls(target: bpy.types.Object, mapping: Mapping, source_rest: RigRest, poses: dict[str, np.ndarray],
                  target_rest: RigRest, frames: range, in_place: bool, name: str, contacts: np.ndarray | None = None,
                  fps: float = 30.0, units_per_m: float = 1.0, up: np.ndarray = UP,
                  progress: Callable[[float], None] | None = None) -> bpy.types.Action:
    """Key the FK controls and torso of the generated Rigify rig `target` (armature space of the target)
    with the motion of the ARTS bones `poses`; returns the new action (assigned to the target). `contacts`
    (F, 4): keep the feet planted through them (solve.planted_legs)."""
    org = rigify_org_mapping(mapping)
    control_of = {t: RIGIFY_FK_CONTROLS[t] for t in org.bones.values()}
    wanted = {t: wanted_rotation(source_rest, poses, target_rest, s, t) for s, t in org.bones.items()}
    head = hips_path(source_rest, poses, target_rest, org.bones, in_place, up)  # ORG-spine's head per frame
    if contacts is not None:  # in FK the legs hang rigidly from ORG-spine: that chain is all the IK needs
        legs = [org.bones[b] for b in ("pelvis", "left_hip", "left_knee", "left_ankle", "right_hip", "right_knee",
                                       "right_ankle") if b in org.bones]
        chain = RigRest(matrix={b: target_rest.matrix[b] for b in legs}, length={b: target_rest.length[b] for b in legs},
                        parent={b: (None if b == "ORG-spine" else "ORG-spine" if "thigh" in b
                                    else b.replace("shin", "thigh").replace("foot", "shin")) for b in legs})
        wanted, head = grounded(source_rest, poses, target_rest, wanted, org.bones, head, contacts, fps, units_per_m,
                                in_place, up, legs_rest=chain)
    # The torso (its parent at rest) carries the body: its location moves ORG-spine's head by as much.
    torso_rest = target_rest.matrix[RIGIFY_TORSO]
    torso_shift = (head - target_rest.matrix["ORG-spine"][:3, 3]) @ torso_rest[:3, :3]
    # An ORG bone sits on its control with a fixed offset at rest: the control turns so the ORG bone turns right.
    offset = {t: (np.linalg.inv(target_rest.matrix[t]) @ target_rest.matrix[c])[:3, :3] for t, c in control_of.items()}
    org_of = {c: t for t, c in control_of.items()}
    levels = [[org_of[c] for c in group] for group in _solve_order(target, list(control_of.values()))]

    pose_bones = target.pose.bones
    anim = target.animation_data or target.animation_data_create()
    previous_action = anim.action
    anim.action = None  # the old keys must not overwrite the controls while they are solved
    switches = {b: pose_bones[b].get("IK_FK") for b in RIGIFY_FK_SWITCHES}
    controls = [RIGIFY_TORSO, *control_of.values()]
    for c in controls:
        pose_bones[c].rotation_mode = "QUATERNION"
        pose_bones[c].matrix_basis = Matrix.Identity(4)
    quats = {c: np.empty((len(frames), 4)) for c in controls}
    torso_location = np.empty((len(frames), 3))
    view_layer = bpy.context.view_layer
    try:
        for b in RIGIFY_FK_SWITCHES:
            pose_bones[b]["IK_FK"] = 1.0
        for k in range(len(frames)):
            torso = pose_bones[RIGIFY_TORSO]
            torso.location = torso_shift[k]
            view_layer.update()
            for level in levels:
                for t in level:
                    control = pose_bones[control_of[t]]
                    matrix = np.array(control.matrix)
                    scale = np.linalg.norm(matrix[:3, :3], axis=0)
                    matrix[:3, :3] = (wanted[t][k] @ offset[t]) * scale
                    control.matrix = Matrix(matrix.tolist())
                view_layer.update()  # the next level's setters read this level's evaluated pose
            # The pelvis hangs below spine_fk's pivot, so turning it moved its head: the torso takes it back,
            # moving every control with it and turning none.
            torso.location = np.array(torso.location) + (head[k] - np.array(pose_bones["ORG-spine"].head)
                                                         ) @ torso_rest[:3, :3]
            for c in controls:
                quats[c][k] = np.array(pose_bones[c].rotation_quaternion)
            torso_location[k] = np.array(pose_bones[RIGIFY_TORSO].location)
            if progress is not None:
                progress((k + 1) / len(frames))
    finally:
        for b, value in switches.items():
            if value is not None:
                pose_bones[b]["IK_FK"] = value
        anim.action = previous_action
    keys = np.arange(frames.start, frames.stop, dtype=np.float64)
    channels = []
    for c in controls:
        q = _rotations.quaternion_continuity(quats[c])
        channels += [Channel(f'pose.bones["{c}"].rotation_quaternion', i, c, keys, q[:, i]) for i in range(4)]
    channels += [Channel(f'pose.bones["{RIGIFY_TORSO}"].location', i, RIGIFY_TORSO, keys, torso_location[:, i])
                 for i in range(3)]
    channels += [Channel(f'pose.bones["{b}"]["IK_FK"]', 0, b, keys[:1], np.ones(1)) for b in RIGIFY_FK_SWITCHES]
    baked = new_action_for(target, name)
    write_channels(target, baked, channels)
    return baked
