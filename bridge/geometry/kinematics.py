"""Forward kinematics on a joint tree (SMPL's 24 joints or any other), numpy or torch.

Same algebra as SMPL's rigid transform chain: a joint's global rotation is its parent's global
rotation times its own local rotation, and its posed position is the parent's posed position plus
the parent's global rotation applied to the rest-pose offset parent -> joint.
"""
from __future__ import annotations

from typing import Any, Sequence

from ._backend import backend


def parent_list(parents: Sequence[int] | Any) -> list[int]:
    """`parents` as Python ints, checked: root first (-1) and every parent precedes its child."""
    if hasattr(parents, "tolist"):
        parents = parents.tolist()
    result = [int(p) for p in parents]
    if not result or result[0] != -1:
        raise ValueError(f"parents must start with the root (-1), got {result[:3]}")
    for joint, parent in enumerate(result[1:], start=1):
        if not 0 <= parent < joint:
            raise ValueError(f"joint {joint} has parent {parent}: parents must precede their children")
    return result


def child_lists(parents: Sequence[int] | Any) -> list[list[int]]:
    """Children of every joint, in joint order."""
    parent_of = parent_list(parents)
    children: list[list[int]] = [[] for _ in parent_of]
    for joint, parent in enumerate(parent_of[1:], start=1):
        children[parent].append(joint)
    return children


def forward_kinematics(local_rotmats: Any, rest_joints: Any, parents: Sequence[int] | Any) -> tuple[Any, Any]:
    """Pose a rest skeleton.

    local_rotmats: (..., J, 3, 3) rotation of each joint relative to its parent (joint 0: global).
    rest_joints: (..., J, 3) joint positions in the rest pose, metres (batch dims broadcast).
    parents: (J,) parent index per joint, -1 for the root, parents before children.
    Returns (posed_joints (..., J, 3) metres, global_rotmats (..., J, 3, 3)). The root stays at
    rest_joints[..., 0, :]: add the translation yourself.
    """
    parent_of = parent_list(parents)
    ops = backend(local_rotmats, rest_joints)
    rotmats, rest = ops.asarray(local_rotmats), ops.asarray(rest_joints)
    if rotmats.shape[-3] != len(parent_of) or rest.shape[-2] != len(parent_of):
        raise ValueError(f"expected {len(parent_of)} joints, got rotations {tuple(rotmats.shape)} "
                         f"and rest joints {tuple(rest.shape)}")
    global_rotmats = [rotmats[..., 0, :, :]]
    posed = [rest[..., 0, :]]
    for joint in range(1, len(parent_of)):
        parent = parent_of[joint]
        offset = rest[..., joint, :] - rest[..., parent, :]
        posed.append(posed[parent] + (global_rotmats[parent] @ offset[..., None])[..., 0])
        global_rotmats.append(global_rotmats[parent] @ rotmats[..., joint, :, :])
    return ops.stack(posed, -2), ops.stack(global_rotmats, -3)
