"""Left/right mirroring of landmarks, SMPL joints and rotations, shared by training augmentation and the
bridge's flip-averaged inference.

Mirroring the image (x_px -> W - x_px, principal point at the centre) mirrors camera space in its x axis,
M = diag(-1, 1, 1), and swaps left and right names: landmarks through MEDIAPIPE_FLIP, SMPL joints through
SMPL_FLIP_PAIRS. A rotation R becomes M R M, which for axis-angle (x, y, z) is (x, -y, -z); this holds for
the root orientation in camera space and for every local rotation, because SMPL's body frame has its x axis
left-right too. Every function is its own inverse and works on numpy arrays; the point and rotation ones on
torch tensors as well.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .keypoints import MEDIAPIPE_FLIP
from .skeleton import NUM_JOINTS, SMPL_FLIP_PAIRS


def smpl_flip_permutation() -> np.ndarray:
    """(24,) joint index of each joint's mirror image."""
    perm = np.arange(NUM_JOINTS)
    for a, b in SMPL_FLIP_PAIRS:
        perm[a], perm[b] = b, a
    return perm


SMPL_FLIP = smpl_flip_permutation()
MP_FLIP = np.array(MEDIAPIPE_FLIP)
MIRROR = np.array([-1.0, 1.0, 1.0], dtype=np.float32)  # M's diagonal
AA_MIRROR = np.array([1.0, -1.0, -1.0], dtype=np.float32)  # axis-angle of M R M, per component
MATRIX_MIRROR = np.outer(MIRROR, MIRROR)  # (M R M)_ij = m_i m_j R_ij


def mirror_image_landmarks(image: np.ndarray, width: float) -> np.ndarray:
    """(..., 33, C>=2) pixel landmarks (x, y, ...) -> those of the mirrored image `width` px wide."""
    out = np.array(image[..., MP_FLIP, :], copy=True)
    out[..., 0] = width - out[..., 0]
    return out


def mirror_world_landmarks(world: np.ndarray) -> np.ndarray:
    """(..., 33, 3) camera-axes landmarks -> the mirror image's."""
    return world[..., MP_FLIP, :] * MIRROR


def mirror_smpl_points(joints: Any) -> Any:
    """(..., 24, 3) SMPL joints in camera axes -> the mirror image's (numpy or torch)."""
    return joints[..., SMPL_FLIP, :] * _like(MIRROR, joints)


def mirror_pose_aa(pose_aa: Any) -> Any:
    """(..., 24, 3) SMPL axis-angle -> the mirror image's (numpy or torch)."""
    return pose_aa[..., SMPL_FLIP, :] * _like(AA_MIRROR, pose_aa)


def mirror_rotmats(rotmats: Any) -> Any:
    """(..., 24, 3, 3) SMPL rotation matrices -> the mirror image's (numpy or torch)."""
    return rotmats[..., SMPL_FLIP, :, :] * _like(MATRIX_MIRROR, rotmats)


def _like(constant: np.ndarray, reference: Any) -> Any:
    """`constant` as the same kind of array as `reference` (torch tensors get a tensor on their device)."""
    if isinstance(reference, np.ndarray):
        return constant.astype(reference.dtype)
    import torch

    return torch.as_tensor(constant, dtype=reference.dtype, device=reference.device)
