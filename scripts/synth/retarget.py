"""Retarget mocap onto the SMPL tree by matching joint positions, plus AMASS-style SMPL files.

Copying local rotations between rigs is wrong whenever their bone axes or rest poses differ (the iClone
"CC_Base" rig's bones have their own axes and a non-T rest pose). Instead, for each BVH frame:
1. place the 24 SMPL joints at the same anatomical points of the source skeleton (a source joint or a
   fixed blend of joints on one rigid bone; a `RigMap` per skeleton), in SMPL's canonical axes (Y up,
   metres; the up axis is detected from the motion). Body models disagree on where the pelvis and spine
   joints sit (SMPL's pelvis is 9 cm above the hips, the free model's level with them), so those five
   (pelvis, spine1-3, neck) go at the same fraction of the hips-to-head path as in the body model's own
   rest skeleton, along the source's spine joints; their twist comes from the source bone there. The
   collars go where they sit relative to spine3 on the rest skeleton, carried by the source's chest bone
   (a mocap clavicle joint matches neither model: the free model's collar is 2 cm off the midline);
2. solve the swing of every joint from those positions against the body model's rest skeleton with
   `analytic_swing` (bone lengths may differ; directions are matched);
3. read the twists positions cannot give (upper-arm, forearm, thigh, shin roll, ...) from the source bones'
   global rotations: each source bone has a rest frame (its axes when the rig stands in SMPL's rest pose
   facing +Z), so source global rotation @ rest frameᵀ is where SMPL's bone frame should be;
4. give leaf joints (head, feet, hands), which positions say nothing about, their full source rotation;
5. turn the pelvis as the source's root/hip bone turns (rigs place their lumbar joints differently: the
   iClone spine runs 5 cm in front of the hips, the free model's 2 cm behind, so the orientation the
   pelvis's three children imply is tilted by up to 20 degrees either way; the hip bones of the iClone
   and the original CMU conversion of one trial agree within 1 degree), keeping every other bone's
   global orientation, at the cost of a few centimetres where the spine starts.
The root keeps the world orientation; the pelvis path (its travel and its height over the floor) is scaled by
the ratio of the body model's leg length to the source's, so that feet planted in the source stay planted on
the body model's legs (copied unscaled, a CMU walk's planted feet slid at tens of cm/s in the synthetic
truth). SMPL's `transl` depends on β and is derived later (see motion.py). Motion is resampled to 30 fps and cached as `.npz`.
"""
from __future__ import annotations

import argparse
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.geometry import analytic_ik, kinematics, rotations
from bridge.geometry.swing_twist import swing_rotation, swing_twist_decompose
from bridge.ground import FOOT_JOINTS
from bridge.hashing import sha256_file
from bridge.skeleton import NUM_JOINTS, SMPL_JOINT_NAMES, SMPL_PARENTS

from .bvh import BvhMotion, read_bvh
from .motion import MotionClip, leg_length, load_motion, resample, save_motion, scaled_root_path

TARGET_FPS = 30.0
#: Bump when the retargeting changes, so cached motion is rebuilt.
RETARGET_VERSION = "6"
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "motion"
#: Twists are measured in the parent's solved frame, which moves with the ancestors' twists, so the solve
#: repeats until they settle (five passes for the rigs here, the last confirming; three leave up to 18 degrees).
_MAX_IK_PASSES = 8


@dataclass(frozen=True)
class JointSource:
    """Where one SMPL joint sits on the source skeleton and which source bone turns like it.

    position: (source joint, weight) pairs, weights summing to 1; all on one rigid source bone (a joint and
    its child, possibly extrapolated, or a joint's End Site, named joint + END_SITE) so the point moves
    rigidly with that bone. Empty for the joints placed along the spine path (see RigMap.spine_path).
    rotation_bone: source bone whose global rotation gives this joint's twist, or a leaf's whole rotation.
    """

    position: tuple[tuple[str, float], ...]
    rotation_bone: str | None = None


_ON_SPINE = JointSource(())  # placed along RigMap.spine_path
COLLARS = (13, 14)  # placed on the chest bone (see retarget_bvh)
#: SMPL joints placed along the spine path (pelvis, spine1-3, neck); the head joint ends the path.
SPINE_JOINTS = (0, 3, 6, 9, 12)
#: Suffix naming a joint's End Site in JointSource.position ("lFoot" + END_SITE): a point fixed on that joint's
#: bone, for rigs whose chains stop short of an SMPL joint (the Daz rig's foot has no toe joint).
END_SITE = "/end"


def joint_at(name: str, rotation_bone: str | None = None) -> JointSource:
    """An SMPL joint at source joint `name` (or its End Site), turning like `rotation_bone` (default: that joint)."""
    return JointSource(((name, 1.0),), rotation_bone or name)


def _axes(spec: str) -> np.ndarray:
    """'-y +x +z' -> the rotation whose columns are those SMPL-frame directions (a bone's local x, y, z)."""
    matrix = np.zeros((3, 3))
    for column, token in enumerate(spec.split()):
        matrix["xyz".index(token[1]), column] = 1.0 if token[0] == "+" else -1.0
    return matrix


