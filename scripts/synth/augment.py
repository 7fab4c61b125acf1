"""Horizontal-flip augmentation of a synthetic clip (or a window of one), done so labels stay consistent.

Mirroring the image (x_px -> W - x_px, principal point at the centre) mirrors camera space in its x axis,
M = diag(-1, 1, 1). Left and right swap names: landmarks through MEDIAPIPE_FLIP, SMPL joints through
SMPL_FLIP_PAIRS. A rotation R becomes M R M, which for axis-angle (x, y, z) is (x, -y, -z); this holds for
the root orientation in camera space and for every local rotation because SMPL's body frame has its x
axis left-right too. SMPL's `transl` is not mirrored directly: the pelvis is (joints_3d[0] = J0 + transl),
so transl' = M (J0 + transl) - J0 with J0 = joints_3d[0] - transl. The body model is left/right
symmetric, so β is unchanged and the flipped clip is exactly what the mirrored person would produce.
Applying the flip twice gives back the input. numpy only.
"""
from __future__ import annotations

import numpy as np

from bridge.keypoints import MEDIAPIPE_FLIP
from bridge.skeleton import NUM_JOINTS, SMPL_FLIP_PAIRS

_MIRROR = np.array([-1.0, 1.0, 1.0], dtype=np.float32)
_AA_MIRROR = np.array([1.0, -1.0, -1.0], dtype=np.float32)


def smpl_flip_permutation() -> np.ndarray:
    """(24,) joint index of each joint's mirror image."""
    perm = np.arange(NUM_JOINTS)
    for a, b in SMPL_FLIP_PAIRS:
        perm[a], perm[b] = b, a
    return perm


_SMPL_FLIP = smpl_flip_permutation()
_MP_FLIP = np.array(MEDIAPIPE_FLIP)


def flip_pose_aa(pose_aa: np.ndarray) -> np.ndarray:
    """(..., 24, 3) SMPL axis-angle of a body -> that of its mirror image."""
    return pose_aa[..., _SMPL_FLIP, :] * _AA_MIRROR


def flip_clip(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Mirror every per-frame array of a clip dict (the clip file's keys; others pass through).

    Needs `image_size` for the pixel arrays and `joints_3d` with `trans_m` for the translation."""
    out = dict(data)
    width = float(np.asarray(data["image_size"])[0]) if "image_size" in data else None
    for key in ("mp_image", "mp_image_clean"):
        if key in data:
            if width is None:
                raise KeyError("flipping pixel landmarks needs image_size")
            arr = np.array(data[key][..., _MP_FLIP, :], copy=True)
            arr[..., 0] = width - arr[..., 0]
            out[key] = arr
    for key in ("mp_world", "mp_world_clean"):
        if key in data:
            out[key] = data[key][..., _MP_FLIP, :] * _MIRROR
    if "pose_aa" in data:
        out["pose_aa"] = flip_pose_aa(data["pose_aa"])
    if "joints_3d" in data:
        out["joints_3d"] = data["joints_3d"][..., _SMPL_FLIP, :] * _MIRROR
    if "trans_m" in data:
        pelvis_rest = data["joints_3d"][..., 0, :] - data["trans_m"]
        out["trans_m"] = data["joints_3d"][..., 0, :] * _MIRROR - pelvis_rest
    return out
