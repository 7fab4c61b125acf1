"""Pose and mesh accuracy metrics for evaluation, pure numpy, all in the input's unit (metres in, metres out).

Joint sets: no licensed Human3.6M joint regressor is available, so evaluation uses the 24 SMPL joints and
a 14-joint LSP-style subset of them (LSP14_FROM_SMPL: ankles, knees, hips, wrists, elbows, shoulders, neck,
and SMPL's head joint standing in for LSP's head top). Conventions follow the HMR literature:
- MPJPE: mean joint distance after aligning the roots (pelvis) of prediction and truth; on the 14 LSP
  joints, which have no pelvis, the root is the hips' midpoint (`mpjpe14`);
- PA-MPJPE: mean joint distance after the best similarity transform (scale, rotation, translation;
  Umeyama/Procrustes) of each predicted frame onto the truth;
- MPVPE: mean vertex distance after aligning the pelvis joints;
- MPJPE-14's split by camera axis (`mpjpe14_axes`): the mean depth part |dz| and the mean image-plane part
  |(dx, dy)| of the same hip-aligned errors, because a single camera sees the second and guesses the first;
- the limb bones' depth order (`depth_order_errors`): how often a limb that clearly reaches towards the camera
  is answered reaching away, or the reverse, the guess one picture leaves open;
- Accel error: mean over frames and joints of |second difference of prediction - that of truth|
  (unit per frame², e.g. mm/frame²), on consecutive frames of one clip; `accel14` on the hip-aligned LSP
  joints, so a baseline without a pelvis joint is measured on the same points.
"""
from __future__ import annotations

import numpy as np

from .geometry.analytic_ik import twist_angles_from_rotmats
from .skeleton import LIMB_BONES, SMPL_PARENTS

#: LSP order: r_ankle, r_knee, r_hip, l_hip, l_knee, l_ankle, r_wrist, r_elbow, r_shoulder, l_shoulder,
#: l_elbow, l_wrist, neck, head (SMPL 'head' joint in place of LSP's head top).
LSP14_FROM_SMPL: tuple[int, ...] = (8, 5, 2, 1, 4, 7, 21, 19, 17, 16, 18, 20, 12, 15)
#: A limb bone's depth order is scored where its true depth span exceeds this share of its length: a bone
#: nearly side-on to the camera has no order worth the name.
CLEAR_DEPTH_SHARE = 0.3


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64), axis=-1)


def mpjpe(pred: np.ndarray, gt: np.ndarray, root: int = 0) -> float:
    """Root-aligned mean per-joint position error; pred, gt (..., J, 3)."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    return float(_distances(pred - pred[..., root:root + 1, :], gt - gt[..., root:root + 1, :]).mean())


def lsp14_hip_aligned(joints24: np.ndarray) -> np.ndarray:
    """(..., 24, 3) SMPL joints -> (..., 14, 3) LSP joints relative to the hips' midpoint (SMPL joints 1, 2)."""
    joints24 = np.asarray(joints24, dtype=np.float64)
    hips = 0.5 * (joints24[..., 1:2, :] + joints24[..., 2:3, :])
    return joints24[..., list(LSP14_FROM_SMPL), :] - hips


def mpjpe14(pred24: np.ndarray, gt24: np.ndarray) -> float:
    """MPJPE on the 14 LSP joints after aligning the hips' midpoints; pred24, gt24 (..., 24, 3) SMPL joints.

    Not `mpjpe` on the subset: that would re-centre on LSP joint 0, the right ankle."""
    return float(_distances(lsp14_hip_aligned(pred24), lsp14_hip_aligned(gt24)).mean())


def mpjpe14_axes(pred24: np.ndarray, gt24: np.ndarray) -> tuple[float, float]:
    """(mean |depth error|, mean image-plane error) of the hip-aligned LSP joints, camera-space (..., 24, 3)
    inputs (z along the optical axis). Which of the two a pose error lives in says whether 2D evidence
    could correct it."""
    error = lsp14_hip_aligned(pred24) - lsp14_hip_aligned(gt24)
    return float(np.abs(error[..., 2]).mean()), float(np.linalg.norm(error[..., :2], axis=-1).mean())


