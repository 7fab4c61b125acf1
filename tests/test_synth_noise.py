"""Detector-error model: statistics of jitter, drift, misses, swaps, truncation and confidences."""
from __future__ import annotations

import dataclasses

import numpy as np

from bridge.keypoints import MEDIAPIPE_FLIP
from scripts.synth.detector_noise import NoiseConfig, apply_detector_noise, person_size_px, systematic_offsets
from scripts.synth.noise_calibration import turn_vectors

FPS = 30.0
QUIET = NoiseConfig(lost_landmark_rate=0.0, swap_rate_per_s=0.0, miss_rate=0.0, difficulty_sigma=0.0, bias_scale=0.0,
                    world_turn_deg=(0.0, 0.0, 0.0), world_turn_wander_deg=(0.0, 0.0, 0.0))


def _clip(frames: int = 600, scale: float = 1.0, centre=(640.0, 360.0), seed: int = 0):
    """A standing 33-landmark figure about 400 px tall (x scale) swaying slowly, and its world landmarks."""
    rng = np.random.default_rng(seed)
    layout = rng.uniform([-0.25, -0.9], [0.25, 0.9], size=(33, 2))
    layout[:, 0] = np.where(np.arange(33) % 2 == 1, -np.abs(layout[:, 0]), np.abs(layout[:, 0]))
    sway = 0.05 * np.sin(np.arange(frames) / 20.0)[:, None, None]
    px = np.array(centre) + 220.0 * scale * (layout[None] + sway * [1, 0])
    world = np.concatenate([layout[None] + sway * [1, 0], np.full((frames, 33, 1), 0.1)], axis=-1)
    world = np.broadcast_to(world, (frames, 33, 3)).copy()
    world -= 0.5 * (world[:, 23:24] + world[:, 24:25])
    depth = np.full((frames, 33), 4.0)
    return px, world, depth


def _noise(px, world, depth, visibility=None, away=None, config=QUIET, seed=1, size=(1280, 720)):
    frames = px.shape[0]
    visibility = np.ones((frames, 33)) if visibility is None else visibility
    away = np.zeros(frames) if away is None else away
    return apply_detector_noise(px, world, depth, visibility, away, size, FPS, np.random.default_rng(seed), config)


def test_shapes_dtypes_and_determinism():
    px, world, depth = _clip(120)
    a, b = _noise(px, world, depth, config=NoiseConfig()), _noise(px, world, depth, config=NoiseConfig())
    assert a.image.shape == (120, 33, 4) and a.world.shape == (120, 33, 3) and a.valid.shape == (120,)
    assert a.image.dtype == np.float32 and a.valid.dtype == bool
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, _noise(px, world, depth, config=NoiseConfig(), seed=2).image)
    assert ((a.image[..., 2:] >= 0) & (a.image[..., 2:] <= 1)).all()


def test_jitter_scales_with_person_size():
    small, world, depth = _clip(scale=1.0)
    large, _, _ = _clip(scale=1.5)  # still inside the 720-px frame: truncation would add noise of its own
    err_small = _noise(small, world, depth).image[..., :2] - small
    err_large = _noise(large, world, depth).image[..., :2] - large
    ratio = err_large.std() / err_small.std()
    assert 1.4 < ratio < 1.6
    # About 1-3 % of the person's size, like a good 2D detector.
    relative = np.linalg.norm(err_small, axis=-1).mean() / person_size_px(small).mean()
    assert 0.008 < relative < 0.04


def test_errors_are_correlated_in_time():
    px, world, depth = _clip()
    err = _noise(px, world, depth).image[..., 0] - px[..., 0]
    lag1 = np.mean([np.corrcoef(err[1:, k], err[:-1, k])[0, 1] for k in range(33)])
    # drift makes consecutive errors alike (real MediaPipe's jitter is about a tenth of its total error),
    # jitter keeps them from being equal
    assert 0.2 < lag1 < 0.99


