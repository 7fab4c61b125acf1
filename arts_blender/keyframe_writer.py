"""Write keyframe channels into a Blender Action in bulk (one `foreach_set` per F-curve, never per key).

Blender 4.4 introduced slotted actions and 5.0 removed `Action.fcurves`: F-curves live in the channelbag of
the slot assigned to the animated ID. Older versions (4.2, 4.3) keep them on the action itself.
"""
from __future__ import annotations

import bpy
import numpy as np

from .keyframes import Channel

_LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value


def unique_action_name(base: str) -> str:
    """`base`, or `base.001`, `base.002`, ... : a name no existing action has, so nothing is overwritten."""
    if base not in bpy.data.actions:
        return base
    n = 1
    while f"{base}.{n:03d}" in bpy.data.actions:
        n += 1
    return f"{base}.{n:03d}"


def new_action_for(obj: bpy.types.Object, name: str) -> bpy.types.Action:
    """A NEW action assigned to `obj` (the previous one, possibly hand-edited, is kept with a fake user)."""
    anim = obj.animation_data or obj.animation_data_create()
    if anim.action is not None:
        anim.action.use_fake_user = True  # keep edits reachable in the action browser after reassignment
    action = bpy.data.actions.new(unique_action_name(name))
    anim.action = action
    if hasattr(anim, "action_slot") and anim.action_slot is None:
        anim.action_slot = action.slots.new(obj.id_type, obj.name)
    return action


def _fcurves(obj: bpy.types.Object, action: bpy.types.Action):
    if hasattr(action, "slots"):
        from bpy_extras.anim_utils import action_ensure_channelbag_for_slot
        return action_ensure_channelbag_for_slot(action, obj.animation_data.action_slot).fcurves
    return action.fcurves  # Blender 4.2 / 4.3


def fcurves_of(obj: bpy.types.Object):
    """The F-curve collection animating `obj` through its current action (None when it has none)."""
    anim = obj.animation_data
    if anim is None or anim.action is None:
        return None
    return _fcurves(obj, anim.action)


def write_channels(obj: bpy.types.Object, action: bpy.types.Action, channels: list[Channel]) -> None:
    """Create one F-curve per channel in `action` (assigned to `obj`) and fill its keys in bulk, LINEAR."""
    fcurves = _fcurves(obj, action)
    group_keyword = "group_name" if hasattr(action, "slots") else "action_group"  # 4.2 / 4.3 name
    for ch in channels:
        fc = fcurves.find(ch.data_path, index=ch.index)
        if fc is None:
            fc = fcurves.new(ch.data_path, index=ch.index, **{group_keyword: ch.group})
        else:
            fc.keyframe_points.clear()
        count = len(ch.frames)
        fc.keyframe_points.add(count)
        co = np.empty(2 * count, dtype=np.float32)
        co[0::2] = ch.frames
        co[1::2] = ch.values
        fc.keyframe_points.foreach_set("co", co)
        fc.keyframe_points.foreach_set("interpolation", np.full(count, _LINEAR, dtype=np.int32))
        fc.update()


def read_channel(fc) -> tuple[np.ndarray, np.ndarray]:
    """(frames (K,), values (K,)) of an F-curve's keys."""
    co = np.empty(2 * len(fc.keyframe_points), dtype=np.float32)
    fc.keyframe_points.foreach_get("co", co)
    return co[0::2].astype(np.float64), co[1::2].astype(np.float64)
