"""The SMPL kinematic tree: joint names, parents and bones, shared by the bridge and the add-on.

Pure Python/numpy so the add-on can name its armature bones exactly as SMPL does.
"""
from __future__ import annotations

import numpy as np

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)
NUM_JOINTS = 24
NUM_BETAS = 10

#: Parent of each joint (-1 for the root); parents always precede children.
SMPL_PARENTS: np.ndarray = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21], dtype=np.int64)

#: Bones as (parent, child) pairs, one per non-root joint, in joint order (N = 23).
SMPL_BONES: tuple[tuple[int, int], ...] = tuple((int(SMPL_PARENTS[j]), j) for j in range(1, NUM_JOINTS))

#: The eight limb bones as (parent, child) joints: upper arms, forearms, thighs, shins, each left then right.
LIMB_BONES: tuple[tuple[int, int], ...] = ((16, 18), (17, 19), (18, 20), (19, 21), (1, 4), (2, 5), (4, 7), (5, 8))

#: Kinematic table in SMPL's own `kintree_table` layout (2, 24), first row parents (root: 2**32-1 in SMPL files).
def kintree_table() -> np.ndarray:
    table = np.stack([SMPL_PARENTS, np.arange(NUM_JOINTS)]).astype(np.int64)
    table[0, 0] = -1
    return table


def children(joint: int) -> list[int]:
    """Direct children of `joint`, in joint order."""
    return [j for j in range(NUM_JOINTS) if SMPL_PARENTS[j] == joint]


#: Left/right joint pairs, for mirroring augmentation and swap detection.
SMPL_FLIP_PAIRS: tuple[tuple[int, int], ...] = (
    (1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21), (22, 23))
