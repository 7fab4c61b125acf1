"""Exports of an imported clip: each engine preset (FBX), BVH and glTF re-imported into a fresh scene
reproduces the joint positions within 1 mm (BVH with Blender's default Y-up import), and an independent
reader (ufbx, in a subprocess: scripts/fbx_report.py) sees in each FBX what an engine needs: a `root` bone on
the floor carrying the root motion, the T-pose as every node's default transform, the engine's units and
up axis with no scaled node, at most 4 weights per vertex, the animation's length and the chosen bone names."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import addon_utils  # noqa: E402

from addon_fixtures import clean_scene, expected_world_joints, known_clip  # noqa: E402
from arts_blender import export_presets, exporter, rig_math, root_motion  # noqa: E402
from arts_blender.importer import ImportOptions, import_clip  # noqa: E402
from bridge import body_model  # noqa: E402
from bridge.geometry import rotations  # noqa: E402

pytestmark = pytest.mark.blender
FRAMES, FPS = 10, 30.0
TOLERANCE_M = 0.001
REPO = Path(__file__).resolve().parent.parent
#: (target, bone naming) of every export made; FBX engines also once with their engine's own names.
EXPORTS = [(t, "SMPL") for t in export_presets.TARGETS] + [("UNITY", "UNITY"), ("UNREAL", "UNREAL"),
                                                           ("GODOT", "MIXAMO")]
UP_AXIS = {"UNITY": "POSITIVE_Y", "GODOT": "POSITIVE_Y", "UNREAL": "POSITIVE_Z"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every export made once from the same imported clip: {(target, naming): path}, the expected joints
    and the rig's rest bone matrices (SMPL name -> (4, 4), armature space)."""
    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    arrays = body_model.load_body_model_arrays()
    clean_scene(bpy)
    clip = known_clip(arrays, frames=FRAMES, fps=FPS, seed=7)
    imported = import_clip(bpy.context, clip, ImportOptions(add_camera=False))
    rests = {b.name: np.array(b.matrix_local) for b in imported.armature.data.bones}
    out = tmp_path_factory.mktemp("exports")
    paths = {(t, n): exporter.export_rig(bpy.context, imported.armature, t, out / f"rig_{t.lower()}_{n.lower()}",
                                         bone_naming=n)
             for t, n in EXPORTS}
    return paths, expected_world_joints(arrays, clip), rests


def reimport(target: str, path) -> "bpy.types.Object":
    clean_scene(bpy)
    bpy.context.scene.render.fps = int(FPS)  # glTF keys are in seconds: match the rate before importing
    if target == "BVH":  # Y up: Blender's importer with its default axes stands it up
        bpy.ops.import_anim.bvh(filepath=str(path), rotate_mode="NATIVE")
    elif target == "GLTF":
        bpy.ops.import_scene.gltf(filepath=str(path))
    else:
        bpy.ops.import_scene.fbx(filepath=str(path))
    return next(o for o in bpy.data.objects if o.type == "ARMATURE")


def world_heads(armature, names: list[str], frames) -> np.ndarray:
    scene = bpy.context.scene
    out = []
    for frame in frames:
        scene.frame_set(int(frame))
        matrix = np.array(armature.matrix_world)
        heads = np.array([np.array(armature.pose.bones[n].head) for n in names])
        out.append(heads @ matrix[:3, :3].T + matrix[:3, 3])
    return np.array(out)


@pytest.mark.parametrize("target,naming", EXPORTS)
def test_export_round_trip_keeps_joint_positions(exported, target, naming):
    paths, expected, _ = exported
    armature = reimport(target, paths[target, naming])
    names = export_presets.export_bone_names(naming)
    bones = sorted(b.name for b in armature.data.bones)
    engine = target in export_presets.FBX_PRESETS
    assert bones == sorted([*names.values(), *([root_motion.ROOT_BONE] if engine else [])])  # no leaf bones
    action = armature.animation_data.action
    start = int(round(action.frame_range[0]))
    got = world_heads(armature, [names[n] for n in rig_math.SMPL_JOINT_NAMES], range(start, start + FRAMES))
    error = np.abs(got - expected).max()
    assert error < TOLERANCE_M, f"{target}/{naming}: joints differ by {error * 1000:.2f} mm after the round trip"


def fbx_report(path, frames=()) -> dict:
    """scripts/fbx_report.py's JSON for `path`, run in its own process (ufbx 0.0.5 can crash on some calls)."""
    pytest.importorskip("ufbx", reason="the independent FBX reader: scripts/setup_env.py installs ufbx")
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "fbx_report.py"), str(path), "--frames",
                          *[str(f) for f in frames], "--fps", str(FPS)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"fbx_report failed ({run.returncode}): {run.stderr[-2000:]}"
    return json.loads(run.stdout)


