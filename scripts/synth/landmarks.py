"""MediaPipe's 33 pose landmarks on the posed body, and how visible each is.

Face, hand, heel and toe landmarks are mesh vertices (the body model's `mediapipe_vertex_ids`; a landmark
the model lacks is defined once as the skin vertex nearest a point fixed to a joint), posed by linear blend
skinning with the clip's shape β: the detector marks those on the surface. The twelve limb landmarks
(shoulders, elbows, wrists, hips, knees, ankles) are the posed joint centres instead: run on rendered video
of this body (scripts/eval_rendered.py), MediaPipe puts them there, not on the skin: a skin vertex for the
hip sat 16 % of the torso length (2D) outside where MediaPipe marks it, the joint centre 7.5 %; knees 9.4 %
against 3.5 %, shoulders 7.7 % against 3.7 %. Only 33 vertices are skinned (plus one joint regression per
clip), so this is cheap. Visibility combines the face turning away (eyes, nose, mouth and ears need their
side of the head towards the camera) and occlusion by other body parts (capsules around the limbs, trunk and
head on the sight line). numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.body_model import BodyModelArrays, shaped_rest
from bridge.geometry import kinematics, rotations
from bridge.keypoints import MEDIAPIPE_LANDMARK_NAMES
from bridge.skeleton import SMPL_FLIP_PAIRS, SMPL_JOINT_NAMES, SMPL_PARENTS

#: For a body model without a vertex for some landmark: (SMPL joint, offset in metres in the rest frame);
#: the landmark is the skin vertex nearest that point on the rest mesh at β = 0. Left side; right mirrored.
_FALLBACK_ANCHORS: dict[str, tuple[int, tuple[float, float, float]]] = {
    "nose": (15, (0.0, 0.03, 0.11)), "eye_inner": (15, (0.015, 0.065, 0.09)), "eye": (15, (0.032, 0.065, 0.085)),
    "eye_outer": (15, (0.05, 0.065, 0.075)), "ear": (15, (0.075, 0.04, 0.0)), "mouth": (15, (0.025, -0.005, 0.095)),
    "shoulder": (16, (0.0, 0.04, 0.0)), "elbow": (18, (0.0, 0.0, -0.04)), "wrist": (20, (0.0, 0.02, 0.0)),
    "pinky": (22, (0.0, 0.0, -0.03)), "index": (22, (0.01, 0.0, 0.03)), "thumb": (20, (0.04, 0.0, 0.04)),
    "hip": (1, (0.06, 0.0, 0.0)), "knee": (4, (0.0, 0.0, 0.05)), "ankle": (7, (0.04, 0.0, 0.0)),
    "heel": (7, (0.0, -0.05, -0.06)), "foot_index": (10, (0.0, -0.02, 0.08)),
}
#: Which way each face landmark looks, in the head joint's frame (+Z forward, +X the person's left).
_FACE_DIRECTIONS = np.array(
    [[0, 0, 1.0], [0, 0, 1.0], [0.2, 0, 0.98], [0.5, 0, 0.87], [0, 0, 1.0], [-0.2, 0, 0.98], [-0.5, 0, 0.87],
     [0.85, 0, 0.53], [-0.85, 0, 0.53], [0.1, 0, 0.99], [-0.1, 0, 0.99]])
#: Capsules that can hide a landmark: (joint a, joint b, radius m at β = 0, landmarks they never hide).
#: The trunk is thinner than it is wide; its radius is the depth's, so the hips and shoulders on its
#: flanks stay visible from the front and the back and hide from the far side.
_ARM_L, _ARM_R = (13, 15, 17, 19, 21), (14, 16, 18, 20, 22)
_CAPSULES: tuple[tuple[int, int, float, tuple[int, ...]], ...] = (
    (0, 12, 0.10, ()),  # trunk
    (15, 15, 0.09, tuple(range(11))),  # head: the face faces (above) decide for its own landmarks
    (16, 18, 0.05, (11,) + _ARM_L), (17, 19, 0.05, (12,) + _ARM_R),
    (18, 20, 0.04, _ARM_L), (19, 21, 0.04, _ARM_R),
    (1, 4, 0.075, (23, 25)), (2, 5, 0.075, (24, 26)),
    (4, 7, 0.055, (25, 27, 29, 31)), (5, 8, 0.055, (26, 28, 30, 32)),
)


#: Limb landmarks placed at joint centres (see the module docstring); MediaPipe and SMPL share these names.
JOINT_LANDMARKS: tuple[str, ...] = tuple(f"{side}_{part}" for side in ("left", "right")
                                         for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"))
_JOINT_LANDMARK_IDS = np.array([MEDIAPIPE_LANDMARK_NAMES.index(name) for name in JOINT_LANDMARKS])
_JOINT_LANDMARK_JOINTS = np.array([SMPL_JOINT_NAMES.index(name) for name in JOINT_LANDMARKS])


@dataclass
class PosedBody:
    """One clip's posed skeleton and landmarks in world space (metres)."""

    joints: np.ndarray  # (F, 24, 3) with translation
    landmarks: np.ndarray  # (F, 33, 3): surface points, limb joints at their centres
    global_rotmats: np.ndarray  # (F, 24, 3, 3)
    rest_joints: np.ndarray  # (24, 3) for this β
    trans_m: np.ndarray  # (F, 3) SMPL transl (world) for this β
    height_m: float  # rest mesh height for this β


