"""Procedural motion: every kind is deterministic, smooth, inside its joint limits and on the ground."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.geometry import kinematics, rotations
from bridge.skeleton import SMPL_PARENTS
from scripts.synth import procedural
from scripts.synth.generate import CROUCH_SEED0, EXERCISE_SEED0, FLOOR_SEED0, SEATED_SEED0
from scripts.synth.procedural import (
    BODY_RADII_M, DEEP_LEG_LIMITS, EXERCISE_DRILLS, FOOT_JOINT_HEIGHT_M, KNEE_JOINT_HEIGHT_M, MOTION_KINDS, _edge_clip,
    procedural_motion)


@pytest.fixture(scope="module")
def rest_joints():
    return shaped_rest(load_body_model_arrays(), None)[1]


def _world_joints(clip, rest):
    posed, _ = kinematics.forward_kinematics(rotations.axis_angle_to_matrix(clip.pose_aa.astype(np.float64)),
                                             rest, SMPL_PARENTS)
    return posed - posed[:, :1] + clip.root_pos_m[:, None].astype(np.float64)


def _check_plausible(clip, rest_joints) -> np.ndarray:
    """The checks every upright kind passes; returns the clip's world joints (F, 24, 3)."""
    joints = _world_joints(clip, rest_joints)
    # Feet on the ground: the lowest ankle/foot joint stays at its standing height (smoothed).
    lowest = joints[:, [7, 8, 10, 11], 1].min(axis=1)
    assert np.abs(lowest - FOOT_JOINT_HEIGHT_M).max() < 0.03
    # Upright: the head stays above the pelvis.
    assert (joints[:, 15, 1] > joints[:, 0, 1] + 0.2).all()
    # Smooth: joint accelerations stay human (< 60 m/s^2 even in a jog's arm swing).
    accel = np.linalg.norm(np.diff(joints, 2, axis=0), axis=-1) * 30.0 ** 2
    assert accel.max() < 60.0
    # Knees and elbows bend only one way: knee flexion about +X, elbow about -Y (left) / +Y (right).
    assert (clip.pose_aa[:, 4, 0] > -0.05).all() and (clip.pose_aa[:, 5, 0] > -0.05).all()
    assert (clip.pose_aa[:, 18, 1] < 0.05).all() and (clip.pose_aa[:, 19, 1] > -0.05).all()
    # Joint limits: no local rotation beyond what the limits allow (arms and thighs the most, < 165 deg).
    angles = np.linalg.norm(clip.pose_aa[:, 1:], axis=-1)
    assert angles.max() < np.deg2rad(165)
    assert np.linalg.norm(clip.pose_aa[:, [3, 6, 9]], axis=-1).max() < 0.6  # spine segments
    return joints


@pytest.mark.parametrize("kind", MOTION_KINDS)
def test_kind_is_plausible(kind, rest_joints):
    clip = procedural_motion(kind, seed=4, rest_joints=rest_joints, num_frames=150, fps=30.0)
    assert clip.pose_aa.shape == (150, 24, 3) and clip.root_pos_m.shape == (150, 3)
    assert clip.source == f"procedural:{kind}:4" and clip.group == "procedural:4"
    _check_plausible(clip, rest_joints)


def _facing_frame(clip, joints: np.ndarray) -> np.ndarray:
    """Joints relative to the pelvis in axes turned with the body's heading: x left, y up, z forward."""
    forward = rotations.axis_angle_to_matrix(clip.pose_aa[:, 0].astype(np.float64))[:, :, 2]
    heading = np.arctan2(forward[:, 0], forward[:, 2])
    undo = rotations.axis_angle_to_matrix(np.stack([0 * heading, -heading, 0 * heading], axis=-1))
    return np.einsum("fij,fkj->fki", undo, joints - joints[:, :1])


