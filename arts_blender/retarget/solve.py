"""Retarget maths (no bpy): the pose-bone rotations and hips locations that make another rig move like the ARTS
rig, across rest poses (A-pose or T-pose), bone rolls and proportions.

Each mapped target bone turns in the world as its source bone turns away from its own rest, after one
fixed correction that lays the target's rest bone along the source's rest bone (the smallest rotation
between their directions, so an A-pose arm becomes a T-pose arm before the motion is applied). So every
mapped bone points where its source points in every frame, whatever the two rest poses and rolls.
Twist bones share out the roll of the limb's end along it (`twist_rotations`); other target bones
without a source (extra spine bones, fingers) keep their rest pose relative to their parent. The hips
move along the source pelvis' path scaled by the ratio of leg lengths, above the target's own rest
height. With the clip's contacts, planted feet are pinned and every foot is kept near the ARTS foot's
scaled path (`planted_legs`), the hips taking a share of what the legs' other proportions put between
them (`shared_hips`). All matrices are armature space (the armatures at the identity, as ARTS rigs are),
Blender's pose convention: pose = parent_pose @ parent_rest^-1 @ rest @ basis.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..bridge_locator import import_bridge
from .mapping import Mapping

_rotations = import_bridge("geometry.rotations")
_swing_twist = import_bridge("geometry.swing_twist")
_foot_lock = import_bridge("foot_lock")


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


def leg_ratio(source_rest: RigRest, target_rest: RigRest, bones: dict[str, str]) -> float:
    """The target's leg length over the ARTS body's (1 where the target's left leg is not mapped): how much
    every path is scaled by."""
    if not {"left_hip", "left_knee"} <= set(bones):
        return 1.0
    return leg_length(target_rest, bones["left_hip"], bones["left_knee"]) / leg_length(source_rest, "left_hip",
                                                                                         "left_knee")


def wanted_rotation(source_rest: RigRest, source_pose: dict[str, np.ndarray], target_rest: RigRest, source: str,
                    target: str) -> np.ndarray:
    """(F, 3, 3) armature-space rotation of target bone `target` that makes it turn as `source` does: its
    rest laid along the source's rest bone by the smallest rotation, then the source's turn since rest."""
    turn = source_pose[source][:, :3, :3] @ source_rest.matrix[source][:3, :3].T
    lay = _swing_twist.swing_rotation(target_rest.direction(target), source_rest.direction(source))
    return turn @ lay @ target_rest.matrix[target][:3, :3]


#: The world's up (Blender's +Z), the default up of an armature's own space.
UP = np.array([0.0, 0.0, 1.0])


def hips_path(source_rest: RigRest, source_pose: dict[str, np.ndarray], target_rest: RigRest, bones: dict[str, str],
              in_place: bool = False, up: np.ndarray = UP) -> np.ndarray:
    """(F, 3) armature-space head of the target's hips: its rest head plus the pelvis' path since rest, scaled
    by the ratio of leg lengths. In place, the path keeps only its first frame's place across the floor and
    moves along `up` (the world's up in the armature's space: +Y for a rig imported from a Y-up FBX)."""
    scale = leg_ratio(source_rest, target_rest, bones)
    path = source_pose["pelvis"][:, :3, 3] - source_rest.matrix["pelvis"][:3, 3]  # pelvis moved from its rest
    if in_place:
        path = kept_in_place(path, up)
    return target_rest.matrix[bones["pelvis"]][:3, 3] + scale * path


def kept_in_place(path: np.ndarray, up: np.ndarray = UP) -> np.ndarray:
    """(F, 3) path with its part across the floor (square to `up`) held at its first frame's."""
    up = np.asarray(up, dtype=np.float64) / np.linalg.norm(up)
    across = path - (path @ up)[:, None] * up
    return path - across + across[:1]


def twist_rotations(target_rest: RigRest, wanted: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """(F, 3, 3) armature-space rotations for the target's unmapped twist bones (a name with "twist"): each
    turns with the mapped limb bone it hangs from, rolled about the limb's axis by the share of the roll of
    the limb's next mapped bone (the hand for a forearm) that its place along the limb gives it (half way
    down: half the roll), so the skin between them twists evenly instead of wringing at one joint. A twist
    bone at the limb's head (an upper arm's shoulder twist) keeps the limb's own roll."""
    limb_of = {}
    for name in target_rest.matrix:
        above = target_rest.parent[name]
        while above is not None and above not in wanted:
            above = target_rest.parent[above]
        limb_of[name] = above
    out = {}
    for name, limb in limb_of.items():
        if name in wanted or limb is None or "twist" not in name.lower():
            continue
        ends = [b for b in wanted if limb_of[b] == limb]
        if len(ends) != 1:
            continue
        limb_rest, end_rest = target_rest.matrix[limb][:3, :3], target_rest.matrix[ends[0]][:3, :3]
        rolled = np.swapaxes(wanted[limb], -1, -2) @ wanted[ends[0]] @ (limb_rest.T @ end_rest).T
        _, roll = _swing_twist.swing_twist_decompose(rolled, np.array([0.0, 1.0, 0.0]))
        along = target_rest.matrix[name][:3, 3] - target_rest.matrix[limb][:3, 3]
        share = float(np.clip(along @ target_rest.direction(limb) / target_rest.length[limb], 0.0, 1.0))
        turn = _swing_twist.twist_matrix(np.array([0.0, 1.0, 0.0]), share * roll)
        out[name] = wanted[limb] @ turn @ (limb_rest.T @ target_rest.matrix[name][:3, :3])
    return out


def evaluate(target_rest: RigRest, wanted: dict[str, np.ndarray], hips: str, hips_head: np.ndarray
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Blender's pose evaluation of the target with the bones in `wanted` at those (F, 3, 3) armature-space
    rotations, the hips' head at `hips_head` (F, 3) and every other bone at rest under its parent.

    Returns (posed matrices (F, 4, 4) of every bone, rotation_quaternion keys (F, 4) of the bones in
    `wanted`, the hips' location keys (F, 3))."""
    frames = len(hips_head)
    pose: dict[str, np.ndarray] = {}
    keys: dict[str, np.ndarray] = {}
    location = np.zeros((frames, 3))
    for name in target_rest.order():
        rest = target_rest.matrix[name]
        parent = target_rest.parent[name]
        parent_pose = pose[parent] if parent is not None else np.broadcast_to(np.eye(4), (frames, 4, 4))
        parent_rest = target_rest.matrix[parent] if parent is not None else np.eye(4)
        chained = parent_pose @ (np.linalg.inv(parent_rest) @ rest)  # this bone at rest under its posed parent
        posed = chained.copy()
        if name in wanted:
            basis = np.swapaxes(chained[:, :3, :3], -1, -2) @ wanted[name]
            keys[name] = _rotations.quaternion_continuity(_rotations.matrix_to_quaternion(basis))
            posed[:, :3, :3] = wanted[name]
        if name == hips:  # a root bone above the hips stays at rest: the hips carry the motion
            location = np.einsum("fji,fj->fi", chained[:, :3, :3], hips_head - chained[:, :3, 3])
            posed[:, :3, 3] = hips_head
        pose[name] = posed
    return pose, keys, location


#: A contact is kept on the target only while the ARTS foot itself stands (m/s): the bridge lets go of plants
#: the image contradicts, and a retarget must not pin what the clip lets slide.
STILL_M_S, MOVING_M_S = 0.1, 0.3


def still_contacts(contacts: np.ndarray, left_ankle: np.ndarray, right_ankle: np.ndarray, fps: float,
                   units_per_m: float = 1.0) -> np.ndarray:
    """`contacts` (F, 4) faded out where the ARTS rig's own ankle (F, 3 in units_per_m units) moves: full below
    STILL_M_S, none above MOVING_M_S."""
    out = np.array(contacts, dtype=np.float64, copy=True)
    for columns, ankle in (((0, 1), left_ankle), ((2, 3), right_ankle)):
        speed = np.linalg.norm(np.gradient(np.asarray(ankle, dtype=np.float64), axis=0), axis=-1) * fps / units_per_m
        x = np.clip((speed - STILL_M_S) / (MOVING_M_S - STILL_M_S), 0.0, 1.0)
        out[:, list(columns)] *= (1.0 - x * x * (3.0 - 2.0 * x))[:, None]
    return out


def scaled_ankles(source_rest: RigRest, source_pose: dict[str, np.ndarray], target_rest: RigRest,
                  bones: dict[str, str], hips_head: np.ndarray) -> dict[str, np.ndarray]:
    """Per side, the (F, 3) armature-space path of the ARTS ankle at the target's size: the target's rest
    ankle plus the ARTS ankle's path since its rest, scaled by the ratio of leg lengths and riding on the
    target's hips (`hips_path`, so an in-place retarget stays in place)."""
    scale = leg_ratio(source_rest, target_rest, bones)
    out = {}
    for side in ("left", "right"):
        ankle = f"{side}_ankle"
        if ankle in bones and ankle in source_pose:
            moved = (source_pose[ankle][:, :3, 3] - source_pose["pelvis"][:, :3, 3]
                     - (source_rest.matrix[ankle][:3, 3] - source_rest.matrix["pelvis"][:3, 3]))
            out[side] = (hips_head + target_rest.matrix[bones[ankle]][:3, 3]
                         - target_rest.matrix[bones["pelvis"]][:3, 3] + scale * moved)
    return out


#: How far (a fraction of the target's leg length) a target ankle may stray from the ARTS ankle's scaled path
#: (`scaled_ankles`) before its leg is bent to bring it closer: strays up to half of it are left alone, longer
#: ones approach it smoothly and never pass it.
PATH_SLACK = 0.05


def _within_slack(points: np.ndarray, centres: np.ndarray, slack: float) -> np.ndarray:
    """(F, 3) points pulled towards (F, 3) centres so none is further than `slack`, unchanged within half of it
    (continuous in value and slope, so the legs bent for it move smoothly)."""
    offset = points - centres
    distance = np.linalg.norm(offset, axis=-1, keepdims=True)
    knee = 0.5 * slack
    kept = np.where(distance > knee, knee + (slack - knee) * np.tanh((distance - knee) / (slack - knee)), distance)
    return centres + offset * (kept / np.maximum(distance, 1e-12))


#: The share of the stance feet's stray from their scaled path (`scaled_ankles`) the hips take back (see
#: `shared_hips`); the rest is left to the legs' IK and PATH_SLACK.
HIPS_SHARE = 0.25


def shared_hips(target_rest: RigRest, wanted: dict[str, np.ndarray], bones: dict[str, str], hips_head: np.ndarray,
                contacts: np.ndarray, aims: dict[str, np.ndarray]) -> np.ndarray:
    """`hips_head` (F, 3) moved by HIPS_SHARE of the feet's mean stray from their scaled paths, each foot
    weighted by how planted it is (evenly in flight). Legs proportioned differently put the feet of bent legs
    elsewhere, both feet alike in a crouch; the hips taking part of that keeps the feet near their path
    without bending the knees far from the ARTS knees' angle."""
    pose, _, _ = evaluate(target_rest, wanted, bones["pelvis"], hips_head)
    stray, weight = np.zeros_like(hips_head), np.zeros(len(hips_head))
    for side, (heel, toe) in (("left", (0, 1)), ("right", (2, 3))):
        if side in aims:
            w = np.maximum(contacts[:, heel], contacts[:, toe]) + 1e-3
            stray += w[:, None] * (pose[bones[f"{side}_ankle"]][:, :3, 3] - aims[side])
            weight += w
    if not weight.any():
        return hips_head
    return hips_head - HIPS_SHARE * stray / np.maximum(weight, 1e-12)[:, None]


def planted_legs(target_rest: RigRest, wanted: dict[str, np.ndarray], bones: dict[str, str], hips_head: np.ndarray,
                 contacts: np.ndarray, fps: float, units_per_m: float = 1.0,
                 aims: dict[str, np.ndarray] | None = None, up: np.ndarray = UP) -> dict[str, np.ndarray]:
    """`wanted` with the thighs and shins turned (two-bone IK, the knee in its bending plane, the foot keeping
    its world orientation) so each foot stays on one spot for each of its contacts in `contacts` (F, 4: left
    heel, left toe, right heel, right toe, as the results file has them), fading in and out as the bridge's
    foot lock does. On another body the feet of an exactly copied pose slide wherever its legs and hips are
    proportioned differently from the ARTS body's; this pins them where the target's own feet landed.
    units_per_m: the target's armature units (100 for a Mixamo rig in centimetres), for the fades' pace.
    aims (`scaled_ankles`): per side, the path each ankle, planted or not, is kept within PATH_SLACK of. Legs
    proportioned differently (thigh against shin) put the foot of the same bent leg elsewhere; without this
    a Rigify rig's feet leave the ARTS feet's scaled path by 3 % of its height as the knee bends at lift-off.
    up: the world's up in the armature's space (the lock holds a spot's height, which must be the height)."""
    pose, _, _ = evaluate(target_rest, wanted, bones["pelvis"], hips_head)
    level = _swing_twist.swing_rotation(np.asarray(up, dtype=np.float64), UP)  # armature space -> z up
    out = dict(wanted)
    for side, (heel, toe) in (("left", (0, 1)), ("right", (2, 3))):
        thigh, shin, foot = (bones.get(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
        if thigh is None or shin is None or foot is None:
            continue
        ankles = pose[foot][:, :3, 3]
        near = ankles if aims is None or side not in aims else _within_slack(
            ankles, aims[side], PATH_SLACK * leg_length(target_rest, thigh, shin))
        planted = np.maximum(contacts[:, heel], contacts[:, toe])
        goal, _ = _foot_lock.lock_targets(near @ level.T / units_per_m, planted, -np.inf, 1.0, fps)
        goal = goal @ level * units_per_m
        active = np.linalg.norm(goal - ankles, axis=-1) > 1e-9 * units_per_m
        if not active.any():
            continue
        thigh_turn, shin_turn = _foot_lock.two_bone_ik(pose[thigh][active, :3, 3], pose[shin][active, :3, 3],
                                                       ankles[active], goal[active])
        out[thigh], out[shin] = out[thigh].copy(), out[shin].copy()
        out[thigh][active] = thigh_turn @ wanted[thigh][active]
        out[shin][active] = shin_turn @ thigh_turn @ wanted[shin][active]
    return out


def grounded(source_rest: RigRest, source_pose: dict[str, np.ndarray], target_rest: RigRest,
             wanted: dict[str, np.ndarray], bones: dict[str, str], hips_head: np.ndarray, contacts: np.ndarray,
             fps: float, units_per_m: float = 1.0, in_place: bool = False, up: np.ndarray = UP,
             legs_rest: RigRest | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(`wanted`, `hips_head`) with the clip's contacts kept on the target: the hips take their share of the
    feet's stray from the ARTS feet's scaled path (`shared_hips`, still in place if asked), then the legs pin
    the planted feet and keep every foot near that path (`planted_legs`). legs_rest: the rest the legs are
    evaluated in when it is not `target_rest` (a generated Rigify rig's legs hang from ORG-spine in FK)."""
    legs_rest = legs_rest or target_rest
    aims = scaled_ankles(source_rest, source_pose, target_rest, bones, hips_head) if {"left_hip", "left_knee"} <= set(
        bones) else None
    if aims:
        hips_head = shared_hips(legs_rest, wanted, bones, hips_head, contacts, aims)
        hips_head = kept_in_place(hips_head, up) if in_place else hips_head
    return planted_legs(legs_rest, wanted, bones, hips_head, contacts, fps, units_per_m, aims, up), hips_head


def retarget(source_rest: RigRest, source_pose: dict[str, np.ndarray], target_rest: RigRest, mapping: Mapping,
             in_place: bool = False, contacts: np.ndarray | None = None, fps: float = 30.0,
             units_per_m: float = 1.0, up: np.ndarray = UP) -> Retargeted:
    """source_pose: ARTS bone -> (F, 4, 4) evaluated pose matrices (armature space) for the mapped bones;
    contacts (F, 4): the clip's foot contacts, to keep planted feet planted on the target (planted_legs)."""
    bones = {s: t for s, t in mapping.bones.items() if s in source_pose and t in target_rest.matrix}
    wanted = {t: wanted_rotation(source_rest, source_pose, target_rest, s, t) for s, t in bones.items()}
    head = hips_path(source_rest, source_pose, target_rest, bones, in_place, up)
    if contacts is not None:
        wanted, head = grounded(source_rest, source_pose, target_rest, wanted, bones, head, contacts, fps,
                                units_per_m, in_place, up)
    wanted.update(twist_rotations(target_rest, wanted))
    _, keys, location = evaluate(target_rest, wanted, bones["pelvis"], head)
    return Retargeted(rotations=keys, hips=bones["pelvis"], hips_location=location)
