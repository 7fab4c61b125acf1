"""The rig a game engine gets: a temporary copy of the ARTS rig with a `root` bone, the chosen bone names and
units, and the T-pose as every node's default transform. The animator's rig, action and mesh are untouched.

Why a copy: root motion, engine bone names and centimetres are what engines want, but not what an animator
edits in Blender (the ARTS rig keeps SMPL's names and its motion on the pelvis, which smoothing, foot lock
and retargeting work on). The copy's action is sampled from the evaluated rig at every frame, so hand edits,
NLA tweaks and constraints on the ARTS rig are exported as seen.

Rest pose in the file: Blender's FBX exporter writes each node's default transform from the pose at the
current frame. The copy's action has one extra key, a frame before the scene's range, holding the rest pose,
and the scene sits on that frame while the file is written; the baked animation covers the scene's range
only, so the extra key never reaches the file.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import bpy
import numpy as np
from mathutils import Matrix

from . import export_presets, rig_math, root_motion
from .keyframe_writer import new_action_for, write_channels
from .keyframes import Channel
from .retarget.bake import sample_pose
from .rig_builder import RIG_MARKER, editing

#: Basis translations below this (metres) are not keyed: SMPL bones other than the pelvis never move.
_STILL_M = 1e-6


@dataclass
class EngineRig:
    armature: bpy.types.Object
    meshes: list[bpy.types.Object]
    rest_frame: int


def _parents(names: dict[str, str]) -> dict[str, str | None]:
    """Exported bone name -> its parent's exported name; the pelvis hangs under the root."""
    out: dict[str, str | None] = {root_motion.ROOT_BONE: None}
    for joint, parent in enumerate(rig_math.SMPL_PARENTS):
        bone = names[rig_math.SMPL_JOINT_NAMES[joint]]
        out[bone] = names[rig_math.SMPL_JOINT_NAMES[parent]] if parent >= 0 else root_motion.ROOT_BONE
    return out


def _scaled(matrix: np.ndarray, scale: float) -> np.ndarray:
    out = np.array(matrix, dtype=np.float64, copy=True)
    out[..., :3, 3] *= scale
    return out


def _in_units(matrix_world, units_per_m: float) -> Matrix:
    """An object's world matrix for a scene measured `units_per_m` times finer (its offsets scaled, its turn
    kept), for data built that much larger."""
    size = np.diag([units_per_m] * 3 + [1.0])
    return Matrix((size @ np.array(matrix_world) @ np.linalg.inv(size)).tolist())


def _build_armature(name: str, collection: bpy.types.Collection, rests: dict[str, np.ndarray],
                    lengths: dict[str, float], parents: dict[str, str | None]) -> bpy.types.Object:
    data = bpy.data.armatures.new(name)
    armature = bpy.data.objects.new(name, data)
    collection.objects.link(armature)
    with editing(armature):
        for bone_name, rest in rests.items():
            bone = data.edit_bones.new(bone_name)
            bone.head, bone.tail = (0.0, 0.0, 0.0), (0.0, lengths[bone_name], 0.0)
            bone.matrix = Matrix(rest.tolist())
            bone.use_deform = bone_name != root_motion.ROOT_BONE
        for bone_name, parent in parents.items():
            if parent is not None:
                data.edit_bones[bone_name].parent = data.edit_bones[parent]
                data.edit_bones[bone_name].use_connect = False
    for pose_bone in armature.pose.bones:
        pose_bone.rotation_mode = "QUATERNION"
    return armature


def _channels(bases: dict[str, np.ndarray], frames: np.ndarray) -> list[Channel]:
    out = []
    for bone, basis in bases.items():
        location, quats = root_motion.basis_channels(basis)
        path = f'pose.bones["{bone}"]'
        for i in range(4):
            out.append(Channel(f"{path}.rotation_quaternion", i, bone, frames, quats[:, i]))
        if bone == root_motion.ROOT_BONE or np.abs(location).max() > _STILL_M:
            for i in range(3):
                out.append(Channel(f"{path}.location", i, bone, frames, location[:, i]))
    return out


