"""New motions from the corpus's own: speed changes and upper/lower-body splices.

A few hundred mocap trials cover few combinations of tempo and of what the arms do while the legs do
something else; these make the corpus act larger without inventing poses that are not human. Both keep a
derived motion's split the same as its sources' (generate.py only mixes trials of one split). numpy only.
"""
from __future__ import annotations

import numpy as np

from bridge.geometry import rotations

from .motion import MotionClip, resample

#: SMPL joints that move with the legs: the root (orientation and position), hips, knees, ankles, feet.
LOWER_BODY_JOINTS: tuple[int, ...] = (0, 1, 2, 4, 5, 7, 8, 10, 11)
SPEED_RANGE = (0.5, 2.0)


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
