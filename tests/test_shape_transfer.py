"""Carrying the network's body shape to another SMPL-format body model by skeleton proportions."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from bridge.body_model import shaped_rest
from bridge.shape_transfer import transfer_betas
from bridge.skeleton import SMPL_BONES
from smpl_pickle_fixtures import skeleton_body_arrays


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    return np.array([np.linalg.norm(joints[c] - joints[p]) for p, c in SMPL_BONES])


def rest_bones(body, betas) -> np.ndarray:
    regressor = np.asarray(body.J_regressor, np.float64)
    vertices = np.asarray(body.v_template, np.float64) + np.asarray(body.shapedirs, np.float64)[..., :10] @ betas
    return bone_lengths(regressor @ vertices)


def test_proportions_carry_over_to_a_scaled_model_with_another_shape_basis(free_body):
    arrays = skeleton_body_arrays(free_body, scale=1.05)
    target = SimpleNamespace(**{k: arrays[k] for k in ("v_template", "shapedirs", "J_regressor")})
    rng = np.random.default_rng(3)
    for _ in range(4):
        betas = rng.normal(size=10)
        transfer = transfer_betas(free_body, betas, target)
        # the target is the source scaled by 1.05: every bone must come out 1.05 times the source's
        got = rest_bones(target, transfer.betas.astype(np.float64))
        np.testing.assert_allclose(got, 1.05 * rest_bones(free_body, betas), atol=4e-3)
        assert transfer.bone_rms_mm < 2.0
        # the fit stays within the population, and is really expressed in the target's basis
        assert np.abs(transfer.betas).max() < 4.0
        assert not np.allclose(transfer.betas, betas, atol=0.1)


def test_the_mean_shape_maps_to_the_mean_shape(free_body):
    arrays = skeleton_body_arrays(free_body, scale=0.9)
    target = SimpleNamespace(**{k: arrays[k] for k in ("v_template", "shapedirs", "J_regressor")})
    transfer = transfer_betas(free_body, np.zeros(10), target)
    np.testing.assert_allclose(transfer.betas, 0.0, atol=1e-6)
    assert transfer.bone_rms_mm < 1e-3


def test_a_tall_person_stays_tall(free_body):
    """Stature follows the skeleton: a source body taller than the mean gives a taller-than-mean target."""
    arrays = skeleton_body_arrays(free_body, scale=1.0)
    target = SimpleNamespace(**{k: arrays[k] for k in ("v_template", "shapedirs", "J_regressor")})
    _, mean_joints = shaped_rest(free_body, None)
    for sign in (1.0, -1.0):
        betas = np.zeros(10)
        betas[0] = 2.0 * sign
        _, joints = shaped_rest(free_body, betas)
        source_change = (joints[15, 1] - joints[7, 1]) - (mean_joints[15, 1] - mean_joints[7, 1])
        transfer = transfer_betas(free_body, betas, target)
        target_joints = arrays["J_regressor"] @ (arrays["v_template"] + arrays["shapedirs"] @ transfer.betas)
        template_joints = arrays["J_regressor"] @ arrays["v_template"]
        target_change = (target_joints[15, 1] - target_joints[7, 1]) - (template_joints[15, 1] - template_joints[7, 1])
        assert np.sign(target_change) == np.sign(source_change)
        assert abs(target_change - source_change) < 0.01
