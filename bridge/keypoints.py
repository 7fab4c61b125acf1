"""Keypoint sets: MediaPipe's 33 pose landmarks and the lifter's 19-joint input (COCO-17 + pelvis + neck).

Defined once here and used by the detector, the synthetic-data generator and the model, so training
inputs and inference inputs are built by the same code. Pure numpy.
"""
from __future__ import annotations

import numpy as np

MEDIAPIPE_LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
NUM_MEDIAPIPE = 33

COCO19_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "pelvis", "neck",
)
NUM_COCO19 = 19
#: MediaPipe index of each COCO-17 joint (the first 17 entries of COCO19_NAMES).
COCO17_FROM_MEDIAPIPE: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
#: COCO19 bones for the lifter's skeleton (parent, child), used by the bone-length representation.
COCO19_BONES: tuple[tuple[int, int], ...] = (
    (17, 11), (17, 12), (11, 13), (13, 15), (12, 14), (14, 16), (17, 18), (18, 5), (18, 6),
    (5, 7), (7, 9), (6, 8), (8, 10), (18, 0), (0, 1), (0, 2), (1, 3), (2, 4))
COCO19_FLIP: tuple[int, ...] = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 17, 18)
MEDIAPIPE_FLIP: tuple[int, ...] = (
    0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21,
    24, 23, 26, 25, 28, 27, 30, 29, 32, 31)
#: Limb landmark -> its parent landmark (the direction parent -> landmark runs along the limb).
MEDIAPIPE_LIMB_PARENT: dict[int, int] = {13: 11, 14: 12, 15: 13, 16: 14, 17: 15, 19: 15, 21: 15, 18: 16, 20: 16,
                                         22: 16, 25: 23, 26: 24, 27: 25, 28: 26, 29: 27, 30: 28, 31: 27, 32: 28}
#: +1 for the person's left side, -1 for the right, +1 for the nose and other centre-line landmarks.
MEDIAPIPE_SIDE = np.array([-1.0 if "right" in name else 1.0 for name in MEDIAPIPE_LANDMARK_NAMES])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def mediapipe_limb_directions(points: np.ndarray) -> np.ndarray:
    """(F, 33, D) landmarks -> (F, 33, D) unit parent -> landmark directions (zero where a landmark has no
    parent in MEDIAPIPE_LIMB_PARENT)."""
    points = np.asarray(points, np.float64)
    out = np.zeros_like(points)
    for child, parent in MEDIAPIPE_LIMB_PARENT.items():
        out[:, child] = _unit(points[:, child] - points[:, parent])
    return out


def mediapipe_body_frame_2d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(F, 33, 2) image landmarks -> the body's 2D frame in each frame: torso length (F, 1) px (hip midpoint to
    shoulder midpoint, at least 1e-9), up (F, 2) towards the shoulders, left (F, 2) across it towards the
    person's left, and width (F, 1) px, how far shoulders and hips spread along `left` (near 0 side-on, where
    `left` cannot be told from right)."""
    points = np.asarray(points, np.float64)
    hips, shoulders = 0.5 * (points[:, 23] + points[:, 24]), 0.5 * (points[:, 11] + points[:, 12])
    torso = np.maximum(np.linalg.norm(shoulders - hips, axis=-1, keepdims=True), 1e-9)
    up = _unit(shoulders - hips)
    perp = np.stack([up[:, 1], -up[:, 0]], axis=-1)
    width = np.sum(perp * (points[:, 11] + points[:, 23] - points[:, 12] - points[:, 24]), axis=-1, keepdims=True)
    return torso, up, perp * np.sign(width), np.abs(width)


def mediapipe_to_coco19(landmarks: np.ndarray, last_is_confidence: bool = False) -> np.ndarray:
    """(..., 33, C) MediaPipe landmarks -> (..., 19, C): COCO-17, then pelvis and neck as hip/shoulder midpoints.

    All channels pass through; with `last_is_confidence`, a midpoint's confidence is the lower of its two
    ends rather than their mean, so one missed hip makes the pelvis weak too.
    """
    lm = np.asarray(landmarks)
    coco = lm[..., list(COCO17_FROM_MEDIAPIPE), :]
    pelvis = 0.5 * (lm[..., 23, :] + lm[..., 24, :])
    neck = 0.5 * (lm[..., 11, :] + lm[..., 12, :])
    if last_is_confidence:
        pelvis[..., -1] = np.minimum(lm[..., 23, -1], lm[..., 24, -1])
        neck[..., -1] = np.minimum(lm[..., 11, -1], lm[..., 12, -1])
    return np.concatenate([coco, pelvis[..., None, :], neck[..., None, :]], axis=-2)


def normalize_screen(xy_px: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixel coordinates -> the lifter's normalised screen space: x in [-1, 1], y scaled by the same factor.

    As in the paper's lineage (VideoPose3D/MotionBERT): both axes are divided by width, so aspect is kept.
    """
    xy = np.asarray(xy_px, dtype=np.float32)
    out = xy / float(width) * 2.0
    out[..., 0] -= 1.0
    out[..., 1] -= float(height) / float(width)
    return out


def denormalize_screen(xy_norm: np.ndarray, width: int, height: int) -> np.ndarray:
    """Inverse of normalize_screen."""
    xy = np.array(xy_norm, dtype=np.float32, copy=True)
    xy[..., 0] += 1.0
    xy[..., 1] += float(height) / float(width)
    return xy * float(width) / 2.0


#: MediaPipe landmark indices averaged for each SMPL joint (the spine and collars are interpolated below).
_MP_FOR_SMPL = {0: (23, 24), 1: (23,), 2: (24,), 4: (25,), 5: (26,), 7: (27,), 8: (28,), 10: (31,), 11: (32,),
                12: (11, 12), 15: (7, 8), 16: (11,), 17: (12,), 18: (13,), 19: (14,), 20: (15,), 21: (16,),
                22: (17, 19), 23: (18, 20)}


def mediapipe_world_to_smpl_joints(world: np.ndarray) -> np.ndarray:
    """MediaPipe world landmarks (..., 33, 3) -> 24 SMPL-ordered joints (..., 24, 3), the baseline skeleton.

    Direct correspondences (hips, knees, ankles, toes, shoulders, elbows, wrists; hands = mean of index and
    pinky; head = mean of the ears; pelvis and neck = midpoints); spine1-3 at 1/4, 1/2, 3/4 from pelvis to
    neck, collars halfway from the neck to each shoulder.
    """
    joints = np.zeros(world.shape[:-2] + (24, 3), dtype=np.float64)
    for joint, landmarks in _MP_FOR_SMPL.items():
        joints[..., joint, :] = world[..., list(landmarks), :].mean(axis=-2)
    for joint, fraction in ((3, 0.25), (6, 0.5), (9, 0.75)):
        joints[..., joint, :] = joints[..., 0, :] + fraction * (joints[..., 12, :] - joints[..., 0, :])
    joints[..., 13, :] = 0.5 * (joints[..., 12, :] + joints[..., 16, :])
    joints[..., 14, :] = 0.5 * (joints[..., 12, :] + joints[..., 17, :])
    return joints
