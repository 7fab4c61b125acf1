"""The add-on inside headless Blender (bpy wheel): registration, import, re-import, resampling, key
reduction, smoothing and the video operator driving a fake bridge. Rig joints are checked exactly against
the body model's forward kinematics."""
from __future__ import annotations

import math
import os
import stat
import sys
import textwrap

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import addon_utils  # noqa: E402

from addon_fixtures import (clean_scene, expected_camera_joints, expected_world_joints, known_clip,  # noqa: E402
                            rig_world_joints)
from arts_blender import keyframes, rig_math  # noqa: E402
from arts_blender.keyframe_writer import fcurves_of, read_channel  # noqa: E402
from bridge import body_model  # noqa: E402
from bridge.results import write_results  # noqa: E402

pytestmark = pytest.mark.blender


@pytest.fixture(scope="module")
def arrays():
    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    return body_model.load_body_model_arrays()


@pytest.fixture()
def settings(arrays):
    clean_scene(bpy)
    s = bpy.context.scene.arts_mocap
    s.fps_mode, s.target, s.reduce_keys, s.add_camera = "VIDEO", "NEW", False, True
    return s


def import_npz(tmp_path, clip, name="clip.npz"):
    path = write_results(tmp_path / name, clip)
    assert bpy.ops.arts.import_results(filepath=str(path)) == {"FINISHED"}
    return bpy.context.view_layer.objects.active


def test_register_and_unregister(arrays):
    assert hasattr(bpy.types, "ARTS_OT_import_video") and hasattr(bpy.types, "ARTS_PT_mocap")
    assert "arts_blender" in bpy.context.preferences.addons
    addon_utils.disable("arts_blender", default_set=True, handle_error=None)
    assert not hasattr(bpy.types, "ARTS_OT_import_video") and not hasattr(bpy.types.Scene, "arts_mocap")
    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    assert hasattr(bpy.types, "ARTS_OT_import_video") and hasattr(bpy.types.Scene, "arts_mocap")


def test_imported_rig_matches_body_model_kinematics(settings, arrays, tmp_path):
    clip = known_clip(arrays, frames=12, fps=25.0)
    armature = import_npz(tmp_path, clip)
    bones = armature.data.bones
    assert sorted(b.name for b in bones) == sorted(rig_math.SMPL_JOINT_NAMES)
    for name, parent in zip(rig_math.SMPL_JOINT_NAMES, rig_math.SMPL_PARENTS):
        assert (bones[name].parent.name if bones[name].parent else None) == (
            rig_math.SMPL_JOINT_NAMES[parent] if parent >= 0 else None)
    scene = bpy.context.scene
    assert (scene.frame_start, scene.frame_end) == (1, 12)
    assert scene.render.fps / scene.render.fps_base == pytest.approx(25.0)
    got = rig_world_joints(bpy, armature, range(1, 13))
    np.testing.assert_allclose(got, expected_world_joints(arrays, clip), atol=2e-5)

    # The skinned body: the body model's rest vertices at the clip's shape, one vertex group per bone.
    mesh = next(c for c in armature.children if c.type == "MESH")
    vertices, joints = body_model.shaped_rest(arrays, clip.betas)
    offset = np.array(armature["arts_rest_offset"])
    co = np.empty(3 * len(mesh.data.vertices), np.float32)
    mesh.data.vertices.foreach_get("co", co)
    np.testing.assert_allclose(co.reshape(-1, 3), rig_math.to_rest_space(vertices, offset), atol=1e-5)
    assert [g.name for g in mesh.vertex_groups] == list(rig_math.SMPL_JOINT_NAMES)
    v = int(np.argmax(arrays.weights[:, 18]))  # a vertex skinned to the left elbow
    weights = {mesh.vertex_groups[g.group].name: g.weight for g in mesh.data.vertices[v].groups}
    assert weights["left_elbow"] == pytest.approx(float(rig_math.top_weights(arrays.weights)[v, 18]), abs=1e-6)
    most = max(len([g for g in vertex.groups if g.weight > 0]) for vertex in mesh.data.vertices)
    assert most <= rig_math.MAX_INFLUENCES  # what engines keep
    assert mesh.modifiers["Armature"].object == armature

    # Detection confidence and the detected flag are keyed per frame on the armature.
    curves = fcurves_of(armature)
    assert len(curves) == 24 * 4 + 3 + 2  # rotations, pelvis location, confidence and detected flag
    assert {k.interpolation for fc in curves for k in fc.keyframe_points} == {"LINEAR"}
    _, conf = read_channel(curves.find(f'["{keyframes.CONFIDENCE_PROPERTY}"]'))
    _, detected = read_channel(curves.find(f'["{keyframes.DETECTED_PROPERTY}"]'))
    np.testing.assert_allclose(conf, clip.confidence, atol=1e-6)
    np.testing.assert_array_equal(detected, clip.valid.astype(float))
    camera = scene.camera
    assert camera is not None and scene.render.resolution_x == 640
    assert camera.data.lens == pytest.approx(600.0 * 36.0 / 640.0)


