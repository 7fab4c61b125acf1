"""Speed changes, splices and full-range procedural motion: what the generator adds to the corpus."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.geometry import rotations
from scripts.synth.generate import GenerateConfig, derived_motions, split_of, variants_of
from scripts.synth.motion import MotionClip
from scripts.synth.motion_mix import LOWER_BODY_JOINTS, random_speed, retimed, spliced, tumbled, upright_fraction
from scripts.synth.procedural import LIMITS, procedural_motion


def _clip(frames: int, source: str, group: str, seed: int = 0) -> MotionClip:
    rng = np.random.default_rng(seed)
    pose = 0.2 * rng.standard_normal((1, 24, 3)) + 0.01 * np.arange(frames)[:, None, None]
    root = np.stack([np.zeros(frames), np.full(frames, 0.9), np.linspace(0.0, 3.0, frames)], axis=1)
    return MotionClip(pose.astype(np.float32), root.astype(np.float32), 30.0, source, group)


def test_retimed_plays_faster_over_the_same_path():
    clip = _clip(61, "cmu:001_01", "cmu:001")
    fast = retimed(clip, 2.0)
    assert fast.num_frames == 31 and fast.fps == 30.0 and fast.group == "cmu:001"
    assert fast.source == "cmu:001_01~x2.00"
    np.testing.assert_allclose(fast.root_pos_m[-1], clip.root_pos_m[-1], atol=1e-5)
    np.testing.assert_allclose(fast.pose_aa[5], clip.pose_aa[10], atol=1e-5)
    assert retimed(clip, 0.5).num_frames == 121
    speeds = [random_speed(np.random.default_rng(i)) for i in range(400)]
    assert 0.5 <= min(speeds) and max(speeds) <= 2.0 and abs(np.median(np.log(speeds))) < 0.15
    with pytest.raises(ValueError):
        retimed(clip, 0.0)


def test_splice_takes_legs_from_one_and_upper_body_from_the_other():
    legs, arms = _clip(40, "a", "a", 1), _clip(30, "b", "b", 2)
    out = spliced(legs, arms, "splice:0:a+b", "splice:0")
    assert out.num_frames == 30
    lower = list(LOWER_BODY_JOINTS)
    upper = [j for j in range(24) if j not in LOWER_BODY_JOINTS]
    np.testing.assert_array_equal(out.pose_aa[:, lower], legs.pose_aa[:30, lower])
    np.testing.assert_array_equal(out.pose_aa[:, upper], arms.pose_aa[:, upper])
    np.testing.assert_array_equal(out.root_pos_m, legs.root_pos_m[:30])
    assert split_of(out.source, out.group) == "train"


def test_derived_motions_keep_their_sources_split_and_splice_only_training_trials():
    train = [_clip(90, f"cmu:00{i}_01", f"cmu:00{i}", i) for i in (1, 2, 3)]
    for clip in train:
        clip.pose_aa[:, 0] = 0.0  # upright
    held_out = _clip(90, "cmu:007_01", "cmu:007", 7)
    held_out.pose_aa[:, 0] = 0.0
    config = GenerateConfig(clip_frames=60, speed_copies=2, splices=5, tumbles=6, seed=1)
    derived = derived_motions(train + [held_out], config)
    speed = [m for m in derived if "~x" in m.source]
    splices = [m for m in derived if m.source.startswith("splice:")]
    tumbles = [m for m in derived if m.source.startswith("tumble:")]
    assert len(speed) == 8 and len(splices) == 5 and len(tumbles) == 6
    assert all(split_of(m.source, m.group) == split_of(m.source.split("~")[0], m.group) for m in speed)
    assert all("cmu:007" not in m.source and m.num_frames == 60 for m in splices + tumbles)
    assert all(split_of(m.source, m.group) == "train" for m in tumbles)
    assert all(variants_of(m, GenerateConfig(variants=4)) == 1 for m in derived)
    assert variants_of(train[0], GenerateConfig(variants=4)) == 4
    assert [m.source for m in derived_motions(train + [held_out], config)] == [m.source for m in derived]


def test_tumble_turns_the_whole_body_head_over_heels_about_a_horizontal_axis_and_keeps_the_pose():
    clip = _clip(120, "cmu:001_01", "cmu:001", 3)
    clip.pose_aa[:, 0] = [0.0, 0.4, 0.0]  # upright, facing a little to the side
    ups, turned = [], 0
    for seed in range(12):
        out = tumbled(clip, np.random.default_rng(seed), "tumble:0:cmu:001_01", "tumble:0")
        np.testing.assert_array_equal(out.pose_aa[:, 1:], clip.pose_aa[:, 1:])
        np.testing.assert_array_equal(out.root_pos_m, clip.root_pos_m)
        root = rotations.axis_angle_to_matrix(out.pose_aa[:, 0].astype(np.float64))
        before = rotations.axis_angle_to_matrix(clip.pose_aa[:, 0].astype(np.float64))
        turn = root @ np.swapaxes(before, 1, 2)
        axis = rotations.matrix_to_axis_angle(turn)
        moving = np.linalg.norm(axis, axis=-1) > 1e-3
        assert np.allclose(axis[moving, 1], 0.0, atol=1e-5)  # horizontal axis: no change of heading alone
        ups.append(root[:, 1, 1].min())
        turned += int(np.ptp(root[:, 1, 1]) > 1.0)
    assert min(ups) < -0.5  # some are upside down at some point
    assert turned >= 6  # most turn through the clip, some hold one tilt


def test_upright_fraction():
    clip = _clip(10, "a", "a")
    clip.pose_aa[:, 0] = 0.0
    assert upright_fraction(clip) == 1.0
    clip.pose_aa[:5, 0] = [np.pi, 0.0, 0.0]  # upside down
    assert upright_fraction(clip) == 0.5


def test_limits_motion_reaches_far_into_the_joint_ranges():
    rest = np.zeros((24, 3))
    rest[1:] = np.random.default_rng(0).normal(scale=0.2, size=(23, 3))
    rest[[1, 2, 4, 5, 7, 8, 10, 11], 1] = [-0.1, -0.1, -0.5, -0.5, -0.9, -0.9, -0.95, -0.95]
    clip = procedural_motion("limits", 100_003, rest, 300, 30.0)
    assert clip.source == "procedural:limits:100003" and clip.group == "procedural:100003"
    assert np.isfinite(clip.pose_aa).all()
    knee = np.linalg.norm(clip.pose_aa[:, 4], axis=-1)
    assert knee.max() > 0.6 * LIMITS["knee"][1]  # a wide range, not a small jitter about standing
    again = procedural_motion("limits", 100_003, rest, 300, 30.0)
    np.testing.assert_array_equal(clip.pose_aa, again.pose_aa)
    turned = rotations.axis_angle_to_matrix(clip.pose_aa[:, 0].astype(np.float64))
    assert np.ptp(np.arctan2(turned[:, 0, 2], turned[:, 2, 2])) > 0.5  # the body turns
