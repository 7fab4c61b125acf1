"""Build the SMPL rig in Blender: an armature with the 24 SMPL bones and a skinned mesh child.

The geometry (bone ends, rest frames, the upright rest placement) comes from `rig_math`; this module only
creates the datablocks. The armature object stays at the identity so its space is world space (see rig_math).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import bpy
import numpy as np
from mathutils import Matrix

from . import rig_math
from .bridge_locator import import_bridge

_body_model = import_bridge("body_model")

#: Custom properties that mark an armature as an ARTS rig and record what it was built from.
RIG_MARKER = "arts_rig"
BETAS_PROPERTY = "arts_betas"
BODY_MODEL_PROPERTY = "arts_body_model_id"
OFFSET_PROPERTY = "arts_rest_offset"
MIN_WEIGHT = 1e-4


@dataclass
class Rig:
    armature: bpy.types.Object
    mesh: bpy.types.Object | None
    rest: rig_math.RestSkeleton


def is_arts_rig(obj: bpy.types.Object | None) -> bool:
    return obj is not None and obj.type == "ARMATURE" and bool(obj.get(RIG_MARKER))


def arts_rig_of(obj: bpy.types.Object | None) -> bpy.types.Object | None:
    """The ARTS armature `obj` is or belongs to (its body mesh is parented to it and deformed by it)."""
    if is_arts_rig(obj):
        return obj
    if obj is None:
        return None
    if is_arts_rig(obj.parent):
        return obj.parent
    for modifier in getattr(obj, "modifiers", ()):
        if modifier.type == "ARMATURE" and is_arts_rig(modifier.object):
            return modifier.object
    return None


def rest_from_armature(armature: bpy.types.Object) -> rig_math.RestSkeleton:
    """The rest skeleton as Blender stored it (float32 bone matrices), in SMPL joint order."""
    bones = armature.data.bones
    mats = np.array([np.array(bones[name].matrix_local) for name in rig_math.SMPL_JOINT_NAMES])
    tails = np.array([np.array(bones[name].tail_local) for name in rig_math.SMPL_JOINT_NAMES])
    return rig_math.RestSkeleton(heads=mats[:, :3, 3].astype(np.float64), tails=tails.astype(np.float64),
                                 rest_rotmats=mats[:, :3, :3].astype(np.float64),
                                 offset=np.array(armature[OFFSET_PROPERTY], dtype=np.float64))


@contextmanager
def editing(armature: bpy.types.Object) -> Iterator[None]:
    """`armature` in edit mode for the block (its edit_bones can be made), then object mode and the previously
    active object back."""
    view_layer = bpy.context.view_layer
    previous = view_layer.objects.active
    if bpy.context.mode != "OBJECT":  # another object in edit or pose mode would take the mode switch
        bpy.ops.object.mode_set(mode="OBJECT")
    view_layer.objects.active = armature
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        yield
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view_layer.objects.active = previous


def _build_armature(name: str, collection: bpy.types.Collection, rest: rig_math.RestSkeleton) -> bpy.types.Object:
    data = bpy.data.armatures.new(name)
    data.display_type = "OCTAHEDRAL"
    armature = bpy.data.objects.new(name, data)
    armature.show_in_front = True
    collection.objects.link(armature)
    with editing(armature):
        edit_bones = []
        for j, bone_name in enumerate(rig_math.SMPL_JOINT_NAMES):
            bone = data.edit_bones.new(bone_name)
            bone.head = rest.heads[j]
            bone.tail = rest.tails[j]
            bone.align_roll(rest.rest_rotmats[j][:, 2])
            bone.use_deform = True
            edit_bones.append(bone)
        for j, parent in enumerate(rig_math.SMPL_PARENTS):
            if parent >= 0:
                edit_bones[j].parent = edit_bones[parent]
                edit_bones[j].use_connect = False  # SMPL joints move freely; root motion only on the pelvis
    for pose_bone in armature.pose.bones:
        pose_bone.rotation_mode = "QUATERNION"
    return armature


def _build_mesh(name: str, collection: bpy.types.Collection, armature: bpy.types.Object,
                vertices: np.ndarray, faces: np.ndarray, weights: np.ndarray) -> bpy.types.Object:
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(vertices.tolist(), [], np.asarray(faces, dtype=np.int64).tolist())
    mesh.polygons.foreach_set("use_smooth", np.ones(len(mesh.polygons), dtype=bool))
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    for j, bone_name in enumerate(rig_math.SMPL_JOINT_NAMES):
        group = obj.vertex_groups.new(name=bone_name)
        column = weights[:, j]
        for v in np.flatnonzero(column > MIN_WEIGHT).tolist():
            group.add([v], float(column[v]), "REPLACE")
    obj.parent = armature
    modifier = obj.modifiers.new("Armature", "ARMATURE")
    modifier.object = armature
    modifier.use_vertex_groups = True
    return obj


def build_rig(name: str, collection: bpy.types.Collection, arrays, betas: np.ndarray,
              with_mesh: bool = True) -> Rig:
    """Armature (+ skinned mesh) for body model `arrays` (BodyModelArrays) at shape `betas` (10,).

    Bones are named as SMPL names its joints; the rest pose is the body model's at `betas`, upright in
    Blender; pose bones use quaternions; each vertex follows at most rig_math.MAX_INFLUENCES bones, as in
    game engines. Returns the objects and the rest skeleton Blender stored.
    """
    vertices_smpl, joints_smpl = _body_model.shaped_rest(arrays, np.asarray(betas, dtype=np.float64))
    rest = rig_math.rest_skeleton(np.asarray(joints_smpl), np.asarray(vertices_smpl))
    armature = _build_armature(name, collection, rest)
    armature[RIG_MARKER] = True
    armature[BETAS_PROPERTY] = [float(b) for b in betas]
    armature[BODY_MODEL_PROPERTY] = str(arrays.model_id)
    armature[OFFSET_PROPERTY] = [float(v) for v in rest.offset]
    mesh = None
    if with_mesh:
        vertices = rig_math.to_rest_space(np.asarray(vertices_smpl, dtype=np.float64), rest.offset)
        mesh = _build_mesh(f"{name}_body", collection, armature, vertices, arrays.faces,
                           rig_math.top_weights(np.asarray(arrays.weights)))
    return Rig(armature=armature, mesh=mesh, rest=rest_from_armature(armature))


def add_camera(name: str, collection: bpy.types.Collection, scene: bpy.types.Scene, focal_px: float,
               image_size: tuple[int, int], matrix_world: np.ndarray, video_path: str = "",
               clip_frame_offset: int = 0) -> bpy.types.Object:
    """The video's pinhole camera placed by `matrix_world` (rig_math.camera_object_matrix: where the clip's
    world frame puts the real camera, or the origin looking along +Y in camera space).

    Sets the scene's render resolution to the video's so renders line up with it; when the video file exists
    it is shown behind the rig in the camera view (viewport only), shifted by `clip_frame_offset` frames.
    """
    width, height = image_size
    data = bpy.data.cameras.new(name)
    data.sensor_fit = "AUTO"
    data.sensor_width = 36.0
    data.lens = rig_math.camera_lens_mm(focal_px, image_size, data.sensor_width)
    data.clip_start = 0.05
    data.clip_end = 200.0
    camera = bpy.data.objects.new(name, data)
    camera.matrix_world = Matrix(np.asarray(matrix_world).tolist())
    collection.objects.link(camera)
    scene.render.resolution_x, scene.render.resolution_y = int(width), int(height)
    scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
    scene.camera = camera
    if video_path:
        try:
            clip = bpy.data.movieclips.load(video_path, check_existing=True)
        except RuntimeError:
            clip = None  # the video moved or Blender cannot decode it: the camera still works without it
        if clip is not None:
            clip.frame_start = clip_frame_offset
            data.show_background_images = True
            background = data.background_images.new()
            background.source = "MOVIE_CLIP"
            background.clip = clip
    return camera
