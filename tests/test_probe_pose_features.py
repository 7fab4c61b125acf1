"""The backbone probe's pure parts: crop geometry, sampling the feature map at joints, the depth errors it
predicts, the limb bones' depth order it is scored on, a ridge probe that finds a planted signal and finds
none in noise, and sign classifiers that read a planted order."""
from __future__ import annotations

import numpy as np

from bridge import metrics
from bridge.skeleton import LIMB_BONES
from scripts.probe_pose_features import (CROP, SMPL_JOINTS, ClipRows, JointProbes, bone_rows, crop_transform,
                                         depth_errors, grouped_cv, order_scores, sample_cells, sign_classifiers,
                                         with_depth_errors)


def test_the_crop_centres_the_body_at_a_quarter_margin():
    landmarks = np.zeros((33, 2))
    landmarks[11:33] = np.random.default_rng(0).uniform([100, 50], [300, 450], (22, 2))
    affine = crop_transform(landmarks)
    body = landmarks[11:33] @ affine[:, :2].T + affine[:, 2]
    low, high = body.min(axis=0), body.max(axis=0)
    np.testing.assert_allclose((low + high) / 2, CROP / 2)
    assert np.isclose(np.max(high - low), CROP / 1.25)


def test_cells_are_sampled_bilinearly_between_centres_and_clamped():
    fmap = np.arange(64, dtype=np.float64).reshape(8, 8, 1)  # value = 8 * row + column
    centre = lambda col, row: [(col + 0.5) * CROP / 8, (row + 0.5) * CROP / 8]  # noqa: E731
    points = np.array([centre(2, 3), centre(2.5, 3), centre(2, 3.5), [-50.0, -50.0], [999.0, 999.0]])
    np.testing.assert_allclose(sample_cells(fmap, points)[:, 0], [26.0, 26.5, 30.0, 0.0, 63.0])


def test_depth_errors_are_hip_aligned_and_signed():
    truth = np.random.default_rng(1).normal(size=(4, 24, 3))
    pred = truth + np.array([0.3, -0.2, 0.5])  # a whole-body shift is no error once the hips are aligned
    np.testing.assert_allclose(depth_errors(pred, truth), 0.0, atol=1e-12)
    pred[:, SMPL_JOINTS[4], 2] += 0.1  # the left wrist 10 cm further from the camera
    errors = depth_errors(pred, truth)
    np.testing.assert_allclose(errors[:, 4], 0.1)
    assert np.allclose(np.delete(errors, 4, axis=1), 0.0)


def test_a_prediction_is_rebuilt_from_its_depth_errors_for_the_depth_order():
    rng = np.random.default_rng(4)
    truth, pred = rng.normal(size=(2, 5, 24, 3))
    errors = depth_errors(pred, truth)
    rebuilt = with_depth_errors(truth, errors)
    np.testing.assert_allclose(depth_errors(rebuilt, truth), errors, atol=1e-12)
    assert metrics.depth_order_errors(rebuilt, truth) == metrics.depth_order_errors(pred, truth)
    assert metrics.depth_order_errors(with_depth_errors(truth, np.zeros((5, 12))), truth)[1] == 0


def _clips(rng, signal: bool, count: int = 10, rows: int = 60, joints: int = len(SMPL_JOINTS), dims: int = 8):
    weights = rng.normal(size=(joints, dims))
    clips = []
    for _ in range(count):
        features = rng.normal(size=(rows, joints, dims))
        errors = 0.02 * rng.normal(size=(rows, joints))
        if signal:
            errors += 0.05 * np.einsum("njd,jd->nj", features, weights)
        clips.append(ClipRows(features, errors, 0.3 * rng.normal(size=(rows, 24, 3))))
    return clips


def test_the_probe_finds_a_planted_signal_and_none_in_noise():
    rng = np.random.default_rng(2)
    found = grouped_cv(_clips(rng, signal=True), lam=0.01, folds=5)
    assert found.error_after < 0.5 * found.error_before
    assert found.wrong_after < 0.5 * found.wrong_before
    noise = grouped_cv(_clips(rng, signal=False), lam=0.01, folds=5)
    assert noise.error_after > 0.98 * noise.error_before
    clip = _clips(rng, signal=True, count=1)[0]
    probes = JointProbes(clip.features, clip.errors, lam=1e6)  # all shrinkage: only the mean error is left
    np.testing.assert_allclose(probes.predict(clip.features),
                               np.broadcast_to(clip.errors.mean(axis=0), clip.errors.shape), atol=1e-4)


def _ordered_clips(rng, count: int = 6, rows: int = 80, dims: int = 4) -> list[ClipRows]:
    """Clips whose features at each limb joint hold, in their first dimension, the sign of the depth span of
    the bone that ends there; the network's answers are noisy, so some clear bones point the wrong way."""
    clips = []
    for _ in range(count):
        truth = 0.3 * rng.normal(size=(rows, 24, 3))
        features = rng.normal(size=(rows, len(SMPL_JOINTS), dims))
        for parent, child in LIMB_BONES:
            features[:, SMPL_JOINTS.index(child), 0] = 3.0 * np.sign(truth[:, child, 2] - truth[:, parent, 2])
        errors = 0.25 * rng.normal(size=(rows, len(SMPL_JOINTS)))
        clips.append(ClipRows(features, errors, truth))
    return clips


def test_bone_rows_keep_the_clearly_signed_rows_with_both_joints_features():
    clip = _ordered_clips(np.random.default_rng(5), count=1)[0]
    features, truth, network = bone_rows([clip], bone=2)  # left forearm: elbow (18) to wrist (20)
    parent, child = LIMB_BONES[2]
    joints = clip.true_joints
    span = joints[:, child, 2] - joints[:, parent, 2]
    clear = np.abs(span) > metrics.CLEAR_DEPTH_SHARE * np.linalg.norm(joints[:, child] - joints[:, parent], axis=1)
    assert 0 < len(truth) == clear.sum() < len(clear)
    np.testing.assert_array_equal(truth, np.sign(span[clear]))
    np.testing.assert_allclose(features[:, 4:8], clip.features[clear, SMPL_JOINTS.index(child)])
    answered = span + clip.errors[:, SMPL_JOINTS.index(child)] - clip.errors[:, SMPL_JOINTS.index(parent)]
    np.testing.assert_array_equal(network, np.sign(answered[clear]))


def test_the_sign_classifiers_read_a_planted_order_the_network_misses():
    rng = np.random.default_rng(6)
    train, test = _ordered_clips(rng), _ordered_clips(rng)
    network, classifier = order_scores(sign_classifiers(train, lam=0.001), test)
    truth = np.concatenate([c.true_joints for c in test])
    answered = with_depth_errors(truth, np.concatenate([c.errors for c in test]))
    clear, wrong = metrics.depth_order_errors(answered, truth)
    assert np.isclose(network, 100.0 * wrong / clear) and network > 10.0
    assert classifier < 1.0