@pytest.mark.parametrize("drill", EXERCISE_DRILLS)
def test_every_exercise_drill_is_plausible_and_does_its_move(drill, rest_joints, monkeypatch):
    """Each fitness drill passes the upright kinds' checks and does what it is named for: punches reach a fist
    well in front of its shoulder, kicks and high knees lift a foot, jumping jacks and presses raise a hand above
    the head; and the foot carrying the body barely slides, although the pelvis path is low-passed."""
    monkeypatch.setattr(procedural, "EXERCISE_DRILLS", (drill,))
    lifted, reached, raised, sliding = [], [], [], []
    for seed in range(EXERCISE_SEED0, EXERCISE_SEED0 + 4):
        clip = procedural_motion("exercise", seed, rest_joints, 120, 30.0)
        assert clip.source == f"procedural:exercise:{seed}"
        joints = _check_plausible(clip, rest_joints)
        body = _facing_frame(clip, joints)
        lifted.append((joints[:, [7, 8], 1].max(axis=0) - joints[:, [7, 8], 1].min(axis=0)).max())
        reached.append((body[:, [20, 21], 2] - body[:, [16, 17], 2]).max())
        raised.append((body[:, [20, 21], 1] - body[:, [15], 1]).max())
        sliding.append(_supporting_foot_speeds(clip, joints))
    sliding = np.concatenate(sliding)
    assert np.median(sliding) < 0.15  # m/s
    if drill in ("kicks", "high_knees"):
        assert max(lifted) > 0.3
    if drill == "punches":
        assert min(reached) > 0.35
    if drill in ("jumping_jacks", "press"):
        assert min(raised) > 0.0


def test_exercise_draws_every_drill(rest_joints, monkeypatch):
    """Across seeds the kind draws each drill (one per clip), and a seed's motion repeats exactly."""
    drawn = []
    monkeypatch.setattr(procedural, "_exercise", lambda rng, t, p, yaw: (
        drawn.append(EXERCISE_DRILLS[rng.integers(len(EXERCISE_DRILLS))]), yaw)[1])
    for seed in range(EXERCISE_SEED0, EXERCISE_SEED0 + 80):
        procedural_motion("exercise", seed, rest_joints, 32)
    assert set(drawn) == set(EXERCISE_DRILLS)
    monkeypatch.undo()
    a = procedural_motion("exercise", EXERCISE_SEED0 + 1, rest_joints, 60)
    np.testing.assert_array_equal(a.pose_aa, procedural_motion("exercise", EXERCISE_SEED0 + 1, rest_joints, 60).pose_aa)


def test_seated_sits_still_on_a_chair_and_stands_up_off_planted_feet(rest_joints, monkeypatch):
    """The chair kind passes the upright kinds' checks; seated, the thighs are near level at chair height and the
    pelvis does not move across the floor (the seat holds it); some clips sit down or stand up, and while the
    feet carry the body the supporting foot stays put."""
    held = []
    grounded = procedural._grounded_root
    monkeypatch.setattr(procedural, "_grounded_root", lambda *a, **k: (held.append(k["seated"]), grounded(*a, **k))[1])
    sliding, moved_seated, thighs, heights = [], [], [], []
    for seed in range(SEATED_SEED0, SEATED_SEED0 + 12):
        clip = procedural_motion("seated", seed, rest_joints, 120, 30.0)
        joints = _check_plausible(clip, rest_joints)
        seated = held[-1] > 0.999
        pelvis = clip.root_pos_m.astype(np.float64)
        steps = np.linalg.norm(np.diff(pelvis[:, [0, 2]], axis=0), axis=1)
        moved_seated.append(steps[seated[1:]])
        thigh = joints[:, [4, 5]] - joints[:, [1, 2]]
        pitch = np.degrees(np.arcsin(np.abs(thigh[..., 1]) / np.linalg.norm(thigh, axis=-1)))
        thighs.append(pitch[seated].min(axis=1))  # at least one thigh near level (the other may cross over)
        heights.append(np.ptp(pelvis[:, 1]))
        on_feet = held[-1] < 1e-3
        sliding.append(_supporting_foot_speeds(clip, np.where(on_feet[:, None, None], joints, np.nan))
                       if on_feet.sum() > 2 else np.zeros(0))
    assert np.concatenate(moved_seated).max() < 1e-4  # m a frame (float32 roots)
    assert np.median(np.concatenate(thighs)) < 20.0
    assert max(heights) > 0.3 and min(heights) < 0.15  # some clips stand up or sit down, some stay seated
    sliding = np.concatenate(sliding)
    sliding = sliding[np.isfinite(sliding)]
    assert sliding.size > 20 and np.median(sliding) < 0.01


