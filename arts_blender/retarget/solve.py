"""Retarget maths (no bpy): the pose-bone rotations and hips locations that make another rig move like the ARTS
rig, across rest poses (A-pose or T-pose), bone rolls and proportions.

Each mapped target bone turns in the world as its source bone turns away from its own rest, after one
fixed correction that lays the target's rest bone along the source's rest bone (the smallest rotation
between their directions, so an A-pose arm becomes a T-pose arm before the motion is applied). So every
mapped bone points where its source points in every frame, whatever the two rest poses and rolls.
Target bones without a source (extra spine or twist bones, fingers) keep their rest pose relative to
their parent. The hips move along the source pelvis' path scaled by the ratio of leg lengths, above the
target's own rest height. All matrices are armature space (the armatures at the identity, as ARTS rigs
are), Blender's pose convention: pose = parent_pose @ parent_rest^-1 @ rest @ basis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..bridge_locator import import_bridge
from .mapping import Mapping

_rotations = import_bridge("geometry.rotations")
_swing_twist = import_bridge("geometry.swing_twist")


@dataclass
class RigRest:
    """A rig's rest pose: bone name -> (4, 4) Blender `Bone.matrix_local` (head in the last column, the bone
    along its local y), the bone's length, and its parent's name (None for a root)."""

    matrix: dict[str, np.ndarray]
    length: dict[str, float]
    parent: dict[str, str | None]

    def order(self) -> list[str]:
        """Bone names with every parent before its children."""
        done: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            parent = self.parent[name]
            if parent is not None:
                visit(parent)
            seen.add(name)
            done.append(name)

        for name in self.matrix:
            visit(name)
        return done

    def direction(self, name: str) -> np.ndarray:
        return self.matrix[name][:3, 1] / np.linalg.norm(self.matrix[name][:3, 1])


@dataclass
class Retargeted:
    """Per target bone, (F, 4) `rotation_quaternion` (w, x, y, z) pose values; the hips' (F, 3) `location`."""

    rotations: dict[str, np.ndarray]
    hips: str
    hips_location: np.ndarray


def leg_length(rest: RigRest, thigh: str, shin: str) -> float:
    return rest.length[thigh] + rest.length[shin]


def wanted_rotation(source_rest: RigRest, source_pose: dict[str, np.ndarray], target_rest: RigRest, source: str,
                    target: str) -> np.ndarray:
    """(F, 3, 3) armature-space rotation of target bone `target` that makes it turn as `source` does: its
    rest laid along the source's rest bone by the smallest rotation, then the source's turn since rest."""
    turn = source_pose[source][:, :3, :3] @ source_rest.matrix[source][:3, :3].T
    lay = _swing_twist.swing_rotation(target_rest.direction(target), source_rest.direction(source))
    return turn @ lay @ target_rest.matrix[target][:3, :3]


def hips_path(source_rest: RigRest, source_pose: dict[str, np.ndarray], target_rest: RigRest, bones: dict[str, str],
              in_place: bool = False) -> np.ndarray:
    """(F, 3) armature-space head of the target's hips: its rest head plus the pelvis' path since rest, scaled
    by the ratio of leg lengths (horizontally fixed in place)."""
    scale = (leg_length(target_rest, bones["left_hip"], bones["left_knee"])
             / leg_length(source_rest, "left_hip", "left_knee")) if {"left_hip", "left_knee"} <= set(bones) else 1.0
    path = source_pose["pelvis"][:, :3, 3] - source_rest.matrix["pelvis"][:3, 3]  # pelvis moved from its rest
    if in_place:
        path[:, :2] = path[:1, :2]
    return target_rest.matrix[bones["pelvis"]][:3, 3] + scale * path


def retarget(source_rest: RigRest, source_pose: dict[str, np.ndarray], target_rest: RigRest, mapping: Mapping,
             in_place: bool = False) -> Retargeted:
    """source_pose: ARTS bone -> (F, 4, 4) evaluated pose matrices (armature space) for the mapped bones."""
    bones = {s: t for s, t in mapping.bones.items() if s in source_pose and t in target_rest.matrix}
    source_of = {t: s for s, t in bones.items()}
    frames = len(next(iter(source_pose.values())))
    pose: dict[str, np.ndarray] = {}
    chained_of: dict[str, np.ndarray] = {}
    rotations: dict[str, np.ndarray] = {}
    for name in target_rest.order():
        rest = target_rest.matrix[name]
        parent = target_rest.parent[name]
        parent_pose = pose[parent] if parent is not None else np.broadcast_to(np.eye(4), (frames, 4, 4))
        parent_rest = target_rest.matrix[parent] if parent is not None else np.eye(4)
        chained = parent_pose @ (np.linalg.inv(parent_rest) @ rest)  # this bone at rest under its posed parent
        chained_of[name] = chained
        source = source_of.get(name)
        if source is None:
            pose[name] = chained
            continue
        wanted = wanted_rotation(source_rest, source_pose, target_rest, source, name)
        basis = np.swapaxes(chained[:, :3, :3], -1, -2) @ wanted
        rotations[name] = _rotations.quaternion_continuity(_rotations.matrix_to_quaternion(basis))
        posed = chained.copy()
        posed[:, :3, :3] = wanted
        pose[name] = posed

    hips = bones["pelvis"]
    world_head = hips_path(source_rest, source_pose, target_rest, bones, in_place)
    chained = chained_of[hips]  # a root bone above the hips stays at rest: the hips carry the motion
    location = np.einsum("fji,fj->fi", chained[:, :3, :3], world_head - chained[:, :3, 3])
    return Retargeted(rotations=rotations, hips=hips, hips_location=location)
