"""Conversions between rotation representations, for numpy arrays and torch tensors alike.

Conventions
- Rotation matrices act on column vectors: ``v' = R @ v``; shape (..., 3, 3).
- Axis-angle: the rotation vector ``angle * unit_axis`` (radians); shape (..., 3).
- Quaternions are (w, x, y, z) with the Hamilton product (Blender's order); shape (..., 4).
  A quaternion and its negation are the same rotation. Functions returning quaternions from other
  representations return the one with ``w >= 0`` (stated per function).
- 6D (Zhou et al., CVPR 2019): the first two COLUMNS of R, stored as the 3x2 block flattened
  row-major, ``R[..., :, :2].reshape(..., 6)`` = (R00, R01, R10, R11, R20, R21), as SPIN and HybriK do.

Every function accepts any leading batch dimensions, picks numpy or torch from its input
(torch is imported only by the caller) and, in torch, is differentiable with finite gradients at
the identity: the small-angle cases switch to Taylor series through `where` on safe values.
"""
from __future__ import annotations

from typing import Any

from ._backend import TINY, backend, unit_vectors

#: Below this squared angle (rad²) the Taylor series are exact to float64 precision.
_SMALL_ANGLE2 = 1e-6

def skew(vectors: Any) -> Any:
    """Cross-product matrices [v]x with [v]x @ u = v x u; (..., 3) -> (..., 3, 3)."""
    ops = backend(vectors)
    v = ops.asarray(vectors)
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    zero = ops.zeros_like(x)
    return ops.stack([
        ops.stack([zero, -z, y], -1),
        ops.stack([z, zero, -x], -1),
        ops.stack([-y, x, zero], -1),
    ], -2)


def axis_angle_to_matrix(axis_angle: Any) -> Any:
    """Rodrigues' formula R = I + sinc(θ) K + ((1 - cos θ)/θ²) K², K = [axis_angle]x; (..., 3) -> (..., 3, 3)."""
    ops = backend(axis_angle)
    aa = ops.asarray(axis_angle)
    angle2 = ops.sum(aa * aa, -1, keepdims=True)[..., None]                     # (..., 1, 1)
    small = angle2 < _SMALL_ANGLE2
    angle = ops.sqrt(ops.where(small, ops.ones_like(angle2), angle2))
    half = 0.5 * angle
    sin_over_angle = ops.where(small, 1.0 - angle2 / 6.0 + angle2 * angle2 / 120.0, ops.sin(angle) / angle)
    # (1 - cos θ)/θ² written as ½ (sin(θ/2)/(θ/2))² to avoid cancellation in float32.
    one_minus_cos_over_angle2 = ops.where(
        small, 0.5 - angle2 / 24.0 + angle2 * angle2 / 720.0, 0.5 * (ops.sin(half) / half) ** 2)
    k = skew(aa)
    return ops.eye(k) + sin_over_angle * k + one_minus_cos_over_angle2 * (k @ k)


def axis_angle_to_quaternion(axis_angle: Any) -> Any:
    """(w, x, y, z) = (cos θ/2, sin(θ/2) axis), w >= 0 for θ <= π; (..., 3) -> (..., 4)."""
    ops = backend(axis_angle)
    aa = ops.asarray(axis_angle)
    angle2 = ops.sum(aa * aa, -1, keepdims=True)
    small = angle2 < _SMALL_ANGLE2
    angle = ops.sqrt(ops.where(small, ops.ones_like(angle2), angle2))
    w = ops.where(small, 1.0 - angle2 / 8.0 + angle2 * angle2 / 384.0, ops.cos(0.5 * angle))
    sin_half_over_angle = ops.where(
        small, 0.5 - angle2 / 48.0 + angle2 * angle2 / 3840.0, ops.sin(0.5 * angle) / angle)
    return ops.concat([w, aa * sin_half_over_angle], -1)


def quaternion_to_axis_angle(quaternions: Any) -> Any:
    """Rotation vector with angle in [0, π]; q and -q give the same result; (..., 4) -> (..., 3).

    The quaternion need not be unit length (it is normalised first).
    """
    ops = backend(quaternions)
    q = unit_vectors(ops.asarray(quaternions), ops)
    q = ops.where(q[..., :1] < 0, -q, q)
    w, v = q[..., :1], q[..., 1:]
    sin_half2 = ops.sum(v * v, -1, keepdims=True)
    small = sin_half2 < _SMALL_ANGLE2
    sin_half = ops.sqrt(ops.where(small, ops.ones_like(sin_half2), sin_half2))
    w_safe = ops.where(small, w, ops.ones_like(w))
    # angle/sin(θ/2) = 2 atan(s/w)/s = (2/w)(1 - s²/(3w²) + s⁴/(5w⁴) - ...) for small s = sin(θ/2).
    r2 = sin_half2 / (w_safe * w_safe)
    scale = ops.where(small, (2.0 / w_safe) * (1.0 - r2 / 3.0 + r2 * r2 / 5.0),
                      2.0 * ops.atan2(sin_half, w) / sin_half)
    return v * scale


def quaternion_to_matrix(quaternions: Any) -> Any:
    """Rotation matrix of a (w, x, y, z) quaternion (normalised implicitly); (..., 4) -> (..., 3, 3)."""
    ops = backend(quaternions)
    q = ops.asarray(quaternions)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    two_s = 2.0 / ops.clamp_min(ops.sum(q * q, -1), TINY)
    return ops.stack([
        ops.stack([1 - two_s * (y * y + z * z), two_s * (x * y - z * w), two_s * (x * z + y * w)], -1),
        ops.stack([two_s * (x * y + z * w), 1 - two_s * (x * x + z * z), two_s * (y * z - x * w)], -1),
        ops.stack([two_s * (x * z - y * w), two_s * (y * z + x * w), 1 - two_s * (x * x + y * y)], -1),
    ], -2)


