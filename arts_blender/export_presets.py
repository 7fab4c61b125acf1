"""Export settings for game engines and interchange formats, as plain dicts of exporter keyword arguments.

No bpy here: the dicts are passed to `bpy.ops.export_scene.fbx`, `export_anim.bvh` and `export_scene.gltf`
by the export operator, and tests read them directly. Every FBX preset exports only the selected rig and
its mesh (the caller selects them), only the rig's active action, baked at every frame with no curve
simplification, and without Blender's extra leaf bones (engines would import them as real joints).
"""
from __future__ import annotations

import copy

from .retarget.mapping import PRESETS as _NAME_PRESETS
from .rig_math import SMPL_JOINT_NAMES

# Settings every engine shares: what to export and how to bake it.
_FBX_COMMON: dict = {
    "use_selection": True,
    "object_types": {"ARMATURE", "MESH"},
    "use_mesh_modifiers": False,  # keep the skinned rest mesh; the armature deforms it in the engine
    "mesh_smooth_type": "FACE",
    "add_leaf_bones": False,
    "primary_bone_axis": "Y",
    "secondary_bone_axis": "X",
    "use_armature_deform_only": False,
    "armature_nodetype": "NULL",
    "bake_anim": True,
    "bake_anim_use_all_bones": True,
    "bake_anim_use_nla_strips": False,
    "bake_anim_use_all_actions": False,
    "bake_anim_force_startend_keying": True,
    "bake_anim_step": 1.0,
    "bake_anim_simplify_factor": 0.0,
    "use_custom_props": False,
    "path_mode": "AUTO",
}

FBX_PRESETS: dict[str, dict] = {
    # Unity: Y up, -Z forward, scale applied so 1 unit = 1 m without a 100x transform on the root.
    "UNITY": {**_FBX_COMMON, "global_scale": 1.0, "apply_unit_scale": True,
              "apply_scale_options": "FBX_SCALE_ALL", "axis_forward": "-Z", "axis_up": "Y",
              "bake_space_transform": False},
    # Unreal: Z up, X forward, centimetre units written by the unit scale (imports at the right size).
    "UNREAL": {**_FBX_COMMON, "global_scale": 1.0, "apply_unit_scale": True,
               "apply_scale_options": "FBX_SCALE_NONE", "axis_forward": "X", "axis_up": "Z",
               "bake_space_transform": False},
    # Godot 4 (ufbx importer): Y up, -Z forward, metres.
    "GODOT": {**_FBX_COMMON, "global_scale": 1.0, "apply_unit_scale": True,
              "apply_scale_options": "FBX_SCALE_UNITS", "axis_forward": "-Z", "axis_up": "Y",
              "bake_space_transform": False},
}

#: BVH: only the pelvis carries location channels (SMPL moves the body by its root only).
BVH_OPTIONS: dict = {"global_scale": 1.0, "rotate_mode": "NATIVE", "root_transform_only": True}

#: glTF binary: the rig, its mesh and its active action sampled at every frame, keys kept as they are.
GLTF_OPTIONS: dict = {
    "export_format": "GLB",
    "use_selection": True,
    "export_yup": True,
    "export_animations": True,
    "export_animation_mode": "ACTIVE_ACTIONS",
    "export_force_sampling": True,
    "export_frame_range": True,
    "export_frame_step": 1,
    "export_optimize_animation_size": False,
    "export_leaf_bone": False,
    "export_def_bones": False,
    "export_cameras": False,
    "export_materials": "NONE",
}

#: Blender units per metre in the rig each FBX engine gets (rig_export builds it at this size). Unreal works in
#: centimetres: a rig built 100x with the scene's unit set to 1 cm is written as centimetres with no scaled node
#: (Blender's exporter otherwise puts a x100 scale on the armature node, which Unreal turns into a bone).
ENGINE_UNITS_PER_M: dict[str, float] = {"UNITY": 1.0, "UNREAL": 100.0, "GODOT": 1.0}

#: Engines that want the armature node under a fixed name: Unreal (4.24 and later) drops a top node named
#: "Armature" from a Blender FBX, so the `root` bone becomes the skeleton's root and carries the root motion;
#: under any other name the node becomes an extra, motionless root bone.
ENGINE_ARMATURE_NAMES: dict[str, str] = {"UNREAL": "Armature"}

#: Bone naming of engine exports: key -> (menu label, description).
BONE_NAMINGS: dict[str, tuple[str, str]] = {
    "SMPL": ("SMPL", "SMPL's joint names (left_shoulder is the upper arm)"),
    "UNITY": ("Humanoid", "Hips, Spine, Chest, LeftUpperArm, ...: Unity's Humanoid avatar maps them by itself"),
    "UNREAL": ("Unreal Mannequin", "pelvis, spine_01, thigh_l, upperarm_l, ...: the UE4/UE5 mannequin's names"),
    "MIXAMO": ("Mixamo", "mixamorig:Hips, mixamorig:LeftArm, ...: for tools that expect Mixamo skeletons"),
}


def export_bone_names(naming: str) -> dict[str, str]:
    """SMPL bone name -> its name in an export with `naming` (a BONE_NAMINGS key), for all 24 bones.

    The retarget presets give the names; the bone past each wrist (SMPL's "hand", where the fingers start),
    which no preset has, is named after the wrist's with "_end"."""
    key = naming.upper()
    if key not in BONE_NAMINGS:
        raise ValueError(f"unknown bone naming {naming!r}; choose one of {', '.join(BONE_NAMINGS)}")
    if key == "SMPL":
        return {bone: bone for bone in SMPL_JOINT_NAMES}
    preset = _NAME_PRESETS[key]
    names = {bone: preset.get(bone, "") for bone in SMPL_JOINT_NAMES}
    for side in ("left", "right"):
        if not names[f"{side}_hand"]:
            names[f"{side}_hand"] = f"{names[f'{side}_wrist']}_end"
    return names


FORMAT_EXTENSIONS = {"FBX": ".fbx", "BVH": ".bvh", "GLTF": ".glb"}
#: The armature's name in exported files, whatever the clip: engines take it as the skeleton's root (Unreal
#: makes it a bone), so clips exported with one name share one skeleton.
ARMATURE_NAME = "ARTS_SMPL"


def export_options(target: str) -> tuple[str, dict]:
    """(format, keyword arguments) for a target: an FBX engine preset name, "BVH" or "GLTF". A fresh copy."""
    key = target.upper()
    if key in FBX_PRESETS:
        return "FBX", copy.deepcopy(FBX_PRESETS[key])
    if key == "BVH":
        return "BVH", dict(BVH_OPTIONS)
    if key == "GLTF":
        return "GLTF", dict(GLTF_OPTIONS)
    raise ValueError(f"unknown export target {target!r}; choose one of {', '.join([*FBX_PRESETS, 'BVH', 'GLTF'])}")


TARGETS: tuple[str, ...] = (*FBX_PRESETS, "BVH", "GLTF")


def target_label(target: str) -> str:
    """What the menus call a target: the format's own spelling, FBX presets by engine."""
    return {"GLTF": "glTF (.glb)", "BVH": "BVH"}.get(target, f"FBX for {target.title()}")
