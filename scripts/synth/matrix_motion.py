"""A BvhMotion whose joints turn by given rotation matrices instead of Euler channels.

Mocap formats that store exponential maps or quaternions (the CMU exp-map files, DeepMimic) reach the
retargeter through this class, so they are retargeted exactly as BVH files are (joint positions and bone
rotations from `BvhMotion.forward_kinematics`) without a lossy round trip through Euler angles, which
lose precision near gimbal lock.
"""
from __future__ import annotations

import numpy as np

from .bvh import BvhMotion

_ROOT_POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")


class MatrixMotion(BvhMotion):
    """Joints with rest offsets, per-frame local rotations (column-vector convention, as BvhMotion) and a
    root position added to the root's offset, as a BVH position channel is."""

    def __init__(self, joint_names: tuple[str, ...], parents: np.ndarray, offsets: np.ndarray,
                 local_rotations: np.ndarray, root_positions: np.ndarray, fps: float) -> None:
        num_joints = len(joint_names)
        if local_rotations.shape[1:] != (num_joints, 3, 3) or root_positions.shape != (len(local_rotations), 3):
            raise ValueError(f"local rotations {local_rotations.shape} and root positions {root_positions.shape} "
                             f"do not fit {num_joints} joints")
        channels = (_ROOT_POSITION_CHANNELS,) + ((),) * (num_joints - 1)
        super().__init__(tuple(joint_names), np.asarray(parents, dtype=np.int64), np.asarray(offsets, np.float64),
                         channels, 1.0 / fps, np.asarray(root_positions, np.float64))
        self.local_rotations = np.asarray(local_rotations, np.float64)

    def local_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """The given local rotations (F, J, 3, 3) and offsets plus the root position (F, J, 3)."""
        _, translations = super().local_transforms()
        return self.local_rotations.copy(), translations

    def drop_frames(self, count: int) -> "MatrixMotion":
        return MatrixMotion(self.joint_names, self.parents, self.offsets, self.local_rotations[count:],
                            self.motion[count:], self.fps)
