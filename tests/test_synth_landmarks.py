"""Landmarks as skinned surface vertices and limb joint centres (checked against smplx), fallback vertices,
visibility."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bridge.body_model import load_body_model_arrays
from bridge.keypoints import MEDIAPIPE_LANDMARK_NAMES
from bridge.skeleton import SMPL_JOINT_NAMES
from scripts.synth.landmarks import JOINT_LANDMARKS, landmark_vertex_ids, pose_body, self_visibility, world_landmarks


@pytest.fixture(scope="module")
def arrays():
    return load_body_model_arrays()


def test_landmarks_match_smplx_vertices(arrays):
    torch = pytest.importorskip("torch")
    from bridge.smpl_layer import make_smpl_layer

    rng = np.random.default_rng(0)
    frames = 4
    betas = rng.normal(size=10)
    pose = rng.normal(scale=0.4, size=(frames, 24, 3))
    pelvis = rng.normal(size=(frames, 3))
    ids = landmark_vertex_ids(arrays)
    body = pose_body(arrays, betas, pose, pelvis, ids)
    layer = make_smpl_layer(arrays, batch_size=frames)
    out = layer(betas=torch.tensor(np.tile(betas, (frames, 1)), dtype=torch.float32),
                global_orient=torch.tensor(pose[:, 0], dtype=torch.float32),
                body_pose=torch.tensor(pose[:, 1:].reshape(frames, -1), dtype=torch.float32),
                transl=torch.tensor(body.trans_m, dtype=torch.float32))
    on_skin = [i for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES) if name not in JOINT_LANDMARKS]
    assert len(on_skin) == 21
    np.testing.assert_allclose(body.landmarks[:, on_skin], out.vertices.detach().numpy()[:, ids[on_skin]], atol=1e-4)
    np.testing.assert_allclose(body.joints, out.joints.detach().numpy()[:, :24], atol=1e-4)
    for name in JOINT_LANDMARKS:  # limb landmarks are the joints' centres, left on the left
        np.testing.assert_allclose(body.landmarks[:, MEDIAPIPE_LANDMARK_NAMES.index(name)],
                                   body.joints[:, SMPL_JOINT_NAMES.index(name)], atol=1e-12)
    np.testing.assert_allclose(body.joints[:, 0], pelvis, atol=1e-9)


def test_fallback_vertices_for_a_model_without_landmark_ids(arrays):
    ids = landmark_vertex_ids(arrays)
    missing = dataclasses.replace(arrays, mediapipe_vertex_ids=np.full(33, -1))
    fallback = landmark_vertex_ids(missing)
    assert (fallback >= 0).all() and (fallback < len(arrays.v_template)).all()
    distance = np.linalg.norm(arrays.v_template[fallback] - arrays.v_template[ids], axis=1)
    assert np.median(distance) < 0.05  # the anchors land near the model's own picks
    names = MEDIAPIPE_LANDMARK_NAMES
    x = arrays.v_template[fallback, 0]
    for i, name in enumerate(names):  # left landmarks on the left (+X), right on the right
        if name.startswith("left_") or name == "mouth_left":
            assert x[i] > 0.0 and x[names.index(name.replace("left", "right"))] < 0.0, name


def test_visibility_face_and_occlusion():
    frames = 2
    joints = np.zeros((frames, 24, 3))
    joints[:, :, 2] = 4.0
    joints[:, 12, 1] = -0.5  # neck above the pelvis (camera y points down)
    joints[:, 15] = [0.0, -0.65, 4.0]
    landmarks = np.zeros((frames, 33, 3)) + [0.0, -0.65, 3.9]  # everything at the face for simplicity
    landmarks[:, 23] = [0.1, 0.0, 4.2]  # a hip landmark right behind the trunk's axis, seen from the front
    landmarks[:, 24] = [0.3, 0.0, 4.0]  # a hip landmark well to the side
    facing_camera = np.diag([-1.0, 1.0, -1.0])  # head +Z towards the camera (camera z is forward)
    head = np.stack([facing_camera, np.eye(3)])  # frame 0 faces the camera, frame 1 looks away
    vis = self_visibility(landmarks, joints, head)
    assert vis[0, 0] == 1.0 and vis[1, 0] == 0.0  # the nose
    assert vis[0, 23] < 0.2 and vis[0, 24] == 1.0


def test_world_landmarks_are_hip_centred():
    points = np.random.default_rng(1).normal(size=(3, 33, 3))
    world = world_landmarks(points)
    np.testing.assert_allclose(world[:, 23] + world[:, 24], 0.0, atol=1e-12)
    np.testing.assert_allclose(world[:, 5] - world[:, 7], points[:, 5] - points[:, 7])