def test_occluded_landmarks_are_noisier_and_less_visible():
    px, world, depth = _clip()
    visibility = np.ones((px.shape[0], 33))
    visibility[:, 13::2] = 0.0  # hide some landmarks
    out = _noise(px, world, depth, visibility=visibility)
    err = np.linalg.norm(out.image[..., :2] - px, axis=-1)
    hidden, seen = visibility == 0, visibility == 1
    assert err[hidden].mean() > 1.8 * err[seen & (np.arange(33) >= 13)].mean()
    assert out.image[..., 2][hidden].mean() < 0.3
    assert out.image[..., 2][seen].mean() > 0.85


def test_truncated_landmarks_have_low_presence():
    px, world, depth = _clip(centre=(1280.0, 360.0))  # half the figure beyond the right border
    out = _noise(px, world, depth, config=NoiseConfig(miss_rate=0.0, swap_rate_per_s=0.0))
    outside = px[..., 0] >= 1280
    assert 0.2 < outside.mean() < 0.8
    valid = out.valid[:, None]
    presence = out.image[..., 3]
    assert presence[outside & valid].mean() < 0.3
    assert presence[~outside & valid].mean() > 0.9


def test_mostly_out_of_view_means_no_detection():
    px, world, depth = _clip(120, centre=(1280.0 + 150.0, 360.0))
    assert not _noise(px, world, depth).valid.any()


def test_missed_frames_are_interpolated_and_flagged():
    px, world, depth = _clip(900)
    out = _noise(px, world, depth, config=NoiseConfig(miss_rate=0.01, miss_frames=4.0))
    missed = ~out.valid
    assert 0.01 < missed.mean() < 0.12
    assert (out.image[missed][..., 2:] == 0).all()
    # Filled values lie between the detections on either side of each gap.
    frames = np.flatnonzero(missed)
    t = frames[(frames > 0) & (frames < 899)][0]
    before = np.flatnonzero(out.valid[:t])[-1]
    after = t + np.flatnonzero(out.valid[t:])[0]
    low = np.minimum(out.image[before, :, 0], out.image[after, :, 0]) - 1e-3
    high = np.maximum(out.image[before, :, 0], out.image[after, :, 0]) + 1e-3
    assert ((out.image[t, :, 0] >= low) & (out.image[t, :, 0] <= high)).all()


def test_lost_landmarks_make_rare_large_errors():
    px, world, depth = _clip()
    out = _noise(px, world, depth, config=NoiseConfig(lost_landmark_rate=0.003, swap_rate_per_s=0.0, miss_rate=0.0))
    err = np.linalg.norm(out.image[..., :2] - px, axis=-1) / person_size_px(px)[:, None]
    wild = err > 0.08
    assert 0.002 < wild.mean() < 0.05
    assert out.image[..., 2][wild].mean() < out.image[..., 2][~wild].mean() - 0.2


def test_left_right_swaps_happen_more_when_the_back_is_turned():
    px, world, depth = _clip(3000)
    flip = np.array(MEDIAPIPE_FLIP)

    def swapped_fraction(away: float) -> float:
        out = _noise(px, world, depth, away=np.full(3000, away),
                     config=NoiseConfig(lost_landmark_rate=0.0, miss_rate=0.0, jitter_scale=0.3))
        wrist = out.image[:, 15, :2]
        return float((np.linalg.norm(wrist - px[:, flip[15]], axis=-1)
                      < np.linalg.norm(wrist - px[:, 15], axis=-1)).mean())

    front, back = swapped_fraction(0.0), swapped_fraction(1.0)
    assert 0.002 < front < 0.08
    assert back > 2.0 * front


def test_world_landmarks_have_more_depth_noise_and_are_hip_centred():
    px, world, depth = _clip()
    out = _noise(px, world, depth)
    np.testing.assert_allclose(0.5 * (out.world[:, 23] + out.world[:, 24]), 0.0, atol=1e-6)
    scale = (out.world * world).sum() / (world * world).sum()
    assert 0.75 < scale < 1.15  # about the truth's size (MediaPipe's are 0.95x on average)
    err = out.world - scale * world
    assert err[..., 2].std() > 1.8 * err[..., 0].std()
    assert 0.01 < err[..., 0].std() < 0.1


