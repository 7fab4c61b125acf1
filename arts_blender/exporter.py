"""Export an ARTS rig with an engine preset (FBX), or as BVH or glTF: the worker behind the export button."""
from __future__ import annotations

from contextlib import ExitStack, contextmanager
from pathlib import Path

import bpy

from . import bvh_axes, export_presets, rig_builder
from .rig_export import engine_rig


def _select_only(context, objects: list[bpy.types.Object], active: bpy.types.Object) -> None:
    for obj in context.view_layer.objects:
        obj.select_set(False)
    for obj in objects:
        obj.select_set(True)
    context.view_layer.objects.active = active


@contextmanager
def _named(obj: bpy.types.Object, name: str):
    """`obj` carries exactly `name` for the duration (another object holding it steps aside); both get their
    own names back afterwards."""
    original, other = obj.name, bpy.data.objects.get(name)
    if other is not None and other != obj:
        other.name = f"{name}.arts_export_tmp"
    obj.name = name
    try:
        yield
    finally:
        obj.name = original
        if other is not None and other != obj:
            other.name = name


def export_rig(context, armature: bpy.types.Object, target: str, filepath: str | Path,
               armature_name: str = export_presets.ARMATURE_NAME, bone_naming: str = "SMPL",
               in_place: bool = False) -> Path:
    """Write `armature` (and its skinned meshes) with its active action to `filepath` for `target`
    (an FBX_PRESETS engine, "BVH" or "GLTF"), the armature named `armature_name` in the file (empty: its
    own name); the extension is fixed to the format's. Returns the path.

    An ARTS rig goes to an FBX engine as rig_export.engine_rig makes it: a `root` bone with the root motion
    (none with `in_place`), bones named by `bone_naming`, the engine's units, the T-pose as rest, and the
    armature node named as the engine needs (export_presets.ENGINE_ARMATURE_NAMES, else `armature_name`). Other
    armatures (a retargeted character) and the BVH and glTF formats are written as they are, except that a
    character rig with control bones besides its deform bones goes to FBX with its deform bones (and the
    bones they hang from) only: a generated Rigify rig's 700 bones become under 300, and the controls,
    mechanism and ORG bones mean nothing to an engine."""
    fmt, options = export_presets.export_options(target)
    if not str(filepath).strip() or Path(str(filepath)).name in ("", "."):
        raise RuntimeError("choose a file to export to (no file name was given)")
    path = Path(bpy.path.abspath(str(filepath))).with_suffix(export_presets.FORMAT_EXTENSIONS[fmt])
    path.parent.mkdir(parents=True, exist_ok=True)
    if armature.animation_data is None or armature.animation_data.action is None:
        raise RuntimeError(f"'{armature.name}' has no action to export; import a clip first")
    name = armature_name or armature.name
    with ExitStack() as stack:
        if fmt == "FBX" and rig_builder.is_arts_rig(armature):
            rig = stack.enter_context(engine_rig(context, armature, bone_naming, in_place,
                                                 export_presets.ENGINE_UNITS_PER_M[target.upper()]))
            armature, meshes = rig.armature, rig.meshes
            for mesh in meshes[:1]:  # one stable mesh name too, so engines find the same renderer every clip
                stack.enter_context(_named(mesh, f"{name}_body"))
            name = export_presets.ENGINE_ARMATURE_NAMES.get(target.upper(), name)
        else:
            meshes = [child for child in armature.children if child.type == "MESH"]
            deform = {bone.use_deform for bone in armature.data.bones}
            if fmt == "FBX" and deform == {True, False}:
                options = dict(options, use_armature_deform_only=True)
        _select_only(context, [armature, *meshes], armature)
        stack.enter_context(_named(armature, name))
        result = _write(context, armature, fmt, options, path)
    if "FINISHED" not in result:
        raise RuntimeError(f"the {fmt} exporter did not finish writing {path}")
    return path


def _write(context, armature: bpy.types.Object, fmt: str, options: dict, path: Path) -> set:
    scene = context.scene
    if fmt == "FBX":
        result = bpy.ops.export_scene.fbx(filepath=str(path), **options)
    elif fmt == "BVH":
        result = bpy.ops.export_anim.bvh(filepath=str(path), frame_start=scene.frame_start,
                                         frame_end=scene.frame_end, **options)
        if "FINISHED" in result:  # Blender writes its own Z-up axes; BVH readers expect Y up
            path.write_text(bvh_axes.to_y_up(path.read_text()))
    else:  # the merged animation takes this name (the exporter's default is "Animation")
        result = bpy.ops.export_scene.gltf(filepath=str(path), **options,
                                           export_nla_strips_merged_animation_name=armature.animation_data.action.name)
    return result
