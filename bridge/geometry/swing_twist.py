"""Swing–twist decomposition of rotations about a given axis (HybriK's convention).

Order convention: ``R = swing @ twist``. The twist turns about the axis ``a`` itself (in the frame
before R is applied, i.e. the REST bone direction); the swing is the smallest rotation taking ``a``
to ``R @ a``, so its rotation axis is perpendicular to ``a``. Hence ``swing @ a == R @ a``: the swing
is what joint positions reveal, the twist is what they cannot.
"""
from __future__ import annotations

from typing import Any

from ._backend import backend, unit_vectors
from .rotations import axis_angle_to_matrix, matrix_to_quaternion, quaternion_to_matrix


def twist_matrix(axes: Any, twist_angle: Any) -> Any:
    """Rotation by `twist_angle` (..., radians) about the unit direction of `axes` (..., 3) -> (..., 3, 3)."""
    ops = backend(axes, twist_angle)
    unit = unit_vectors(ops.asarray(axes), ops)
    return axis_angle_to_matrix(unit * ops.asarray(twist_angle)[..., None])


def swing_twist_decompose(rotmats: Any, axes: Any) -> tuple[Any, Any]:
    """Split R into swing and twist about `axes`.

    rotmats: (..., 3, 3); axes: (..., 3) any non-zero length (batch dims broadcast).
    Returns (swing (..., 3, 3), twist_angle (...,) radians in [-π, π]) with
    ``R == swing @ twist_matrix(axes, twist_angle)``. The twist is undefined when R turns the axis
    exactly onto its opposite with a half-turn swing; it is then reported as 0.
    """
    ops = backend(rotmats, axes)
    r = ops.asarray(rotmats)
    unit = unit_vectors(ops.asarray(axes), ops)
    q = matrix_to_quaternion(r)                                   # w >= 0
    # With q = q_swing ⊗ q_twist, the part of q's vector along the axis over w is tan(twist/2).
    along = ops.sum(q[..., 1:] * unit, -1)
    twist_angle = 2.0 * ops.atan2(along, q[..., 0])
    swing = r @ ops.transpose(twist_matrix(unit, twist_angle))
    return swing, twist_angle


def compose_swing_twist(swing: Any, axes: Any, twist_angle: Any) -> Any:
    """R = swing @ twist about `axes`; swing (..., 3, 3), axes (..., 3), twist_angle (...,) radians -> (..., 3, 3)."""
    ops = backend(swing, axes, twist_angle)
    return ops.asarray(swing) @ twist_matrix(axes, twist_angle)


def swing_rotation(from_dirs: Any, to_dirs: Any) -> Any:
    """Smallest rotation taking the direction `from_dirs` onto `to_dirs`; (..., 3), (..., 3) -> (..., 3, 3).

    Any lengths are fine (directions are normalised). Opposite directions have no unique smallest
    rotation: a half turn about an axis perpendicular to `from_dirs` is returned.
    """
    ops = backend(from_dirs, to_dirs)
    a, b = ops.broadcast(unit_vectors(ops.asarray(from_dirs), ops), unit_vectors(ops.asarray(to_dirs), ops))
    cos_angle = ops.sum(a * b, -1, keepdims=True)
    # (1 + cos θ, a x b) is the rotation's quaternion (cos θ/2, sin θ/2 n) scaled by 2cos(θ/2).
    q = ops.concat([1.0 + cos_angle, ops.cross(a, b)], -1)
    opposite = cos_angle < -1.0 + 1e-12
    # Fallback axis for opposite directions: a x e_x, or a x e_y when a is close to the x axis.
    basis = ops.eye(a)
    helper = ops.where(abs(a[..., :1]) < 0.9, basis[0], basis[1])
    half_turn = ops.concat([ops.zeros_like(cos_angle), unit_vectors(ops.cross(a, helper), ops)], -1)
    return quaternion_to_matrix(ops.where(opposite, half_turn, q))