@dataclass(frozen=True)
class RigMap:
    """How one source skeleton maps onto SMPL's 24 joints."""

    name: str
    joints: tuple[JointSource, ...]  # 24, SMPL order
    units_to_m: float
    #: bone -> its rest frame: local axes in SMPL's frame when the rig stands in SMPL's rest pose facing +Z.
    rest_frames: dict[str, np.ndarray] = field(default_factory=dict)
    #: Source joints from just above the hips to the head joint; SMPL's pelvis, spine1-3 and neck are placed
    #: on the path (hip midpoint, then these) at the fractions they have on the body model's rest skeleton.
    spine_path: tuple[str, ...] = ()
    skip_first_frame: bool = True  # these exports open on a calibration pose
    feet: tuple[str, str] = ("", "")  # for detecting the up axis (with the head, spine_path[-1])

    def required_joints(self) -> set[str]:
        names = {n.removesuffix(END_SITE) for source in self.joints for n, _ in source.position}
        names |= {s.rotation_bone for s in self.joints if s.rotation_bone}
        return names | set(self.spine_path) | set(self.feet)

    def matches(self, motion: BvhMotion) -> bool:
        if not self.required_joints() <= set(motion.joint_names):
            return False
        ends = {n.removesuffix(END_SITE) for s in self.joints for n, _ in s.position if n.endswith(END_SITE)}
        return all(motion.index(n) in motion.end_sites for n in ends)


def _cc(side: str) -> dict[str, str]:
    return {k: f"CC_Base_{side}_{v}" for k, v in {
        "thigh": "Thigh", "calf": "Calf", "foot": "Foot", "toe": "ToeBase", "clavicle": "Clavicle",
        "upperarm": "Upperarm", "forearm": "Forearm", "hand": "Hand", "mid": "Mid1"}.items()}


_L, _R = _cc("L"), _cc("R")
#: Reallusion Character Creator "CC_Base" rig (the iClone conversions of CMU): Y up in the file, cm, 60 fps.
CC_BASE = RigMap(
    name="cc_base",
    joints=(
        JointSource((), "CC_Base_Hip"),
        joint_at(_L["thigh"]), joint_at(_R["thigh"]),
        _ON_SPINE,
        joint_at(_L["calf"]), joint_at(_R["calf"]),
        _ON_SPINE,
        joint_at(_L["foot"]), joint_at(_R["foot"]),
        _ON_SPINE,
        joint_at(_L["toe"]), joint_at(_R["toe"]),
        _ON_SPINE,
        JointSource((), _L["clavicle"]), JointSource((), _R["clavicle"]),
        joint_at("CC_Base_Head"),
        joint_at(_L["upperarm"]), joint_at(_R["upperarm"]),
        joint_at(_L["forearm"]), joint_at(_R["forearm"]),
        joint_at(_L["hand"]), joint_at(_R["hand"]),
        joint_at(_L["mid"]), joint_at(_R["mid"]),
    ),
    units_to_m=0.01,
    # Read off the calibration T-pose that opens the subject-007 files (every bone within 16 degrees).
    rest_frames={
        **{f"CC_Base_{b}": _axes("+x +y +z")
           for b in ("Hip", "Waist", "Spine01", "Spine02", "NeckTwist01", "NeckTwist02", "Head")},
        **{side[b]: _axes("-x -y +z") for side in (_L, _R) for b in ("thigh", "calf")},
        **{side[b]: _axes("-x +z +y") for side in (_L, _R) for b in ("foot", "toe")},
        **{_L[b]: _axes("-y +x +z") for b in ("clavicle", "upperarm", "forearm", "hand", "mid")},
        **{_R[b]: _axes("+y -x +z") for b in ("clavicle", "upperarm", "forearm", "hand", "mid")},
    },
    spine_path=("CC_Base_Waist", "CC_Base_Spine01", "CC_Base_Spine02", "CC_Base_NeckTwist01", "CC_Base_NeckTwist02",
                "CC_Base_Head"),
    feet=("CC_Base_L_Foot", "CC_Base_R_Foot"),
)

#: The original CMU skeleton (cgspeed BVH conversions, 31 joints, 120 fps). Its zero pose is a T-pose with
#: every bone frame along the world axes, so every rest frame is the identity. Units: 1/0.45 inch.
CMU = RigMap(
    name="cmu",
    joints=(
        JointSource((), "Hips"),
        joint_at("LeftUpLeg"), joint_at("RightUpLeg"),
        _ON_SPINE,
        joint_at("LeftLeg"), joint_at("RightLeg"),
        _ON_SPINE,
        joint_at("LeftFoot"), joint_at("RightFoot"),
        _ON_SPINE,
        joint_at("LeftToeBase"), joint_at("RightToeBase"),
        _ON_SPINE,
        JointSource((), "LeftShoulder"), JointSource((), "RightShoulder"),
        joint_at("Head"),
        joint_at("LeftArm"), joint_at("RightArm"),
        joint_at("LeftForeArm"), joint_at("RightForeArm"),
        joint_at("LeftHand"), joint_at("RightHand"),
        JointSource((("LeftFingerBase", -1.0), ("LFingers", 2.0)), "LeftFingerBase"),
        JointSource((("RightFingerBase", -1.0), ("RFingers", 2.0)), "RightFingerBase"),
    ),
    units_to_m=0.0254 / 0.45,
    spine_path=("Hips", "Spine", "Spine1", "Neck1", "Head"),
    feet=("LeftFoot", "RightFoot"),
)