def _copy_mesh(mesh: bpy.types.Object, armature: bpy.types.Object, names: dict[str, str], scale: float,
               collection: bpy.types.Collection) -> bpy.types.Object:
    data = mesh.data.copy()
    copy = bpy.data.objects.new(f"{armature.name}_body", data)  # the exporter gives it its file name
    collection.objects.link(copy)
    if scale != 1.0:
        data.transform(Matrix.Scale(scale, 4))
    for group in copy.vertex_groups:
        group.name = names.get(group.name, group.name)
    copy.parent = armature
    copy.matrix_world = _in_units(mesh.matrix_world, scale)
    modifier = copy.modifiers.new("Armature", "ARMATURE")
    modifier.object = armature
    modifier.use_vertex_groups = True
    return copy


@contextmanager
def engine_rig(context, armature: bpy.types.Object, naming: str = "SMPL", in_place: bool = False,
               units_per_m: float = 1.0) -> Iterator[EngineRig]:
    """A copy of the ARTS rig `armature` for an engine, with a `root` bone, the bones named by
    `naming` (export_presets.BONE_NAMINGS), built at `units_per_m` Blender units per metre (the scene's unit
    scale follows), keyed at every frame of the scene's range, and the scene on its rest frame. Everything
    made here is removed and the scene restored on exit."""
    scene = context.scene
    if not armature.get(RIG_MARKER):
        raise ValueError(f"'{armature.name}' is not an ARTS rig")
    names = export_presets.export_bone_names(naming)
    frames = range(scene.frame_start, scene.frame_end + 1)
    smpl = list(rig_math.SMPL_JOINT_NAMES)
    poses = sample_pose(armature, smpl, frames)
    rests = {bone: np.array(armature.data.bones[bone].matrix_local) for bone in smpl}
    lengths = {names[bone]: float(armature.data.bones[bone].length) * units_per_m for bone in smpl}
    root, pelvis = root_motion.root_track(poses["pelvis"], rests["pelvis"], scene.render.fps / scene.render.fps_base,
                                         in_place)
    poses["pelvis"] = pelvis
    parents = _parents(names)
    out_poses = {root_motion.ROOT_BONE: root, **{names[b]: poses[b] for b in smpl}}
    out_rests = {root_motion.ROOT_BONE: root_motion.ROOT_REST, **{names[b]: rests[b] for b in smpl}}
    bases = root_motion.pose_bases(out_poses, out_rests, parents)
    # One rest key before the range (identity bases), then the sampled frames; sizes in the export's units.
    rest_frame = scene.frame_start - 1
    bases = {b: _scaled(np.concatenate([np.eye(4)[None], m]), units_per_m) for b, m in bases.items()}
    key_frames = np.arange(rest_frame, scene.frame_end + 1, dtype=np.float64)
    lengths[root_motion.ROOT_BONE] = root_motion.ROOT_TAIL_M[1] * units_per_m

    collection = scene.collection
    made_objects: list[bpy.types.Object] = []
    previous = (scene.frame_current, scene.unit_settings.system, scene.unit_settings.scale_length)
    action = None
    try:
        copy = _build_armature(f"{armature.name}_engine", collection, {b: _scaled(r, units_per_m) for b, r in out_rests.items()},
                               lengths, parents)
        made_objects.append(copy)
        copy.matrix_world = _in_units(armature.matrix_world, units_per_m)
        action = new_action_for(copy, f"{armature.animation_data.action.name}_engine")
        write_channels(copy, action, _channels(bases, key_frames))
        meshes = [_copy_mesh(child, copy, names, units_per_m, collection)
                  for child in armature.children if child.type == "MESH"]
        made_objects += meshes
        if units_per_m != 1.0:
            scene.unit_settings.system = "METRIC"
            scene.unit_settings.scale_length = 1.0 / units_per_m
        scene.frame_set(rest_frame)
        yield EngineRig(armature=copy, meshes=meshes, rest_frame=rest_frame)
    finally:
        scene.unit_settings.system, scene.unit_settings.scale_length = previous[1], previous[2]
        for obj in made_objects:
            data = obj.data
            bpy.data.objects.remove(obj)
            if isinstance(data, bpy.types.Mesh):
                bpy.data.meshes.remove(data)
            elif isinstance(data, bpy.types.Armature):
                bpy.data.armatures.remove(data)
        if action is not None:
            bpy.data.actions.remove(action)
        scene.frame_set(previous[0])