def limb_depth_spans(joints24: np.ndarray) -> np.ndarray:
    """(..., 24, 3) camera-space SMPL joints -> (..., 8) each LIMB_BONES bone's child depth minus its parent's."""
    joints24 = np.asarray(joints24, dtype=np.float64)
    parents, children = (list(side) for side in zip(*LIMB_BONES))
    return joints24[..., children, 2] - joints24[..., parents, 2]


def clear_limb_bones(gt24: np.ndarray) -> np.ndarray:
    """(..., 24, 3) camera-space SMPL joints -> (..., 8) whether each LIMB_BONES bone's depth span exceeds
    CLEAR_DEPTH_SHARE of its length: the bones whose depth order is scored."""
    gt24 = np.asarray(gt24, dtype=np.float64)
    parents, children = (list(side) for side in zip(*LIMB_BONES))
    lengths = _distances(gt24[..., children, :], gt24[..., parents, :])
    return np.abs(limb_depth_spans(gt24)) > CLEAR_DEPTH_SHARE * lengths


def wrong_limb_orders(pred24: np.ndarray, gt24: np.ndarray) -> np.ndarray:
    """(..., 8) whether each LIMB_BONES bone is clear (clear_limb_bones) and the prediction points it the other
    way along the optical axis; camera-space (..., 24, 3) SMPL joints."""
    wrong = np.sign(limb_depth_spans(pred24)) != np.sign(limb_depth_spans(gt24))
    return clear_limb_bones(gt24) & wrong


def depth_order_errors(pred24: np.ndarray, gt24: np.ndarray) -> tuple[int, int]:
    """(limb bones whose true depth span exceeds CLEAR_DEPTH_SHARE of their length, of those the ones the
    prediction points the other way along the optical axis); camera-space (..., 24, 3) SMPL joints.

    A limb reaching towards the camera and one reaching away draw nearly the same picture, so the order is a
    guess that 2D evidence cannot check; only the two joints' depths along each bone count."""
    return int(clear_limb_bones(gt24).sum()), int(wrong_limb_orders(pred24, gt24).sum())


def pa_mpjpe14(pred24: np.ndarray, gt24: np.ndarray) -> float:
    """PA-MPJPE on the 14 LSP joints; pred24, gt24 (..., 24, 3) SMPL joints."""
    return pa_mpjpe(lsp14_hip_aligned(pred24), lsp14_hip_aligned(gt24))