def _renamed(rig: RigMap, name: str, names: dict[str, str], **changes) -> RigMap:
    """`rig` for a skeleton with the same bones under other names (names: rig's joint -> the other's)."""
    def rename(joint: str) -> str:
        base = joint.removesuffix(END_SITE)
        return names.get(base, base) + joint[len(base):]

    joints = tuple(JointSource(tuple((rename(n), w) for n, w in source.position),
                               source.rotation_bone and rename(source.rotation_bone)) for source in rig.joints)
    return replace(rig, name=name, joints=joints, spine_path=tuple(map(rename, rig.spine_path)),
                   feet=(rename(rig.feet[0]), rename(rig.feet[1])), **changes)


#: The original CMU skeleton in cgspeed's 3ds Max release (subject 131; 31 joints, 120 fps): CMU's bones under
#: other names (LeftHip = LeftUpLeg, LeftShoulder = LeftArm, lhand = LeftFingerBase, ...), but its zero pose
#: hangs the arms straight down, palms in, every bone frame along the world axes. Turned into SMPL's T-pose,
#: the left arm's bones turn +90 degrees about the forward axis and the right arm's -90 (the thumb, forward in
#: both releases' zero poses, stays forward). Units as CMU.
CMU_MAX = _renamed(CMU, "cmu_max", {
    **{f"{side}{cmu}": f"{side}{other}" for side in ("Left", "Right") for cmu, other in (
        ("UpLeg", "Hip"), ("Leg", "Knee"), ("Foot", "Ankle"), ("ToeBase", "Toe"), ("Shoulder", "Collar"),
        ("Arm", "Shoulder"), ("ForeArm", "Elbow"), ("Hand", "Wrist"))},
    "LeftFingerBase": "lhand", "RightFingerBase": "rhand", "Spine": "Chest", "Spine1": "Chest2", "Neck1": "Neck",
}, rest_frames={
    bone: rotations.axis_angle_to_matrix(np.radians([0.0, 0.0, turn]))
    for side, hand, turn in (("Left", "lhand", 90.0), ("Right", "rhand", -90.0))
    for bone in (f"{side}Shoulder", f"{side}Elbow", f"{side}Wrist", hand)
})


def _daz(side: str) -> dict[str, str]:
    return {k: f"{side}{v}" for k, v in {
        "thigh": "Thigh", "shin": "Shin", "foot": "Foot", "collar": "Collar", "shoulder": "Shldr",
        "forearm": "ForeArm", "hand": "Hand", "mid": "Mid1"}.items()}


_DL, _DR = _daz("l"), _daz("r")
#: cgspeed's "Daz-friendly" CMU conversions (43 joints with fingers and eyes; the dance and martial-arts
#: trials). Their zero pose (standard_skeleton.bvh) is a T-pose facing +Z, left arm along +X, palms down, every
#: bone frame along the world axes, so rest frames are the identity but for the forearms and hands, which point
#: 17.5 and 23.7 degrees forward of the T-pose arm there. Every trial opens on it (legs within 7 degrees).
#: Units: cm (zero pose: hip joints 85.8 and eyes 152.9 above the ball of the foot; eye height being 93.6 % of
#: stature, 1.63 m tall; jumps in indian/14 fall at 9.7-11.8 m/s^2 at 120 fps). The foot has no toe joint; its End
#: Site, 12.6 cm ahead of and 3.7 cm below the ankle, is the ball of the foot. The root `hip` sits 2.6 cm below
#: the hip joints, so the spine path starts at `abdomen`. Salsa files: see FPS_CORRECTIONS.
DAZ = RigMap(
    name="daz",
    joints=(
        JointSource((), "hip"),
        joint_at(_DL["thigh"]), joint_at(_DR["thigh"]),
        _ON_SPINE,
        joint_at(_DL["shin"]), joint_at(_DR["shin"]),
        _ON_SPINE,
        joint_at(_DL["foot"]), joint_at(_DR["foot"]),
        _ON_SPINE,
        joint_at(_DL["foot"] + END_SITE, _DL["foot"]), joint_at(_DR["foot"] + END_SITE, _DR["foot"]),
        _ON_SPINE,
        JointSource((), _DL["collar"]), JointSource((), _DR["collar"]),
        joint_at("head"),
        joint_at(_DL["shoulder"]), joint_at(_DR["shoulder"]),
        joint_at(_DL["forearm"]), joint_at(_DR["forearm"]),
        joint_at(_DL["hand"]), joint_at(_DR["hand"]),
        joint_at(_DL["mid"]), joint_at(_DR["mid"]),
    ),
    units_to_m=0.01,
    # The forearm and hand straightened onto the T-pose arm (zero-pose offsets of the hand from the forearm
    # and of the middle finger from the hand, standard_skeleton.bvh; the finger turns with the hand): elbow
    # twist error 2.7 degrees instead of 7.4, wrist 0.3 instead of 3.2. Legs, upper arms and spine lie within
    # 10 degrees of a T-pose; the collars slope 15.5 degrees down but never turn in these files.
    rest_frames={
        side[bone]: swing_rotation((sign * x, y, z), (sign, 0.0, 0.0))
        for side, sign in ((_DL, 1.0), (_DR, -1.0))
        for bone, (x, y, z) in (("forearm", (22.5879, 0.773209, 7.07136)), ("hand", (8.24714, 1.18213, 3.41376)),
                                ("mid", (8.24714, 1.18213, 3.41376)))
    },
    spine_path=("abdomen", "chest", "neck", "head"),
    feet=(_DL["foot"], _DR["foot"]),
)
RIG_MAPS: tuple[RigMap, ...] = (CC_BASE, CMU, CMU_MAX, DAZ)

