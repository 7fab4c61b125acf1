"""Root translation in metres: a perspective fit of the predicted (root-relative) 3D joints to the 2D keypoints.

Pure numpy. The model predicts joints relative to the pelvis, already in camera axes (OpenCV: x right,
y down, z forward). With the rotation fixed (R = I), the pinhole projection of joint X + t,
    u = f (X_x + t_x) / (X_z + t_z) + c_x,   v = f (X_y + t_y) / (X_z + t_z) + c_y,
becomes LINEAR in t after multiplying out the denominator (the step from weak to full perspective used by
SPIN/PARE-style camera fits):
    t_x - a t_z = a X_z - X_x,   a = (u - c_x) / f        (and the same for y with b = (v - c_y) / f).
Each equation is in metres, so keypoint confidences weight them directly. Depth (t_z) is the weakly
determined part (it rests on the person's image size), so the fit adds an optional temporal term
sum_axis lambda_axis (t_{k+1} - t_k)_axis^2, each lambda scaled to how strongly the keypoints fix that
axis, and solves the whole clip at once as one block-tridiagonal system: a
smoothness prior, not a filter applied afterwards, so frames with confident keypoints keep their fit.
Frames with no usable keypoints are bridged by that term (or linearly interpolated when lambda = 0).
A few iteratively reweighted (Huber) re-fits then discount landmarks that disagree with the 3D pose
(a misplaced wrist would otherwise make the person look bigger, so nearer, than they are).
"""
from __future__ import annotations

import math

import numpy as np

DEFAULT_FOV_DEG = 55.0
#: Default weight of the temporal term, relative to one frame's keypoint information per axis.
DEFAULT_SMOOTHNESS = 4.0

#: Huber threshold of the robust re-fit, as a fraction of the person's height in the image.
HUBER_SCALE = 0.05
ROBUST_ITERATIONS = 3
#: Depth (m) in front of the camera below which a point counts as at or behind it.
MIN_DEPTH_M = 1e-3

#: (SMPL joint, MediaPipe landmark) pairs that mark the same anatomical point.
SMPL_MEDIAPIPE_PAIRS: tuple[tuple[int, int], ...] = (
    (1, 23), (2, 24),    # hips
    (4, 25), (5, 26),    # knees
    (7, 27), (8, 28),    # ankles
    (16, 11), (17, 12),  # shoulders
    (18, 13), (19, 14),  # elbows
    (20, 15), (21, 16),  # wrists
)


def focal_from_fov(side_px: int, fov_deg: float = DEFAULT_FOV_DEG) -> float:
    """Focal length in px for a field of view across an image side of `side_px`: f = 0.5 side / tan(fov / 2)."""
    if not 0.0 < fov_deg < 180.0:
        raise ValueError(f"field of view must be between 0 and 180 degrees, got {fov_deg}")
    return 0.5 * float(side_px) / math.tan(math.radians(fov_deg) / 2.0)


def focal_for_frame(image_size: tuple[int, int], fov_deg: float = DEFAULT_FOV_DEG) -> float:
    """Focal length in px for a field of view across the frame's long side, (width, height) px.

    Why the long side: a camera keeps its lens when it is turned to film portrait, so one angle describes it in
    both orientations, as Blender's camera (sensor fit Auto) and the training cameras (scripts/synth/camera.py)
    take it. Read across the width instead, the default 55 degrees on a portrait phone video meant a lens about 85
    degrees wide along its height, wider than any camera the network trained on."""
    return focal_from_fov(max(int(image_size[0]), int(image_size[1])), fov_deg)


def principal_point(image_size: tuple[int, int]) -> tuple[float, float]:
    """Image centre (c_x, c_y) in px for (width, height)."""
    return 0.5 * float(image_size[0]), 0.5 * float(image_size[1])


def project(points_cam: np.ndarray, focal_px: float, principal_px: tuple[float, float]) -> np.ndarray:
    """(..., 3) camera-space points (metres, z > 0) -> (..., 2) pixels."""
    p = np.asarray(points_cam, dtype=np.float64)
    z = p[..., 2:3]
    return focal_px * p[..., :2] / z + np.asarray(principal_px, dtype=np.float64)


def pixel_rays(keypoints_px: np.ndarray, focal_px: float, principal_px: tuple[float, float]) -> np.ndarray:
    """(..., 2) pixels -> (..., 3) unit directions from the camera centre through them (camera axes)."""
    xy = (np.asarray(keypoints_px, dtype=np.float64) - np.asarray(principal_px, dtype=np.float64)) / float(focal_px)
    rays = np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1)
    return rays / np.linalg.norm(rays, axis=-1, keepdims=True)