@pytest.mark.parametrize("target,naming", [e for e in EXPORTS if e[0] in export_presets.FBX_PRESETS])
def test_fbx_is_what_an_engine_needs(exported, target, naming):
    paths, expected, rests = exported
    units = export_presets.ENGINE_UNITS_PER_M[target]
    report = fbx_report(paths[target, naming], frames=range(1, FRAMES + 1))
    assert report["unit_meters"] == pytest.approx(1.0 / units)
    assert report["axes"]["up"] == UP_AXIS[target]
    nodes = {n["name"]: n for n in report["nodes"]}
    assert all(np.allclose(n["scale"], 1.0, atol=1e-5) for n in nodes.values()), "a node is scaled"
    names = export_presets.export_bone_names(naming)
    bones = {n for n, node in nodes.items() if node["bone"]}
    assert bones == {root_motion.ROOT_BONE, *names.values()}
    root = nodes[root_motion.ROOT_BONE]
    armature_node = export_presets.ENGINE_ARMATURE_NAMES.get(target, export_presets.ARMATURE_NAME)
    assert not nodes[root["parent"]]["bone"] and root["parent"] == armature_node  # Unreal drops "Armature"
    assert nodes[names["pelvis"]]["parent"] == root_motion.ROOT_BONE
    # Every node's default transform is the T-pose rest: each bone's rest relative to its parent's.
    for joint, parent in enumerate(rig_math.SMPL_PARENTS):
        smpl = rig_math.SMPL_JOINT_NAMES[joint]
        parent_rest = rests[rig_math.SMPL_JOINT_NAMES[parent]] if parent >= 0 else np.eye(4)
        local = np.linalg.inv(parent_rest) @ rests[smpl]
        node = nodes[names[smpl]]
        np.testing.assert_allclose(node["translation"], local[:3, 3] * units, atol=1e-4 * units, err_msg=smpl)
        turn = rotations.quaternion_to_matrix(np.array(node["rotation"]))
        np.testing.assert_allclose(turn, local[:3, :3], atol=1e-4, err_msg=smpl)
    (skin,) = report["skins"]
    assert skin["max_weights"] <= 4 and set(skin["clusters"]) == set(names.values())
    (stack,) = report["anim_stacks"]
    assert (stack["time_end_s"] - stack["time_begin_s"]) * FPS == pytest.approx(FRAMES - 1)
    # The root stays on the floor under the pelvis; the pelvis is where the clip put it, in the file's units.
    up = "XYZ".index(UP_AXIS[target][-1])
    for k, world in enumerate(stack["bone_world"].values()):
        assert world[root_motion.ROOT_BONE][up] == pytest.approx(0.0, abs=1e-6 * units)
        assert world[names["pelvis"]][up] == pytest.approx(expected[k, 0, 2] * units, abs=TOLERANCE_M * units)


def test_in_place_export_keeps_the_root_at_the_origin(exported, tmp_path):
    """In place: the root only turns; the body's travel is gone from the file."""
    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    arrays = body_model.load_body_model_arrays()
    clean_scene(bpy)
    clip = known_clip(arrays, frames=FRAMES, fps=FPS, seed=7)
    imported = import_clip(bpy.context, clip, ImportOptions(add_camera=False))
    path = exporter.export_rig(bpy.context, imported.armature, "GODOT", tmp_path / "in_place", in_place=True)
    stack = fbx_report(path, frames=range(1, FRAMES + 1))["anim_stacks"][0]
    roots = np.array([w[root_motion.ROOT_BONE] for w in stack["bone_world"].values()])
    pelvis = np.array([w["pelvis"] for w in stack["bone_world"].values()])
    assert np.abs(roots).max() < 1e-6
    _, expected, _ = exported
    travel = np.ptp(expected[:, 0, :2], axis=0).max()
    assert travel > 0.05 and np.ptp(pelvis[:, [0, 2]], axis=0).max() < travel  # Y up: the floor is x, z


def test_gltf_animation_is_named_after_the_action(exported):
    """Read the .glb's JSON chunk directly (12-byte header, then a chunk: length, type 'JSON', data)."""
    paths, _, _ = exported
    data = paths["GLTF", "SMPL"].read_bytes()
    length, kind = struct.unpack("<I4s", data[12:20])
    document = json.loads(data[20:20 + length])
    assert kind == b"JSON" and [a["name"] for a in document["animations"]] == ["walk"]



def test_every_clip_exports_with_one_skeleton_name(tmp_path):
    """Engines key a skeleton on the armature's name; a clip's rig is named after its video."""
    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    arrays = body_model.load_body_model_arrays()
    clean_scene(bpy)
    imported = import_clip(bpy.context, known_clip(arrays, frames=4, source="dance.mp4"), ImportOptions(add_camera=False))
    bystander = bpy.data.objects.new(export_presets.ARMATURE_NAME, None)  # a user's object already named so
    bpy.context.collection.objects.link(bystander)
    path = exporter.export_rig(bpy.context, imported.armature, "UNITY", tmp_path / "dance")
    assert export_presets.ARMATURE_NAME.encode() in path.read_bytes()
    assert imported.armature.name == "dance" and bystander.name == export_presets.ARMATURE_NAME