#: Frame rates the BVH headers get wrong, by the file's two innermost folders: the cgspeed salsa trials are
#: 60 fps although their headers say 120 (../shared/motion/README.md).
FPS_CORRECTIONS: dict[tuple[str, ...], float] = {("cmu_dance_martial", "salsa"): 60.0}


def read_motion_bvh(path: str | Path) -> BvhMotion:
    """read_bvh with the frame rate of FPS_CORRECTIONS where the header is known to be wrong, so the motion is
    resampled to TARGET_FPS at its real speed."""
    motion = read_bvh(path)
    fps = FPS_CORRECTIONS.get(Path(path).absolute().parent.parts[-2:])
    return motion if fps is None else replace(motion, frame_time_s=1.0 / fps)


class RetargetError(ValueError):
    """A motion file cannot be retargeted (unknown skeleton, too short, unreadable)."""


def rig_map_for(motion: BvhMotion, source: str = "BVH") -> RigMap:
    """The RigMap whose joints the file has; a clear error naming what is supported otherwise."""
    for rig in RIG_MAPS:
        if rig.matches(motion):
            return rig
    raise RetargetError(f"{source}: unknown skeleton (root {motion.joint_names[0]!r}, {len(motion.joint_names)} "
                        f"joints); supported: {', '.join(r.name for r in RIG_MAPS)} "
                        f"(add a RigMap in scripts/synth/retarget.py)")


@dataclass
class RetargetResult:
    """A retargeted clip at the source frame rate, with what validation needs."""

    clip: MotionClip
    target_joints_m: np.ndarray  # (F, 24, 3) the SMPL joint positions placed on the source skeleton
    bone_frames: dict[int, np.ndarray]  # joint -> (F, 3, 3) the global bone frame read from the source
    rig: RigMap


def up_alignment(head_m: np.ndarray, feet_m: np.ndarray) -> np.ndarray:
    """Rotation (3, 3) taking the file's up axis (the signed coordinate axis nearest the mean feet -> head
    direction) to +Y by a quarter or half turn about a coordinate axis (x and z keep their meaning for
    Y-up files; Z-up files turn about x)."""
    up = (head_m - feet_m).mean(axis=0)
    axis = int(np.argmax(np.abs(up)))
    sign = 1.0 if up[axis] > 0 else -1.0
    if axis == 1:
        return np.diag([1.0, sign, sign])
    if axis == 2:  # z up -> y up: (x, y, z) -> (x, z, -y) ; z down -> (x, -z, y)
        return np.array([[1.0, 0, 0], [0, 0, sign], [0, -sign, 0]])
    return np.array([[0, -sign, 0], [sign, 0, 0], [0, 0, 1.0]])  # x up -> y up about z