def turn_aligned14(pred24: np.ndarray, gt24: np.ndarray) -> tuple[float, np.ndarray]:
    """(MPJPE-14 after turning each predicted frame's hip-aligned LSP joints about the hips' midpoint to fit
    the truth best, each frame's angle of that turn in radians (...,)); pred24, gt24 (..., 24, 3).

    Why: it splits MPJPE-14 into the whole body's orientation (a heading or lean that one camera can only
    guess) and the articulation, without PA's scale and re-centring."""
    pred, gt = lsp14_hip_aligned(pred24), lsp14_hip_aligned(gt24)
    turn, _ = best_rotation(pred, gt)
    aligned = pred @ np.swapaxes(turn, -1, -2)
    angle = np.arccos(np.clip((np.trace(turn, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0))
    return float(_distances(aligned, gt).mean()), angle


def slow_turn_aligned14(pred24: np.ndarray, gt24: np.ndarray, half_frames: int) -> float:
    """MPJPE-14 after turning each frame about the hips' midpoint by the one rotation that best fits all frames
    within half_frames of it; pred24, gt24 (F, 24, 3) consecutive frames.

    Why: Turned-14 fits a turn to every frame, so it cannot tell an orientation error held for a second or
    more (a lean or heading that a fix working over time, such as the floor or the clip's average, could
    reach) from one that changes from moment to moment; this keeps only the slow part out."""
    pred, gt = lsp14_hip_aligned(pred24), lsp14_hip_aligned(gt24)
    frames = len(pred)
    summed = np.concatenate([np.zeros((1, 3, 3)), np.cumsum(np.swapaxes(gt, -1, -2) @ pred, axis=0)])
    index = np.arange(frames)
    window = summed[np.minimum(index + half_frames + 1, frames)] - summed[np.maximum(index - half_frames, 0)]
    turn, _ = _rotation_from_covariance(window)
    return float(_distances(pred @ np.swapaxes(turn, -1, -2), gt).mean())


def accel14(pred24: np.ndarray, gt24: np.ndarray) -> float:
    """Accel error on the 14 hip-aligned LSP joints; pred24, gt24 (F, 24, 3) consecutive frames, F >= 3."""
    return accel_error(lsp14_hip_aligned(pred24), lsp14_hip_aligned(gt24))


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Similarity transform of each pred (..., J, 3) that best fits gt (least squares), applied to pred."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    mu_pred, mu_gt = pred.mean(axis=-2, keepdims=True), gt.mean(axis=-2, keepdims=True)
    x, y = pred - mu_pred, gt - mu_gt
    rotation, fit = best_rotation(x, y)
    scale = fit / np.maximum((x ** 2).sum(axis=(-1, -2)), 1e-300)
    return scale[..., None, None] * x @ np.swapaxes(rotation, -1, -2) + mu_gt


def best_rotation(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The proper rotation R (..., 3, 3) minimising Σ |R x_k - y_k|² for point sets (..., J, 3), and
    trace(R Σ x_k y_kᵀ) (...,), which sets the least-squares scale of a similarity fit."""
    return _rotation_from_covariance(np.swapaxes(y, -1, -2) @ x)


def _rotation_from_covariance(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """best_rotation from Σ y_k x_kᵀ (..., 3, 3), which sums over several frames' joints as over one's."""
    u, sigma, vh = np.linalg.svd(covariance)  # Σ y_k x_kᵀ = U S Vᵀ
    d = np.ones_like(sigma)
    d[..., -1] = np.sign(np.linalg.det(u @ vh))
    return u @ (d[..., :, None] * vh), (sigma * d).sum(axis=-1)


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """Procrustes-aligned (similarity) mean per-joint position error; pred, gt (..., J, 3)."""
    return float(_distances(procrustes_align(pred, gt), gt).mean())


def mpvpe(pred_vertices: np.ndarray, gt_vertices: np.ndarray, pred_pelvis: np.ndarray,
          gt_pelvis: np.ndarray) -> float:
    """Pelvis-aligned mean per-vertex error; vertices (..., V, 3), pelvis joints (..., 3)."""
    pred = np.asarray(pred_vertices, dtype=np.float64) - np.asarray(pred_pelvis, dtype=np.float64)[..., None, :]
    gt = np.asarray(gt_vertices, dtype=np.float64) - np.asarray(gt_pelvis, dtype=np.float64)[..., None, :]
    return float(_distances(pred, gt).mean())


def second_difference(sequence: np.ndarray) -> np.ndarray:
    """x[t+1] - 2 x[t] + x[t-1] along axis 0: (F, ...) -> (F - 2, ...)."""
    x = np.asarray(sequence, dtype=np.float64)
    return x[2:] - 2.0 * x[1:-1] + x[:-2]


def accel_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean per-joint norm of (pred acceleration - true acceleration); pred, gt (F, J, 3) consecutive frames, F >= 3."""
    if np.shape(pred)[0] < 3:
        raise ValueError("accel_error needs at least 3 consecutive frames")
    return float(np.linalg.norm(second_difference(pred) - second_difference(gt), axis=-1).mean())


def rotation_angle_error(pred_rotmats: np.ndarray, gt_rotmats: np.ndarray) -> np.ndarray:
    """Geodesic angle between rotations, radians; (..., 3, 3) -> (...)."""
    relative = np.swapaxes(np.asarray(pred_rotmats, dtype=np.float64), -1, -2) @ np.asarray(gt_rotmats, np.float64)
    cos = (np.trace(relative, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.arccos(np.clip(cos, -1.0, 1.0))


def twist_error(pred_rotmats: np.ndarray, gt_rotmats: np.ndarray, rest_joints: np.ndarray) -> np.ndarray:
    """|twist_pred - twist_true| about each non-root joint's rest bone (bridge.geometry.analytic_ik), radians.

    pred_rotmats, gt_rotmats (..., 24, 3, 3) local; rest_joints (24, 3) -> (..., 23) in [0, π].
    """
    pred = twist_angles_from_rotmats(np.asarray(pred_rotmats, np.float64), rest_joints, SMPL_PARENTS)
    gt = twist_angles_from_rotmats(np.asarray(gt_rotmats, np.float64), rest_joints, SMPL_PARENTS)
    return np.abs(np.angle(np.exp(1j * (pred - gt))))
