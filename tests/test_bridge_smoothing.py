"""Smoothing: quaternion sign flips handled, constant signals unchanged, noise reduced, presets valid."""
from __future__ import annotations

import numpy as np
import pytest

from bridge import smoothing
from bridge.geometry import rotations
from bridge.smoothing import PRESETS, SmoothingParams

FPS = 30.0
FILTERS = [SmoothingParams("savgol", window_s=0.3, polyorder=2),
           SmoothingParams("one_euro", min_cutoff_hz=1.0, beta=0.0)]


def _angle_between(q0, q1):
    dot = np.abs(np.sum(q0 * q1, axis=-1)).clip(0, 1)
    return 2 * np.arccos(dot)


@pytest.mark.parametrize("params", FILTERS)
def test_constant_signals_unchanged(params):
    pos = np.tile([0.3, -1.0, 4.0], (50, 1))
    np.testing.assert_allclose(smoothing.smooth_array(pos, FPS, params), pos, atol=1e-12)
    pose = np.tile(np.array([0.4, -0.2, 1.1]), (50, 24, 1))
    np.testing.assert_allclose(smoothing.smooth_pose_aa(pose, FPS, params), pose, atol=1e-9)


@pytest.mark.parametrize("params", FILTERS)
def test_quaternion_sign_flips_do_not_corrupt_rotations(params):
    frames = 60
    angles = np.linspace(0.0, 1.0, frames)
    axis = np.array([0.0, 0.6, 0.8])
    quats = rotations.axis_angle_to_quaternion(angles[:, None] * axis)
    flipped = quats.copy()
    flipped[::3] *= -1.0  # the same rotations, signs flipping every third frame
    out = smoothing.smooth_quaternions(flipped, FPS, params)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-12)
    lag_deg = 6.0 if params.method == "one_euro" else 0.01  # one-euro lags a ramp; SG follows it closely
    assert _angle_between(out, quats).max() < np.radians(lag_deg)
    direct = smoothing.smooth_array(flipped, FPS, params)  # what ignoring signs would do
    assert np.linalg.norm(direct, axis=-1).min() < 0.9


def test_axis_angle_across_the_wrap_is_smoothed_as_rotation():
    # A rotation passing through pi about one axis: the axis-angle vector jumps from +pi to -pi.
    angles = np.linspace(np.pi - 0.3, np.pi + 0.3, 31)
    aa = rotations.quaternion_to_axis_angle(rotations.axis_angle_to_quaternion(angles[:, None] * [0.0, 0.0, 1.0]))
    assert np.abs(np.diff(aa[:, 2])).max() > 5.0  # the raw representation really jumps
    out = smoothing.smooth_pose_aa(aa[:, None], FPS, PRESETS["medium"])[:, 0]
    q_in = rotations.axis_angle_to_quaternion(aa)
    q_out = rotations.axis_angle_to_quaternion(out)
    assert _angle_between(q_in, q_out).max() < 1e-4  # a uniform rotation stays (within 0.006 degrees)


@pytest.mark.parametrize("params", FILTERS + [PRESETS["light"], PRESETS["strong"]])
def test_noise_is_reduced(params):
    rng = np.random.default_rng(0)
    t = np.arange(120) / FPS
    clean = np.stack([np.sin(t), 0.5 * np.cos(0.7 * t), 3 + 0.1 * t], axis=-1)
    noisy = clean + rng.normal(scale=0.02, size=clean.shape)
    out = smoothing.smooth_array(noisy, FPS, params)

    def jitter(x):  # frame-to-frame acceleration of the error: what an animator sees as shaking
        return np.abs(np.diff(x - clean, 2, axis=0)).mean()

    assert jitter(out) < 0.5 * jitter(noisy)
    if params.method == "savgol":  # zero-lag: closer to the truth, not only steadier
        assert np.abs(out - clean).mean() < 0.75 * np.abs(noisy - clean).mean()
    rot_clean = rotations.axis_angle_to_quaternion(clean[:, :3] * 0.5)
    rot_noisy = rotations.axis_angle_to_quaternion(clean[:, :3] * 0.5 + rng.normal(scale=0.03, size=clean.shape))
    rot_out = smoothing.smooth_quaternions(rot_noisy, FPS, params)
    step = lambda q: _angle_between(q[1:], q[:-1])  # noqa: E731
    assert np.abs(np.diff(step(rot_out))).mean() < 0.75 * np.abs(np.diff(step(rot_noisy))).mean()
    if params.method == "savgol":
        assert _angle_between(rot_out, rot_clean).mean() < 0.75 * _angle_between(rot_noisy, rot_clean).mean()


def test_savgol_matches_polynomials_and_short_clips():
    t = np.arange(40, dtype=float)
    quad = 0.01 * t**2 - 0.3 * t + 2
    np.testing.assert_allclose(smoothing.savgol(quad, 9, 2), quad, atol=1e-9)
    short = np.array([1.0, 2.0, 4.0])
    assert smoothing.savgol(short, 9, 2).shape == (3,)
    np.testing.assert_allclose(smoothing.savgol(short[:2], 9, 2), short[:2])
    assert smoothing.savgol_window_frames(0.3, 30.0, 2) == 9
    assert smoothing.savgol_window_frames(0.01, 30.0, 3) == 5


def test_none_is_identity_and_presets_are_shared():
    x = np.random.default_rng(1).normal(size=(10, 24, 3))
    assert np.array_equal(smoothing.smooth_pose_aa(x, FPS, PRESETS["none"]), x)
    assert set(PRESETS) == {"none", "light", "medium", "strong"}
    assert PRESETS["none"].describe() == "" and "savgol" in PRESETS["medium"].describe()


def test_params_from_request():
    assert smoothing.params_from_request(None) is PRESETS["none"]
    assert smoothing.params_from_request("strong") is PRESETS["strong"]
    p = smoothing.params_from_request({"method": "one_euro", "min_cutoff_hz": 2.0, "beta": 0.1})
    assert p.method == "one_euro" and p.min_cutoff_hz == 2.0
    for bad in ("extreme", {"method": "kalman"}, {"method": "savgol", "window_s": -1}, {"method": "savgol", "x": 1}):
        with pytest.raises(ValueError):
            smoothing.params_from_request(bad)
