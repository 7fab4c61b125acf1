"""Root motion for game engines (no bpy): a `root` bone on the floor under the pelvis that carries the body's
horizontal travel and heading, and the pose-bone values of a rig re-parented under it.

Engines extract root motion from the top bone of the skeleton (Unreal's "root", Unity's root transform for
Generic rigs, Godot's root motion track). The ARTS rig keeps its motion on the pelvis, which also sways,
bobs and twists with every step; the root takes only the slow part: the pelvis' floor position and the
body's heading, each smoothed over about a quarter of a second (Gaussian sigma), so a character controller driven by it
moves steadily. The pelvis, re-expressed under the root, keeps exactly its old world pose, so the body
moves as before in every frame. "In place" removes the travel (the root stays at the origin and the pelvis
loses the same smoothed path) but keeps the heading.

All matrices are armature space, Z up, floor at z = 0 (ARTS rigs imported with "Stand on the floor"), and
Blender's pose convention: pose = parent_pose @ parent_rest^-1 @ rest @ basis.
"""
from __future__ import annotations

import numpy as np

from .bridge_locator import import_bridge

_rotations = import_bridge("geometry.rotations")

ROOT_BONE = "root"
#: The root's rest tail: at the origin, along +Y, no roll: an identity rest rotation, so the root's keys read
#: directly as floor travel and heading about the vertical.
ROOT_TAIL_M = (0.0, 0.25, 0.0)
ROOT_REST = np.eye(4)
#: Smoothing of the root's path and heading (Gaussian sigma, seconds): the hips' swing at stride rate (about
#: 1 Hz) keeps under a third of its amplitude, turns and starts keep their timing (the filter is centred).
ROOT_SMOOTHING_S = 0.25


def heading_yaw(pelvis_pose: np.ndarray, pelvis_rest: np.ndarray) -> np.ndarray:
    """(F,) the body's heading about +Z (radians, 0 = facing -Y as in the rest pose), unwrapped.

    Read from the pelvis' left-right axis, which stays level when the person bends forward or sits (the
    forward axis then tips towards the floor); a body lying on its side keeps its last usable heading."""
    turn = pelvis_pose[:, :3, :3] @ pelvis_rest[:3, :3].T  # the pelvis' rotation away from its rest
    lateral = turn[:, :, 0]  # where the rest's +X (the person's left) points now
    level = np.hypot(lateral[:, 0], lateral[:, 1])
    yaw = np.arctan2(lateral[:, 1], lateral[:, 0])
    usable = level > 0.3
    if not usable.any():
        return np.zeros(len(pelvis_pose))
    frames = np.arange(len(yaw))
    yaw = np.unwrap(yaw[usable])
    return np.interp(frames, frames[usable], yaw)


def smooth(values: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing along axis 0. The ends are padded by point reflection, so a steady path or turn
    keeps its speed to the last frame and starts and ends where it did."""
    values = np.asarray(values, dtype=np.float64)
    radius = int(np.ceil(3 * sigma_frames))
    if sigma_frames <= 0 or len(values) <= radius + 1:
        return values.copy()
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    kernel /= kernel.sum()
    head = 2 * values[0] - values[radius:0:-1]
    tail = 2 * values[-1] - values[-2:-radius - 2:-1]
    padded = np.concatenate([head, values, tail])
    return np.stack([np.tensordot(kernel, padded[i:i + 2 * radius + 1], axes=(0, 0)) for i in range(len(values))])


def root_track(pelvis_pose: np.ndarray, pelvis_rest: np.ndarray, fps: float, in_place: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
    """(root pose (F, 4, 4), pelvis pose (F, 4, 4)) for a rig whose pelvis moved as `pelvis_pose`.

    The root stands on the floor under the smoothed pelvis path, turned by the smoothed heading; in place,
    it stays at the origin and the returned pelvis pose has that path taken out."""
    pelvis_pose = np.asarray(pelvis_pose, dtype=np.float64)
    sigma = ROOT_SMOOTHING_S * fps
    yaw = smooth(heading_yaw(pelvis_pose, pelvis_rest), sigma)
    path = smooth(pelvis_pose[:, :2, 3], sigma)
    root = np.tile(np.eye(4), (len(pelvis_pose), 1, 1))
    root[:, :3, :3] = _rotations.axis_angle_to_matrix(np.stack([np.zeros_like(yaw), np.zeros_like(yaw), yaw], -1))
    pelvis = pelvis_pose.copy()
    if in_place:
        pelvis[:, :2, 3] -= path
    else:
        root[:, :2, 3] = path
    return root, pelvis


def pose_bases(poses: dict[str, np.ndarray], rests: dict[str, np.ndarray], parents: dict[str, str | None]
               ) -> dict[str, np.ndarray]:
    """(F, 4, 4) `matrix_basis` of every bone from its armature-space pose, its parent's and both rests."""
    out = {}
    for name, pose in poses.items():
        parent = parents[name]
        if parent is None:
            out[name] = np.linalg.inv(rests[name]) @ pose
        else:
            rest_in_parent = np.linalg.inv(rests[parent]) @ rests[name]
            out[name] = np.linalg.inv(rest_in_parent) @ np.linalg.inv(poses[parent]) @ pose
    return out


def basis_channels(basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, 4, 4) matrix_basis -> (location (F, 3), rotation_quaternion (F, 4) w-first, sign-continuous)."""
    quats = _rotations.quaternion_continuity(_rotations.matrix_to_quaternion(basis[:, :3, :3]))
    return basis[:, :3, 3].copy(), quats
