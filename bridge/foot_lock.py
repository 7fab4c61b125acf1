"""Foot lock: pin each planted foot to one spot for its whole contact, with the legs re-solved by two-bone IK
and the pelvis moved only as far as the legs cannot reach.

Works in the clip's world frame (bridge/ground.py) on the contacts of bridge/contacts.py. Per foot, every
run of frames where its heel or toe is planted gets one target for the ankle: the contact-weighted mean
of where the ankle was, moved onto the camera ray through the detected ankle where the detector saw it
(the image's direction, the estimate's depth: meeting the ray with the floor instead would be exact in
theory, but at the grazing angles of a camera at chest height a 3-pixel landmark error moves the point by
25 cm); never below its resting height over the floor. Weights ramp in and out over
BLEND_FRAMES or more with a smoothstep (slow enough that the foot never jumps), so a lock starts and ends
without a pop; `strength` scales them (0 = off). Between contacts the foot travels from spot to spot across
the floor but keeps the height the estimate gave it, so swings are not flattened.
First the whole body follows its planted feet (the estimate's root drifts while real feet stand still, so the
legs keep the network's pose): one smooth offset curve, solved for all contacts at once, that keeps each
planted ankle on its contact's spot. Then the ankles move towards their targets; where a leg still cannot
reach, the pelvis follows further along the line of sight and sinks by up to MAX_PELVIS_DROP_M; then hip and
knee rotate (the knee stays in its bending plane) and the ankle keeps its world orientation, so the foot does
not tilt, except that the foot turns about the ankle to keep its toes on one spot through a toe contact. A pin
is let go where the image saw the foot move, or where reaching it would move the ankle further from the
network's pose than REACH_TRUST_M (a wrong contact, or a slide the body could not follow). Only the leg joints'
local rotations and the root translation change: the root orientation and every other joint are untouched.
numpy, and scipy only on lock_feet's path: the add-on imports contact_runs, lock_targets and two_bone_ik in
Blender's Python (no scipy) to keep planted feet planted on a retargeted character.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import pixel_rays, principal_point
from .geometry import kinematics, rotations
from .geometry.swing_twist import swing_rotation
from .skeleton import SMPL_PARENTS

#: (hip, knee, ankle) per side, and which contact columns (heel, toe) belong to it.
LEGS = ((1, 4, 7), (2, 5, 8))
TOES = (10, 11)
FOOT_CONTACTS = ((0, 1), (2, 3))
PELVIS = 0
#: Frames over which a lock fades in before a contact and out after it, at least; longer when the foot has
#: further to go, so that it never travels faster than BLEND_SPEED_M_S while blending (no pops).
BLEND_FRAMES = 4
BLEND_SPEED_M_S = 0.2
#: Shortest contact (frames) worth locking; a contact starts above PLANTED and lasts until the probability
#: falls below RELEASED (hysteresis: a probability hovering near one threshold does not flicker the lock).
MIN_CONTACT_FRAMES = 3
PLANTED, RELEASED = 0.5, 0.3
#: Beyond this share of its length a leg does not stretch: the pelvis follows the foot instead, and what
#: is left is absorbed softly (soft IK), since near full extension the knee swings wildly for tiny moves.
MAX_REACH = 0.97
#: Pinning may move an ankle across the camera's line of sight by this much freely, and no further than the
#: limit (the pull fades out in between): further, the image saw the foot move, so it was not planted.
LATERAL_TRUST_M, LATERAL_LIMIT_M = 0.05, 0.15
#: After the body has followed its feet, a leg may be bent or stretched to move its ankle onto the pin by this
#: much freely, and no further than the limit (the pull fades out in between): further, pinning would
#: change the pose the network saw more than it fixes the foot.
REACH_TRUST_M, REACH_LIMIT_M = 0.20, 0.40
#: Smoothing (frames, gaussian sigma) of how far each pin is trusted.
TRUST_SMOOTHING = 2.0
#: Furthest the pelvis may sink to let the legs reach their planted feet (m): enough for the centimetre an
#: estimate's pelvis bobs over straight standing legs. Sinking further so that both legs reach feet a stride
#: apart bent the knees away from the network's pose: 5 cm cost 0.9 mm MPJPE-14 and 0.9 mm PA-MPJPE-14 on the
#: rendered held-out clips against 1 cm (scripts/eval_contacts.py).
MAX_PELVIS_DROP_M = 0.01
#: How stiffly the body's offset that keeps planted feet still bends over time (least-squares weight of its
#: second difference per frame against one frame of a planted ankle off its spot): changes slower than about
#: 13 frames pass, landmark jitter does not.
FOLLOW_STIFFNESS = 20.0
#: Least-squares weight per planted frame that holds the offset near zero: the camera fit measured the body's
#: distance from its size in the image, so a drift the feet ask to undo is undone contact by contact, not
#: accumulated.
FOLLOW_TETHER = 0.1
#: Smoothing (frames, gaussian sigma) of the pelvis shift where a leg cannot reach its pin.
PELVIS_SMOOTHING = 1.5
#: MediaPipe's ankle landmarks (left, right), whose camera rays anchor LEGS' ankles, trusted from this confidence.
ANKLE_LANDMARKS = (27, 28)
ANCHOR_MIN_CONFIDENCE = 0.5


@dataclass
class LockedMotion:
    """The motion after foot lock: pose_aa and trans_m in camera space (as the results store them), posed
    joints in camera and world space, and per side the lock weight applied in each frame (F, 2)."""

    pose_aa: np.ndarray
    trans_m: np.ndarray
    joints_cam: np.ndarray
    joints_world: np.ndarray
    weights: np.ndarray


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, and an S between with zero slope at both ends, so nothing it ramps jumps."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _along(vectors: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """(F, 3) vectors projected on (F, 3) unit directions."""
    return np.einsum("fi,fi->f", vectors, directions)[:, None] * directions


def contact_runs(planted: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each contact, with hysteresis between PLANTED and RELEASED."""
    runs, start = [], None
    for t, p in enumerate(planted):
        if start is None and p > PLANTED:
            start = t
        elif start is not None and p < RELEASED:
            runs.append((start, t))
            start = None
    if start is not None:
        runs.append((start, len(planted)))
    return runs