def test_floor_lies_rolls_over_and_rests_on_the_body(rest_joints):
    """Floor work: the lowest point of the body's surface (joint spheres) stays on the ground whatever carries
    it; most frames lie with the trunk near horizontal, some sit or kneel; some clips roll from face down to
    face up; limbs bend one way and within their limits; the carrying point barely slides; smooth; a seed's
    motion repeats exactly."""
    lying, upright, rolled, sliding = [], [], 0, []
    for seed in range(FLOOR_SEED0, FLOOR_SEED0 + 10):
        clip = procedural_motion("floor", seed, rest_joints, 120, 30.0)
        assert clip.source == f"procedural:floor:{seed}"
        joints = _world_joints(clip, rest_joints)
        surface = (joints[:, :, 1] - BODY_RADII_M).min(axis=1)
        assert np.abs(surface).max() < 0.05  # the height is low-passed (one frame)
        root = rotations.axis_angle_to_matrix(clip.pose_aa[:, 0].astype(np.float64))
        tilt = np.degrees(np.arccos(np.clip(root[:, 1, 1], -1.0, 1.0)))
        lying.append((tilt > 70.0).mean())
        upright.append((tilt < 30.0).mean())
        rolled += bool((root[:, 1, 2] < -0.7).any() and (root[:, 1, 2] > 0.7).any())  # front down, then up
        assert (clip.pose_aa[:, 4, 0] > -0.05).all() and (clip.pose_aa[:, 5, 0] > -0.05).all()
        assert (clip.pose_aa[:, 18, 1] < 0.05).all() and (clip.pose_aa[:, 19, 1] > -0.05).all()
        assert np.linalg.norm(clip.pose_aa[:, 1:], axis=-1).max() < np.deg2rad(165)
        accel = np.linalg.norm(np.diff(joints, 2, axis=0), axis=-1) * 30.0 ** 2
        assert np.percentile(accel[:, :20], 99) < 80.0
        lowest = (joints[:, :, 1] - BODY_RADII_M).argmin(axis=1)
        sliding.append(np.linalg.norm(np.diff(joints[np.arange(120), lowest][:, [0, 2]], axis=0), axis=1)[
            lowest[1:] == lowest[:-1]] * 30.0)
    assert np.mean(lying) > 0.5 and max(upright) > 0.3 and rolled >= 2
    assert np.median(np.concatenate(sliding)) < 0.15  # m/s
    np.testing.assert_array_equal(clip.pose_aa, procedural_motion("floor", seed, rest_joints, 120).pose_aa)


def test_deterministic_and_seed_dependent(rest_joints):
    a = procedural_motion("walk", 7, rest_joints, 60)
    b = procedural_motion("walk", 7, rest_joints, 60)
    c = procedural_motion("walk", 8, rest_joints, 60)
    np.testing.assert_array_equal(a.pose_aa, b.pose_aa)
    assert not np.allclose(a.pose_aa, c.pose_aa)


def test_walk_moves_forward_and_squat_goes_down(rest_joints):
    walk = procedural_motion("walk", 1, rest_joints, 150)
    travel = np.linalg.norm(walk.root_pos_m[-1, [0, 2]] - walk.root_pos_m[0, [0, 2]])
    assert 3.0 < travel < 14.0  # 5 s at 0.9-2.8 m/s along a gently curving path
    squat = procedural_motion("squat", 1, rest_joints, 150)
    assert np.ptp(squat.root_pos_m[:, 1]) > 0.15


def test_turn_turns(rest_joints):
    clip = procedural_motion("turn", 2, rest_joints, 150)
    forward = rotations.axis_angle_to_matrix(clip.pose_aa[:, 0].astype(np.float64))[:, :, 2]
    heading = np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))
    assert np.ptp(heading) > 1.0


def test_unknown_kind_is_refused(rest_joints):
    with pytest.raises(ValueError, match="unknown procedural motion 'moonwalk'"):
        procedural_motion("moonwalk", 0, rest_joints)