def retarget_bvh(motion: BvhMotion, rest_joints: np.ndarray, source: str, group: str,
                 rig: RigMap | None = None) -> RetargetResult:
    """Retarget a parsed BVH onto SMPL (see the module docstring). rest_joints: (24, 3) body-model rest
    joints, metres. The result keeps the source frame rate (resample it with motion.resample)."""
    rig = rig or rig_map_for(motion, source)
    rest_joints = np.asarray(rest_joints, dtype=np.float64)
    if rig.skip_first_frame:
        motion = motion.drop_frames(1)
    if motion.num_frames < 2:
        raise RetargetError(f"{source}: needs at least 2 frames of motion after the calibration pose")
    positions, global_rot = motion.forward_kinematics()
    positions = positions * rig.units_to_m
    head = positions[:, motion.index(rig.spine_path[-1])]
    feet = 0.5 * (positions[:, motion.index(rig.feet[0])] + positions[:, motion.index(rig.feet[1])])
    world = up_alignment(head, feet)
    positions = positions @ world.T
    global_rot = world @ global_rot

    targets = np.zeros((motion.num_frames, NUM_JOINTS, 3))
    for j, src in enumerate(rig.joints):
        for name, weight in src.position:
            targets[:, j] += weight * _source_point(motion, positions, global_rot, name, rig.units_to_m)
    path = [0.5 * (targets[:, 1] + targets[:, 2])] + [positions[:, motion.index(n)] for n in rig.spine_path]
    first = motion.index(rig.spine_path[0])  # hip midpoint -> first path joint moves with that joint's parent
    path_bones = [int(motion.parents[first]) if motion.parents[first] >= 0 else first]
    path_bones += [motion.index(n) for n in rig.spine_path]
    fractions = spine_fractions(rest_joints)
    bone_names = {j: src.rotation_bone for j, src in enumerate(rig.joints) if src.rotation_bone}
    for j, (fraction, child_fraction) in zip(SPINE_JOINTS, zip(fractions, fractions[1:])):
        targets[:, j], _ = _point_on_path(path, fraction)
        if j != 0:  # the pelvis turns with the rig's own hip bone (its JointSource)
            _, segment = _point_on_path(path, 0.5 * (fraction + child_fraction))
            bone_names[j] = motion.joint_names[path_bones[segment]]
    # Collars ride on the chest: the bone spine3 sits on, at the rest skeleton's offset (scaled to the source).
    chest = global_rot[:, motion.index(bone_names[9])] @ rig.rest_frames.get(bone_names[9], np.eye(3)).T
    scale = _path_length(path) / _path_length(list(_rest_spine_points(rest_joints)))
    for collar in COLLARS:
        targets[:, collar] = targets[:, 9] + scale * chest @ (rest_joints[collar] - rest_joints[9])
    bone_frames = {j: global_rot[:, motion.index(name)] @ rig.rest_frames.get(name, np.eye(3)).T
                   for j, name in bone_names.items()}
    local = solve_pose(rest_joints, targets, bone_frames)
    pose_aa = rotations.matrix_to_axis_angle(local)
    floor = float(np.percentile(targets[:, FOOT_JOINTS, 1].min(axis=1), 5))
    root = scaled_root_path(targets[:, 0], leg_length(rest_joints) / leg_length(targets), floor)
    clip = MotionClip(pose_aa.astype(np.float32), root.astype(np.float32), motion.fps, source, group)
    return RetargetResult(clip, targets, bone_frames, rig)


def _source_point(motion: BvhMotion, positions: np.ndarray, global_rot: np.ndarray, name: str,
                  units_to_m: float) -> np.ndarray:
    """(F, 3) a source joint's position, or for joint + END_SITE its End Site's, which rides on that joint's
    bone. positions (F, J, 3) and global_rot (F, J, 3, 3) are already in metres and SMPL's axes."""
    if not name.endswith(END_SITE):
        return positions[:, motion.index(name)]
    j = motion.index(name.removesuffix(END_SITE))
    return positions[:, j] + global_rot[:, j] @ (units_to_m * motion.end_sites[j])


def spine_fractions(rest_joints: np.ndarray) -> np.ndarray:
    """Where SPINE_JOINTS sit on the rest skeleton's path hip midpoint -> spine1 -> spine2 -> spine3 ->
    neck -> head, as fractions of its length (6,), the head (1.0) last. The pelvis is projected onto
    the path's first segment."""
    points = _rest_spine_points(rest_joints)
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(lengths)])
    first = points[1] - points[0]
    pelvis = float(np.clip((rest_joints[0] - points[0]) @ first / lengths[0], 0.0, lengths[0]))
    return np.concatenate([[pelvis], arc[1:]]) / arc[-1]


def _rest_spine_points(rest_joints: np.ndarray) -> np.ndarray:
    """(6, 3) the rest skeleton's hip midpoint, spine1, spine2, spine3, neck, head."""
    return np.stack([0.5 * (rest_joints[1] + rest_joints[2])] + [rest_joints[j] for j in (3, 6, 9, 12, 15)])


def _path_length(path) -> float:
    """Length of a polyline of points (3,) or (F, 3) (frame-averaged)."""
    return float(sum(np.linalg.norm(np.asarray(b) - np.asarray(a), axis=-1).mean() for a, b in zip(path, path[1:])))


def _point_on_path(path: list[np.ndarray], fraction: float) -> tuple[np.ndarray, int]:
    """The point (F, 3) at `fraction` of a polyline's length (its points (F, 3) each, segment lengths
    averaged over frames so the point stays on one rigid segment) and that segment's index."""
    lengths = np.array([np.linalg.norm(b - a, axis=-1).mean() for a, b in zip(path, path[1:])])
    arc = np.concatenate([[0.0], np.cumsum(lengths)]) / lengths.sum()
    segment = int(np.clip(np.searchsorted(arc, fraction, side="right") - 1, 0, len(lengths) - 1))
    u = (fraction - arc[segment]) / max(arc[segment + 1] - arc[segment], 1e-12)
    return path[segment] + u * (path[segment + 1] - path[segment]), segment