def test_errors_are_mostly_slow_like_real_mediapipe():
    """Real output's frame-to-frame jitter is about a tenth of its total error (noise_calibration.py)."""
    px, world, depth = _clip()
    out = _noise(px, world, depth)
    for err in (out.image[..., :2] - px, out.world - world):
        jitter = np.diff(err, axis=0).std() / np.sqrt(2.0)
        assert jitter < 0.5 * (err - err.mean(axis=0)).std()


def test_depth_reflections_mirror_the_limbs_about_the_hips():
    px, world, depth = _clip(3000)
    world[..., 2] = np.linspace(-0.3, 0.3, 33)  # limbs at different depths; the hips (23, 24) near zero
    world[..., 2] -= 0.5 * (world[:, 23:24, 2] + world[:, 24:25, 2])
    config = NoiseConfig(lost_landmark_rate=0.0, swap_rate_per_s=0.0, miss_rate=0.0, world_pose_error_m=0.0,
                         world_scale_sigma=0.0, world_scale_mean=1.0, depth_flip_rate_per_s=0.1)
    out = _noise(px, world, depth, config=config)
    mirrored = world * [1.0, 1.0, -1.0]
    reflected = (np.abs(out.world[..., 2] - mirrored[..., 2]).mean(axis=1)
                 < np.abs(out.world[..., 2] - world[..., 2]).mean(axis=1))
    assert 0.01 < reflected.mean() < 0.15


def test_world_depth_is_flattened_towards_the_image_plane():
    px, world, depth = _clip()
    world[..., 2] = np.random.default_rng(3).uniform(-0.3, 0.3, 33)
    world -= 0.5 * (world[:, 23:24] + world[:, 24:25])
    flat = dataclasses.replace(QUIET, world_depth_gain=0.6, world_depth_gain_sigma=0.0, world_pose_error_m=0.0)
    out = _noise(px, world, depth, config=flat).world

    def gain(axis: int) -> float:
        return float((out[..., axis] * world[..., axis]).sum() / (world[..., axis] ** 2).sum())

    assert abs(gain(2) / gain(0) - 0.6) < 0.1  # MediaPipe's world skeleton leans out of the image plane less


def _frontal_figure(width_px: float) -> np.ndarray:
    """(1, 33, 2) an upright figure facing the camera (its left on the image's right), torso 200 px long."""
    px = np.zeros((1, 33, 2))
    px[0, :] = (640.0, 300.0)
    for left, right, y, half in ((11, 12, 200, 60), (13, 14, 300, 70), (15, 16, 400, 75), (23, 24, 400, 40),
                                 (25, 26, 600, 40), (27, 28, 800, 40), (29, 30, 810, 40), (31, 32, 830, 40)):
        px[0, left] = (640.0 + half * width_px, y)
        px[0, right] = (640.0 - half * width_px, y)
    return px


def test_systematic_offsets_raise_and_narrow_the_hips_and_shorten_the_shins():
    px = _frontal_figure(1.0)
    offsets = systematic_offsets(px)[0]
    np.testing.assert_allclose(offsets[23], [-7.0, -7.0], atol=1e-9)  # 3.5 % of 200 px up and inwards
    np.testing.assert_allclose(offsets[24], [7.0, -7.0], atol=1e-9)
    np.testing.assert_allclose(offsets[27], [0.0, -8.0], atol=1e-9)  # towards the knee
    assert np.all(offsets[:11] == 0.0)  # the face has none
    side_on = systematic_offsets(_frontal_figure(0.0))[0]  # hips overlap: left and right cannot be told
    np.testing.assert_allclose(side_on[23], [0.0, -7.0], atol=1e-9)
    noisy = _noise(np.repeat(px, 300, axis=0), np.zeros((300, 33, 3)), np.full((300, 33), 4.0),
                   config=dataclasses.replace(QUIET, bias_scale=1.0, bias_sigma=0.0, jitter_scale=0.01,
                                              body_drift_fraction=0.0)).image[..., :2]
    np.testing.assert_allclose(np.median(noisy[:, 23] - px[:, 23], axis=0), [-7.0, -7.0], atol=0.5)