def test_a_portrait_videos_camera_sees_the_rig_where_the_video_does(settings, arrays, tmp_path):
    """Blender's camera for a portrait video puts each joint on the pixel the bridge's pinhole does, with the lens
    a phone shows held either way (sensor fitted to the long side)."""
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    from bridge.camera import principal_point, project

    clip = known_clip(arrays, frames=6)
    clip.image_size, clip.focal_px = (480, 640), 700.0
    armature = import_npz(tmp_path, clip)
    scene = bpy.context.scene
    camera = scene.camera
    assert (scene.render.resolution_x, scene.render.resolution_y) == (480, 640)
    assert camera.data.lens == pytest.approx(700.0 * 36.0 / 640.0)
    joints = rig_world_joints(bpy, armature, [1])[0]
    seen = np.array([world_to_camera_view(scene, camera, Vector(p))[:2] for p in joints])  # [0, 1], y up
    pixels = np.column_stack([seen[:, 0] * 480, (1.0 - seen[:, 1]) * 640])
    expected = project(expected_camera_joints(arrays, clip.pose_aa[:1], clip.betas, clip.trans_m[:1])[0], 700.0,
                       principal_point((480, 640)))
    np.testing.assert_allclose(pixels, expected, atol=0.05)


def test_reimport_makes_a_new_action_and_keeps_edits(settings, arrays, tmp_path):
    clip = known_clip(arrays, frames=6)
    armature = import_npz(tmp_path, clip, "a.npz")
    first = armature.animation_data.action
    assert first.name == "walk"
    curve = fcurves_of(armature).find('pose.bones["left_knee"].rotation_quaternion', index=1)
    curve.keyframe_points[2].co[1] = 0.5  # a hand edit
    settings.target = "ACTIVE"
    assert import_npz(tmp_path, clip, "b.npz") == armature
    second = armature.animation_data.action
    assert second != first and second.name == "walk.001"
    assert first.name in bpy.data.actions and first.use_fake_user
    armature.animation_data.action = first  # look at the edited action again (any Blender 4.2-5.x API)
    assert fcurves_of(armature).find('pose.bones["left_knee"].rotation_quaternion',
                                     index=1).keyframe_points[2].co[1] == pytest.approx(0.5)
    armature.animation_data.action = second
    import_npz(tmp_path, known_clip(arrays, frames=6, seed=4, source="jump.mp4"), "c.npz")
    assert armature.animation_data.action.name == "jump" and len(bpy.data.actions) == 3
    assert len([o for o in bpy.data.objects if o.type == "ARMATURE"]) == 1


def test_resampling_to_the_scene_rate(settings, arrays, tmp_path):
    bpy.context.scene.render.fps = 60
    settings.fps_mode = "SCENE"
    clip = known_clip(arrays, frames=9, fps=30.0, pose_scale=0.2)
    armature = import_npz(tmp_path, clip)
    assert bpy.context.scene.frame_end == 17 and bpy.context.scene.render.fps == 60
    got = rig_world_joints(bpy, armature, range(1, 18, 2))
    np.testing.assert_allclose(got, expected_world_joints(arrays, clip), atol=2e-5)
    mid = rig_world_joints(bpy, armature, [2])[0, 0]
    np.testing.assert_allclose(mid, expected_world_joints(arrays, clip)[:2, 0].mean(axis=0), atol=2e-5)


def test_keyframe_reduction_within_tolerance(settings, arrays, tmp_path):
    frames = 60
    clip = known_clip(arrays, frames=frames, pose_scale=0.05)
    t = np.linspace(0, 1, frames)[:, None, None]
    clip.pose_aa = (clip.pose_aa[:1] * (1 - t) + clip.pose_aa[-1:] * t).astype(np.float32)  # smooth motion
    settings.reduce_keys = True
    settings.rotation_tolerance = np.radians(0.2)
    settings.location_tolerance = 0.001
    armature = import_npz(tmp_path, clip)
    rotation_keys = [len(fc.keyframe_points) for fc in fcurves_of(armature) if "rotation" in fc.data_path]
    assert max(rotation_keys) < frames / 3
    got = rig_world_joints(bpy, armature, range(1, frames + 1))
    # 0.2 degrees per joint along chains of up to 8 joints within ~1.5 m: a few millimetres at most.
    assert np.abs(got - expected_world_joints(arrays, clip)).max() < 0.005