def solve_pose(rest_joints: np.ndarray, targets: np.ndarray, bone_frames: dict[int, np.ndarray]) -> np.ndarray:
    """Local rotations (F, 24, 3, 3) that put the SMPL skeleton's bones along `targets` (F, 24, 3) with
    the twists (and leaf rotations) of `bone_frames` (joint -> (F, 3, 3) wanted global bone frame).
    Leaves get their whole rotation at the end (they move no other joint), so they take no twist here."""
    parents = SMPL_PARENTS
    leaves = [j for j in range(NUM_JOINTS) if j not in set(parents.tolist())]
    local = analytic_ik.analytic_swing(rest_joints, targets, parents)
    twist = np.zeros(targets.shape[:1] + (NUM_JOINTS - 1,))
    for _ in range(_MAX_IK_PASSES):
        _, glob = kinematics.forward_kinematics(local, rest_joints, parents)
        wanted = local.copy()
        for j, frame in bone_frames.items():
            if j > 0:
                wanted[:, j] = np.swapaxes(glob[:, parents[j]], -1, -2) @ frame
        previous, twist = twist, analytic_ik.twist_angles_from_rotmats(wanted, rest_joints, parents)
        twist[:, [j - 1 for j in range(1, NUM_JOINTS) if j not in bone_frames or j in leaves]] = 0.0
        local = analytic_ik.analytic_swing(rest_joints, targets, parents, twist)
        if np.abs(np.angle(np.exp(1j * (twist - previous)))).max() < 1e-6:
            break
    if 0 in bone_frames:  # the root turns as the source's hip bone; its children keep their global rotations
        change = np.swapaxes(bone_frames[0], -1, -2) @ local[:, 0]  # new root⁻¹ · solved root
        for child in np.flatnonzero(parents == 0):
            local[:, child] = change @ local[:, child]
        local[:, 0] = bone_frames[0]
    _, glob = kinematics.forward_kinematics(local, rest_joints, parents)
    for j in leaves:
        if j in bone_frames:
            local[:, j] = np.swapaxes(glob[:, parents[j]], -1, -2) @ bone_frames[j]
    return local


@dataclass
class RetargetReport:
    """Position error of a retargeted clip, mm per SMPL joint (averaged over frames).

    bone_mm: each joint placed from its parent's placed position along its solved bone, at the source's
    bone length: what the retargeting itself misses (only joints under pelvis and spine3, whose several
    children cannot all match when the rigs' proportions differ, should show any).
    chain_mm: forward kinematics from the pelvis on the rest skeleton rescaled to the source's bone
    lengths, so bone errors add up along each chain.
    body_model_mm: forward kinematics on the body model's own rest skeleton (its proportions, not the
    source's), pelvis aligned: how far the synthetic body's joints are from the mocap's.
    twist_deg: how far each bone is turned about itself from the source bone's frame (its rest frame
    applied): a wrong rest frame or an unsettled twist solve shows here.
    """

    bone_mm: np.ndarray
    chain_mm: np.ndarray
    body_model_mm: np.ndarray
    twist_deg: np.ndarray  # median |twist| between the solved bone frame and the source's (NaN: no source)

    def format(self) -> str:
        rows = [f"{'joint':16s} {'bone':>7s} {'chain':>7s} {'body model':>10s} {'twist deg':>9s}"]
        rows += [f"{name:16s} {a:7.1f} {b:7.1f} {c:10.1f} {d:9.1f}" for name, a, b, c, d in
                 zip(SMPL_JOINT_NAMES, self.bone_mm, self.chain_mm, self.body_model_mm, self.twist_deg)]
        rows.append(f"{'mean':16s} {self.bone_mm.mean():7.1f} {self.chain_mm.mean():7.1f} "
                    f"{self.body_model_mm.mean():10.1f} {np.nanmean(self.twist_deg):9.1f}")
        return "\n".join(rows)