def landmark_vertex_ids(arrays: BodyModelArrays) -> np.ndarray:
    """(33,) vertex per MediaPipe landmark: the model's own, or the nearest skin vertex to the fallback anchor."""
    ids = np.asarray(arrays.mediapipe_vertex_ids, dtype=np.int64).copy()
    if (ids >= 0).all():
        return ids
    vertices = arrays.v_template
    joints = arrays.J_regressor @ vertices
    for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES):
        if ids[i] >= 0:
            continue
        side, key = _anchor_key(name)
        joint, offset = _FALLBACK_ANCHORS[key]
        if side < 0:
            joint = _mirror_joint(joint)
        anchor = joints[joint] + np.array(offset) * np.array([side, 1.0, 1.0])
        ids[i] = int(np.argmin(np.linalg.norm(vertices - anchor, axis=1)))
    return ids


def _anchor_key(name: str) -> tuple[float, str]:
    """MediaPipe landmark name -> (side sign, _FALLBACK_ANCHORS key)."""
    if name.startswith("mouth_"):
        return (1.0 if name.endswith("left") else -1.0), "mouth"
    if name.startswith("left_"):
        return 1.0, name[len("left_"):]
    if name.startswith("right_"):
        return -1.0, name[len("right_"):]
    return 1.0, name


def _mirror_joint(joint: int) -> int:
    for a, b in SMPL_FLIP_PAIRS:
        if joint in (a, b):
            return b if joint == a else a
    return joint


def pose_body(arrays: BodyModelArrays, betas: np.ndarray, pose_aa: np.ndarray, pelvis_m: np.ndarray,
              vertex_ids: np.ndarray) -> PosedBody:
    """Pose the skeleton and the landmarks (vertices by LBS with pose blend shapes, limb joints) for one clip.

    betas (10,); pose_aa (F, 24, 3) SMPL local axis-angle; pelvis_m (F, 3) where joint 0 goes (world).
    SMPL's `transl` for this β is pelvis_m - rest_joints[0] (returned as `trans_m`)."""
    shaped, rest_joints = shaped_rest(arrays, betas)
    rotmats = rotations.axis_angle_to_matrix(np.asarray(pose_aa, dtype=np.float64))
    joints, glob = kinematics.forward_kinematics(rotmats, rest_joints, SMPL_PARENTS)
    pose_feature = (rotmats[:, 1:] - np.eye(3)).reshape(len(rotmats), -1)  # (F, 207)
    posedirs = np.asarray(arrays.posedirs)[vertex_ids].reshape(len(vertex_ids) * 3, -1)
    local_pts = shaped[vertex_ids][None] + (pose_feature @ posedirs.T).reshape(len(rotmats), -1, 3)
    weights = np.asarray(arrays.weights)[vertex_ids]  # (33, 24)
    # Vertex v moves with sum_j w_vj [G_j (v - J_j) + posed_J_j].
    blended_rot = np.einsum("nj,fjab->fnab", weights, glob)
    offset = joints - np.einsum("fjab,jb->fja", glob, rest_joints)
    landmarks = np.einsum("fnab,fnb->fna", blended_rot, local_pts) + np.einsum("nj,fja->fna", weights, offset)
    landmarks[:, _JOINT_LANDMARK_IDS] = joints[:, _JOINT_LANDMARK_JOINTS]
    trans = np.asarray(pelvis_m, dtype=np.float64) - rest_joints[0]
    height = float(shaped[:, 1].max() - shaped[:, 1].min())
    return PosedBody(joints + trans[:, None], landmarks + trans[:, None], glob, rest_joints, trans, height)


