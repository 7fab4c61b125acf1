"""Foot contacts: per frame, how likely each heel and toe is planted on the floor, from world-frame joints.

A point is planted when it is low (its height above the floor, less its height above the sole in the rest
pose, within a few centimetres) and still. On motion-capture truth those are hard tests (4 cm, 0.25 m/s
horizontally: the labels, contact_labels). Estimated motion jitters, so the probabilities test a smoothed
copy of it (gaussian, sigma 2 frames at 30 fps) against looser thresholds with soft edges, so they rise and
fall smoothly for foot lock to blend with. The thresholds were chosen on the rendered evaluation clips'
mocap trials (scripts/eval_contacts.py): 8 cm and 0.6 m/s gave precision 0.76 and recall 0.69 against the
labels, where the labels' own thresholds gave 0.79 and 0.32.

Stillness is judged in the picture where the detector sees the heel or toe: a planted foot stays put in the
image of a still camera, however wrong the estimated depth. In 3D, a person walking towards the camera
swings their legs along the depth the monocular estimate flattens, so the stance foot is carried forward
with the body (1-2 m/s on a rendered CMU walk, where the image showed it still). Pure numpy.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

#: (SMPL joint, name) of the four contact points, in the results' `contacts` column order. The ankle joint
#: stands in for the heel (it is above it).
CONTACT_POINTS: tuple[tuple[int, str], ...] = ((7, "left_heel"), (10, "left_toe"), (8, "right_heel"),
                                               (11, "right_toe"))
#: Ground truth: a planted point is at most this high above its rest height over the floor (m) and this fast (m/s).
LABEL_HEIGHT_M = 0.04
LABEL_SPEED_M_S = 0.25
#: Estimates: the same tests, looser, on motion smoothed over SMOOTHING_S, with soft edges of these widths.
HEIGHT_M = 0.08
SPEED_M_S = 0.6
SMOOTHING_S = 2.0 / 30.0
HEIGHT_SOFTNESS_M = 0.015
SPEED_SOFTNESS_M_S = 0.12
#: MediaPipe landmark (heel, foot index) seen for each contact point, in CONTACT_POINTS order.
IMAGE_POINTS: tuple[int, ...] = (29, 31, 30, 32)
#: Image stillness: under this speed in the picture, in person heights per second (the smoothed height of the
#: confident landmarks' box), with a soft edge of this width. On the rendered walk the stance foot moved
#: 0.0-0.3 heights/s and the swinging one 0.5-3; on the rendered held-out clips 0.25 gave precision 0.57 and
#: recall 0.93 against the mocap labels (0.4: 0.48 and 0.96) and the more accurate motion after foot lock.
IMAGE_SPEED_H_S = 0.25
IMAGE_SPEED_SOFTNESS_H_S = 0.05
#: A landmark is trusted for stillness where its confidence (visibility x presence) is at least this.
IMAGE_MIN_CONFIDENCE = 0.5


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50.0, 50.0)))


def resting_points(joints_world: np.ndarray, sole_heights: dict[int, float]) -> np.ndarray:
    """(F, 24, 3) world-frame joints -> (F, 4, 3) the contact points, z their height above resting on the floor
    (the joint's height less its rest height over the sole: 0 for a foot standing on the floor)."""
    points = np.asarray(joints_world, dtype=np.float64)[:, [j for j, _ in CONTACT_POINTS]].copy()
    points[..., 2] -= np.array([sole_heights[j] for j, _ in CONTACT_POINTS])
    return points


def heights_and_speeds(joints_world: np.ndarray, fps: float, sole_heights: dict[int, float]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(F, 4) height above resting on the floor (m) and horizontal speed (m/s) of each contact point.
    Speeds are central differences, median-filtered over 3 frames so one noisy frame cannot break a contact."""
    joints = resting_points(joints_world, sole_heights)  # (F, 4, 3)
    heights = joints[..., 2]
    if len(joints) < 2:
        return heights, np.zeros(heights.shape)
    velocity = np.gradient(joints[..., :2], axis=0) * fps
    speed = median_filter(np.linalg.norm(velocity, axis=-1), size=(3, 1), mode="nearest")
    return heights, speed


def image_speeds(keypoints_2d: np.ndarray, fps: float) -> np.ndarray:
    """(F, 33, 3) [x_px, y_px, confidence] -> (F, 4) speed of each contact point's landmark in the picture,
    person heights per second (smoothed as the 3D motion is); NaN where the landmark is not seen well."""
    points = np.asarray(keypoints_2d, dtype=np.float64)
    confident = points[..., 2] >= IMAGE_MIN_CONFIDENCE
    xy = points[..., :2]
    if len(points) > 1:
        xy = gaussian_filter1d(xy, SMOOTHING_S * fps, axis=0, mode="nearest")
    lo = np.where(confident[..., None], xy, np.inf).min(axis=1)
    hi = np.where(confident[..., None], xy, -np.inf).max(axis=1)
    height = np.where(confident.sum(axis=1) >= 2, hi[:, 1] - lo[:, 1], np.nan)
    height = median_filter(np.nan_to_num(height, nan=np.nanmedian(height) if np.isfinite(height).any() else 1.0),
                           size=max(1, int(round(fps / 2))), mode="nearest")
    foot = xy[:, list(IMAGE_POINTS)]  # (F, 4, 2)
    if len(points) < 2:
        return np.full((len(points), 4), np.nan)
    speed = np.linalg.norm(np.gradient(foot, axis=0), axis=-1) * fps / np.maximum(height, 1.0)[:, None]
    speed = median_filter(speed, size=(3, 1), mode="nearest")
    seen = confident[:, list(IMAGE_POINTS)]
    seen = seen & np.concatenate([seen[:1], seen[:-1]]) & np.concatenate([seen[1:], seen[-1:]])  # the gradient's too
    return np.where(seen, speed, np.nan)


def contact_probabilities(joints_world: np.ndarray, fps: float, sole_heights: dict[int, float],
                          keypoints_2d: np.ndarray | None = None) -> np.ndarray:
    """(F, 24, 3) world-frame joints (Z up, floor at 0), estimated -> (F, 4) contact probabilities in [0, 1].

    With the detector's (F, 33, 3) keypoints, stillness is judged in the image wherever the heel or toe
    landmark is seen well, and in 3D elsewhere."""
    joints = np.asarray(joints_world, dtype=np.float64)
    if len(joints) > 1:
        joints = gaussian_filter1d(joints, SMOOTHING_S * fps, axis=0, mode="nearest")
    heights, speed = heights_and_speeds(joints, fps, sole_heights)
    low = _sigmoid((HEIGHT_M - heights) / HEIGHT_SOFTNESS_M)
    still = _sigmoid((SPEED_M_S - speed) / SPEED_SOFTNESS_M_S)
    if keypoints_2d is not None:
        pictured = image_speeds(keypoints_2d, fps)
        still = np.where(np.isfinite(pictured),
                         _sigmoid((IMAGE_SPEED_H_S - np.nan_to_num(pictured)) / IMAGE_SPEED_SOFTNESS_H_S), still)
    return (low * still).astype(np.float32)


def pictured_stillness(keypoints_2d: np.ndarray, fps: float, joints: tuple[int, ...]) -> np.ndarray:
    """(F, 33, 3) keypoints -> (F, len(joints)) 1 where the detector saw that foot joint's landmark still
    (image_speeds under IMAGE_SPEED_H_S), 0 where it saw it move, NaN where it did not see it well; joints are
    CONTACT_POINTS' SMPL joints in any order."""
    speeds = image_speeds(keypoints_2d, fps)
    order = [next(k for k, (j, _) in enumerate(CONTACT_POINTS) if j == joint) for joint in joints]
    speeds = speeds[:, order]
    return np.where(np.isfinite(speeds), (np.nan_to_num(speeds) < IMAGE_SPEED_H_S).astype(np.float64), np.nan)


def contact_labels(joints_world: np.ndarray, fps: float, sole_heights: dict[int, float]) -> np.ndarray:
    """(F, 4) bool: the hard tests, for ground truth from motion capture."""
    heights, speed = heights_and_speeds(joints_world, fps, sole_heights)
    return (heights < LABEL_HEIGHT_M) & (speed < LABEL_SPEED_M_S)
