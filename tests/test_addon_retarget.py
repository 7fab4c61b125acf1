"""Retargeting in Blender: an ARTS clip baked onto a Mixamo-named rig in another rest pose, turned 90 degrees
and scaled 0.01 as Mixamo's FBX files import."""
from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import addon_utils  # noqa: E402

from addon_fixtures import clean_scene, known_clip  # noqa: E402
from arts_blender.importer import ImportOptions, import_clip  # noqa: E402
from arts_blender.keyframe_writer import fcurves_of, read_channel  # noqa: E402
from arts_blender.retarget import bake  # noqa: E402
from arts_blender.retarget.solve import leg_length  # noqa: E402
from bridge import body_model  # noqa: E402
from scripts import retarget_rigs  # noqa: E402
from test_retarget_solve import a_posed_mixamo  # noqa: E402

pytestmark = pytest.mark.blender
FRAMES = 8
OBJECT = retarget_rigs.MIXAMO_OBJECT


def build_armature(name: str, rest, object_matrix: np.ndarray) -> "bpy.types.Object":
    return retarget_rigs.build_armature(bpy, name, rest, object_matrix)


@pytest.fixture()
def imported_clip():
    """A known clip of `frames` frames imported into an empty scene as an ARTS rig (ImportedClip)."""
    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    arrays = body_model.load_body_model_arrays()

    def make(frames: int):
        clean_scene(bpy)
        return import_clip(bpy.context, known_clip(arrays, frames=frames), ImportOptions(add_camera=False))

    return make


def world_pose(armature, bone: str, frame: int) -> np.ndarray:
    bpy.context.scene.frame_set(frame)
    matrix = np.array(armature.matrix_world) @ np.array(armature.pose.bones[bone].matrix)
    matrix[:3, :3] /= np.linalg.norm(matrix[:3, :3], axis=0)
    return matrix


def test_a_mixamo_rig_in_a_pose_moves_like_the_clip_and_the_clip_is_untouched(imported_clip):
    imported = imported_clip(FRAMES)
    source = imported.armature
    keys_before = [read_channel(fc)[1].copy() for fc in fcurves_of(source)]
    target = build_armature("mixamo_char", a_posed_mixamo(bake.rig_rest(source)), OBJECT)
    action, mapping = bake.bake(source, target)
    assert mapping.preset == "MIXAMO" and action.name.startswith(source.animation_data.action.name)
    assert target.animation_data.action == action and source.animation_data.action == imported.action
    start = int(imported.action.frame_range[0])
    for frame in range(start, start + FRAMES):
        for s, t in mapping.bones.items():
            got, want = world_pose(target, t, frame)[:3, 1], world_pose(source, s, frame)[:3, 1]
            angle = np.degrees(np.arccos(np.clip(got @ want, -1.0, 1.0)))
            assert angle < 0.5, (s, t, frame, angle)
    for before, fc in zip(keys_before, fcurves_of(source)):
        np.testing.assert_array_equal(read_channel(fc)[1], before)  # the clip's own action is untouched
    # The hips travel the pelvis' path scaled by the legs' ratio (1.25 in the world).
    path = lambda rig, bone: np.array([world_pose(rig, bone, f)[:3, 3] for f in range(start, start + FRAMES)])  # noqa: E731
    hips, pelvis = path(target, "mixamorig:Hips"), path(source, "pelvis")
    np.testing.assert_allclose(hips - hips[0], 1.25 * (pelvis - pelvis[0]), atol=1e-4)