def test_smooth_keys_changes_only_the_selection_in_range(settings, arrays, tmp_path):
    armature = import_npz(tmp_path, known_clip(arrays, frames=40, pose_scale=0.3))
    curves = fcurves_of(armature)
    before = {(fc.data_path, fc.array_index): read_channel(fc) for fc in curves}
    for bone in armature.pose.bones:
        target = bone if hasattr(bone, "select") else bone.bone  # Blender 5 selects pose bones, 4.x bones
        target.select = bone.name == "left_elbow"
    settings.smooth_selected_only, settings.smooth_use_range = True, True
    settings.smooth_frame_start, settings.smooth_frame_end, settings.smooth_preset = 10, 30, "strong"
    assert bpy.ops.arts.smooth_keys() == {"FINISHED"}
    for fc in fcurves_of(armature):
        frames, values = read_channel(fc)
        old_frames, old_values = before[(fc.data_path, fc.array_index)]
        np.testing.assert_array_equal(frames, old_frames)
        inside = (frames >= 10) & (frames <= 30)
        if fc.data_path == 'pose.bones["left_elbow"].rotation_quaternion':
            np.testing.assert_array_equal(values[~inside], old_values[~inside])
            assert np.abs(np.diff(values[inside], 2)).sum() < 0.5 * np.abs(np.diff(old_values[inside], 2)).sum()
        else:
            np.testing.assert_array_equal(values, old_values)


FAKE_BRIDGE = textwrap.dedent('''
    import os, shutil, sys
    from bridge import protocol
    for line in sys.stdin:
        req = protocol.decode_request(line)
        if req.method == "shutdown":
            break
        if req.method == "list_people":
            people = [{"index": i, "box": [10.0 * i, 5.0, 10.0 * i + 50, 200.0], "frames_seen": 12 - i, "samples": 12,
                       "score": 0.9, "best_frame": 3, "thumbnail": None} for i in range(2)]
            sys.stdout.write(protocol.encode(protocol.result_message(req.id, {"people": people})))
            sys.stdout.flush()
            continue
        sys.stdout.write(protocol.encode(protocol.progress_event(req.id, "model", 1, 2)))
        sys.stdout.flush()
        mode = os.environ["FAKE_MODE"]
        if mode == "die":
            os._exit(9)
        if mode == "error":
            sys.stdout.write(protocol.encode(protocol.error_message(req.id, "video_error", "cannot decode the video")))
        else:
            shutil.copy(os.environ["FAKE_RESULTS"], req.params["output"])
            sys.stdout.write(protocol.encode(protocol.result_message(req.id, {"output": req.params["output"]})))
        sys.stdout.flush()
''')


@pytest.fixture()
def fake_bridge_python(tmp_path, monkeypatch):
    """An executable standing in for the bridge interpreter (it ignores `-m bridge serve`), set in the prefs."""
    script = tmp_path / "fake_bridge.py"
    script.write_text(FAKE_BRIDGE)
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nexec '{sys.executable}' '{script}'\n")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    prefs = bpy.context.preferences.addons["arts_blender"].preferences
    monkeypatch.setattr(prefs, "python_path", str(python))
    video = tmp_path / "dance.mp4"
    video.write_bytes(b"not decoded by the fake bridge")
    return video


def test_find_people_fills_the_person_menu(settings, fake_bridge_python):
    settings.video_path = str(fake_bridge_python)
    assert bpy.ops.arts.find_people() == {"FINISHED"}
    assert settings.status == "found 2 people"
    from arts_blender import jobs, properties
    items = [item[0] for item in properties._people_items(settings, bpy.context)]  # the menu's items
    assert items == ["AUTO", "0", "1"]
    settings.person = "1"
    params = jobs.process_video_params(settings, bpy.context.preferences.addons["arts_blender"].preferences,
                                       settings.video_path, fake_bridge_python.with_suffix(".npz"))
    assert params["person"] == 1 and params["smoothing"] == settings.smoothing and params["flip_average"] is True
    assert params["window_stride"] == 2
    from bridge.limb_reaim import DEFAULT_STRENGTH
    assert params["limb_reaim"] == pytest.approx(DEFAULT_STRENGTH)  # the panel starts from the bridge's default
    from bridge.camera import DEFAULT_FOV_DEG
    assert params["fov_deg"] == pytest.approx(DEFAULT_FOV_DEG)
    settings.camera_fov = math.radians(68.0)  # a phone's main camera
    params = jobs.process_video_params(settings, bpy.context.preferences.addons["arts_blender"].preferences,
                                       settings.video_path, fake_bridge_python.with_suffix(".npz"))
    assert params["fov_deg"] == pytest.approx(68.0)
    from bridge import protocol
    assert protocol.validate_params("process_video", params)["fov_deg"] == pytest.approx(68.0)  # the bridge takes it


