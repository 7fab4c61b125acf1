"""The world frame of a clip: where the floor is under the person, and a frame that stands on it.

The network places the person in camera space; animators and game engines want Z up, metres, the floor at
z = 0 and the person starting at the origin, facing -Y (Blender's front view). Two things are estimated
from the clip's posed joints (camera static):
- up: the direction of gravity. First from the body: the median direction from the feet to the trunk
  (pelvis and spine joints, near the centre of mass, which balance keeps over the feet).
- the floor: a plane through the lowest foot joint of every frame, less that joint's height above the sole
  in the rest pose. Whatever the motion, the lowest foot is on the floor in almost every frame (planted
  feet weigh more; frames in the air are trimmed as lying above the plane). Along the directions those
  points spread over (a walk's path, the spots someone steps between) the plane's slope refines up;
  standing on the spot, only the floor's height is taken from them.
A foot joint is planted where it is slow in 3D or, where the detector saw it, still in the picture (the
estimate's depth jitters: on a rendered walk the 3D test found 9 planted frames in 120, the picture 60).
Pure numpy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: SMPL joints used here.
PELVIS, LEFT_HIP, RIGHT_HIP = 0, 1, 2
TRUNK_JOINTS = (0, 3, 6, 9)  # pelvis, spine1-3: near the centre of mass
FOOT_JOINTS = (7, 8, 10, 11)  # left/right ankle, left/right toes
#: A foot joint counts as planted when it moves slower than this (m/s); planted points weigh more.
CONTACT_SPEED_M_S = 0.25
PLANTED_WEIGHT, MOVING_WEIGHT = 1.0, 0.25
#: Points more than this far above the fitted floor are taken as frames in the air and trimmed.
AIR_M = 0.03
#: Slope prior of the floor fit: as strong as level points spread this far (m) around the centre; the tilt
#: may differ from the body's up by at most MAX_TILT_FROM_BODY_DEG.
PRIOR_SPREAD_M = 0.3
MAX_TILT_FROM_BODY_DEG = 20.0
#: Fewest planted frames (in seconds of video) for the result to count as found from contacts.
MIN_PLANTED_S = 0.5


@dataclass
class WorldFrame:
    """camera -> world: p_world = rotation @ p_camera + translation (world: Z up, metres, floor z = 0)."""

    rotation: np.ndarray  # (3, 3)
    translation: np.ndarray  # (3,)
    method: str  # "contacts" (planted feet) or "body" (the prior)
    contacts: int  # planted foot points used

    def matrix(self) -> np.ndarray:
        out = np.eye(4)
        out[:3, :3], out[:3, 3] = self.rotation, self.translation
        return out

    def camera_height_m(self) -> float:
        return float(self.translation[2])

    def camera_pitch_roll_deg(self) -> tuple[float, float]:
        """Pitch (positive: looking down) and roll (positive: image turned clockwise) of the camera."""
        forward = self.rotation @ np.array([0.0, 0.0, 1.0])  # optical axis in the world
        right = self.rotation @ np.array([1.0, 0.0, 0.0])
        pitch = np.degrees(np.arcsin(np.clip(-forward[2], -1.0, 1.0)))
        roll = np.degrees(np.arcsin(np.clip(-right[2], -1.0, 1.0)))
        return float(pitch), float(roll)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def body_up(joints: np.ndarray) -> np.ndarray:
    """(F, 24, 3) camera-space joints -> unit up vector: median feet-to-trunk direction (camera's -y if the
    body says nothing plausible, e.g. a clip of someone lying down)."""
    feet = joints[:, FOOT_JOINTS].mean(axis=1)
    directions = joints[:, TRUNK_JOINTS].mean(axis=1) - feet
    directions = directions / np.maximum(np.linalg.norm(directions, axis=-1, keepdims=True), 1e-9)
    up = _unit(np.median(directions, axis=0))
    camera_up = np.array([0.0, -1.0, 0.0])
    return up if up @ camera_up > np.cos(np.radians(60.0)) else camera_up


def lowest_feet(joints: np.ndarray, up: np.ndarray, fps: float, sole_heights: dict[int, float],
                pictured_still: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the sole under the lowest foot joint: (F, 3) points (the joint moved down by its height
    above the sole) and (F,) bool whether that joint is planted (slow; or still in the picture where
    pictured_still (F, 4), in FOOT_JOINTS order, is 1 or 0 rather than NaN)."""
    feet = joints[:, FOOT_JOINTS]  # (F, 4, 3)
    offsets = np.array([sole_heights[j] for j in FOOT_JOINTS])
    lowest = np.argmin(feet @ up - offsets, axis=1)
    frames = np.arange(len(feet))
    points = feet[frames, lowest] - offsets[lowest, None] * up
    speed = np.full(len(feet), np.inf)
    if len(feet) > 1:
        step = np.linalg.norm(np.diff(feet, axis=0), axis=-1) * fps  # (F - 1, 4)
        speed[1:] = step[frames[1:] - 1, lowest[1:]]
        speed[:-1] = np.minimum(speed[:-1], step[frames[:-1], lowest[:-1]])
    planted = speed < CONTACT_SPEED_M_S
    if pictured_still is not None:
        seen = np.asarray(pictured_still, np.float64)[frames, lowest]
        planted = np.where(np.isfinite(seen), seen > 0.5, planted)
    return points, planted