def _blend_frames(distance_m: float, fps: float) -> int:
    return max(BLEND_FRAMES, int(np.ceil(distance_m * fps / BLEND_SPEED_M_S)))


def ankle_rays(keypoints_2d: np.ndarray, focal_px: float, image_size: tuple[int, int],
               world_from_camera: np.ndarray) -> np.ndarray:
    """(F, 33, 3) detected [x_px, y_px, confidence] -> (F, 2, 3) unit world directions of the camera rays
    through the left and right ankle landmarks; NaN where the ankle is not seen well."""
    points = np.asarray(keypoints_2d, dtype=np.float64)[:, list(ANKLE_LANDMARKS)]  # (F, 2, 3)
    rays = pixel_rays(points[..., :2], focal_px, principal_point(image_size)) @ np.asarray(world_from_camera)[:3, :3].T
    return np.where(points[..., 2:3] >= ANCHOR_MIN_CONFIDENCE, rays, np.nan)


def _on_rays(points: np.ndarray, rays: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(F, 3) world points moved onto (F, 3) unit rays from the camera centre, at the same distance along
    them: the image's direction with the estimate's depth (NaN where the ray is)."""
    return centre + np.einsum("fi,fi->f", points - centre, rays)[:, None] * rays


def _where_seen(points: np.ndarray, anchors: np.ndarray | None) -> np.ndarray:
    """(F, 3) points with their anchors (on the image's rays) standing in wherever those are given and finite."""
    return points if anchors is None else np.where(np.isfinite(anchors), anchors, points)


def _lockable_runs(planted: np.ndarray) -> list[tuple[int, int]]:
    """contact_runs long enough to lock (MIN_CONTACT_FRAMES)."""
    return [(a, b) for a, b in contact_runs(planted) if b - a >= MIN_CONTACT_FRAMES]


def _fade(frames: int, start: int, stop: int, fade_in: int, fade_out: int) -> tuple[slice, np.ndarray]:
    """Where a contact [start, stop) with these fades reaches in a clip of `frames`, and its smoothstep ramp
    there (1 through the contact)."""
    lo, hi = max(start - fade_in, 0), min(stop + fade_out, frames)
    t = np.arange(lo, hi)
    ramp = np.minimum(smoothstep((t - (start - fade_in)) / fade_in),
                      smoothstep(((stop - 1 + fade_out) - t) / fade_out))
    ramp[(t >= start) & (t < stop)] = 1.0
    return slice(lo, hi), ramp


def lock_targets(ankles: np.ndarray, planted: np.ndarray, floor_height: float, strength: float, fps: float,
                 anchors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One foot: (F, 3) world ankle positions and (F,) planted probability -> (F, 3) targets and (F,) weights.
    (F, 3) anchors (the ankle moved onto its camera ray; NaN where unseen) stand in for the ankle where given.

    Each contact fades in and out around its spot. Where two contacts are closer than their fades, the fades
    are cut to the gap between them, so one fades out exactly as the next fades in (the smoothstep ramps sum
    to one) and the foot travels from one spot to the next without a jump; elsewhere the spots are blended
    by weight, so the target never jumps either."""
    frames = len(ankles)
    runs = _lockable_runs(planted)
    seen = _where_seen(ankles, anchors)
    spots = []
    for start, stop in runs:
        p = planted[start:stop]
        spot = (p[:, None] * seen[start:stop]).sum(axis=0) / p.sum()
        spot[2] = max(spot[2], floor_height)
        spots.append(spot)
    total = np.zeros(frames)
    pulled = np.zeros((frames, 3))
    held = np.zeros(frames)  # the same contacts with the shortest fades: how far the height is held
    for i, ((start, stop), spot) in enumerate(zip(runs, spots)):
        fade_in = _blend_frames(float(np.linalg.norm(spot - ankles[start])), fps)
        fade_out = _blend_frames(float(np.linalg.norm(spot - ankles[stop - 1])), fps)
        if i > 0:
            fade_in = min(fade_in, start - runs[i - 1][1] + 1)
        if i + 1 < len(runs):
            fade_out = min(fade_out, runs[i + 1][0] - stop + 1)
        reach, ramp = _fade(frames, start, stop, fade_in, fade_out)
        total[reach] += ramp
        pulled[reach] += ramp[:, None] * spot
        reach, ramp = _fade(frames, start, stop, min(BLEND_FRAMES, fade_in), min(BLEND_FRAMES, fade_out))
        held[reach] += ramp
    weights = np.minimum(total, 1.0) * strength
    target = np.where(total[:, None] > 0, pulled / np.maximum(total, 1e-12)[:, None], ankles)
    goal = ankles + weights[:, None] * (target - ankles)
    # Between contacts the foot travels to the next spot across the floor, but keeps the height the estimate
    # gave it: the spots' heights hold only through a contact and BLEND_FRAMES around it, so a swing is not
    # flattened towards the floor.
    lift = np.minimum(held, 1.0) * strength
    goal[:, 2] = ankles[:, 2] + lift * (target[:, 2] - ankles[:, 2])
    goal[:, 2] = np.maximum(goal[:, 2], floor_height)  # the sole never below the floor
    return goal, weights


def two_bone_ik(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) joint positions and ankle targets -> (thigh, shin) world rotations (N, 3, 3) to apply."""
    thigh_len = np.linalg.norm(knee - hip, axis=-1)
    shin_len = np.linalg.norm(ankle - knee, axis=-1)
    to_target = target - hip
    length = thigh_len + shin_len
    distance = np.maximum(np.linalg.norm(to_target, axis=-1), np.abs(thigh_len - shin_len) + 1e-4)
    # Soft IK: stretching past MAX_REACH (or past the leg's own stretch, if more) approaches full length
    # only asymptotically; a target no further than the ankle already is is reached exactly.
    soft = (1.0 - MAX_REACH) * length
    start = np.maximum(length - soft, np.linalg.norm(ankle - hip, axis=-1))
    room = np.maximum(length - 1e-4 - start, 1e-9)
    over = np.maximum(distance - start, 0.0)
    distance = np.where(over > 0, start + room * (1.0 - np.exp(-over / room)), distance)
    along = _unit(to_target)
    bend = (knee - hip) - np.einsum("ni,ni->n", knee - hip, along)[:, None] * along  # knee's side of the line
    straight = np.linalg.norm(bend, axis=-1) < 1e-6
    fallback = np.cross(np.cross(along, knee - hip + np.array([0.0, 0.0, 1e-3])), along)
    bend = _unit(np.where(straight[:, None], fallback, bend))
    cos_hip = np.clip((thigh_len ** 2 + distance ** 2 - shin_len ** 2) / (2 * thigh_len * distance), -1.0, 1.0)
    new_knee = hip + thigh_len[:, None] * (cos_hip[:, None] * along + np.sqrt(1 - cos_hip ** 2)[:, None] * bend)
    thigh_turn = swing_rotation(knee - hip, new_knee - hip)
    moved_ankle = new_knee + np.einsum("nij,nj->ni", thigh_turn, ankle - knee)
    shin_turn = swing_rotation(moved_ankle - new_knee, hip + distance[:, None] * along - new_knee)
    return thigh_turn, shin_turn


def _pose_world(local: np.ndarray, rotation: np.ndarray, rest: np.ndarray, pelvis: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """World joints (F, 24, 3) and global rotations (F, 24, 3, 3) of camera-space local rotations."""
    local_world = local.copy()
    local_world[:, PELVIS] = rotation @ local[:, PELVIS]
    posed, global_rot = kinematics.forward_kinematics(local_world, rest, SMPL_PARENTS)
    return posed - rest[PELVIS] + pelvis[:, None], global_rot


def _lift_toes(local: np.ndarray, rotation: np.ndarray, rest: np.ndarray, pelvis: np.ndarray,
               sole_heights: dict[int, float]) -> None:
    """Pitch each foot up about its ankle (in place, in `local`) where its toes would sink into the floor."""
    joints, global_rot = _pose_world(local, rotation, rest, pelvis)
    for (_, knee, ankle), toe in zip(LEGS, TOES):
        sink = sole_heights[toe] - joints[:, toe, 2]
        low = sink > 1e-6
        if not low.any():
            continue
        foot = joints[low, toe] - joints[low, ankle]
        lifted = foot.copy()
        lifted[:, 2] = np.minimum(foot[:, 2] + sink[low], np.linalg.norm(foot, axis=-1) * 0.999)
        across = np.sqrt(np.maximum((foot ** 2).sum(-1) - lifted[:, 2] ** 2, 0.0))
        lifted[:, :2] = _unit(foot[:, :2]) * across[:, None]
        turned = swing_rotation(foot, lifted) @ global_rot[low, ankle]
        local[low, ankle] = np.swapaxes(global_rot[low, knee], -1, -2) @ turned


def held_contacts(contacts: np.ndarray, weights: np.ndarray, strength: float) -> np.ndarray:
    """(F, 4) contacts of the locked motion: each foot's probabilities capped by how far its lock held
    (weights (F, 2) of LockedMotion over `strength`), so a foot the lock let go, and that may still move, is not
    reported as planted to what comes after (retargeting, re-locking in Blender, foot reports)."""
    held = np.clip(np.asarray(weights, np.float64) / max(float(strength), 1e-9), 0.0, 1.0)
    out = np.asarray(contacts, np.float64).copy()
    for side, columns in enumerate(FOOT_CONTACTS):
        out[:, list(columns)] = np.minimum(out[:, list(columns)], held[:, side, None])
    return out.astype(np.float32)


def _pin_toes(local: np.ndarray, rotation: np.ndarray, rest: np.ndarray, pelvis: np.ndarray,
              contacts: np.ndarray, ankle_weights: np.ndarray, strength: float, fps: float) -> None:
    """Turn each foot about its (already placed) ankle, in place in `local`, so the toes stay on one spot for
    each toe contact: with the ankle pinned, the network's changing foot angle would still sweep the toes
    across the floor. Only as far as the ankle itself is pinned (ankle_weights (F, 2)): a foot let go keeps
    the network's angle."""
    joints, global_rot = _pose_world(local, rotation, rest, pelvis)
    for side, ((_, knee, ankle), toe, (_, toe_column)) in enumerate(zip(LEGS, TOES, FOOT_CONTACTS)):
        goal, weight = lock_targets(joints[:, toe], np.asarray(contacts, np.float64)[:, toe_column], -np.inf,
                                    strength, fps)
        goal = joints[:, toe] + ankle_weights[:, side, None] * (goal - joints[:, toe])
        active = (weight > 0) & (ankle_weights[:, side] > 0)
        if not active.any():
            continue
        turned = swing_rotation(joints[active, toe] - joints[active, ankle],
                                goal[active] - joints[active, ankle]) @ global_rot[active, ankle]
        local[active, ankle] = np.swapaxes(global_rot[active, knee], -1, -2) @ turned


def _follow_planted(joints: np.ndarray, contacts: np.ndarray, rays: np.ndarray | None, camera_centre: np.ndarray,
                    strength: float) -> np.ndarray:
    """(F, 3) world offsets that move the whole body so its planted ankles stay still: the smoothest offset
    curve (least squares, FOLLOW_STIFFNESS on its second difference) that with one spot per contact keeps
    every planted ankle (where the image saw it, at the estimate's depth) on its contact's spot, weighted by
    the planted probability. Solving all contacts together lets feet that disagree share the difference
    (a foot lifting never snaps the body back to the other's spot); a steady drift costs no stiffness; between
    contacts the curve runs straight, and it holds still before the first contact and after the last. Only
    along the camera's line of sight through the pelvis, where a monocular estimate drifts (across it the
    image pins the body); scaled by the lock's strength."""
    from scipy import sparse
    from scipy.sparse.linalg import spsolve
    frames = len(joints)
    planted_frames, spot_of_frame, weights, positions = [], [], [], []
    spots = 0
    for side, ((_, _, ankle), columns) in enumerate(zip(LEGS, FOOT_CONTACTS)):
        planted = np.asarray(contacts, dtype=np.float64)[:, list(columns)].max(axis=1)
        where = _where_seen(joints[:, ankle], None if rays is None else
                            _on_rays(joints[:, ankle], rays[:, side], camera_centre))
        for start, stop in _lockable_runs(planted):
            planted_frames.append(np.arange(start, stop))
            spot_of_frame.append(np.full(stop - start, spots))
            weights.append(planted[start:stop])
            positions.append(where[start:stop])
            spots += 1
    if not spots:
        return np.zeros((frames, 3))
    frame, spot = np.concatenate(planted_frames), np.concatenate(spot_of_frame)
    rows = np.arange(len(frame))
    # One residual per planted ankle and frame: its position + the offset - its contact's spot.
    design = sparse.hstack([sparse.csr_matrix((np.ones(len(rows)), (rows, frame)), shape=(len(rows), frames)),
                            -sparse.csr_matrix((np.ones(len(rows)), (rows, spot)), shape=(len(rows), spots))])
    weighted = design.T @ sparse.diags(np.concatenate(weights))
    tether = np.full(frames, 1e-9)  # keeps the solve regular; frames without contacts run free
    np.add.at(tether, frame, FOLLOW_TETHER * np.concatenate(weights))
    regular = sparse.diags(tether)
    if frames > 2:
        second = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(frames - 2, frames))
        regular = regular + FOLLOW_STIFFNESS * (second.T @ second)
    system = (weighted @ design + sparse.block_diag([regular, sparse.csr_matrix((spots, spots))])).tocsc()
    solution = spsolve(system, -(weighted @ np.concatenate(positions)))
    follow = np.asarray(solution).reshape(frames + spots, 3)[:frames]
    first, last = frame.min(), frame.max()
    follow[:first], follow[last + 1:] = follow[first], follow[last]
    return strength * _along(follow, _unit(joints[:, PELVIS] - camera_centre))


def lock_feet(pose_aa: np.ndarray, trans_m: np.ndarray, rest_joints: np.ndarray, world_from_camera: np.ndarray,
              contacts: np.ndarray, sole_heights: dict[int, float], fps: float, strength: float = 1.0,
              rays: np.ndarray | None = None) -> LockedMotion:
    """Foot-locked motion. pose_aa (F, 24, 3) with joint 0 in camera space, trans_m (F, 3) camera space,
    rest_joints (24, 3) of the clip's body, world_from_camera (4, 4), contacts (F, 4)
    (bridge.contacts.CONTACT_POINTS order), sole_heights per foot joint (rest height above the sole), strength
    in [0, 1], rays (F, 2, 3) or None: ankle_rays of the left and right ankles."""
    from scipy.ndimage import gaussian_filter1d
    rotation, offset = world_from_camera[:3, :3], world_from_camera[:3, 3]
    rest = np.asarray(rest_joints, dtype=np.float64)
    local = rotations.axis_angle_to_matrix(np.asarray(pose_aa, dtype=np.float64))
    pelvis = (rest[PELVIS] + np.asarray(trans_m, dtype=np.float64)) @ rotation.T + offset
    joints, global_rot = _pose_world(local, rotation, rest, pelvis)

    # The body follows its planted feet first (the estimate's root drifts while real feet stand still), so the
    # legs keep the pose the network gave them and IK only resolves what differs between the two feet.
    follow = _follow_planted(joints, contacts, rays, offset, float(strength))
    joints = joints + follow[:, None]
    goals, weights = [], []
    anchors = None if rays is None else [_on_rays(joints[:, ankle], rays[:, k], offset)
                                         for k, (_, _, ankle) in enumerate(LEGS)]
    for side, ((_, _, ankle), columns) in enumerate(zip(LEGS, FOOT_CONTACTS)):
        planted = np.asarray(contacts, dtype=np.float64)[:, list(columns)].max(axis=1)
        goal, weight = lock_targets(joints[:, ankle], planted, sole_heights[ankle], float(strength), fps,
                                    None if anchors is None else anchors[side])
        goals.append(goal)
        weights.append(weight)
    ray = _unit(pelvis - offset)
    shift = np.zeros_like(pelvis)
    for (hip, knee, ankle), goal in zip(LEGS, goals):
        leg = np.linalg.norm(rest[knee] - rest[hip]) + np.linalg.norm(rest[ankle] - rest[knee])
        reach = goal - joints[:, hip]
        stretched = np.maximum(MAX_REACH * leg, np.linalg.norm(joints[:, ankle] - joints[:, hip], axis=-1))
        excess = np.maximum(np.linalg.norm(reach, axis=-1) - stretched, 0.0)  # beyond the leg's own stretch
        shift += excess[:, None] * _unit(reach)
    shift = gaussian_filter1d(shift, PELVIS_SMOOTHING, axis=0, mode="nearest") if len(shift) > 1 else shift
    # Along the ray, and a little down (MAX_PELVIS_DROP_M).
    down = np.clip((shift - _along(shift, ray))[:, 2], -MAX_PELVIS_DROP_M, 0.0)
    shift = _along(shift, ray) + down[:, None] * np.array([0.0, 0.0, 1.0])
    joints = joints + shift[:, None]
    shift = shift + follow

    # A plant the image contradicts is let go: where the pinned ankle would sit across the line of sight
    # (what the image measures) from where the image shows it (its anchor; the estimated ankle where unseen)
    # by more than LATERAL_TRUST_M, the foot was seen moving, so the contact was wrong; the pull fades out by
    # LATERAL_LIMIT_M. Depth, which the image cannot see, is not limited.
    for k, ((_, _, ankle), goal) in enumerate(zip(LEGS, goals)):
        seen = _where_seen(joints[:, ankle], None if anchors is None else anchors[k])
        gap = goal - seen
        across = np.linalg.norm(gap - _along(gap, _unit(seen - offset)), axis=-1)
        move = goal - joints[:, ankle]
        trust = 1.0 - smoothstep((across - LATERAL_TRUST_M) / (LATERAL_LIMIT_M - LATERAL_TRUST_M))
        reach = np.linalg.norm(move, axis=-1)
        trust = trust * (1.0 - smoothstep((reach - REACH_TRUST_M) / (REACH_LIMIT_M - REACH_TRUST_M)))
        if len(trust) > 1:  # a pull that comes and goes frame by frame would shake the leg
            trust = np.minimum(trust, gaussian_filter1d(trust, TRUST_SMOOTHING, mode="nearest"))
        goals[k] = joints[:, ankle] + trust[:, None] * move
        goals[k][:, 2] = np.maximum(goals[k][:, 2], sole_heights[ankle])  # still never below the floor
        weights[k] = weights[k] * trust

    new_local = local.copy()
    for (hip, knee, ankle), goal, weight in zip(LEGS, goals, weights):
        active = (weight > 0) | (goal[:, 2] > joints[:, ankle, 2] + 1e-9)
        if not active.any():
            continue
        thigh_turn, shin_turn = two_bone_ik(joints[active, hip], joints[active, knee], joints[active, ankle],
                                             goal[active])
        hip_global = thigh_turn @ global_rot[active, hip]
        knee_global = shin_turn @ thigh_turn @ global_rot[active, knee]
        parent_global = global_rot[active, SMPL_PARENTS[hip]]
        new_local[active, hip] = np.swapaxes(parent_global, -1, -2) @ hip_global
        new_local[active, knee] = np.swapaxes(hip_global, -1, -2) @ knee_global
        new_local[active, ankle] = np.swapaxes(knee_global, -1, -2) @ global_rot[active, ankle]

    new_pelvis = pelvis + shift
    _pin_toes(new_local, rotation, rest, new_pelvis, contacts, np.stack(weights, axis=1), float(strength), fps)
    _lift_toes(new_local, rotation, rest, new_pelvis, sole_heights)
    new_trans = (new_pelvis - offset) @ rotation - rest[PELVIS]
    new_pose = rotations.matrix_to_axis_angle(new_local)
    new_pose[:, PELVIS] = np.asarray(pose_aa, dtype=np.float64)[:, PELVIS]
    joints_world, _ = _pose_world(new_local, rotation, rest, new_pelvis)
    joints_cam = (joints_world - offset) @ rotation
    return LockedMotion(pose_aa=new_pose.astype(np.float32), trans_m=new_trans.astype(np.float32),
                        joints_cam=joints_cam, joints_world=joints_world, weights=np.stack(weights, axis=1))