def correspondences(joints_rel: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair SMPL joints with MediaPipe landmarks.

    joints_rel (F, 24, 3) root-relative metres; landmarks (F, 33, 3) [x_px, y_px, confidence]
    -> points (F, K, 3), keypoints_px (F, K, 2), weights (F, K) with K = len(SMPL_MEDIAPIPE_PAIRS).
    """
    smpl_idx = [s for s, _ in SMPL_MEDIAPIPE_PAIRS]
    mp_idx = [m for _, m in SMPL_MEDIAPIPE_PAIRS]
    lm = np.asarray(landmarks, dtype=np.float64)
    return (np.asarray(joints_rel, dtype=np.float64)[:, smpl_idx], lm[:, mp_idx, :2],
            np.clip(lm[:, mp_idx, 2], 0.0, 1.0))


def _normal_equations(points: np.ndarray, keypoints_px: np.ndarray, weights: np.ndarray, focal_px: float,
                      principal_px: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame normal equations of the linear perspective fit -> (F, 3, 3) matrices, (F, 3) right sides."""
    frames, k = weights.shape
    ab = (keypoints_px - np.asarray(principal_px)) / focal_px  # (F, K, 2): a, b
    rows = np.zeros((frames, k, 2, 3))
    rows[..., 0, 0] = 1.0
    rows[..., 1, 1] = 1.0
    rows[..., :, 2] = -ab
    rhs = ab * points[..., 2:3] - points[..., :2]  # (F, K, 2)
    w = weights[..., None]
    lhs = np.einsum("fkri,fkr,fkrj->fij", rows, np.broadcast_to(w, rhs.shape), rows)
    vec = np.einsum("fkri,fkr,fkr->fi", rows, np.broadcast_to(w, rhs.shape), rhs)
    return lhs, vec


def _solve_block_tridiagonal(lhs: np.ndarray, vec: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Solve (blockdiag(lhs) + L (x) diag(lam)) t = vec, L the path-graph Laplacian over frames (block Thomas).

    lhs (F, 3, 3), vec (F, 3), lam (3,) per-axis weights of the temporal term -> t (F, 3).
    """
    frames = lhs.shape[0]
    degree = np.full(frames, 2.0)
    degree[[0, -1]] = 1.0
    if frames == 1:
        degree[0] = 0.0
    lam_mat = np.diag(lam)
    upper = np.empty((frames, 3, 3))  # C'_k
    shifted = np.empty((frames, 3))    # d'_k
    prev_c, prev_d = np.zeros((3, 3)), np.zeros(3)
    for k in range(frames):
        m_inv = np.linalg.inv(lhs[k] + degree[k] * lam_mat + lam_mat @ prev_c)
        prev_c = upper[k] = -m_inv @ lam_mat
        prev_d = shifted[k] = m_inv @ (vec[k] + lam_mat @ prev_d)
    out = np.empty((frames, 3))
    out[-1] = shifted[-1]
    for k in range(frames - 2, -1, -1):
        out[k] = shifted[k] - upper[k] @ out[k + 1]
    return out


def _solve(points: np.ndarray, keypoints_px: np.ndarray, weights: np.ndarray, focal_px: float,
           principal_px: tuple[float, float], smoothness: float) -> np.ndarray:
    """One weighted fit (see fit_translation) -> (F, 3)."""
    lhs, vec = _normal_equations(points, keypoints_px, weights, focal_px, principal_px)
    # A frame constrains t only with >= 2 weighted keypoints (one point fixes a ray, not a depth).
    usable = (np.count_nonzero(weights > 1e-6, axis=1) >= 2) & (np.linalg.det(lhs) > 1e-12)
    if not usable.any():
        raise ValueError("no frame has two or more confident keypoints to place the person in the camera")
    if smoothness > 0.0:
        lam = smoothness * np.median(np.diagonal(lhs[usable], axis1=1, axis2=2), axis=0)
        lhs = np.where(usable[:, None, None], lhs, 0.0)
        vec = np.where(usable[:, None], vec, 0.0)
        return _solve_block_tridiagonal(lhs, vec, lam)
    out = np.zeros((len(weights), 3))
    out[usable] = np.linalg.solve(lhs[usable], vec[usable][..., None])[..., 0]
    if not usable.all():
        frames = np.arange(len(weights))
        for axis in range(3):
            out[~usable, axis] = np.interp(frames[~usable], frames[usable], out[usable, axis])
    return out


def _huber_weights(points: np.ndarray, keypoints_px: np.ndarray, weights: np.ndarray, trans: np.ndarray,
                   focal_px: float, principal_px: tuple[float, float]) -> np.ndarray:
    """Keypoint weights scaled by min(1, c / reprojection error), c = HUBER_SCALE x the person's height in px."""
    cam = points + trans[:, None]
    in_front = cam[..., 2] > MIN_DEPTH_M
    uv = project(np.where(in_front[..., None], cam, 1.0), focal_px, principal_px)
    residual = np.where(in_front, np.linalg.norm(uv - keypoints_px, axis=-1), np.inf)
    seen = weights > 1e-6
    top = np.where(seen, keypoints_px[..., 1], np.inf).min(axis=1)
    bottom = np.where(seen, keypoints_px[..., 1], -np.inf).max(axis=1)
    height = np.where(seen.any(axis=1), bottom - top, 0.0)
    scale = HUBER_SCALE * np.maximum(height, 10.0)[:, None]
    robust = weights * np.minimum(1.0, scale / np.maximum(residual, 1e-9))
    # A fit that put the body behind the camera has no meaningful residuals: keep that frame's weights.
    hopeless = np.count_nonzero(robust > 1e-6, axis=1) < 2
    return np.where(hopeless[:, None], weights, robust)


def fit_translation(points: np.ndarray, keypoints_px: np.ndarray, weights: np.ndarray, focal_px: float,
                    principal_px: tuple[float, float], smoothness: float = 0.0,
                    robust_iterations: int = 0) -> np.ndarray:
    """Camera-space translation of the root for every frame.

    points (F, K, 3) root-relative metres in camera axes; keypoints_px (F, K, 2); weights (F, K) >= 0;
    smoothness: weight of the temporal term relative to what one frame's keypoints say about each axis
    (the median diagonal of the per-frame normal matrices; 0 = independent per-frame fits). Scaling per
    axis matters: depth is constrained far less by the image than x and y, so it is smoothed more.
    robust_iterations: re-fits with Huber weights on the reprojection error (iteratively reweighted least
    squares), so one badly placed landmark (a swapped wrist) cannot drag the depth. Exact data is unaffected.
    Returns (F, 3) metres. Raises ValueError when no frame has enough keypoints.
    """
    points = np.asarray(points, dtype=np.float64)
    keypoints_px = np.asarray(keypoints_px, dtype=np.float64)
    weights = np.where(np.isfinite(keypoints_px).all(-1), np.asarray(weights, dtype=np.float64), 0.0)
    keypoints_px = np.nan_to_num(keypoints_px)
    trans = _solve(points, keypoints_px, weights, focal_px, principal_px, smoothness)
    for _ in range(robust_iterations):
        robust = _huber_weights(points, keypoints_px, weights, trans, focal_px, principal_px)
        try:
            refit = _solve(points, keypoints_px, robust, focal_px, principal_px, smoothness)
        except ValueError:  # the reweighting left no frame placed: the last fit stands
            break
        # Keypoints that fit no pose (a couple of frames of a tumble) can send the re-fit to or behind the
        # camera; a body in front of it is the better guess.
        if (refit[:, 2] <= MIN_DEPTH_M).any() and (trans[:, 2] > MIN_DEPTH_M).all():
            break
        trans = refit
    return trans


def fit_clip_translation(joints_rel: np.ndarray, landmarks: np.ndarray, focal_px: float,
                         image_size: tuple[int, int], smoothness: float = DEFAULT_SMOOTHNESS,
                         robust_iterations: int = ROBUST_ITERATIONS) -> np.ndarray:
    """Root (pelvis) position in camera space per frame from SMPL joints and MediaPipe landmarks.

    joints_rel (F, 24, 3) pelvis-relative metres in camera axes; landmarks (F, 33, 3) [x_px, y_px, conf]
    -> (F, 3) metres. The pelvis lies at joints_rel[:, 0] + t; joints are re-centred on it first.
    """
    joints_rel = np.asarray(joints_rel, dtype=np.float64)
    joints_rel = joints_rel - joints_rel[:, :1]
    points, keypoints, weights = correspondences(joints_rel, landmarks)
    return fit_translation(points, keypoints, weights, focal_px, principal_point(image_size), smoothness,
                           robust_iterations)