def validate_retarget(result: RetargetResult, rest_joints: np.ndarray) -> RetargetReport:
    """Compare the retargeted pose's forward kinematics with the SMPL joints placed on the source."""
    targets = result.target_joints_m
    rest = np.asarray(rest_joints, dtype=np.float64)
    parents = SMPL_PARENTS
    lengths = np.linalg.norm(targets[:, 1:] - targets[:, parents[1:]], axis=-1).mean(axis=0)
    directions = rest[1:] - rest[parents[1:]]
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    scaled = rest.copy()
    for j in range(1, NUM_JOINTS):
        scaled[j] = scaled[parents[j]] + directions[j - 1] * lengths[j - 1]
    local = rotations.axis_angle_to_matrix(result.clip.pose_aa.astype(np.float64))
    posed, glob = kinematics.forward_kinematics(local, scaled, parents)
    bone = np.zeros(targets.shape[:2])
    bone[:, 1:] = np.linalg.norm(
        targets[:, parents[1:]] + np.einsum("fjab,jb->fja", glob[:, parents[1:]], scaled[1:] - scaled[parents[1:]])
        - targets[:, 1:], axis=-1)
    chain = np.linalg.norm(posed - posed[:, :1] + targets[:, :1] - targets, axis=-1)
    own, _ = kinematics.forward_kinematics(local, rest, parents)
    body = np.linalg.norm(own - own[:, :1] + targets[:, :1] - targets, axis=-1)
    axes = np.concatenate([[[0.0, 1.0, 0.0]], analytic_ik.twist_axes(rest, parents)])  # root: about up
    twist = np.full(NUM_JOINTS, np.nan)
    for j, frame in result.bone_frames.items():
        _, angle = swing_twist_decompose(np.swapaxes(glob[:, j], -1, -2) @ frame, axes[j])
        twist[j] = np.degrees(np.median(np.abs(angle)))
    return RetargetReport(*(e.mean(axis=0) * 1000.0 for e in (bone, chain, body)), twist)


def load_amass(path: str | Path, rest_joints: np.ndarray, source: str, group: str,
               up_axis: str = "z") -> MotionClip:
    """An AMASS-style `.npz` (poses (F, 72+) SMPL/SMPL-H/SMPL-X axis-angle, trans (F, 3),
    mocap_framerate) as a MotionClip at its own rate. AMASS worlds are Z-up; the pelvis position uses
    this body model's rest pelvis (the file's own β is not used). Hand joints of SMPL-H/X files (more
    than 72 values) are left straight."""
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            poses, trans = np.asarray(data["poses"], np.float64), np.asarray(data["trans"], np.float64)
            fps = float(data["mocap_framerate"]) if "mocap_framerate" in data else float(data["mocap_frame_rate"])
    except (OSError, KeyError, ValueError) as exc:
        raise RetargetError(f"{path}: not an AMASS-style npz (needs poses, trans, mocap_framerate): {exc}") from exc
    if poses.ndim != 2 or poses.shape[1] < 66 or trans.shape != (poses.shape[0], 3):
        raise RetargetError(f"{path}: poses must be (F, 72 or more) and trans (F, 3), got {poses.shape} and "
                            f"{trans.shape}")
    pose = np.zeros((poses.shape[0], NUM_JOINTS, 3))
    body_joints = NUM_JOINTS if poses.shape[1] == 72 else 22
    pose[:, :body_joints] = poses[:, :3 * body_joints].reshape(-1, body_joints, 3)
    world = np.eye(3) if up_axis == "y" else np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])
    pose[:, 0] = rotations.matrix_to_axis_angle(world @ rotations.axis_angle_to_matrix(pose[:, 0]))
    root = (np.asarray(rest_joints)[0] + trans) @ world.T
    return MotionClip(pose.astype(np.float32), root.astype(np.float32), fps, source, group)


def find_motion_files(motion_dir: str | Path) -> list[Path]:
    """Every motion file under `motion_dir`, sorted (deterministic order): `.bvh` (but skeleton-only ones),
    `.npz`, and `.txt` files of the CMU exp-map and DeepMimic formats beside their skeleton files."""
    from .motion_formats import is_motion_file  # here: that module builds on this one's RigMap

    root = Path(motion_dir)
    if not root.is_dir():
        raise RetargetError(f"motion folder {root} does not exist")
    return sorted(p for p in root.rglob("*") if p.is_file() and is_motion_file(p))


#: The salsa folder holds each take twice, one file per dancer: NN and NN + 15.
SALSA_PARTNER_OFFSET = 15


def clip_identity(path: Path) -> tuple[str, str]:
    """(source, group) names for a motion file: sources are unique across the corpus; a test split holds
    out whole groups. CMU trials (files named SS_TT or SSS_TT) are 'cmu:001_01', grouped by subject
    'cmu:001'; another conversion of the same trial stays in its subject's group and is told apart by its
    folder, 'cmu:001_01(cmu_original)', when that is not the subject's number, or by '(deepmimic)' for the
    DeepMimic files. Exp-map files are 'expmap:train/walking/walking_1' (their path beside skeleton.json),
    in the group of the CMU subject when they are a trial found in another folder (expmap.CMU_TRIALS), else
    each its own group, as is each Daz dance and martial-arts BVH ('dance_martial:salsa/01', no subject
    stated) except that both dancers of a salsa take share one. Anything else is named by its file stem and
    grouped by its folder."""
    from .expmap import CMU_TRIALS  # here: these modules build on this one's RigMap
    from .motion_formats import text_format

    kind = text_format(path)
    if kind == "expmap":
        relative = path.relative_to(path.parents[2]).with_suffix("").as_posix()
        trial = CMU_TRIALS.get(relative)
        source = f"expmap:{relative}"
        return source, source if trial is None else f"cmu:{int(trial.split('_')[0]):03d}"
    if path.suffix.lower() == ".bvh" and path.parent.parent.name == "cmu_dance_martial":
        source = f"dance_martial:{path.parent.name}/{path.stem}"
        if path.parent.name == "salsa" and path.stem.isdigit() and int(path.stem) > SALSA_PARTNER_OFFSET:
            # salsa NN and NN + 15 are the two dancers of one take (same length, always within 2 m): one group
            return source, f"dance_martial:salsa/{int(path.stem) - SALSA_PARTNER_OFFSET:02d}"
        return source, source
    parts = path.stem.split("_")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        subject = f"{int(parts[0]):03d}"
        source = f"cmu:{subject}_{int(parts[1]):02d}"
        if kind == "deepmimic":
            source += "(deepmimic)"
        elif not (path.parent.name.isdigit() and int(path.parent.name) == int(parts[0])):
            source += f"({path.parent.name})"
        return source, f"cmu:{subject}"
    return f"{path.parent.name}:{path.stem}", path.parent.name