def test_in_place_holds_the_hips_across_the_floor_whatever_way_up_the_armature_is(imported_clip):
    """A Mixamo FBX imports with its armature's own up along +Y (the object turned 90 degrees): in place must
    still hold the hips across Blender's floor and keep their bob, not freeze the bob and keep the travel."""
    imported = imported_clip(FRAMES)
    source = imported.armature
    target = build_armature("mixamo_char", a_posed_mixamo(bake.rig_rest(source)), OBJECT)
    bake.bake(source, target, in_place=True)
    start = int(imported.action.frame_range[0])
    hips = np.array([world_pose(target, "mixamorig:Hips", f)[:3, 3] for f in range(start, start + FRAMES)])
    pelvis = np.array([world_pose(source, "pelvis", f)[:3, 3] for f in range(start, start + FRAMES)])
    assert np.ptp(pelvis[:, :2], axis=0).max() > 0.01 and np.ptp(pelvis[:, 2]) > 0.001  # it travels and bobs
    np.testing.assert_allclose(hips[:, :2], np.broadcast_to(hips[:1, :2], (FRAMES, 2)), atol=1e-5)
    np.testing.assert_allclose(hips[:, 2] - hips[0, 2], 1.25 * (pelvis[:, 2] - pelvis[0, 2]), atol=1e-4)


def test_a_character_with_controls_goes_to_the_engine_with_its_deform_bones(imported_clip, tmp_path):
    """A rig with a control bone besides its deform bones (as rigs made for animators have): the engine FBX
    carries the deform bones and not the control."""
    from arts_blender import exporter
    from test_addon_export import fbx_report

    imported = imported_clip(3)
    rest = a_posed_mixamo(bake.rig_rest(imported.armature))
    rest.matrix["foot_ik.L"], rest.length["foot_ik.L"], rest.parent["foot_ik.L"] = (
        rest.matrix["mixamorig:LeftFoot"].copy(), 0.1, None)
    target = build_armature("animator_rig", rest, OBJECT)
    target.data.bones["foot_ik.L"].use_deform = False
    bake.bake(imported.armature, target)
    path = exporter.export_rig(bpy.context, target, "UNITY", tmp_path / "hero.fbx", armature_name="")
    bones = {node["name"] for node in fbx_report(path)["nodes"] if node.get("bone")}
    assert "mixamorig:Hips" in bones and "mixamorig:LeftHand" in bones and "foot_ik.L" not in bones


def test_the_panel_operator_applies_to_the_chosen_character(imported_clip):
    imported = imported_clip(4)
    target = build_armature("hero", a_posed_mixamo(bake.rig_rest(imported.armature)), OBJECT)
    settings = bpy.context.scene.arts_mocap
    bpy.context.view_layer.objects.active = imported.armature
    assert not bpy.ops.arts.retarget.poll()  # no character chosen yet
    settings.retarget_target = target
    assert bpy.ops.arts.retarget() == {"FINISHED"}
    assert target.animation_data.action.get("arts_retarget_preset") == "MIXAMO"
    unknown = bpy.data.objects.new("blob", bpy.data.armatures.new("blob"))
    bpy.context.collection.objects.link(unknown)
    settings.retarget_target = unknown
    with pytest.raises(RuntimeError, match="no bone mapping fits 'blob'"):
        bpy.ops.arts.retarget()


def test_a_rig_driven_by_constraints_is_refused_with_the_reason_not_keyed_in_vain(imported_clip):
    imported = imported_clip(3)
    rig = build_armature("constrained", a_posed_mixamo(bake.rig_rest(imported.armature)), OBJECT)
    for bone in rig.pose.bones:  # deform bones copying hidden controls, as generated rigs have them
        bone.constraints.new("COPY_TRANSFORMS")
    with pytest.raises(bake.RetargetError, match="driven by constraints"):
        bake.bake(imported.armature, rig)


def segment_direction(armature, bone: str, frame: int) -> np.ndarray:
    """World direction of a deform bone's whole segment (head to the tail of its last B-Bone split, '.001')."""
    bpy.context.scene.frame_set(frame)
    first = armature.pose.bones[bone]
    last = armature.pose.bones.get(f"{bone}.001") if not bone.startswith("DEF-spine") else None
    vector = np.array((last or first).tail) - np.array(first.head)
    vector = np.array(armature.matrix_world)[:3, :3] @ vector
    return vector / np.linalg.norm(vector)