def _supporting_foot_speeds(clip, joints: np.ndarray) -> np.ndarray:
    """Horizontal speeds (m/s) of the lowest point (ankle or toes) of whichever foot is clearly the lower."""
    feet = joints[:, [7, 10]], joints[:, [8, 11]]
    lowest = np.stack([f[..., 1].min(axis=1) for f in feet], axis=1)  # (F, 2)
    speeds = []
    for side, other in ((0, 1), (1, 0)):
        point = feet[side][np.arange(len(joints)), feet[side][..., 1].argmin(axis=1)]
        speed = np.linalg.norm(np.diff(point[:, [0, 2]], axis=0), axis=1) * clip.fps
        speeds.append(speed[(lowest[1:, side] < lowest[1:, other] - 0.02)])
    return np.concatenate(speeds)


@pytest.mark.parametrize("kind", MOTION_KINDS)
def test_supporting_foot_does_not_skate(kind, rest_joints):
    """The pelvis travels as the supporting foot pushes it: where one foot is clearly the lower, its lowest
    point (ankle or toes) stays put, and a walk goes the way the body faces."""
    clip = procedural_motion(kind, 5, rest_joints, 150)
    joints = _world_joints(clip, rest_joints)
    speeds = _supporting_foot_speeds(clip, joints)
    assert speeds.size > 20 or kind != "walk"
    if speeds.size:
        assert np.median(speeds) < 0.01 and np.percentile(speeds, 90) < 0.05  # m/s
    if kind == "walk":
        facing = rotations.axis_angle_to_matrix(clip.pose_aa[:, 0].astype(np.float64))[:, [0, 2], 2]
        velocity = np.gradient(clip.root_pos_m[:, [0, 2]].astype(np.float64), axis=0)
        assert (np.sum(facing * velocity, axis=1) > 0).mean() > 0.9


def test_crouch_folds_the_legs_deeply_and_rests_on_feet_or_knees(rest_joints):
    """The low-posture kind: knees bent past 140 degrees in some frames (kneeling, sitting back on the heels),
    never past their limit; the lowest foot joint or knee on the ground, nothing below it; smooth; its own
    seeds' motions differ and repeat exactly."""
    clip = procedural_motion("crouch", CROUCH_SEED0 + 3, rest_joints, 300, 30.0)
    assert clip.source == f"procedural:crouch:{CROUCH_SEED0 + 3}"
    np.testing.assert_array_equal(clip.pose_aa, procedural_motion("crouch", CROUCH_SEED0 + 3, rest_joints, 300).pose_aa)
    assert not np.allclose(clip.pose_aa, procedural_motion("crouch", CROUCH_SEED0 + 4, rest_joints, 300).pose_aa)
    joints = _world_joints(clip, rest_joints)

    def flexion(hip, knee, ankle):
        thigh, shin = joints[:, knee] - joints[:, hip], joints[:, ankle] - joints[:, knee]
        cos = (thigh * shin).sum(-1) / np.linalg.norm(thigh, axis=-1) / np.linalg.norm(shin, axis=-1)
        return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

    knees = np.concatenate([flexion(1, 4, 7), flexion(2, 5, 8)])
    assert knees.max() > 140.0 and np.median(knees) > 60.0
    assert np.abs(clip.pose_aa[:, [4, 5]]).max() <= DEEP_LEG_LIMITS["knee"][1] + 0.05
    feet = joints[:, [7, 8, 10, 11], 1].min(axis=1) - FOOT_JOINT_HEIGHT_M
    kneecaps = joints[:, [4, 5], 1].min(axis=1) - KNEE_JOINT_HEIGHT_M
    resting = np.minimum(feet, kneecaps)
    assert resting.min() > -0.02 and np.abs(resting).max() < 0.03
    assert (kneecaps < 0.03).any()  # some frames kneel
    accel = np.linalg.norm(np.diff(joints, 2, axis=0), axis=-1) * 30.0 ** 2
    assert np.percentile(accel[:, :20], 99) < 40.0  # trunk and legs; hands may gesture fast


def test_edge_clip_keeps_the_middle_and_squashes_the_ends():
    values = np.linspace(-1.0, 4.0, 501)
    clipped = _edge_clip(values, (0.0, 2.8))
    middle = (values > 0.3) & (values < 2.5)
    np.testing.assert_array_equal(clipped[middle], values[middle])
    assert clipped.min() > 0.0 and clipped.max() < 2.8
    assert (np.diff(clipped) > 0).all() and np.abs(np.diff(clipped, 2)).max() < 1e-3  # monotonic, no kink
