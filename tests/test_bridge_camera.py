"""Camera fit: exact recovery of a known translation from synthetic perspective projections."""
from __future__ import annotations

import math

import numpy as np
import pytest

from bridge import camera


def _skeleton(rng, frames=1):
    """Random 24-joint body-sized point sets (F, 24, 3), pelvis at the origin."""
    joints = rng.normal(scale=[0.25, 0.45, 0.12], size=(frames, 24, 3))
    return joints - joints[:, :1]


def _landmarks(joints_cam, focal, pp, conf=1.0):
    """MediaPipe-shaped (F, 33, 3) landmarks holding the projections of the paired SMPL joints."""
    frames = len(joints_cam)
    lm = np.zeros((frames, 33, 3))
    uv = camera.project(joints_cam, focal, pp)
    for s, m in camera.SMPL_MEDIAPIPE_PAIRS:
        lm[:, m, :2] = uv[:, s]
        lm[:, m, 2] = conf
    return lm


def test_focal_from_fov():
    assert camera.focal_from_fov(1280, 55.0) == pytest.approx(0.5 * 1280 / math.tan(math.radians(27.5)))
    assert camera.focal_from_fov(1000, 90.0) == pytest.approx(500.0)
    with pytest.raises(ValueError):
        camera.focal_from_fov(100, 180.0)


def test_the_field_of_view_spans_the_long_side_in_either_orientation():
    """A phone turned to film portrait keeps its lens: the same angle gives the same focal length."""
    assert camera.focal_for_frame((1920, 1080), 60.0) == pytest.approx(camera.focal_from_fov(1920, 60.0))
    assert camera.focal_for_frame((1080, 1920), 60.0) == pytest.approx(camera.focal_for_frame((1920, 1080), 60.0))


def test_recovers_known_translation_exactly():
    rng = np.random.default_rng(0)
    joints = _skeleton(rng, frames=5)
    trans = np.array([[0.3, -0.2, 4.0], [-0.5, 0.1, 2.5], [0.0, 0.0, 6.0], [1.0, 0.5, 8.0], [-0.2, 0.3, 3.0]])
    focal, size = 800.0, (1280, 720)
    lm = _landmarks(joints + trans[:, None], focal, camera.principal_point(size))
    fitted = camera.fit_clip_translation(joints, lm, focal, size, smoothness=0.0)
    np.testing.assert_allclose(fitted, trans, atol=1e-9)


def test_recentres_joints_that_are_not_pelvis_relative():
    rng = np.random.default_rng(1)
    joints = _skeleton(rng, 2)
    trans = np.array([[0.1, 0.2, 3.0], [0.2, 0.1, 3.5]])
    lm = _landmarks(joints + trans[:, None], 600.0, (320.0, 240.0))
    fitted = camera.fit_clip_translation(joints + 5.0, lm, 600.0, (640, 480), smoothness=0.0)
    np.testing.assert_allclose(fitted, trans, atol=1e-9)


def test_smoothness_keeps_exact_constant_fit_and_reduces_depth_jitter():
    rng = np.random.default_rng(2)
    frames, focal, size = 60, 700.0, (640, 480)
    joints = np.repeat(_skeleton(rng), frames, axis=0)
    trans = np.tile([0.1, 0.0, 4.0], (frames, 1))
    clean = _landmarks(joints + trans[:, None], focal, camera.principal_point(size))
    # a constant, exactly observed translation is unchanged by the temporal term
    np.testing.assert_allclose(camera.fit_clip_translation(joints, clean, focal, size, smoothness=10.0), trans,
                               atol=1e-9)
    noisy = clean.copy()
    noisy[..., :2] += rng.normal(scale=2.0, size=noisy[..., :2].shape)
    raw = camera.fit_clip_translation(joints, noisy, focal, size, smoothness=0.0)
    smooth = camera.fit_clip_translation(joints, noisy, focal, size, smoothness=camera.DEFAULT_SMOOTHNESS)
    assert np.std(np.diff(smooth[:, 2])) < 0.5 * np.std(np.diff(raw[:, 2]))
    assert np.abs(smooth - trans).mean() < np.abs(raw - trans).mean()


def test_frames_without_keypoints_are_bridged():
    rng = np.random.default_rng(3)
    joints = np.repeat(_skeleton(rng), 5, axis=0)
    trans = np.array([[0.0, 0.0, 3.9], [0.02, 0.0, 3.95], [0.04, 0.0, 4.0], [0.06, 0.0, 4.05], [0.08, 0.0, 4.1]])
    lm = _landmarks(joints + trans[:, None], 500.0, (320.0, 240.0))
    lm[2, :, 2] = 0.0  # frame 2 not detected
    fitted = camera.fit_clip_translation(joints, lm, 500.0, (640, 480), smoothness=0.0)
    np.testing.assert_allclose(fitted, trans, atol=1e-9)  # linear interpolation is exact on a linear path
    with_term = camera.fit_clip_translation(joints, lm, 500.0, (640, 480), smoothness=1.0)
    # the temporal term alone decides an undetected frame: it lands midway between its neighbours
    np.testing.assert_allclose(with_term[2], 0.5 * (with_term[1] + with_term[3]), atol=1e-9)
    np.testing.assert_allclose(with_term[2], trans[2], atol=0.02)
    lm[:, :, 2] = 0.0
    with pytest.raises(ValueError, match="confident keypoints"):
        camera.fit_clip_translation(joints, lm, 500.0, (640, 480))


def test_robust_refit_discounts_a_misplaced_landmark():
    rng = np.random.default_rng(4)
    frames, focal, size = 10, 600.0, (640, 480)
    joints = np.repeat(_skeleton(rng), frames, axis=0)
    trans = np.tile([0.2, 0.1, 3.5], (frames, 1))
    lm = _landmarks(joints + trans[:, None], focal, camera.principal_point(size))
    np.testing.assert_allclose(camera.fit_clip_translation(joints, lm, focal, size), trans, atol=1e-9)  # exact stays
    lm[:, 15, :2] += [120.0, -90.0]  # the left wrist lands far from the body in every frame
    plain = camera.fit_clip_translation(joints, lm, focal, size, robust_iterations=0)
    robust = camera.fit_clip_translation(joints, lm, focal, size)
    assert np.abs(robust - trans).max() < 0.3 * np.abs(plain - trans).max()


def test_robust_refit_never_loses_a_body_the_plain_fit_placed_in_front():
    # Keypoints that fit no pose (a tumble's two detected frames, in session 39) sent the re-fit behind the
    # camera and then to no usable frame at all, failing the clip; the last fit in front of the camera stands.
    focal, size = 800.0, (640, 480)
    placed = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        joints = np.repeat(_skeleton(rng), 2, axis=0)
        lm = np.concatenate([rng.uniform(0, 640, (2, 33, 2)), rng.uniform(0, 1, (2, 33, 1))], axis=-1)
        plain = camera.fit_clip_translation(joints, lm, focal, size, robust_iterations=0)
        if (plain[:, 2] > camera.MIN_DEPTH_M).all():
            placed += 1
            assert (camera.fit_clip_translation(joints, lm, focal, size)[:, 2] > camera.MIN_DEPTH_M).all()
    assert placed >= 20


def test_pixel_rays_pass_through_their_pixels():
    principal = camera.principal_point((640, 480))
    pixels = np.array([[100.0, 50.0], [320.0, 240.0]])
    rays = camera.pixel_rays(pixels, 600.0, principal)
    np.testing.assert_allclose(np.linalg.norm(rays, axis=-1), 1.0)
    np.testing.assert_allclose(camera.project(3.0 * rays, 600.0, principal), pixels, atol=1e-9)