@pytest.mark.parametrize("mode", ["result", "error", "die"])
def test_import_video_operator_drives_the_bridge(settings, arrays, tmp_path, monkeypatch, mode, fake_bridge_python):
    video = fake_bridge_python
    clip = known_clip(arrays, frames=5, source="dance.mp4")
    monkeypatch.setenv("FAKE_MODE", mode)
    monkeypatch.setenv("FAKE_RESULTS", str(write_results(tmp_path / "known.npz", clip)))
    settings.video_path = str(video)
    run = lambda: bpy.ops.arts.import_video(use_panel_video=True, results_dir=str(tmp_path / "results"))  # noqa: E731
    if mode == "result":
        assert run() == {"FINISHED"}
        assert not settings.running
        armature = bpy.context.view_layer.objects.active
        assert armature.animation_data.action.name == "dance"
        np.testing.assert_allclose(rig_world_joints(bpy, armature, [3])[0], expected_world_joints(arrays, clip)[2],
                                   atol=2e-5)
        assert os.path.dirname(settings.results_path) == str(tmp_path / "results")
    else:
        expected = "cannot decode the video" if mode == "error" else "exit code 9"
        with pytest.raises(RuntimeError, match=expected):  # bpy.ops raises an operator's ERROR report
            run()
        assert not settings.running
        assert len(bpy.data.objects) == 0 and len(bpy.data.actions) == 0  # nothing half-built
        assert settings.status.startswith("Failed") and expected in settings.status


def test_edit_and_export_work_from_the_body_mesh_and_follow_the_clip(settings, arrays, tmp_path):
    clip = known_clip(arrays, frames=12)
    armature = import_npz(tmp_path, clip)
    action = armature.animation_data.action
    assert (settings.smooth_frame_start, settings.smooth_frame_end) == tuple(int(f) for f in action.frame_range)
    mesh = next(child for child in armature.children if child.type == "MESH")
    bpy.context.view_layer.objects.active = mesh
    assert bpy.types.ARTS_PT_edit.poll(bpy.context)
    assert bpy.ops.arts.smooth_keys.poll() and bpy.ops.arts.export.poll()
    with pytest.raises(RuntimeError, match="choose a file to export to"):  # not a ValueError from pathlib
        bpy.ops.arts.export("EXEC_DEFAULT", target="UNREAL")
    labels = {item.identifier: item.name for item in
              bpy.ops.arts.export.get_rna_type().properties["target"].enum_items}
    assert labels["BVH"] == "BVH" and labels["GLTF"] == "glTF (.glb)" and labels["UNITY"] == "FBX for Unity"


def test_a_running_flag_saved_in_a_file_does_not_block_the_next_job(settings, tmp_path):
    settings.running = True
    path = tmp_path / "saved_during_a_job.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    reopened = bpy.context.scene.arts_mocap
    assert not reopened.running and "ended" in reopened.status
    reopened.running = True  # however it got there, Cancel clears it when no job is alive
    assert bpy.ops.arts.cancel_job() == {"FINISHED"}
    assert not reopened.running and not reopened.cancel_requested


def test_a_world_frame_stands_the_rig_where_it_says_and_the_camera_still_sees_the_video(settings, arrays, tmp_path):
    from bridge.geometry import rotations

    clip = known_clip(arrays, frames=8)
    world = np.eye(4)
    world[:3, :3] = rotations.axis_angle_to_matrix(np.array([-1.75, 0.1, 0.05]))
    world[:3, 3] = [0.3, -3.2, 1.45]  # a camera 1.45 m up, looking down a little
    clip.world_from_camera = world
    clip.joints_world_m = clip.joints_3d @ world[:3, :3].T + world[:3, 3]
    clip.contacts = np.zeros((8, 4))
    armature = import_npz(tmp_path, clip)
    got = rig_world_joints(bpy, armature, range(1, 9))
    np.testing.assert_allclose(got, expected_world_joints(arrays, clip), atol=2e-5)
    camera = bpy.context.scene.camera
    to_camera = np.linalg.inv(np.array(camera.matrix_world))
    seen = got @ to_camera[:3, :3].T + to_camera[:3, 3]  # Blender camera axes: x right, y up, looking along -z
    camera_space = expected_camera_joints(arrays, clip.pose_aa, clip.betas, clip.trans_m)
    np.testing.assert_allclose(seen * [1.0, -1.0, -1.0], camera_space, atol=2e-5)

    settings.use_world = False  # camera space, as before world frames existed
    armature = import_npz(tmp_path, clip, "camera_space.npz")
    clip.world_from_camera = clip.joints_world_m = clip.contacts = None
    np.testing.assert_allclose(rig_world_joints(bpy, armature, [1]), expected_world_joints(arrays, clip)[:1],
                               atol=2e-5)