def test_a_generated_rigify_rig_follows_the_clip_through_its_fk_controls(imported_clip):
    """Rigify (shipped inside Blender) generates its rig from the human metarig; the clip is keyed on the FK
    controls and the torso, and the deform bones the mesh follows point where the ARTS bones do."""
    imported = imported_clip(FRAMES)
    source = imported.armature
    rig = retarget_rigs.generate_rigify(bpy)
    shares: list[float] = []
    action, mapping = bake.bake(source, rig, progress=shares.append)
    assert mapping.preset == "RIGIFY" and rig.animation_data.action == action
    # Progress: reading the clip, then solving the controls frame by frame, never going back.
    assert len(shares) == 2 * FRAMES and shares[FRAMES - 1] == pytest.approx(bake.RIGIFY_SAMPLING_SHARE)
    assert np.all(np.diff(shares) > 0) and shares[-1] == pytest.approx(1.0)
    assert source.animation_data.action == imported.action
    start = int(imported.action.frame_range[0])
    bpy.context.scene.frame_set(start)
    assert rig.pose.bones["upper_arm_parent.L"]["IK_FK"] == 1.0  # the limbs play in FK
    for s, t in mapping.bones.items():
        angles = [np.degrees(np.arccos(np.clip(segment_direction(rig, t, f) @ world_pose(source, s, f)[:3, 1], -1, 1)))
                  for f in range(start, start + FRAMES)]
        # spine.001 has no control: Rigify stretches it from the hips' side to the chest's (these random
        # poses bend the spine far more than people do).
        assert np.mean(angles) < (60.0 if s == "spine1" else 0.5), (s, t, np.mean(angles))
    path = np.array([world_pose(rig, "ORG-spine", f)[:3, 3] for f in range(start, start + FRAMES)])
    pelvis = np.array([world_pose(source, "pelvis", f)[:3, 3] for f in range(start, start + FRAMES)])
    ratio = leg_length(bake.rig_rest(rig), "ORG-thigh.L", "ORG-shin.L") / leg_length(
        bake.rig_rest(source), "left_hip", "left_knee")
    np.testing.assert_allclose(path - path[0], ratio * (pelvis - pelvis[0]), atol=1e-3)


def test_the_mapping_rows_are_found_edited_saved_and_used(imported_clip, tmp_path):
    """The panel's rows: found for the character, one edited (the neck left out), saved as JSON and loaded
    back, and 'Apply to character' keys what the rows say."""
    imported = imported_clip(4)
    target = build_armature("hero", a_posed_mixamo(bake.rig_rest(imported.armature)), OBJECT)
    settings = bpy.context.scene.arts_mocap
    bpy.context.view_layer.objects.active = imported.armature
    settings.retarget_target = target
    assert bpy.ops.arts.retarget_map_find() == {"FINISHED"}
    rows = {row.source: row for row in settings.retarget_map}
    assert len(rows) == 22 and rows["neck"].target == "mixamorig:Neck" and settings.retarget_map_preset == "MIXAMO"
    rows["neck"].target = ""
    path = tmp_path / "hero.json"
    assert bpy.ops.arts.retarget_map_save(filepath=str(path)) == {"FINISHED"}
    settings.retarget_map.clear()
    assert bpy.ops.arts.retarget_map_load(filepath=str(path)) == {"FINISHED"}
    assert {row.source: row.target for row in settings.retarget_map}["neck"] == ""
    assert bpy.ops.arts.retarget() == {"FINISHED"}
    keyed = {fc.data_path for fc in fcurves_of(target)}
    assert 'pose.bones["mixamorig:Head"].rotation_quaternion' in keyed
    assert 'pose.bones["mixamorig:Neck"].rotation_quaternion' not in keyed
