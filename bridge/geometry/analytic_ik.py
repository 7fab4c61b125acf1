"""Analytic inverse kinematics from joint positions plus twist angles (HybriK-style).

Positions fix every joint's rotation except the turn about its own bone (the twist). Walking the
tree root-first, each joint's parent frame is known, so:
- a joint with one child gets the swing that turns its rest bone (joint -> child) onto the posed
  bone seen in the parent's frame, followed by the given twist about the rest bone:
  ``R = swing @ twist`` (see `swing_twist`);
- a joint with several children (SMPL pelvis and spine3) gets the rotation that best maps all rest
  child offsets onto the posed ones (Kabsch/SVD, det +1); positions determine it fully, so its
  twist angle is not used;
- a leaf joint (SMPL head, feet, hands) moves no other joint, so positions say nothing about it:
  it gets the given twist about its incoming bone (parent -> joint), or identity without twists.
  That keeps the most visible leaf motions (turning the head, rolling the hand) when a model
  predicts them.
Twist index k belongs to joint k + 1 (the root has none; a root with a single child gets its
swing only). `twist_angles_from_rotmats` gives the twists that make this an exact inverse of
forward kinematics, and is what the ARTS TIK module is supervised with.
"""
from __future__ import annotations

from typing import Any, Sequence

from ._backend import backend
from .kinematics import child_lists, parent_list
from .swing_twist import swing_rotation, swing_twist_decompose, twist_matrix


def twist_axes(rest_joints: Any, parents: Sequence[int] | Any) -> Any:
    """Rest bone each non-root joint twists about: to its first child, or from its parent for a leaf.

    rest_joints: (..., J, 3) metres. Returns (..., J-1, 3) (not normalised), index k for joint k + 1.
    """
    parent_of = parent_list(parents)
    children = child_lists(parent_of)
    ops = backend(rest_joints)
    rest = ops.asarray(rest_joints)
    axes = []
    for joint in range(1, len(parent_of)):
        if children[joint]:
            axes.append(rest[..., children[joint][0], :] - rest[..., joint, :])
        else:
            axes.append(rest[..., joint, :] - rest[..., parent_of[joint], :])
    return ops.stack(axes, -2)


def twist_angles_from_rotmats(local_rotmats: Any, rest_joints: Any, parents: Sequence[int] | Any) -> Any:
    """Twist of each non-root joint's local rotation about its `twist_axes` bone.

    local_rotmats: (..., J, 3, 3); rest_joints: (..., J, 3) metres. Returns (..., J-1) radians in
    [-π, π] with ``R_j = swing_j @ twist(axis_j, angle_{j-1})``.
    """
    ops = backend(local_rotmats, rest_joints)
    rotmats = ops.asarray(local_rotmats)
    _, angles = swing_twist_decompose(rotmats[..., 1:, :, :], twist_axes(ops.asarray(rest_joints), parents))
    return angles


def kabsch_rotation(source: Any, target: Any) -> Any:
    """Rotation R (det +1) minimising Σ_k |R source_k - target_k|²; (..., N, 3), (..., N, 3) -> (..., 3, 3).

    Unique when the source points span at least a plane through the origin (N >= 2, not collinear).
    """
    ops = backend(source, target)
    source, target = ops.asarray(source), ops.asarray(target)
    covariance = ops.transpose(target) @ source                               # Σ target_k source_kᵀ
    u, _, vh = ops.svd(covariance)
    det = ops.det(u @ vh)
    sign = ops.where(det < 0, -ops.ones_like(det), ops.ones_like(det))[..., None, None]
    u = ops.concat([u[..., :, :2], u[..., :, 2:] * sign], -1)
    return u @ vh


def analytic_swing(rest_joints: Any, posed_joints: Any, parents: Sequence[int] | Any,
                   twist_angles: Any | None = None) -> Any:
    """Local rotations that pose `rest_joints` onto `posed_joints` (see the module docstring).

    rest_joints: (..., J, 3) rest pose, metres; posed_joints: (..., J, 3) metres, any global
    translation (only joint differences are used; bone lengths need not match, directions are
    what count); parents: (J,); twist_angles: (..., J-1) radians or None for zero twist.
    Returns local_rotmats (..., J, 3, 3), joint 0 the global orientation.
    """
    parent_of = parent_list(parents)
    children = child_lists(parent_of)
    ops = backend(rest_joints, posed_joints, twist_angles)
    rest, posed = ops.asarray(rest_joints), ops.asarray(posed_joints)
    axes = twist_axes(rest, parent_of)
    twist = None if twist_angles is None else ops.asarray(twist_angles)
    identity = ops.eye(rest)
    local: list[Any] = []
    global_rotmats: list[Any] = []
    for joint, parent in enumerate(parent_of):
        parent_global = identity if parent < 0 else global_rotmats[parent]
        kids = children[joint]
        if len(kids) >= 2:
            rest_offsets = ops.stack([rest[..., c, :] - rest[..., joint, :] for c in kids], -2)
            posed_offsets = ops.stack([posed[..., c, :] - posed[..., joint, :] for c in kids], -2)
            # Row vectors: (Gᵀ d)ᵀ = dᵀ G expresses the posed offsets in the parent's frame.
            rotation = kabsch_rotation(rest_offsets, posed_offsets @ parent_global)
        elif len(kids) == 1:
            rest_bone = rest[..., kids[0], :] - rest[..., joint, :]
            posed_bone = posed[..., kids[0], :] - posed[..., joint, :]
            rotation = swing_rotation(rest_bone, (posed_bone[..., None, :] @ parent_global)[..., 0, :])
            if twist is not None and joint > 0:
                rotation = rotation @ twist_matrix(axes[..., joint - 1, :], twist[..., joint - 1])
        elif twist is not None:
            rotation = twist_matrix(axes[..., joint - 1, :], twist[..., joint - 1])
        else:
            rotation = identity
        local.append(rotation)
        global_rotmats.append(parent_global @ rotation)
    return ops.stack(local, -3)