def _swapped_run_lengths(config: NoiseConfig) -> np.ndarray:
    """Lengths of the runs of frames whose left and right landmarks came out exchanged."""
    px, world, depth = _clip(3000)
    out = _noise(px, world, depth, config=config)
    swapped = out.image[:, 11, 0] > out.image[:, 12, 0]  # the figure's left shoulder (11) is on the -x side
    edges = np.flatnonzero(np.diff(np.concatenate([[0], swapped.astype(int), [0]])))
    return edges[1::2] - edges[::2]


def test_some_swaps_last_for_seconds():
    """Real left/right confusions gather in a few clips, where they can hold for seconds."""
    only = dataclasses.replace(QUIET, swap_rate_per_s=0.3)
    short = _swapped_run_lengths(dataclasses.replace(only, long_swap_share=0.0))
    long = _swapped_run_lengths(dataclasses.replace(only, long_swap_share=1.0))
    assert short.max() <= 12 + 12  # two short swaps of the same group can meet
    assert np.median(long) > 3 * np.median(short) and long.max() > 60


def test_visibility_shifts_per_clip():
    px, world, depth = _clip(200)
    means = [_noise(px, world, depth, config=dataclasses.replace(QUIET, visibility_shift=shift, visibility_sigma=0.0)
                    ).image[..., 2].mean() for shift in (-2.0, 0.0)]
    assert means[0] < means[1] - 0.05
    spread = [_noise(px, world, depth, seed=seed, config=dataclasses.replace(QUIET, visibility_sigma=1.2)
                     ).image[..., 2].mean() for seed in range(8)]
    assert np.std(spread) > 0.02


def test_world_skeleton_turns_as_a_whole_and_the_turn_holds_through_a_clip():
    px, world, depth = _clip(300)
    world[..., 2] = np.random.default_rng(3).uniform(-0.3, 0.3, 33)
    world -= 0.5 * (world[:, 23:24] + world[:, 24:25])
    exact = dataclasses.replace(QUIET, world_pose_error_m=0.0, world_lateral_m=0.0, world_depth_m=0.0,
                                world_scale_sigma=0.0, world_scale_mean=1.0, world_depth_gain=1.0,
                                world_depth_gain_sigma=0.0, depth_flip_rate_per_s=0.0)
    held = dataclasses.replace(exact, world_turn_deg=(0.0, 10.0, 0.0))
    per_clip = np.array([turn_vectors(world, _noise(px, world, depth, config=held, seed=s).world) for s in range(40)])
    assert np.abs(per_clip[..., [0, 2]]).max() < 1e-3  # a heading turn only, about the hips
    assert np.ptp(per_clip[..., 1], axis=1).max() < 1e-3  # the same all through each clip
    assert 7.0 < per_clip[:, 0, 1].std() < 13.0  # and different from clip to clip
    wander = dataclasses.replace(exact, world_turn_wander_deg=(4.0, 4.0, 4.0), world_turn_rho=0.9)
    turns = turn_vectors(world, _noise(px, world, depth, config=wander).world)
    assert 2.5 < turns[20:].std(axis=0).min() and turns.std(axis=0).max() < 6.0
    assert np.corrcoef(turns[:-1, 1], turns[1:, 1])[0, 1] > 0.7  # slow, not frame-to-frame


def test_world_turn_is_drawn_last_so_the_other_errors_stay_as_they_were():
    px, world, depth = _clip(120)
    plain = _noise(px, world, depth, config=dataclasses.replace(NoiseConfig(), world_turn_deg=(0.0, 0.0, 0.0),
                                                                world_turn_wander_deg=(0.0, 0.0, 0.0)))
    turned = _noise(px, world, depth, config=NoiseConfig())
    np.testing.assert_array_equal(plain.image, turned.image)
    np.testing.assert_array_equal(plain.valid, turned.valid)
    assert not np.allclose(plain.world, turned.world, atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(plain.world, axis=-1), np.linalg.norm(turned.world, axis=-1), atol=1e-5)