def fit_floor(points: np.ndarray, weights: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, float]:
    """(unit normal, height along it) of the floor through sole points, trimming points in the air.

    The floor is fitted as a height over the plane across `up` with a ridge penalty on its slope, so it
    tilts only along directions the points spread over (a straight walk fixes the slope along the path, not
    across it); the penalty is that of points spread PRIOR_SPREAD_M either side of the centre, level."""
    weights = weights.astype(np.float64).copy()
    across = np.linalg.svd(up[None, :])[2][1:]  # (2, 3) orthonormal, perpendicular to up
    normal, height = up, float(np.median(points @ up))
    for _ in range(3):
        if weights.sum() <= 0:
            break
        centre = np.average(points, axis=0, weights=weights)
        planar = (points - centre) @ across.T  # (N, 2)
        rise = (points - centre) @ up
        gram = (planar * weights[:, None]).T @ planar + weights.sum() * PRIOR_SPREAD_M ** 2 * np.eye(2)
        slope = np.linalg.solve(gram, (planar * weights[:, None]).T @ rise)
        tilt = np.degrees(np.arctan(np.linalg.norm(slope)))
        if tilt > MAX_TILT_FROM_BODY_DEG:
            slope *= np.tan(np.radians(MAX_TILT_FROM_BODY_DEG)) / np.tan(np.radians(tilt))
        normal = _unit(up - slope @ across)
        heights = points @ normal
        height = float(np.average(heights, weights=weights))
        weights = np.where(heights - np.median(heights[weights > 0]) > AIR_M, 0.0, weights)
    return normal, height


def floor_tilt_deg(points: np.ndarray) -> float:
    """Tilt from level (degrees) of a floor fitted, as fit_floor fits it, to (N, 3) world points resting on
    it (Z up; their heights above the sole already taken off): a straight line of footprints then measures
    the slope along the line, not an arbitrary one across it."""
    normal, _ = fit_floor(np.asarray(points, np.float64), np.ones(len(points)), np.array([0.0, 0.0, 1.0]))
    return float(np.degrees(np.arccos(np.clip(normal[2], -1.0, 1.0))))


def estimate_world_frame(joints: np.ndarray, valid: np.ndarray, fps: float,
                         sole_heights: dict[int, float], pictured_still: np.ndarray | None = None) -> WorldFrame:
    """The clip's world frame from (F, 24, 3) camera-space posed joints (valid frames only are used).

    sole_heights: height (m) of each FOOT_JOINTS joint above the sole in the rest pose of this body;
    pictured_still: (F, 4) in FOOT_JOINTS order, 1 where the detector saw that point still, 0 moving, NaN
    unseen (contacts.pictured_stillness)."""
    joints = np.asarray(joints, dtype=np.float64)
    chosen = np.asarray(valid, bool) if np.any(valid) else np.ones(len(joints), bool)
    used = joints[chosen]
    up = body_up(used)
    points, planted = lowest_feet(used, up, fps, sole_heights,
                                  None if pictured_still is None else np.asarray(pictured_still)[chosen])
    up, floor = fit_floor(points, np.where(planted, PLANTED_WEIGHT, MOVING_WEIGHT), up)
    method = "contacts" if planted.sum() >= MIN_PLANTED_S * fps else "body"
    first = used[0]
    left = first[LEFT_HIP] - first[RIGHT_HIP]
    left = _unit(left - (left @ up) * up)
    forward = np.cross(left, up)
    rotation = np.stack([left, -forward, up])  # rows: world X (person's left), Y (behind them), Z (up)
    origin = first[PELVIS] - (first[PELVIS] @ up - floor) * up  # under the pelvis, on the floor
    return WorldFrame(rotation=rotation, translation=-rotation @ origin, method=method,
                      contacts=int(planted.sum()))
