"""Turn each limb bone part of the way towards the direction that puts its joint on MediaPipe's 2D keypoint.

Why: the lifter leans towards the poses it was trained on. On motion unlike its training (deep squats, dance
arm work, falls) its limbs, projected into the video, land well away from where the image shows them, while
MediaPipe's 2D keypoints stay close to the truth. For each thigh, shin, upper arm and forearm the ray through
the child joint's keypoint gives (at most) two places for that joint at the bone's own length from its parent:
the image cannot tell a limb reaching towards the camera from one reaching away, so the one nearer the network's
joint is taken. The bone then turns a fixed share (`strength`) of the way there, by its parent joint's swing only
(twist kept, bone lengths exact), while the child joint keeps its orientation in the camera: the next bone
down, and the hands and feet, point where they did, so a foot on the floor stays flat and the next bone is aimed
from where it now starts. The result is still an SMPL pose. The share is a blend of two estimates, not
a fit: the keypoints carry their own slow errors and jitter, and the correction is smoothed over time so the
keypoints' jitter does not reach the motion.

The strength and smoothing were chosen on simulated clips, not on the rendered evaluation sets: on 40 test
and 40 unseen-kind clips of data_v8 (detector noise fitted to real MediaPipe output), MPJPE-14 went from 66.5
to 65.9 mm and from 78.0 to 77.0 mm at strength 0.15-0.2 with 3 frames of smoothing, no better at 0.25 and
worse from 0.35; without the smoothing the acceleration error grew. The rendered sets' numbers are in the
model card.

Pure numpy: camera-space local rotations (axis-angle), the rest skeleton, and the pelvis of
camera.fit_clip_translation.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from . import camera
from .geometry import kinematics, rotations
from .geometry.swing_twist import swing_rotation
from .skeleton import LIMB_BONES, SMPL_PARENTS

#: The MediaPipe landmark that marks each limb bone's child joint: knees, ankles, elbows, wrists.
CHILD_LANDMARKS: dict[int, int] = {4: 25, 5: 26, 7: 27, 8: 28, 18: 13, 19: 14, 20: 15, 21: 16}
#: skeleton.LIMB_BONES as (parent, child, child's landmark), left and right together, in the order they are
#: re-aimed: thighs, shins, upper arms, forearms, so each bone aims from its parent's new place.
REAIM_ORDER: tuple[tuple[tuple[int, int, int], ...], ...] = tuple(
    tuple((parent, child, CHILD_LANDMARKS[child]) for parent, child in LIMB_BONES[first:first + 2])
    for first in (4, 6, 0, 2))
DEFAULT_STRENGTH = 0.2
#: Gaussian sigma, in frames, of the smoothing applied to each joint's correction.
SMOOTHING_FRAMES = 3.0
#: Keypoints less confident than this (visibility x presence) leave their bone as the network put it.
MIN_CONFIDENCE = 0.5


def aimed_child(parent: np.ndarray, child: np.ndarray, rays: np.ndarray) -> np.ndarray:
    """Where the child joint would be with the bone's length kept and the joint on its ray, (N, 3) each.

    Of the two points of the ray at that distance from the parent, the one nearer the current child; where the
    ray passes further from the parent than the bone is long, the bone points at the ray's nearest point."""
    length = np.linalg.norm(child - parent, axis=-1)
    along = np.einsum("ni,ni->n", rays, parent)  # distance along the ray to the point nearest the parent
    reach = np.sqrt(np.maximum(along ** 2 - np.einsum("ni,ni->n", parent, parent) + length ** 2, 0.0))
    near, far = (along - reach)[:, None] * rays, (along + reach)[:, None] * rays
    pick_far = np.linalg.norm(far - child, axis=-1) < np.linalg.norm(near - child, axis=-1)
    point = np.where(pick_far[:, None], far, near)
    direction = point - parent
    norm = np.linalg.norm(direction, axis=-1, keepdims=True)
    return np.where(norm > 1e-9, parent + length[:, None] * direction / np.maximum(norm, 1e-9), child)


def reaim_limbs(pose_aa: np.ndarray, rest_joints: np.ndarray, pelvis: np.ndarray, keypoints_2d: np.ndarray,
                focal_px: float, image_size: tuple[int, int], strength: float = DEFAULT_STRENGTH,
                smoothing_frames: float = SMOOTHING_FRAMES) -> np.ndarray:
    """Re-aimed pose (F, 24, 3) axis-angle.

    pose_aa (F, 24, 3) camera-space local rotations; rest_joints (24, 3); pelvis (F, 3) camera-space pelvis
    position, metres; keypoints_2d (F, 33, 3) [x_px, y_px, confidence] (confidence 0 where nobody was found).
    strength in [0, 1]: the share of the way each bone turns (0 returns the pose unchanged).
    """
    pose_aa = np.asarray(pose_aa, np.float64)
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"re-aim strength must be in [0, 1], got {strength}")
    if strength == 0.0 or len(pose_aa) == 0:
        return pose_aa.copy()
    rest = np.asarray(rest_joints, np.float64)
    offset = np.asarray(pelvis, np.float64)[:, None, :] - rest[0]
    keypoints = np.asarray(keypoints_2d, np.float64)
    principal = camera.principal_point(image_size)
    local = rotations.axis_angle_to_matrix(pose_aa)
    for bones in REAIM_ORDER:
        joints, global_rot = kinematics.forward_kinematics(local, rest, SMPL_PARENTS)
        joints = joints + offset
        for parent, child, landmark in bones:
            rays = camera.pixel_rays(keypoints[:, landmark, :2], focal_px, principal)
            target = aimed_child(joints[:, parent], joints[:, child], rays)
            usable = keypoints[:, landmark, 2] >= MIN_CONFIDENCE
            shift = np.where(usable[:, None], strength * (target - joints[:, child]), 0.0)
            if smoothing_frames > 0 and len(shift) > 1:
                shift = gaussian_filter1d(shift, smoothing_frames, axis=0, mode="nearest")
            turn = swing_rotation(joints[:, child] - joints[:, parent], joints[:, child] + shift - joints[:, parent])
            turned = turn @ global_rot[:, parent]
            local[:, parent] = np.swapaxes(global_rot[:, SMPL_PARENTS[parent]], -1, -2) @ turned
            local[:, child] = np.swapaxes(turned, -1, -2) @ global_rot[:, child]  # the child keeps its orientation
    return rotations.matrix_to_axis_angle(local)
