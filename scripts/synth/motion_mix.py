"""New motions from the corpus's own: speed changes, upper/lower-body splices and tumbles.

A few hundred mocap trials cover few combinations of tempo and of what the arms do while the legs do
something else, and almost no body that is upside down or lying; these make the corpus act larger without
inventing poses that are not human. All keep a derived motion's split the same as its sources'
(generate.py only mixes trials of one split). numpy only.
"""
from __future__ import annotations

import numpy as np

from bridge.geometry import rotations

from .motion import MotionClip, resample

#: SMPL joints that move with the legs: the root (orientation and position), hips, knees, ankles, feet.
LOWER_BODY_JOINTS: tuple[int, ...] = (0, 1, 2, 4, 5, 7, 8, 10, 11)
SPEED_RANGE = (0.5, 2.0)
#: A tumble turns the body by this much in all (radians, either way), over this long (s); a "held" tumble
#: instead keeps one tilt throughout (handstands, lying, bridges).
TUMBLE_TURN_RAD = (np.pi, 4.0 * np.pi)
TUMBLE_SECONDS = (0.5, 2.5)
TUMBLE_HELD_SHARE = 0.25


def retimed(clip: MotionClip, speed: float, fps: float = 30.0) -> MotionClip:
    """The motion played `speed` times as fast (rotations slerped, the root path kept, so a faster walk
    covers the same ground in less time), sampled at `fps`; source marked with the speed."""
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    faster = MotionClip(clip.pose_aa, clip.root_pos_m, clip.fps * speed, f"{clip.source}~x{speed:.2f}", clip.group)
    return resample(faster, fps)


def random_speed(rng: np.random.Generator) -> float:
    """A speed factor log-uniform in SPEED_RANGE (as likely to halve as to double)."""
    low, high = np.log(SPEED_RANGE)
    return float(np.exp(rng.uniform(low, high)))


def spliced(legs: MotionClip, arms: MotionClip, source: str, group: str) -> MotionClip:
    """The legs, root orientation and path of `legs` with the spine, arms and head of `arms` (local
    rotations, so the upper body keeps its pose relative to the pelvis). Both at one frame rate; the
    result is as long as the shorter."""
    if abs(legs.fps - arms.fps) > 1e-6:
        raise ValueError(f"splice needs one frame rate, got {legs.fps} and {arms.fps}")
    frames = min(legs.num_frames, arms.num_frames)
    pose = np.array(arms.pose_aa[:frames], dtype=np.float32, copy=True)
    lower = list(LOWER_BODY_JOINTS)
    pose[:, lower] = legs.pose_aa[:frames, lower]
    return MotionClip(pose, np.array(legs.root_pos_m[:frames], dtype=np.float32), legs.fps, source, group)


def upright_fraction(clip: MotionClip) -> float:
    """Fraction of frames whose pelvis up axis is within 60 degrees of the world's +Y: splicing a handstand's
    arms onto a walk's legs makes nonsense, so splices use mostly upright motions."""
    up = rotations.axis_angle_to_matrix(np.asarray(clip.pose_aa[:, 0], np.float64))[:, :, 1]
    return float((up[:, 1] > 0.5).mean())


def tumbled(clip: MotionClip, rng: np.random.Generator, source: str, group: str) -> MotionClip:
    """The motion with the whole body turned about a horizontal axis through the pelvis, as in a flip
    (about the body's left-right axis), a cartwheel (its forward axis) or anything between: the local pose
    and the pelvis path are kept. The turn eases in and out over a random stretch of TUMBLE_SECONDS from a
    random starting tilt, or (TUMBLE_HELD_SHARE of the time) holds one random tilt for the whole clip.

    The network reads bodies in camera space, so these teach it bodies at every angle to gravity without
    any acrobatics in the training motion (flips and cartwheels stay an unseen kind)."""
    root = rotations.axis_angle_to_matrix(np.asarray(clip.pose_aa[:, 0], np.float64))
    left, forward = root[0][:, 0].copy(), root[0][:, 2].copy()
    left[1] = forward[1] = 0.0
    blend = rng.uniform(0.0, 1.0)  # 0: somersault axis (left-right), 1: cartwheel axis (forward)
    axis = (1.0 - blend) * left / max(np.linalg.norm(left), 1e-9) + blend * forward / max(np.linalg.norm(forward), 1e-9)
    axis /= max(np.linalg.norm(axis), 1e-9)
    start = rng.uniform(-np.pi, np.pi)
    if rng.uniform() < TUMBLE_HELD_SHARE:
        angle = np.full(clip.num_frames, start)
    else:
        turn = rng.uniform(*TUMBLE_TURN_RAD) * rng.choice([-1.0, 1.0])
        t = np.arange(clip.num_frames) / clip.fps
        duration = rng.uniform(*TUMBLE_SECONDS)
        t0 = rng.uniform(-0.5 * duration, max(t[-1] - 0.5 * duration, 0.0))
        x = np.clip((t - t0) / duration, 0.0, 1.0)
        angle = start + turn * x * x * (3.0 - 2.0 * x)
    turns = rotations.axis_angle_to_matrix(angle[:, None] * axis[None])
    pose = np.array(clip.pose_aa, dtype=np.float32, copy=True)
    pose[:, 0] = rotations.matrix_to_axis_angle(turns @ root)
    return MotionClip(pose, np.array(clip.root_pos_m, dtype=np.float32), clip.fps, source, group)
