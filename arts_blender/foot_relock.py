"""Re-apply foot lock to an ARTS rig after hand edits, on a frame range, in place (the operator is undoable).

The bridge locks feet before the import; an animator who then moves a leg or the hips unpins them. This
samples the rig as it now plays, reads the contacts the import keyed on it, and turns the thighs and shins
by two-bone IK so each planted foot stays on one spot per contact (retarget.solve.planted_legs, the same
fades as the bridge's lock). Ankles keep their world orientation; nothing else is touched.
"""
from __future__ import annotations

import bpy
import numpy as np

from . import keyframes, rig_math
from .keyframe_writer import fcurves_of, read_channel, write_channels
from .retarget.bake import rig_rest, sample_contacts, sample_pose
from .retarget.solve import evaluate, planted_legs

LEG_BONES = ("left_hip", "left_knee", "left_ankle", "right_hip", "right_knee", "right_ankle")


def relock_feet(armature: bpy.types.Object, frame_range: tuple[int, int], fps: float) -> int:
    """Pin the planted feet of `armature` within `frame_range` again; returns the frames with a foot locked."""
    fcurves = fcurves_of(armature)
    if fcurves is None:
        raise ValueError(f"'{armature.name}' has no action to lock")
    start, end = int(min(frame_range)), int(max(frame_range))
    frames = range(start, end + 1)
    if len(frames) < 2:
        raise ValueError("the frame range needs at least 2 frames")
    contacts = sample_contacts(armature, frames)
    if contacts is None:
        raise ValueError(f"'{armature.name}' has no foot contacts (it was imported by an older version); import "
                         "the results file again to get them")
    names = list(rig_math.SMPL_JOINT_NAMES)
    rest = rig_rest(armature)
    poses = sample_pose(armature, names, frames)
    wanted = {b: poses[b][:, :3, :3] for b in names}
    head = poses["pelvis"][:, :3, 3]
    locked = planted_legs(rest, wanted, {b: b for b in names}, head, contacts, fps)
    _, keys, _ = evaluate(rest, locked, "pelvis", head)
    grid = np.arange(start, end + 1, dtype=np.float64)
    channels = []
    for bone in LEG_BONES:
        path = f'pose.bones["{bone}"].rotation_quaternion'
        for i in range(4):
            curve = fcurves.find(path, index=i)
            old_frames, old_values = read_channel(curve) if curve is not None else (grid[:0], grid[:0])
            new_frames, new_values = keyframes.splice_keys(old_frames, old_values, grid, keys[bone][:, i])
            channels.append(keyframes.Channel(path, i, bone, new_frames, new_values))
    write_channels(armature, armature.animation_data.action, channels)
    planted = np.maximum(contacts[:, [0, 2]], contacts[:, [1, 3]]) > 0.5
    return int(planted.any(axis=1).sum())
