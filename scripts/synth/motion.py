"""A body-model-independent SMPL motion: what the retargeter and the procedural generator produce.

Stored with local joint rotations (root orientation in a Y-up world) and the pelvis joint's world position
rather than SMPL's `transl`, because `transl` depends on the body shape (the pelvis sits at
rest_joints[0](β) + transl): the generator picks β later and derives `transl` for it. numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path

import numpy as np

from bridge.foot_lock import LEGS
from bridge.geometry import kinematics, rotations
from bridge.ground import FOOT_JOINTS
from bridge.skeleton import NUM_JOINTS, SMPL_PARENTS

MOTION_FORMAT = "arts-synth-motion/1"


@dataclass
class MotionClip:
    """F frames of SMPL motion in a Y-up world (metres), the body frame as SMPL's: +X left, +Z forward."""

    pose_aa: np.ndarray  # (F, 24, 3) local axis-angle, radians; joint 0 = orientation in the world
    root_pos_m: np.ndarray  # (F, 3) world position of SMPL joint 0 (pelvis), metres
    fps: float
    source: str  # e.g. "cmu:001_01", "procedural:walk:12", "amass:ACCAD/xyz"
    group: str  # what a test split holds out as a whole (the mocap subject, or the procedural seed)

    @property
    def num_frames(self) -> int:
        return int(self.pose_aa.shape[0])

    def slice(self, start: int, stop: int) -> "MotionClip":
        return MotionClip(self.pose_aa[start:stop], self.root_pos_m[start:stop], self.fps, self.source, self.group)


def resample(clip: MotionClip, fps: float) -> MotionClip:
    """The same motion sampled at `fps`: rotations slerped per joint, the root interpolated linearly.

    Frames run from time 0 to the last source frame's time; no frame is extrapolated.
    """
    if clip.num_frames == 0 or abs(clip.fps - fps) < 1e-6 * fps:
        return MotionClip(clip.pose_aa.copy(), clip.root_pos_m.copy(), float(fps), clip.source, clip.group)
    duration = (clip.num_frames - 1) / clip.fps
    times = np.arange(int(np.floor(duration * fps + 1e-6)) + 1) / fps
    position = np.minimum(times * clip.fps, clip.num_frames - 1)
    lower = np.minimum(np.floor(position).astype(np.int64), clip.num_frames - 1)
    upper = np.minimum(lower + 1, clip.num_frames - 1)
    frac = position - lower
    quats = rotations.axis_angle_to_quaternion(clip.pose_aa.astype(np.float64))
    q = rotations.quaternion_slerp(quats[lower], quats[upper], np.repeat(frac[:, None], NUM_JOINTS, axis=1))
    pose = rotations.quaternion_to_axis_angle(q)
    root = clip.root_pos_m[lower] * (1.0 - frac[:, None]) + clip.root_pos_m[upper] * frac[:, None]
    return MotionClip(pose.astype(np.float32), root.astype(np.float32), float(fps), clip.source, clip.group)


def save_motion(path: str | Path, clip: MotionClip) -> None:
    """Write a clip as a pickle-free `.npz` (atomically: temp file then rename).

    The temp name carries the process id: generators run side by side share one retarget cache.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, format=np.array(MOTION_FORMAT), pose_aa=clip.pose_aa.astype(np.float32),
             root_pos_m=clip.root_pos_m.astype(np.float32), fps=np.array(clip.fps, dtype=np.float64),
             source=np.array(clip.source), group=np.array(clip.group))
    tmp.replace(path)


def load_motion(path: str | Path) -> MotionClip:
    """Read a clip written by save_motion; ValueError if it is not one."""
    with np.load(Path(path), allow_pickle=False) as data:
        if "format" not in data or str(data["format"]) != MOTION_FORMAT:
            raise ValueError(f"{path} is not an {MOTION_FORMAT} file")
        return MotionClip(data["pose_aa"], data["root_pos_m"], float(data["fps"]), str(data["source"]),
                          str(data["group"]))


def leg_length(joints: np.ndarray) -> float:
    """Hip to knee to ankle, the mean of both legs (m); joints (24, 3) or (F, 24, 3) (the median over frames,
    for joints placed on a mocap skeleton whose bones stretch a little)."""
    j = np.asarray(joints, np.float64).reshape(-1, NUM_JOINTS, 3)
    legs = [np.linalg.norm(j[:, h] - j[:, k], axis=-1) + np.linalg.norm(j[:, k] - j[:, a], axis=-1)
            for h, k, a in LEGS]
    return float(np.median(0.5 * (legs[0] + legs[1])))


def scaled_root_path(root_pos_m: np.ndarray, ratio: float, floor_y: float) -> np.ndarray:
    """(F, 3) the pelvis path for legs `ratio` times as long: its travel from the first frame and its height
    over the floor scaled. Rotations copied onto longer or shorter legs move the feet `ratio` times as far
    per step, so a path left as it was makes planted feet skate (a 10 % difference on a 1.4 m/s walk slides
    each planted foot at 14 cm/s)."""
    root = np.asarray(root_pos_m, np.float64)
    out = root.copy()
    out[:, [0, 2]] = root[:1, [0, 2]] + ratio * (root[:, [0, 2]] - root[:1, [0, 2]])
    out[:, 1] = floor_y + ratio * (root[:, 1] - floor_y)
    return out


def feet_level(pose_aa: np.ndarray, root_pos_m: np.ndarray, rest_joints: np.ndarray) -> float:
    """Height (m) the feet stand at: the 5th percentile over frames of the lowest ankle or toe joint."""
    posed, _ = kinematics.forward_kinematics(rotations.axis_angle_to_matrix(np.asarray(pose_aa, np.float64)),
                                             np.asarray(rest_joints, np.float64), SMPL_PARENTS)
    heights = posed[:, FOOT_JOINTS, 1] - posed[:, :1, 1] + np.asarray(root_pos_m, np.float64)[:, 1:2]
    return float(np.percentile(heights.min(axis=1), 5))


def fit_to_body(clip: MotionClip, made_for: np.ndarray, body_rest: np.ndarray) -> MotionClip:
    """The clip for a body of other proportions: made for rest joints `made_for` (24, 3), posed on a body
    with rest joints `body_rest`; the pelvis path scaled by the ratio of their leg lengths (see
    scaled_root_path), so planted feet stay planted on every body shape."""
    ratio = leg_length(body_rest) / leg_length(made_for)
    if abs(ratio - 1.0) < 1e-9:
        return clip
    floor = feet_level(clip.pose_aa, clip.root_pos_m, made_for)
    root = scaled_root_path(clip.root_pos_m, ratio, floor)
    return MotionClip(clip.pose_aa, root.astype(np.float32), clip.fps, clip.source, clip.group)
