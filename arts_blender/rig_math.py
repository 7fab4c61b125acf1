"""Rig math with no bpy: SMPL/camera axes to Blender, bone rest frames, pose-bone rotations and root motion.

Frames used here:
  * SMPL body frame: Y up, the body faces +Z, +X is the person's left (the body model's rest pose).
  * Camera frame (results files): OpenCV, x right, y down, z forward, metres, camera at the origin.
  * Blender world (Z up): X = x, Y = z, Z = -y of the camera, so the scene camera sits at the origin and
    looks along +Y. The armature object stays at the identity, so armature space IS world space.
The rest pose is the SMPL body turned upright in Blender (X = X_s, Y = -Z_s, Z = Y_s: the person faces -Y,
i.e. the front view), standing on Z = 0 with the pelvis above the origin.

Root motion lives on the pelvis bone (rotation and location), not on the armature object: FBX, BVH and glTF
exporters and every game engine read bone channels, whereas object-level animation on the armature is
exported as a separate node (Unity, Godot) or dropped (BVH), so a rig driven by its pelvis exports the same
everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bridge_locator import import_bridge

_rotations = import_bridge("geometry.rotations")
_skeleton = import_bridge("skeleton")

SMPL_PARENTS = _skeleton.SMPL_PARENTS
SMPL_JOINT_NAMES = _skeleton.SMPL_JOINT_NAMES
NUM_JOINTS = _skeleton.NUM_JOINTS

#: Camera (OpenCV) vectors to Blender world vectors: X_b = x, Y_b = z, Z_b = -y.
CAMERA_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
#: SMPL body-frame vectors to the Blender rest frame: X_b = X_s, Y_b = -Z_s, Z_b = Y_s.
SMPL_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

#: Leaf bones have no child joint to point at; they continue their parent's direction, this fraction long.
LEAF_LENGTH_FRACTION = 0.5
MIN_BONE_LENGTH_M = 0.03
#: Bones with several children point at this one (pelvis at spine1, spine3 at the neck).
MAIN_CHILD = {0: 3, 9: 12}


@dataclass(frozen=True)
class RestSkeleton:
    """The armature's rest pose in Blender space (metres), as built and as used by the pose math.

    heads, tails: (24, 3) bone ends; rest_rotmats: (24, 3, 3) bone rest frames (columns x, y, z with y along
    the bone and z the roll reference), i.e. Blender's `Bone.matrix_local` rotation; offset: (3,) added to the
    rotated SMPL rest joints so the rig stands on Z = 0.
    """

    heads: np.ndarray
    tails: np.ndarray
    rest_rotmats: np.ndarray
    offset: np.ndarray


def rest_offset(rest_vertices_smpl: np.ndarray, rest_joints_smpl: np.ndarray) -> np.ndarray:
    """(3,) shift that puts the turned-upright body's lowest vertex on Z = 0 and its pelvis above the origin."""
    verts = rest_vertices_smpl @ SMPL_TO_BLENDER.T
    pelvis = SMPL_TO_BLENDER @ rest_joints_smpl[0]
    return np.array([-pelvis[0], -pelvis[1], -verts[:, 2].min()])


