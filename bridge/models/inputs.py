"""Network inputs built from MediaPipe output, in numpy, so training data and live inference share one code path.

Image landmarks are (..., 33, 4) [x_px, y_px, visibility, presence]; world landmarks (..., 33, 3) are
MediaPipe's metric, hip-centred estimate (metres, y down like the image).
"""
from __future__ import annotations

import numpy as np

from ..keypoints import mediapipe_to_coco19, normalize_screen

#: Width of the per-frame landmark vector (landmark_frame_vector); the world part (33 normalised world
#: landmarks and the log torso length) starts at WORLD_SLICE.start.
LANDMARK_VECTOR_DIM = 33 * 4 + 33 * 3 + 1
WORLD_SLICE = slice(33 * 4, LANDMARK_VECTOR_DIM)
_LEFT_HIP, _RIGHT_HIP, _LEFT_SHOULDER, _RIGHT_SHOULDER = 23, 24, 11, 12


def _confidence(image_landmarks: np.ndarray) -> np.ndarray:
    """Per-landmark confidence in [0, 1]: visible AND present in the frame."""
    return np.clip(image_landmarks[..., 2] * image_landmarks[..., 3], 0.0, 1.0)


def lifter_keypoints(image_landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(..., 33, 4) MediaPipe image landmarks -> the lifter's (..., 19, 3) [x_norm, y_norm, confidence].

    COCO-17 + pelvis + neck (bridge.keypoints), screen-normalised by image width.
    """
    lm = np.asarray(image_landmarks, dtype=np.float32)
    width, height = image_size
    xyc = np.concatenate([lm[..., :2], _confidence(lm)[..., None]], axis=-1)
    coco = mediapipe_to_coco19(xyc, last_is_confidence=True)
    coco[..., :2] = normalize_screen(coco[..., :2], width, height)
    return coco.astype(np.float32)


def normalized_world(world_landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hip-centred world landmarks divided by the torso length (hip centre to shoulder centre).

    Returns (normalised (..., 33, 3), torso length (...,) metres). Scale is taken out so the vector
    describes the pose, and handed back separately so size is not lost.
    """
    w = np.asarray(world_landmarks, dtype=np.float32)
    hips = 0.5 * (w[..., _LEFT_HIP, :] + w[..., _RIGHT_HIP, :])
    shoulders = 0.5 * (w[..., _LEFT_SHOULDER, :] + w[..., _RIGHT_SHOULDER, :])
    torso = np.maximum(np.linalg.norm(shoulders - hips, axis=-1), 1e-3)
    return (w - hips[..., None, :]) / torso[..., None, None], torso


def landmark_frame_vector(image_landmarks: np.ndarray, world_landmarks: np.ndarray,
                          image_size: tuple[int, int]) -> np.ndarray:
    """Everything MediaPipe says about one frame as a (..., 232) vector: the 'landmarks' feature source's input.

    [33 x (x_norm, y_norm, visibility, presence)] + [33 x normalised world xyz] + [log torso length].
    Hands, heels, toes and the face carry the twist cues that the 19 lifter joints lack.
    """
    lm = np.asarray(image_landmarks, dtype=np.float32)
    width, height = image_size
    image = np.concatenate([normalize_screen(lm[..., :2], width, height), lm[..., 2:4]], axis=-1)
    world, torso = normalized_world(world_landmarks)
    lead = lm.shape[:-2]
    return np.concatenate([image.reshape(*lead, 33 * 4), world.reshape(*lead, 33 * 3),
                           np.log(torso)[..., None]], axis=-1).astype(np.float32)
