"""Bake ARTS motion onto another armature in Blender: read both rigs, solve (solve.py), write a NEW action on the
target (the ARTS action and any action the target had are left as they are).

The two armatures may sit anywhere in the scene, turned and uniformly scaled (an FBX from Mixamo imports
turned 90 degrees and scaled 0.01): the ARTS rig's rest and pose are carried into the target's armature space
first, so everything is solved where the target's keys live.
"""
from __future__ import annotations

from collections.abc import Callable

import bpy
import numpy as np

from ..keyframe_writer import fcurves_of, new_action_for, write_channels
from ..keyframes import CONTACT_PROPERTIES, Channel
from . import rigify
from .guess import GuessError, guess
from .mapping import Mapping, detect
from .solve import RigRest, retarget, still_contacts


class RetargetError(RuntimeError):
    """The target cannot take the motion; the message says why and what to do."""


def rig_rest(armature: bpy.types.Object) -> RigRest:
    bones = armature.data.bones
    return RigRest(matrix={b.name: np.array(b.matrix_local) for b in bones},
                   length={b.name: float(b.length) for b in bones},
                   parent={b.name: (b.parent.name if b.parent else None) for b in bones})


def _into(space: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """(..., 4, 4) rigid matrices carried by `space` (rotation, uniform scale, translation), kept rigid."""
    scale = np.cbrt(abs(np.linalg.det(space[:3, :3])))
    out = np.array(matrices, dtype=np.float64, copy=True)
    out[..., :3, :3] = (space[:3, :3] / scale) @ out[..., :3, :3]
    out[..., :3, 3] = np.einsum("ij,...j->...i", space[:3, :3], out[..., :3, 3]) + space[:3, 3]
    return out


def sample_pose(armature: bpy.types.Object, bones: list[str], frames: range,
                progress: Callable[[float], None] | None = None) -> dict[str, np.ndarray]:
    """(F, 4, 4) evaluated armature-space pose matrices of `bones` at each frame; `progress` gets the share
    of frames done."""
    scene = bpy.context.scene
    current = scene.frame_current
    out = {name: np.empty((len(frames), 4, 4)) for name in bones}
    try:
        for k, frame in enumerate(frames):
            scene.frame_set(frame)
            for name in bones:
                out[name][k] = np.array(armature.pose.bones[name].matrix)
            if progress is not None:
                progress((k + 1) / len(frames))
    finally:
        scene.frame_set(current)
    return out


def sample_contacts(armature: bpy.types.Object, frames: range) -> np.ndarray | None:
    """(F, 4) foot contacts the import keyed on the rig (keyframes.CONTACT_PROPERTIES), as its action now
    has them; None for a rig imported without contacts."""
    fcurves = fcurves_of(armature)
    curves = [fcurves.find(f'["{name}"]') if fcurves is not None else None for name in CONTACT_PROPERTIES]
    if any(c is None for c in curves):
        return None
    return np.array([[c.evaluate(f) for c in curves] for f in frames], dtype=np.float64)


def find_mapping(target: bpy.types.Object) -> Mapping:
    """The preset the bone names fit, else a mapping read from the skeleton's shape (guess.py)."""
    mapping = detect([b.name for b in target.data.bones])
    if mapping is not None:
        return mapping
    try:
        return guess(rig_rest(target))
    except GuessError as exc:
        raise RetargetError(f"no bone mapping fits '{target.name}': its bone names match no preset (Rigify, "
                            f"Mixamo, Unreal, Unity, VRM, SMPL) and its shape was not read as a humanoid "
                            f"({exc}); load or write a mapping preset for it") from exc


#: Share of a Rigify bake's time spent reading the ARTS rig (the rest solves its controls frame by frame).
RIGIFY_SAMPLING_SHARE = 0.25


def bake(source: bpy.types.Object, target: bpy.types.Object, mapping: Mapping | None = None,
         in_place: bool = False, name: str | None = None, keep_feet: bool = True,
         progress: Callable[[float], None] | None = None) -> tuple[bpy.types.Action, Mapping]:
    """Key `target` with the motion of the ARTS rig `source` over its action's frame range, in a new action.
    With `keep_feet`, the feet stay on one spot through each contact the import keyed on the source, while
    the ARTS foot itself stands (solve.still_contacts). `progress` gets the share of the work done, from 0
    to 1 (a minute of video takes tens of seconds, longer on a Rigify rig)."""
    action = source.animation_data.action if source.animation_data else None
    if action is None:
        raise RetargetError(f"'{source.name}' has no action to retarget; import a clip first")
    mapping = mapping or find_mapping(target)
    missing = [bone for bone in ("pelvis", "left_hip", "left_knee") if bone not in mapping.bones]
    if missing:
        raise RetargetError(f"the mapping for '{target.name}' lacks {', '.join(missing)}: it needs at least the "
                            "hips and the left thigh and shin")
    frames = range(int(round(action.frame_range[0])), int(round(action.frame_range[1])) + 1)
    generated_rigify = rigify.is_generated_rigify(target)
    driven = [] if generated_rigify else [t for t in mapping.bones.values() if any(
        c.enabled and c.influence > 0 for c in target.pose.bones[t].constraints)]
    if driven:
        raise RetargetError(f"{len(driven)} of '{target.name}''s bones ({', '.join(driven[:3])}, ...) are driven by "
                            "constraints, so keys on them would not move it; baking through controls is "
                            "supported for generated Rigify rigs only: use a Rigify rig, a rig without "
                            "constraints, or an exported game rig")
    contacts = sample_contacts(source, frames) if keep_feet else None
    scene = bpy.context.scene
    fps = scene.render.fps / scene.render.fps_base
    world_up = np.linalg.inv(np.array(target.matrix_world)[:3, :3]) @ np.array([0.0, 0.0, 1.0])  # in its armature
    report = progress or (lambda share: None)
    sampled = RIGIFY_SAMPLING_SHARE if generated_rigify else 1.0
    source_rest, poses, units_per_m = _source_in(source, target, frames, lambda share: report(sampled * share))
    if contacts is not None:
        contacts = still_contacts(contacts, poses["left_ankle"][:, :3, 3], poses["right_ankle"][:, :3, 3], fps,
                                  units_per_m)
    if generated_rigify:
        baked = rigify.bake_controls(target, mapping, source_rest, poses, rig_rest(target), frames, in_place,
                                     name or f"{action.name}_{target.name}", contacts, fps, units_per_m,
                                     world_up, lambda share: report(sampled + (1.0 - sampled) * share))
        return _tagged(baked, mapping, action), mapping
    result = retarget(source_rest, poses, rig_rest(target), mapping, in_place, contacts, fps, units_per_m, world_up)

    keys = np.arange(frames.start, frames.stop, dtype=np.float64)
    channels = []
    for bone, quats in result.rotations.items():
        target.pose.bones[bone].rotation_mode = "QUATERNION"
        channels += [Channel(f'pose.bones["{bone}"].rotation_quaternion', i, bone, keys, quats[:, i]) for i in range(4)]
    channels += [Channel(f'pose.bones["{result.hips}"].location', i, result.hips, keys, result.hips_location[:, i])
                 for i in range(3)]
    baked = new_action_for(target, name or f"{action.name}_{target.name}")
    write_channels(target, baked, channels)
    return _tagged(baked, mapping, action), mapping


def _source_in(source: bpy.types.Object, target: bpy.types.Object, frames: range,
               progress: Callable[[float], None] | None = None) -> tuple[RigRest, dict[str, np.ndarray], float]:
    """The ARTS rig's rest and its sampled pose (every SMPL bone), carried into the target's armature space,
    and that space's units per ARTS metre (100 for a Mixamo rig in centimetres)."""
    space = np.linalg.inv(np.array(target.matrix_world)) @ np.array(source.matrix_world)
    source_rest = rig_rest(source)
    scale = np.cbrt(abs(np.linalg.det(space[:3, :3])))
    source_rest.matrix = {n: _into(space, m) for n, m in source_rest.matrix.items()}
    source_rest.length = {n: v * scale for n, v in source_rest.length.items()}
    poses = {n: _into(space, m) for n, m in sample_pose(source, list(source_rest.matrix), frames, progress).items()}
    return source_rest, poses, float(scale)


def _tagged(baked: bpy.types.Action, mapping: Mapping, action: bpy.types.Action) -> bpy.types.Action:
    baked["arts_retarget_preset"] = mapping.preset
    baked["arts_source_action"] = action.name
    return baked