def matrix_to_quaternion(matrices: Any) -> Any:
    """Unit quaternion (w, x, y, z) with w >= 0 of a rotation matrix; (..., 3, 3) -> (..., 4).

    Shepperd's method: of the four ways to recover q, use the one whose square root argument
    (4w², 4x², 4y² or 4z²) is largest, which stays accurate near 0 and near π.
    """
    ops = backend(matrices)
    m = ops.asarray(matrices)
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    four_sq = ops.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22,
                         1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)       # 4w², 4x², 4y², 4z²
    # Each candidate divides by 2·sqrt(4c²) = 4|c|; the floor keeps unused candidates finite.
    root = ops.sqrt(ops.clamp_min(four_sq, 1e-12))                               # 2|w|, 2|x|, 2|y|, 2|z|
    d21, d02, d10 = m21 - m12, m02 - m20, m10 - m01
    s01, s02, s12 = m01 + m10, m02 + m20, m12 + m21
    candidates = [
        ops.stack([root[..., 0] ** 2, d21, d02, d10], -1) / (2 * root[..., :1]),
        ops.stack([d21, root[..., 1] ** 2, s01, s02], -1) / (2 * root[..., 1:2]),
        ops.stack([d02, s01, root[..., 2] ** 2, s12], -1) / (2 * root[..., 2:3]),
        ops.stack([d10, s02, s12, root[..., 3] ** 2], -1) / (2 * root[..., 3:4]),
    ]
    best = ops.argmax(four_sq, -1)[..., None]
    q = candidates[0]
    for index in (1, 2, 3):
        q = ops.where(best == index, candidates[index], q)
    q = unit_vectors(q, ops)
    return ops.where(q[..., :1] < 0, -q, q)


def matrix_to_axis_angle(matrices: Any) -> Any:
    """Rotation vector with angle in [0, π]; (..., 3, 3) -> (..., 3). At exactly π the sign of the axis is arbitrary."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrices))


def rot6d_to_matrix(rot6d: Any) -> Any:
    """Gram–Schmidt on the two stored columns; (..., 6) -> (..., 3, 3) with det +1.

    Layout as `matrix_to_rot6d`: the 3x2 block of the first two columns, row-major.
    """
    ops = backend(rot6d)
    x = ops.asarray(rot6d)
    block = x.reshape(tuple(x.shape[:-1]) + (3, 2))
    b1 = unit_vectors(block[..., 0], ops)
    a2 = block[..., 1]
    b2 = unit_vectors(a2 - ops.sum(b1 * a2, -1, keepdims=True) * b1, ops)
    b3 = ops.cross(b1, b2)
    return ops.stack([b1, b2, b3], -1)


def matrix_to_rot6d(matrices: Any) -> Any:
    """First two columns of R, row-major 3x2 block; (..., 3, 3) -> (..., 6)."""
    ops = backend(matrices)
    m = ops.asarray(matrices)
    return m[..., :, :2].reshape(tuple(m.shape[:-2]) + (6,))


def quaternion_multiply(a: Any, b: Any) -> Any:
    """Hamilton product a ⊗ b (apply b first, then a, like matrix product); (..., 4), (..., 4) -> (..., 4)."""
    ops = backend(a, b)
    a, b = ops.asarray(a), ops.asarray(b)
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return ops.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], -1)


def quaternion_continuity(quaternions: Any) -> Any:
    """Flip signs along time so consecutive quaternions have a non-negative dot product; (T, ..., 4).

    Keyframed quaternions are interpolated component-wise, so a sign flip between two frames makes
    the bone spin the long way round; this picks, frame by frame, the sign nearest the previous one.
    The first frame keeps its sign.
    """
    ops = backend(quaternions)
    q = ops.asarray(quaternions)
    if q.shape[0] < 2:
        return q
    dots = ops.sum(q[1:] * q[:-1], -1)
    step_sign = ops.where(dots < 0, -ops.ones_like(dots), ops.ones_like(dots))
    sign = ops.concat([ops.ones_like(dots[:1]), ops.cumprod(step_sign, 0)], 0)
    return q * sign[..., None]


def quaternion_slerp(q0: Any, q1: Any, fraction: Any) -> Any:
    """Spherical interpolation along the shorter arc; q0, q1 (..., 4), fraction (...,) in [0, 1] -> unit (..., 4)."""
    ops = backend(q0, q1, fraction)
    q0, q1 = unit_vectors(ops.asarray(q0), ops), unit_vectors(ops.asarray(q1), ops)
    t = ops.asarray(fraction)[..., None]
    dot = ops.sum(q0 * q1, -1, keepdims=True)
    q1 = ops.where(dot < 0, -q1, q1)
    dot = abs(dot)
    # Angle between the quaternions from atan2, accurate for nearly equal ones.
    sin_angle = ops.sqrt(ops.clamp_min(ops.sum((q1 - dot * q0) ** 2, -1, keepdims=True), TINY))
    angle = ops.atan2(sin_angle, dot)
    close = angle < 1e-6
    safe_angle = ops.where(close, ops.ones_like(angle), angle)
    w0 = ops.where(close, 1 - t, ops.sin((1 - t) * safe_angle) / ops.sin(safe_angle))
    w1 = ops.where(close, t, ops.sin(t * safe_angle) / ops.sin(safe_angle))
    return unit_vectors(w0 * q0 + w1 * q1, ops)