def self_visibility(landmarks_cam: np.ndarray, joints_cam: np.ndarray, head_rotmats_cam: np.ndarray,
                    body_scale: float = 1.0) -> np.ndarray:
    """How visible each landmark is from the camera at the origin, in [0, 1]: (F, 33).

    Face landmarks need the face (ears: the side of the head) turned towards the camera; every landmark
    is hidden where a body capsule other than its own lies on the sight line. landmarks_cam (F, 33, 3),
    joints_cam (F, 24, 3) and head_rotmats_cam (F, 3, 3) (the head joint's global rotation) in camera
    space; body_scale scales the capsules (person height / 1.7 m)."""
    to_camera = -landmarks_cam / np.maximum(np.linalg.norm(landmarks_cam, axis=-1, keepdims=True), 1e-9)
    visibility = np.ones(landmarks_cam.shape[:2])
    face = np.einsum("fab,nb->fna", head_rotmats_cam, _FACE_DIRECTIONS)
    facing = np.sum(face * to_camera[:, :len(_FACE_DIRECTIONS)], axis=-1)
    visibility[:, :len(_FACE_DIRECTIONS)] = np.clip((facing + 0.3) / 0.6, 0.0, 1.0)
    length = np.linalg.norm(landmarks_cam, axis=-1, keepdims=True)
    # The sight line from the camera to 4 cm short of the landmark, so its own skin does not hide it.
    end = landmarks_cam * np.maximum(1.0 - 0.04 / np.maximum(length, 1e-9), 0.0)
    for a, b, radius, exempt in _CAPSULES:
        dist = _segment_distance(np.zeros_like(end), end, joints_cam[:, None, a], joints_cam[:, None, b])
        hit = dist < radius * body_scale
        hit[:, list(exempt)] = False
        visibility = np.where(hit, np.minimum(visibility, 0.15), visibility)
    return visibility


def torso_away_score(root_rotmats_cam: np.ndarray, pelvis_cam: np.ndarray) -> np.ndarray:
    """(F,) 0 when the body faces the camera, 1 when it shows its side or back (left/right gets confused)."""
    forward = root_rotmats_cam[:, :, 2]  # the body's +Z in camera space
    to_camera = -pelvis_cam / np.maximum(np.linalg.norm(pelvis_cam, axis=-1, keepdims=True), 1e-9)
    return 1.0 - np.clip(np.sum(forward * to_camera, axis=-1), 0.0, 1.0)


def world_landmarks(landmarks_cam: np.ndarray) -> np.ndarray:
    """MediaPipe-style world landmarks (F, 33, 3): camera axes, metres, origin at the hip landmarks' midpoint."""
    hips = 0.5 * (landmarks_cam[:, 23] + landmarks_cam[:, 24])
    return landmarks_cam - hips[:, None, :]


def _segment_distance(p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> np.ndarray:
    """Distance between segments p0-p1 and q0-q1 (broadcast (..., 3)) -> (...)."""
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a = np.sum(d1 * d1, -1)
    e = np.sum(d2 * d2, -1)
    f = np.sum(d2 * r, -1)
    c = np.sum(d1 * r, -1)
    b = np.sum(d1 * d2, -1)
    denom = a * e - b * b
    s = np.where(denom > 1e-12, np.clip((b * f - c * e) / np.where(denom > 1e-12, denom, 1.0), 0.0, 1.0), 0.0)
    t = np.where(e > 1e-12, (b * s + f) / np.where(e > 1e-12, e, 1.0), 0.0)
    t_clipped = np.clip(t, 0.0, 1.0)
    s = np.where((t < 0.0) | (t > 1.0),
                 np.clip((b * t_clipped - c) / np.maximum(a, 1e-12), 0.0, 1.0), s)
    closest_p = p0 + d1 * s[..., None]
    closest_q = q0 + d2 * t_clipped[..., None]
    return np.linalg.norm(closest_p - closest_q, axis=-1)

