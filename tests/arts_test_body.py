"""A tiny humanoid body model in SMPL's array layout, a test double for the ARTS model tests.

24 SMPL joints at roughly human rest positions (Y up, +X left, metres), a few vertices around each joint,
a joint regressor averaging them, one-hot skinning weights, and 10 shape directions that stretch body parts
anisotropically (like real shape spaces: mostly bone lengths, slightly bone directions). Also the widths of a
tiny ARTS network (SMALL) for the tests that write, blend and widen checkpoints.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from bridge.skeleton import NUM_JOINTS, SMPL_PARENTS, kintree_table

REST_JOINTS = np.array([
    [0.0, 0.0, 0.0], [0.06, -0.09, 0.0], [-0.06, -0.09, 0.0], [0.0, 0.11, -0.02], [0.1, -0.47, 0.0],
    [-0.1, -0.47, 0.0], [0.0, 0.24, 0.0], [0.09, -0.87, -0.04], [-0.09, -0.87, -0.04], [0.0, 0.30, 0.02],
    [0.11, -0.93, 0.1], [-0.11, -0.93, 0.1], [0.0, 0.51, -0.01], [0.07, 0.42, 0.0], [-0.07, 0.42, 0.0],
    [0.0, 0.58, 0.05], [0.17, 0.45, -0.01], [-0.17, 0.45, -0.01], [0.43, 0.43, -0.03], [-0.43, 0.43, -0.03],
    [0.68, 0.44, -0.02], [-0.68, 0.44, -0.02], [0.77, 0.43, -0.03], [-0.77, 0.43, -0.03]])
VERTS_PER_JOINT = 6
#: ArtsConfig overrides for a network small enough to save, load and mix many times in a test.
SMALL = dict(lifter_dim=32, lifter_depth=1, lifter_heads=4, feature_dim=32, tik_dim=32, tik_heads=4, mcr_dim=32,
             mcr_heads=4)


def tiny_body(seed: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    offsets = rng.normal(scale=0.03, size=(NUM_JOINTS, VERTS_PER_JOINT, 3))
    offsets -= offsets.mean(axis=1, keepdims=True)  # the regressor (a vertex mean) recovers the joint exactly
    vertices = (REST_JOINTS[:, None] + offsets).reshape(-1, 3)
    owner = np.repeat(np.arange(NUM_JOINTS), VERTS_PER_JOINT)
    regressor = np.zeros((NUM_JOINTS, len(vertices)))
    regressor[owner, np.arange(len(vertices))] = 1.0 / VERTS_PER_JOINT
    weights = np.zeros((len(vertices), NUM_JOINTS))
    weights[np.arange(len(vertices)), owner] = 1.0
    # Shape direction k: vertex displacement = A_k (v - pelvis), A_k a small anisotropic stretch, scaled per body
    # region (legs, arms, torso and head), so β changes bone lengths a lot and directions a little.
    region_of_joint = np.array([2, 0, 0, 2, 0, 0, 2, 0, 0, 2, 0, 0, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1])
    shapedirs = np.zeros((len(vertices), 3, 10))
    for k in range(10):
        stretch = np.diag(rng.uniform(0.0, 0.06, 3)) + rng.normal(scale=0.003, size=(3, 3))
        region = rng.uniform(0.3, 1.7, 3)[region_of_joint][owner]
        shapedirs[:, :, k] = region[:, None] * (vertices @ stretch.T)
    faces = np.stack([np.arange(0, len(vertices) - 2), np.arange(1, len(vertices) - 1),
                      np.arange(2, len(vertices))], axis=1)
    return SimpleNamespace(v_template=vertices, shapedirs=shapedirs, posedirs=np.zeros((len(vertices), 3, 207)),
                           J_regressor=regressor, weights=weights, kintree_table=kintree_table(), faces=faces,
                           model_id="test-tiny-body", parents=SMPL_PARENTS)
