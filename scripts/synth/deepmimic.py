"""CMU motion in the DeepMimic humanoid format (`SS_TT.txt` + `humanoid3d_character.json`), read as a
skeleton motion.

A motion file is JSON with `Frames`: per frame its duration (s), the root position (m, Y up) and
rotation quaternion (w, x, y, z), then each non-root joint of the character in joint-id order: a
quaternion for a spherical joint, one angle for a revolute joint, nothing for a fixed one
(../shared/motion/README.md; here 44 numbers). Joint rotations are local to the parent; a joint sits at
its `Attach` offset (m) in the parent's frame, so forward kinematics is BVH's.

Facts of `humanoid3d_character.json` (DeepMimic, MIT licence, Copyright (c) 2018 Xue Bin Peng; read at
run time, nothing copied): the humanoid faces +x with y up, so its right side is +z (right_hip attaches at
z = +0.085, the foot boxes reach 0.13 m along +x). Revolute joints turn about their z axis, the
hinge of a body facing +x: the knee's range is [-3.14, 0] and the elbow's [0, 3.14], and every knee angle
in the 84 files is <= 0 and every elbow angle >= 0, so a knee bends the shin backwards (-x) and an elbow
the forearm forwards. Wrists are fixed joints. The humanoid has no toes, hands or head joint; fixed points
on the foot, hand and head bodies stand in for them (ADDED_POINTS).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bridge.geometry import rotations

from .matrix_motion import MatrixMotion
from .retarget import JointSource, RetargetError, RigMap, joint_at

CHARACTER_FILE = "humanoid3d_character.json"
#: Values per joint type in a frame (after the duration): the root's position and quaternion, a spherical
#: joint's quaternion, a revolute joint's angle.
_FRAME_VALUES = {"none": 7, "spherical": 4, "revolute": 1, "fixed": 0}
#: Points added to the skeleton: name -> (parent joint, offset in its frame, m). The ball of the foot 0.10 m
#: ahead of the ankle (inside the foot box, which reaches 0.1335 m) and 20° below the horizontal, as the body
#: model's ankle -> foot bone is, so a flat foot box gives a flat SMPL foot. The knuckles 0.10 m beyond the
#: wrist along the forearm (the body model's wrist -> hand length; the wrist is fixed, so the hand keeps the
#: forearm's direction). The head joint (top of the neck) 0.09 m above the neck joint and 0.03 m forward,
#: leaning 19° as the body model's neck -> head bone does; the head sphere starts 0.07 m above the neck joint.
ADDED_POINTS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "left_ball": ("left_ankle", (0.10, -0.036, 0.0)),
    "right_ball": ("right_ankle", (0.10, -0.036, 0.0)),
    "left_hand": ("left_wrist", (0.0, -0.10, 0.0)),
    "right_hand": ("right_wrist", (0.0, -0.10, 0.0)),
    "head": ("neck", (0.03, 0.09, 0.0)),
}


@dataclass(frozen=True)
class Character:
    """A DeepMimic humanoid: joints in id order (parents precede children), their types and offsets (m)."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    types: tuple[str, ...]
    offsets: np.ndarray  # (J, 3)

    @property
    def frame_width(self) -> int:
        return 1 + sum(_FRAME_VALUES[t] for t in self.types)