def to_rest_space(points_smpl: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """SMPL-frame rest points (..., 3) to Blender rest/armature space."""
    return points_smpl @ SMPL_TO_BLENDER.T + offset


def _bone_tails(heads: np.ndarray) -> np.ndarray:
    tails = np.empty_like(heads)
    for j in range(NUM_JOINTS):
        kids = [k for k in range(NUM_JOINTS) if SMPL_PARENTS[k] == j]
        if kids:
            tails[j] = heads[MAIN_CHILD.get(j, kids[0])]
        else:
            parent = SMPL_PARENTS[j]
            direction = heads[j] - heads[parent]
            length = np.linalg.norm(direction)
            tails[j] = heads[j] + direction / max(length, 1e-9) * max(LEAF_LENGTH_FRACTION * length, MIN_BONE_LENGTH_M)
        if np.linalg.norm(tails[j] - heads[j]) < MIN_BONE_LENGTH_M:  # degenerate shapes: keep a usable bone
            tails[j] = heads[j] + np.array([0.0, 0.0, MIN_BONE_LENGTH_M])
    return tails


def roll_reference(direction: np.ndarray) -> np.ndarray:
    """The vector a bone's Z axis is aligned with: forward (-Y) for limbs and spine, up (+Z) for bones that
    themselves point forward (the feet), so the reference is never close to the bone."""
    return np.array([0.0, 0.0, 1.0]) if abs(direction[1]) > 0.7 else np.array([0.0, -1.0, 0.0])


def bone_frame(head: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """(3, 3) bone rest frame, columns (x, y, z): y along head->tail, z = roll reference made orthogonal."""
    y = (tail - head) / np.linalg.norm(tail - head)
    ref = roll_reference(y)
    z = ref - np.dot(ref, y) * y
    z /= np.linalg.norm(z)
    return np.stack([np.cross(y, z), y, z], axis=1)


def rest_skeleton(rest_joints_smpl: np.ndarray, rest_vertices_smpl: np.ndarray) -> RestSkeleton:
    """Rest skeleton for a body of shape beta: joints (24, 3) and vertices (V, 3) from `shaped_rest`."""
    offset = rest_offset(rest_vertices_smpl, rest_joints_smpl)
    heads = to_rest_space(np.asarray(rest_joints_smpl, dtype=np.float64), offset)
    tails = _bone_tails(heads)
    frames = np.stack([bone_frame(h, t) for h, t in zip(heads, tails)])
    return RestSkeleton(heads=heads, tails=tails, rest_rotmats=frames, offset=offset)


def world_transform(world_from_camera: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(rotation (3, 3), translation (3,)) from camera space to Blender's world: the clip's estimated world
    frame when the results have one (it is Z up, as Blender), else the fixed camera-space mapping."""
    if world_from_camera is None:
        return CAMERA_TO_BLENDER, np.zeros(3)
    matrix = np.asarray(world_from_camera, dtype=np.float64)
    return matrix[:3, :3], matrix[:3, 3]


def pose_bone_quaternions(pose_aa: np.ndarray, rest_rotmats: np.ndarray,
                          camera_rotation: np.ndarray = CAMERA_TO_BLENDER) -> np.ndarray:
    """Pose-bone `rotation_quaternion`s (w, x, y, z) for SMPL local axis-angle poses.

    pose_aa: (F, 24, 3) radians, joint 0 the global orientation in camera space; rest_rotmats: (24, 3, 3).
    A bone's Blender local rotation is its SMPL local rotation seen in the bone's rest frame B:
    L = M R M^T with M = B^T S (S = SMPL_TO_BLENDER), i.e. the same angle about the axis M @ axis, so the
    axis-angle vectors are simply rotated (no matrices per frame). The root maps the body frame into the
    camera instead: L = B^T C R S^T B = (M' R M'^T) K with M' = B^T C (C = camera_rotation, camera space to
    Blender's world: CAMERA_TO_BLENDER or the clip's world frame) and the constant K = B^T C S^T B.
    Returns (F, 24, 4), sign-continuous over frames.
    """
    pose = np.asarray(pose_aa, dtype=np.float64)
    frames_t = np.swapaxes(rest_rotmats, -1, -2)
    axis_maps = frames_t @ SMPL_TO_BLENDER  # (24, 3, 3) M per joint
    axis_maps[0] = frames_t[0] @ camera_rotation
    local_aa = np.einsum("jab,fjb->fja", axis_maps, pose)
    quats = _rotations.axis_angle_to_quaternion(local_aa)
    root_offset = _rotations.matrix_to_quaternion(frames_t[0] @ camera_rotation @ SMPL_TO_BLENDER.T @ rest_rotmats[0])
    quats[:, 0] = _rotations.quaternion_multiply(quats[:, 0], root_offset)
    return _rotations.quaternion_continuity(quats)


def pelvis_locations(trans_m: np.ndarray, pelvis_rest_smpl: np.ndarray, rest_head: np.ndarray,
                     rest_rotmat: np.ndarray, camera_rotation: np.ndarray = CAMERA_TO_BLENDER,
                     camera_offset=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Pelvis pose-bone `location` (F, 3) in the bone's rest frame, placing it where the results put it.

    SMPL's posed pelvis is at J0 + transl in camera space (J0 (3,) the clip's rest pelvis, SMPL frame); in
    Blender that is C (J0 + t) + o (camera_rotation C and camera_offset o: see world_transform), and a root
    bone's location is its offset from its rest head (3,) expressed in
    its rest frame (3, 3). The rig may have another shape than the clip: the pelvis still lands exactly.
    """
    world = ((np.asarray(pelvis_rest_smpl, dtype=np.float64) + np.asarray(trans_m, dtype=np.float64))
             @ np.asarray(camera_rotation).T + camera_offset)
    return (world - rest_head) @ rest_rotmat


def camera_to_world(points_cam: np.ndarray, camera_rotation: np.ndarray = CAMERA_TO_BLENDER,
                    camera_offset=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Camera-space points (..., 3) to Blender world."""
    return np.asarray(points_cam, dtype=np.float64) @ np.asarray(camera_rotation).T + camera_offset


def camera_object_matrix(camera_rotation: np.ndarray, camera_offset: np.ndarray) -> np.ndarray:
    """(4, 4) matrix_world of the Blender camera that films like the video's: it sits where the camera-space
    origin lands, and its local axes (x right, y up, looking along -z) are OpenCV's x, -y, -z."""
    matrix = np.eye(4)
    matrix[:3, :3] = np.asarray(camera_rotation) @ np.diag([1.0, -1.0, -1.0])
    matrix[:3, 3] = camera_offset
    return matrix


#: Most bones that may move one vertex: what game engines keep (Unity's default, Unreal's and glTF's 4).
MAX_INFLUENCES = 4


def top_weights(weights: np.ndarray, keep: int = MAX_INFLUENCES) -> np.ndarray:
    """(V, J) skinning weights -> the same with only each vertex's `keep` largest kept, renormalised to 1,
    so engines deform the mesh exactly as Blender does (they would drop the rest themselves)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape[1] <= keep:
        return weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    smallest = np.argpartition(weights, weights.shape[1] - keep, axis=1)[:, :weights.shape[1] - keep]
    out = weights.copy()
    np.put_along_axis(out, smallest, 0.0, axis=1)
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)


def camera_lens_mm(focal_px: float, image_size: tuple[int, int], sensor_width_mm: float = 36.0) -> float:
    """Blender camera focal length (mm) for a pinhole of `focal_px`, the sensor fitted to the image's long side
    (sensor fit Auto). Why: a phone's video shows the same lens held either way, as the bridge reads fov_deg."""
    return float(focal_px) * sensor_width_mm / float(max(image_size))