def load_retargeted(path: Path, rest_joints: np.ndarray, cache_dir: Path | None = DEFAULT_CACHE_DIR,
                    fps: float = TARGET_FPS) -> MotionClip:
    """Retarget (BVH, CMU exp-map, DeepMimic) or convert (AMASS npz) one file to a MotionClip at `fps`,
    through the cache.

    The cache key covers the file (path and contents), its skeleton file's contents for the formats that keep
    one apart, the rest skeleton and RETARGET_VERSION. Contents, not modification times: a corpus copied or
    mounted afresh (every new machine, often every session) keeps its cache, where times missed on all 230
    files and retargeted them again (84 s per process). Names come from clip_identity, not the cache, so
    renaming a source never needs a rebuild."""
    from .motion_formats import read_skeleton_motion, skeleton_file  # here: it builds on this module's RigMap

    source, group = clip_identity(path)
    cache_path = None
    if cache_dir is not None:
        skeleton = skeleton_file(path)  # None for BVH and npz
        extra = "" if skeleton is None else f"|{skeleton.resolve()}|{sha256_file(skeleton)}"
        facts = f"{path.resolve()}|{sha256_file(path)}|{RETARGET_VERSION}|{fps}{extra}"
        key = hashlib.sha1(facts.encode()
                           + np.ascontiguousarray(rest_joints, dtype=np.float64).tobytes()).hexdigest()[:16]
        cache_path = Path(cache_dir) / f"{path.stem}-{key}.npz"
        if cache_path.is_file():
            cached = load_motion(cache_path)
            return MotionClip(cached.pose_aa, cached.root_pos_m, cached.fps, source, group)
    if path.suffix.lower() == ".npz":
        clip = load_amass(path, rest_joints, source, group)
    else:
        motion, rig = read_skeleton_motion(path)
        clip = retarget_bvh(motion, rest_joints, source, group, rig).clip
    clip = resample(clip, fps)
    if cache_path is not None:
        os.makedirs(cache_path.parent, exist_ok=True)
        save_motion(cache_path, clip)
    return clip


def main(argv: list[str] | None = None) -> int:
    """Retarget every skeleton motion file (BVH, CMU exp-map, DeepMimic) under a folder and print the
    per-joint validation (mm), averaged over the files of each rig."""
    from .motion_formats import read_skeleton_motion  # here: it builds on this module's RigMap

    parser = argparse.ArgumentParser(prog="python -m scripts.synth.retarget", description=main.__doc__)
    parser.add_argument("--motion-dir", type=Path, required=True)
    parser.add_argument("--body-model", type=Path, default=None)
    args = parser.parse_args(argv)
    rest_joints = shaped_rest(load_body_model_arrays(args.body_model), None)[1]
    reports: dict[str, list[RetargetReport]] = {}
    for path in find_motion_files(args.motion_dir):
        if path.suffix.lower() == ".npz":
            continue
        source, group = clip_identity(path)
        try:
            motion, rig_map = read_skeleton_motion(path)
            result = retarget_bvh(motion, rest_joints, source, group, rig_map)
        except ValueError as exc:  # RetargetError, BvhError
            print(f"skipping {path}: {exc}")
            continue
        report = validate_retarget(result, rest_joints)
        reports.setdefault(result.rig.name, []).append(report)
        print(f"{source:44s} {result.rig.name:10s} {result.clip.num_frames:6d} frames  "
              f"bone {report.bone_mm.mean():5.1f}"
              f"  chain {report.chain_mm.mean():5.1f}  body model {report.body_model_mm.mean():5.1f} mm")
    for rig, items in reports.items():
        mean = RetargetReport(*(np.mean([getattr(r, f) for r in items], axis=0)
                                for f in ("bone_mm", "chain_mm", "body_model_mm", "twist_deg")))
        print(f"\n{rig}: mean over {len(items)} files, mm\n{mean.format()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