def read_character(path: str | Path) -> Character:
    """Read and check the skeleton of a DeepMimic character file."""
    path = Path(path)
    try:
        joints = sorted(json.loads(path.read_text(encoding="utf-8"))["Skeleton"]["Joints"], key=lambda j: j["ID"])
        names = tuple(str(j["Name"]) for j in joints)
        parents = tuple(int(j["Parent"]) for j in joints)
        types = tuple(str(j["Type"]) for j in joints)
        offsets = np.array([[float(j["AttachX"]), float(j["AttachY"]), float(j["AttachZ"])] for j in joints])
        turned = [j["Name"] for j in joints if any(float(j.get(f"AttachTheta{a}", 0.0)) for a in "XYZ")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RetargetError(f"{path}: not a DeepMimic character file: {exc}") from exc
    if [j["ID"] for j in joints] != list(range(len(joints))) or parents[0] != -1 or types[0] != "none":
        raise RetargetError(f"{path}: joint ids must run 0..{len(joints) - 1} from the root")
    if any(not 0 <= p < j for j, p in enumerate(parents[1:], start=1)):
        raise RetargetError(f"{path}: every joint's parent must come before it")
    unknown = sorted(set(types[1:]) - {"spherical", "revolute", "fixed"})
    if unknown or turned:
        raise RetargetError(f"{path}: unsupported joint types {unknown} or attach rotations at {turned}")
    return Character(names, parents, types, offsets)


def character_for(path: Path) -> Path | None:
    """The character file of a motion file laid out as `<folder>/<group>/<subject>/<file>.txt`, if any."""
    if path.suffix.lower() != ".txt" or len(path.parents) < 3:
        return None
    candidate = path.parents[2] / CHARACTER_FILE
    return candidate if candidate.is_file() else None


def read_deepmimic(path: str | Path, character: Character) -> MatrixMotion:
    """A DeepMimic motion file as a MatrixMotion in metres, ADDED_POINTS appended as joints."""
    path = Path(path)
    try:
        frames = np.asarray(json.loads(path.read_text(encoding="utf-8"))["Frames"], dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RetargetError(f"{path}: not a DeepMimic motion file: {exc}") from exc
    if frames.ndim != 2 or frames.shape[0] < 2 or frames.shape[1] != character.frame_width:
        raise RetargetError(f"{path}: needs 2 or more frames of {character.frame_width} numbers, got shape "
                            f"{frames.shape}")
    if not np.isfinite(frames).all():
        raise RetargetError(f"{path}: frames hold values that are not finite numbers")
    durations = frames[:-1, 0]  # the last frame's duration is 0: nothing follows it
    if durations.min() <= 0 or np.ptp(durations) > 1e-3 * durations.mean():
        raise RetargetError(f"{path}: frame durations must be positive and equal, got {durations.min()}-"
                            f"{durations.max()} s")
    num_frames, num_joints = len(frames), len(character.names)
    local = np.broadcast_to(np.eye(3), (num_frames, num_joints + len(ADDED_POINTS), 3, 3)).copy()
    column = 1
    for j, kind in enumerate(character.types):
        if kind == "none":  # the root: position, then rotation
            root_positions = frames[:, column:column + 3]
            local[:, j] = _quaternion_matrix(frames[:, column + 3:column + 7])
        elif kind == "spherical":
            local[:, j] = _quaternion_matrix(frames[:, column:column + 4])
        elif kind == "revolute":
            local[:, j] = rotations.axis_angle_to_matrix(frames[:, column, None] * np.array([0.0, 0.0, 1.0]))
        column += _FRAME_VALUES[kind]
    names = character.names + tuple(ADDED_POINTS)
    parents = character.parents + tuple(character.names.index(parent) for parent, _ in ADDED_POINTS.values())
    offsets = np.concatenate([character.offsets, [offset for _, offset in ADDED_POINTS.values()]])
    return MatrixMotion(names, np.array(parents), offsets, local, root_positions, 1.0 / float(durations.mean()))


def _quaternion_matrix(wxyz: np.ndarray) -> np.ndarray:
    return rotations.quaternion_to_matrix(wxyz / np.linalg.norm(wxyz, axis=-1, keepdims=True))


def _rest_frames() -> dict[str, np.ndarray]:
    """Rest frames in SMPL's axes: the humanoid's zero pose stands facing +x with the arms hanging, so
    facing +Z (x -> +Z, y -> +Y, z (right) -> -X) turns every bone by W; SMPL's rest pose also raises the
    arms sideways, a quarter turn about the forward axis (x), towards -z (left) or +z (right)."""
    facing = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    frames = {name: facing for name in ("root", "chest", "neck", "left_hip", "right_hip", "left_knee", "right_knee",
                                        "left_ankle", "right_ankle")}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        raised = facing @ rotations.axis_angle_to_matrix(np.array([sign * np.pi / 2, 0.0, 0.0]))
        frames.update({f"{side}_{bone}": raised for bone in ("shoulder", "elbow", "wrist")})
    return frames


#: The DeepMimic humanoid (15 joints, metres, 30 fps). No clavicles: the collars ride on the chest.
DEEPMIMIC = RigMap(
    name="deepmimic",
    joints=(
        JointSource((), "root"),
        joint_at("left_hip"), joint_at("right_hip"),
        JointSource(()),
        joint_at("left_knee"), joint_at("right_knee"),
        JointSource(()),
        joint_at("left_ankle"), joint_at("right_ankle"),
        JointSource(()),
        joint_at("left_ball", "left_ankle"), joint_at("right_ball", "right_ankle"),
        JointSource(()),
        JointSource((), "chest"), JointSource((), "chest"),
        joint_at("head", "neck"),
        joint_at("left_shoulder"), joint_at("right_shoulder"),
        joint_at("left_elbow"), joint_at("right_elbow"),
        joint_at("left_wrist"), joint_at("right_wrist"),
        joint_at("left_hand", "left_wrist"), joint_at("right_hand", "right_wrist"),
    ),
    units_to_m=1.0,
    rest_frames=_rest_frames(),
    spine_path=("chest", "neck", "head"),
    skip_first_frame=False,
    feet=("left_ankle", "right_ankle"),
)
