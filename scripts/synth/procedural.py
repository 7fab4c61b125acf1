"""Procedural SMPL motion: idle sway, walking and jogging, waves, squats, turning on the spot, reaching; on
request, sweeps over the joint limits, low postures (crouching, kneeling, sitting back on the heels),
fitness drills (jumping jacks, punches, kicks, presses, stretches), sitting on a chair (sitting down,
shifting, crossing the legs, talking with the hands, standing up) and floor work (lying prone, supine and on
the side, rolling over, crawling, push-ups, sitting and kneeling on the floor).

A permanent augmentation source beside mocap: poses the corpus lacks (arms overhead, deep squats, turns)
in any amount. Each motion is a set of joint parameters over time, built from smooth periodic patterns,
eased transitions between random targets and low-pass noise, every parameter soft-clipped into its joint
limit (so the result stays inside the limits and stays smooth). Parameters are anatomical:
- arms and thighs by the direction of the upper bone from hanging straight down: `flex` turns it forward
  (up to overhead), `abduct` out to the side; a twist about the bone; the rotation is the smallest swing
  from SMPL's rest T-pose to that direction followed by the twist;
- elbows and knees as hinges; spine, neck, head, collars, wrists, ankles and toes as small axis-angle
  rotations (flexion about +X, twist about +Y, side bend about +Z in the joint's rest frame).
Left-side values are given; the right side mirrors them (x kept, y and z negated). The pelvis height
follows the lowest foot, so feet stay on the ground, and the pelvis travels as the supporting foot pushes it,
so a planted foot stays where it is (walks, turns on the spot and stepping about never skate); in kinds that
kneel, a knee on the ground counts as a foot; on a chair the seat holds the pelvis still and the feet move
instead; on the floor any part of the body carries it (_body_grounded_root). numpy only.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from bridge.foot_lock import smoothstep
from bridge.geometry import kinematics, rotations
from bridge.geometry.swing_twist import swing_rotation, twist_matrix
from bridge.ground import FOOT_JOINTS
from bridge.skeleton import NUM_JOINTS, SMPL_PARENTS

from .motion import MotionClip

MOTION_KINDS: tuple[str, ...] = ("idle", "walk", "wave", "squat", "turn", "reach")
#: Kinds made on request only (not in generate.py's seed -> kind rotation, which fixes the test split):
#: "limits" moves every joint parameter independently over its whole range (poses no activity has);
#: "crouch" goes from one posture low to the ground to the next (kneeling, sitting on the heels, lunges);
#: "exercise" repeats one fitness drill (EXERCISE_DRILLS); "seated" sits on an (unseen) chair, sits down on it
#: and stands up from it; "floor" goes from one posture on the floor to the next (FLOOR_POSTURES).
EXTRA_KINDS: tuple[str, ...] = ("limits", "crouch", "exercise", "seated", "floor")
#: Height (m) at which the lowest ankle/foot joint is held above the ground.
FOOT_JOINT_HEIGHT_M = 0.06
#: Height (m) of a knee joint resting on the ground (kinds that kneel: DEEP_LEG_KINDS).
KNEE_JOINT_HEIGHT_M = 0.05
KNEE_JOINTS: tuple[int, int] = (4, 5)
#: Softness (m) of the share of weight between the feet by how much lower one is than the other.
SUPPORT_BLEND_M = 0.005
#: The same among the feet and knees of kinds that kneel, wider: a knee meets the floor at speed.
KNEELING_BLEND_M = 0.02

#: Joint limits per parameter (radians), left side.
LIMITS: dict[str, tuple[float, float]] = {
    "arm_flex": (-0.8, 2.8), "arm_abduct": (-0.3, 2.8), "arm_twist": (-1.2, 1.2), "elbow": (0.0, 2.5),
    "wrist_x": (-0.5, 0.5), "wrist_y": (-0.8, 0.8), "wrist_z": (-0.5, 0.5),
    "collar_y": (-0.25, 0.25), "collar_z": (-0.15, 0.35),
    "leg_flex": (-0.45, 2.0), "leg_abduct": (-0.3, 0.8), "leg_twist": (-0.6, 0.6), "knee": (0.0, 2.4),
    "ankle_x": (-0.45, 0.7), "ankle_y": (-0.3, 0.3), "ankle_z": (-0.3, 0.3), "toes_x": (-0.6, 0.2),
    "spine_flex": (-0.5, 1.3), "spine_twist": (-0.8, 0.8), "spine_side": (-0.5, 0.5),
    "head_flex": (-0.6, 0.8), "head_twist": (-1.2, 1.2), "head_side": (-0.5, 0.5),
    "pelvis_tilt": (-0.3, 0.6), "pelvis_roll": (-0.2, 0.2),
}
#: Wider leg limits for the kinds that fold the legs fully (knees to about 160 degrees, thighs to the chest,
#: insteps flat on the floor); a kind of its own, so the motion of every other kind stays what it was.
DEEP_LEG_LIMITS: dict[str, tuple[float, float]] = {
    **LIMITS, "knee": (0.0, 2.8), "leg_flex": (-0.45, 2.4), "ankle_x": (-0.6, 1.1)}
#: Kinds whose pelvis path is low-passed (gaussian, SMOOTH_STEPS_FRAMES): in quick drills a foot sweeping in to
#: land becomes the lower one mid-sweep, and following it exactly (_planted_xz) jolts the whole body.
SMOOTH_STEP_KINDS: frozenset[str] = frozenset({"exercise"})
SMOOTH_STEPS_FRAMES = 1.0
#: Kinds that fold the legs fully: DEEP_LEG_LIMITS with an edge clip instead of the soft clip, and knees that
#: may rest on the ground (the pelvis height and path treat them as feet).
DEEP_LEG_KINDS: frozenset[str] = frozenset({"crouch"})
#: Kinds whose parameters are edge-clipped (_edge_clip) rather than soft-clipped: postures drawn near the ends
#: of their ranges keep their depth (a seated thigh stays level, a kneeling knee folded).
EDGE_CLIP_KINDS: frozenset[str] = DEEP_LEG_KINDS | {"seated", "floor"}
#: Kinds carried by whatever part of the body is lowest (_body_grounded_root) rather than by the feet.
BODY_GROUNDED_KINDS: frozenset[str] = frozenset({"floor"})
#: Radius (m) of the body around each SMPL joint, for grounding a body lying on the floor on its surface rather
#: than on its joints (the mean body's half-thickness there; the feet's matches FOOT_JOINT_HEIGHT_M).
BODY_RADII_M = np.array([0.11, 0.09, 0.09, 0.11, 0.055, 0.055, 0.11, FOOT_JOINT_HEIGHT_M, FOOT_JOINT_HEIGHT_M,
                         0.12, 0.03, 0.03, 0.06, 0.07, 0.07, 0.10, 0.06, 0.06, 0.045, 0.045, 0.035, 0.035,
                         0.03, 0.03])
#: Softness (m) of the share of weight between body points by how much higher than the lowest they are.
BODY_BLEND_M = 0.02
_SIDED = ("arm_flex", "arm_abduct", "arm_twist", "elbow", "wrist_x", "wrist_y", "wrist_z", "collar_y",
          "collar_z", "leg_flex", "leg_abduct", "leg_twist", "knee", "ankle_x", "ankle_y", "ankle_z", "toes_x")
_MIRROR = np.array([1.0, -1.0, -1.0])  # axis-angle of a mirrored joint (reflection in the x = 0 plane)
_SPINE_SHARE = ((3, 0.4), (6, 0.35), (9, 0.25))
_HEAD_SHARE = ((12, 0.5), (15, 0.5))


def procedural_motion(kind: str, seed: int, rest_joints: np.ndarray, num_frames: int = 150,
                      fps: float = 30.0) -> MotionClip:
    """One procedural motion of `kind` (see MOTION_KINDS); deterministic given `seed`.

    rest_joints: (24, 3) the body model's rest joints (metres), for keeping the feet on the ground.
    """
    kinds = MOTION_KINDS + EXTRA_KINDS
    if kind not in kinds:
        raise ValueError(f"unknown procedural motion {kind!r}; choose from {', '.join(kinds)}")
    rng = np.random.default_rng([seed, kinds.index(kind)])
    t = np.arange(num_frames) / fps
    params = _neutral(rng, t)
    yaw = np.full(num_frames, rng.uniform(-np.pi, np.pi))
    seated, lie = None, None
    if kind == "idle":
        _idle(rng, t, params)
    elif kind == "walk":
        yaw = _walk(rng, t, params, yaw)
    elif kind == "wave":
        _idle(rng, t, params)
        _wave(rng, t, params)
    elif kind == "squat":
        _squat(rng, t, params)
    elif kind == "turn":
        yaw = _turn(rng, t, params, yaw)
    elif kind == "limits":
        yaw = _limits(rng, t, params, yaw)
    elif kind == "crouch":
        yaw = _crouch(rng, t, params, yaw)
    elif kind == "exercise":
        yaw = _exercise(rng, t, params, yaw)
    elif kind == "seated":
        yaw, seated = _seated(rng, t, params, yaw)
    elif kind == "floor":
        yaw, lie = _floor(rng, t, params, yaw)
    else:
        _idle(rng, t, params)
        _reach(rng, t, params)
    for name, values in params.items():
        params[name] = values + 0.04 * _smooth_noise(rng, num_frames, fps, 0.6)
    for side in ("l_", "r_"):  # leg directions are meant relative to the upright trunk, not the tilted pelvis
        params[side + "leg_flex"] = params[side + "leg_flex"] + params["pelvis_tilt"]
    deep = kind in DEEP_LEG_KINDS
    limits = DEEP_LEG_LIMITS if deep or kind in BODY_GROUNDED_KINDS else LIMITS
    squash = _edge_clip if kind in EDGE_CLIP_KINDS else _soft_clip
    clipped = {name: squash(values, limits[_base(name)]) for name, values in params.items()}
    pose_aa = _pose_from_params(clipped, yaw, rest_joints, lie)
    if kind in BODY_GROUNDED_KINDS:
        root = _body_grounded_root(pose_aa, rest_joints)
    else:
        root = _grounded_root(pose_aa, rest_joints, knees=deep, smooth_steps=kind in SMOOTH_STEP_KINDS,
                              seated=seated)
    return MotionClip(pose_aa.astype(np.float32), root.astype(np.float32), float(fps),
                      f"procedural:{kind}:{seed}", f"procedural:{seed}")


def _smooth_noise(rng: np.random.Generator, num_frames: int, fps: float, timescale_s: float) -> np.ndarray:
    """(F,) gaussian noise low-passed with a gaussian of `timescale_s`, scaled to unit std."""
    sigma = max(timescale_s * fps, 0.5)
    pad = int(4 * sigma)
    noise = gaussian_filter1d(rng.standard_normal(num_frames + 2 * pad), sigma)[pad:pad + num_frames]
    return noise / max(float(noise.std()), 1e-9)


def _eased_targets(rng: np.random.Generator, t: np.ndarray, hold_s: tuple[float, float],
                   draw) -> np.ndarray:
    """Piecewise targets from `draw()` held for random durations, joined by smooth (cosine) transitions.

    Returns (F, D) for D values per draw."""
    times, values = [0.0], [np.atleast_1d(draw())]
    while times[-1] < t[-1]:
        times.append(times[-1] + rng.uniform(*hold_s))
        values.append(np.atleast_1d(draw()))
    times, values = np.array(times), np.stack(values)
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    frac = np.clip((t - times[k]) / (times[k + 1] - times[k]), 0.0, 1.0)
    ease = 0.5 - 0.5 * np.cos(np.pi * np.clip(frac * 1.6, 0.0, 1.0))  # move, then hold the target
    return values[k] + (values[k + 1] - values[k]) * ease[:, None]


def _neutral(rng: np.random.Generator, t: np.ndarray) -> dict[str, np.ndarray]:
    """A relaxed standing pose, per-clip random, as (F,) parameter arrays ('l_' and 'r_' for sided ones)."""
    ones = np.ones_like(t)
    params = {name: 0.0 * ones for name in LIMITS if name not in _SIDED}
    for side in ("l_", "r_"):
        params.update({side + name: 0.0 * ones for name in _SIDED})
        params[side + "arm_abduct"] += rng.uniform(0.1, 0.35)
        params[side + "arm_flex"] += rng.uniform(-0.05, 0.2)
        params[side + "elbow"] += rng.uniform(0.05, 0.4)
        params[side + "leg_abduct"] += rng.uniform(0.0, 0.12)
        params[side + "knee"] += rng.uniform(0.0, 0.12)
        params[side + "leg_twist"] += rng.uniform(-0.1, 0.25)
    params["pelvis_tilt"] += rng.uniform(-0.05, 0.15)
    return params


def _idle(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray]) -> None:
    """Weight shifts, breathing-scale sway, looking around."""
    fps = 1.0 / (t[1] - t[0]) if len(t) > 1 else 30.0
    sway = rng.uniform(0.03, 0.1) * _smooth_noise(rng, len(t), fps, 1.0)
    p["pelvis_roll"] += sway
    p["l_leg_abduct"] -= sway
    p["r_leg_abduct"] += sway
    p["spine_side"] -= 0.6 * sway
    p["head_twist"] += rng.uniform(0.1, 0.6) * _smooth_noise(rng, len(t), fps, 1.2)
    p["head_flex"] += rng.uniform(0.05, 0.25) * _smooth_noise(rng, len(t), fps, 1.0)
    for side in ("l_", "r_"):
        p[side + "arm_flex"] += 0.1 * _smooth_noise(rng, len(t), fps, 1.0)
        p[side + "elbow"] += 0.15 * _smooth_noise(rng, len(t), fps, 0.8)


def _walk(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray],
          yaw: np.ndarray) -> np.ndarray:
    """Walking (or jogging, 1 in 4) along a gently curving path; returns the yaw (the stance feet carry the
    body along it, see _planted_xz)."""
    jog = rng.random() < 0.25
    freq = rng.uniform(1.2, 1.45) if jog else rng.uniform(0.8, 1.0)  # gait cycles per second
    phase = 2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)
    hip_amp = rng.uniform(0.3, 0.45) * (1.3 if jog else 1.0)
    knee_amp = rng.uniform(0.8, 1.1) * (1.4 if jog else 1.0)
    arm_amp = rng.uniform(0.15, 0.45) * (1.3 if jog else 1.0)
    for side, offset in (("l_", 0.0), ("r_", np.pi)):
        ph = phase + offset
        p[side + "leg_flex"] += 0.1 + hip_amp * np.sin(ph)
        p[side + "knee"] += 0.1 + knee_amp * (0.5 + 0.5 * np.cos(ph - 0.3)) ** 3
        p[side + "ankle_x"] += -0.1 + 0.3 * (0.5 + 0.5 * np.cos(ph + np.pi / 2)) ** 2
        p[side + "arm_flex"] += arm_amp * np.sin(ph + np.pi)
        p[side + "elbow"] += (0.9 if jog else 0.15) + 0.25 * (0.5 + 0.5 * np.sin(ph + np.pi))
    p["spine_twist"] += -0.08 * np.sin(phase)
    p["spine_flex"] += 0.12 if jog else 0.03
    fps = 1.0 / (t[1] - t[0]) if len(t) > 1 else 30.0
    heading = yaw + rng.uniform(-0.35, 0.35) * t + 0.25 * _smooth_noise(rng, len(t), fps, 1.5)
    return heading + 0.06 * np.sin(phase)


def _wave(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray]) -> None:
    """One or both arms raised and waving (elbow or whole arm), eased in and out."""
    fps = 1.0 / (t[1] - t[0]) if len(t) > 1 else 30.0
    duration = t[-1] if len(t) > 1 else 1.0
    start, stop = rng.uniform(0.0, 0.3) * duration, rng.uniform(0.7, 1.0) * duration
    envelope = 1.0 / (1.0 + np.exp(-(t - start) * 6)) - 1.0 / (1.0 + np.exp(-(t - stop) * 6))
    freq = rng.uniform(1.5, 3.0)
    sides = (("l_",), ("r_",), ("l_", "r_"))[rng.choice(3, p=(0.4, 0.4, 0.2))]
    big = rng.random() < 0.4  # whole-arm wave overhead rather than from the elbow
    for side in sides:
        p[side + "arm_abduct"] += envelope * (rng.uniform(1.3, 2.3) + (0.35 * np.sin(2 * np.pi * freq * t)
                                                                        if big else 0.0))
        p[side + "arm_flex"] += envelope * rng.uniform(0.0, 0.6)
        p[side + "arm_twist"] += envelope * rng.uniform(-0.9, -0.3)
        wave = 0.0 if big else 0.45 * np.sin(2 * np.pi * freq * t)
        p[side + "elbow"] += envelope * (rng.uniform(0.4, 1.1) + wave)
        p[side + "wrist_z"] += envelope * 0.2 * np.sin(2 * np.pi * freq * t + 1.0)
    p["head_side"] += envelope * 0.1 * _smooth_noise(rng, len(t), fps, 1.0)


def _squat(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray]) -> None:
    """Repeated squats of random depth and tempo, arms forward or on the thighs."""
    period = rng.uniform(2.0, 4.0)
    depth = (0.5 - 0.5 * np.cos(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))) ** 1.2
    knee_max = rng.uniform(1.2, 2.1)
    arms_forward = rng.random() < 0.6
    for side in ("l_", "r_"):
        p[side + "knee"] += depth * knee_max
        p[side + "leg_flex"] += depth * knee_max * rng.uniform(0.75, 0.9)
        p[side + "leg_abduct"] += depth * rng.uniform(0.05, 0.3)
        p[side + "ankle_x"] -= depth * knee_max * 0.3
        p[side + "arm_flex"] += depth * (rng.uniform(1.1, 1.5) if arms_forward else 0.3)
        p[side + "elbow"] += depth * (0.1 if arms_forward else 0.4)
    p["spine_flex"] += depth * rng.uniform(0.2, 0.5)
    p["pelvis_tilt"] += depth * rng.uniform(0.1, 0.4)


def _turn(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray], yaw: np.ndarray) -> np.ndarray:
    """Turning on the spot by up to a full turn with small alternating steps; returns the yaw (F,)."""
    duration = t[-1] if len(t) > 1 else 1.0
    turn = rng.choice([-1.0, 1.0]) * rng.uniform(1.2, 2 * np.pi)
    start, length = rng.uniform(0.0, 0.3) * duration, rng.uniform(0.4, 0.7) * duration
    progress = np.clip((t - start) / length, 0.0, 1.0)
    ease = 0.5 - 0.5 * np.cos(np.pi * progress)
    stepping = np.sin(np.pi * progress)  # steps while turning
    phase = 2 * np.pi * rng.uniform(1.3, 1.8) * t
    for side, offset in (("l_", 0.0), ("r_", np.pi)):
        lift = np.maximum(np.sin(phase + offset), 0.0) * stepping
        p[side + "leg_flex"] += 0.35 * lift
        p[side + "knee"] += 0.7 * lift
    p["head_twist"] += 0.3 * np.sign(turn) * stepping
    p["spine_twist"] += 0.1 * np.sign(turn) * stepping
    return yaw + turn * ease


def _reach(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray]) -> None:
    """Reaching with one arm for random targets (high, forward, low, across), the trunk helping."""
    side = ("l_", "r_")[rng.integers(2)]

    def draw() -> np.ndarray:
        flex, abduct = rng.uniform(0.2, 2.4), rng.uniform(-0.2, 1.8)
        low = flex < 0.8 and rng.random() < 0.5  # reaching down: bend the trunk and the knees
        return np.array([flex, abduct, rng.uniform(0.0, 0.6), rng.uniform(-0.4, 0.4),
                         rng.uniform(0.5, 1.1) if low else rng.uniform(0.0, 0.25),
                         rng.uniform(0.3, 0.9) if low else 0.0])

    targets = _eased_targets(rng, t, (1.2, 2.5), draw)
    p[side + "arm_flex"] += targets[:, 0]
    p[side + "arm_abduct"] += targets[:, 1]
    p[side + "elbow"] = 0.2 * p[side + "elbow"] + targets[:, 2]  # a reaching arm is nearly straight
    p["spine_twist"] += targets[:, 3] * (1.0 if side == "l_" else -1.0)
    p["spine_flex"] += targets[:, 4]
    p["head_flex"] += 0.4 * targets[:, 4]
    for s in ("l_", "r_"):
        p[s + "knee"] += targets[:, 5]
        p[s + "leg_flex"] += 0.8 * targets[:, 5]
        p[s + "ankle_x"] -= 0.3 * targets[:, 5]


def _limits(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray], yaw: np.ndarray) -> np.ndarray:
    """Each parameter, with probability 0.6, eases between random targets anywhere in its limits (drawn a
    little beyond, so the soft clip reaches the ends), independently per side and joint; the body turns
    freely. Combinations no activity in the corpus has, for the network's coverage of the pose space."""
    for name in p:
        if rng.random() < 0.6:
            lo, hi = LIMITS[_base(name)]
            margin = 0.1 * (hi - lo)
            p[name] = _eased_targets(rng, t, (0.5, 1.5), lambda: rng.uniform(lo - margin, hi + margin))[:, 0]
    turn = _eased_targets(rng, t, (1.0, 3.0), lambda: rng.uniform(-np.pi, np.pi))[:, 0]
    return yaw + turn


def _crouch(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray], yaw: np.ndarray) -> np.ndarray:
    """Eased from one low posture to the next, each held a moment: a deep crouch, kneeling up on both knees,
    sitting back on the heels, a lunge or a kneel on one knee, a turned-out half-sit (as in Indian classical
    dance). The trunk leans to balance; the arms and head move freely; the body turns now and then. Leg
    folding deeper than any other kind (DEEP_LEG_LIMITS), for the poses real footage has and the corpus lacks."""
    def posture() -> np.ndarray:
        """Left and right (hip flex, hip abduct, leg twist, knee, ankle), then spine flex and pelvis tilt."""
        legs = np.zeros((2, 5))
        kind = rng.integers(5)
        if kind == 0:  # deep crouch, heels down or up
            knee = rng.uniform(1.8, 2.7) + rng.uniform(-0.15, 0.15, 2)
            legs[:] = np.column_stack([knee * rng.uniform(0.7, 0.95, 2), rng.uniform(0.05, 0.6, 2),
                                       rng.uniform(-0.1, 0.5, 2), knee, rng.uniform(-0.6, 0.3, 2)])
            trunk = (rng.uniform(0.3, 1.0), rng.uniform(0.1, 0.5))
        elif kind == 1:  # kneeling up, thighs near vertical, insteps on the floor
            knee = rng.uniform(1.4, 1.8, 2)
            legs[:] = np.column_stack([rng.uniform(-0.2, 0.4, 2), rng.uniform(0.0, 0.3, 2),
                                       rng.uniform(-0.2, 0.3, 2), knee, rng.uniform(0.5, 1.0, 2)])
            trunk = (rng.uniform(-0.2, 0.5), rng.uniform(-0.1, 0.3))
        elif kind == 2:  # sitting back on the heels
            knee = rng.uniform(2.45, 2.75, 2)
            legs[:] = np.column_stack([rng.uniform(1.0, 1.6, 2), rng.uniform(0.0, 0.35, 2),
                                       rng.uniform(-0.2, 0.3, 2), knee, rng.uniform(0.6, 1.0, 2)])
            trunk = (rng.uniform(-0.1, 0.8), rng.uniform(0.0, 0.4))
        elif kind == 3:  # lunge, or a kneel on the back knee: one leg forward, the other back
            front, back = rng.permutation(2)
            legs[front] = [rng.uniform(1.2, 1.9), rng.uniform(0.0, 0.3), rng.uniform(-0.1, 0.3),
                           rng.uniform(1.2, 2.2), rng.uniform(-0.5, 0.0)]
            legs[back] = [rng.uniform(-0.45, 0.15), rng.uniform(0.0, 0.3), rng.uniform(-0.2, 0.3),
                          rng.uniform(0.2, 1.8), rng.uniform(-0.2, 0.8)]
            trunk = (rng.uniform(-0.1, 0.7), rng.uniform(0.0, 0.3))
        else:  # turned-out half-sit: thighs out to the sides, knees over the toes
            knee = rng.uniform(1.0, 2.0) + rng.uniform(-0.1, 0.1, 2)
            legs[:] = np.column_stack([knee * rng.uniform(0.45, 0.8, 2), rng.uniform(0.4, 0.8, 2),
                                       rng.uniform(0.3, 0.6, 2), knee, rng.uniform(-0.4, 0.1, 2)])
            trunk = (rng.uniform(-0.1, 0.4), rng.uniform(-0.1, 0.3))
        return np.concatenate([legs.ravel(), trunk])

    targets = _eased_targets(rng, t, (1.2, 2.5), posture)
    for i, side in enumerate(("l_", "r_")):
        for j, name in enumerate(("leg_flex", "leg_abduct", "leg_twist", "knee", "ankle_x")):
            p[side + name] = p[side + name] + targets[:, 5 * i + j]
    p["spine_flex"] = p["spine_flex"] + targets[:, 10]
    p["pelvis_tilt"] = p["pelvis_tilt"] + targets[:, 11]
    for name in p:  # arms and head anywhere in their limits, as "limits" moves them
        base = _base(name)
        if base.startswith(("arm_", "elbow", "wrist_", "collar_", "head_")) and rng.random() < 0.7:
            lo, hi = LIMITS[base]
            p[name] = _eased_targets(rng, t, (0.8, 2.0), lambda: rng.uniform(lo, hi))[:, 0]
    turn = _eased_targets(rng, t, (1.5, 4.0), lambda: rng.uniform(-1.0, 1.0))[:, 0]
    return yaw + turn


#: The drills of the "exercise" kind. Why: home-fitness footage is a common thing to animate from, and its
#: moves hold what the corpus has little of: arms punching or pressing straight at the camera or away from it
#: (the limb depth a single view cannot tell), arms crossed over the chest or bent behind the head, a leg
#: kicked to hip height. Squats and waves are left out: they are unseen kinds (generate.UNSEEN_KINDS).
EXERCISE_DRILLS: tuple[str, ...] = ("jumping_jacks", "arm_circles", "punches", "press", "high_knees",
                                    "side_bends", "trunk_twists", "toe_touches", "kicks", "raises", "stretch")


def _exercise(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray], yaw: np.ndarray) -> np.ndarray:
    """One drill of EXERCISE_DRILLS at a random tempo and range, facing a direction that drifts a little; returns
    the yaw. `rise` goes 0 -> 1 -> 0 once a repetition; drills done one side at a time alternate the sides."""
    fps = 1.0 / (t[1] - t[0]) if len(t) > 1 else 30.0
    drill = EXERCISE_DRILLS[rng.integers(len(EXERCISE_DRILLS))]
    phase = 2 * np.pi * rng.uniform(0.4, 1.1) * t + rng.uniform(0, 2 * np.pi)
    rise = 0.5 - 0.5 * np.cos(phase)
    sides = (("l_", 0.0), ("r_", np.pi))

    def guard(side: str) -> None:  # fists up by the chin
        p[side + "arm_flex"] = p[side + "arm_flex"] * 0.2 + rng.uniform(0.7, 1.1)
        p[side + "arm_abduct"] = p[side + "arm_abduct"] * 0.2 + rng.uniform(0.1, 0.4)
        p[side + "elbow"] = np.full_like(t, rng.uniform(2.0, 2.4))

    if drill == "jumping_jacks":
        for side, _ in sides:
            p[side + "arm_abduct"] += rise * rng.uniform(2.0, 2.5)
            p[side + "arm_flex"] += rng.uniform(-0.1, 0.3)
            p[side + "elbow"] = p[side + "elbow"] * (1.0 - rise)
            p[side + "leg_abduct"] += rise * rng.uniform(0.2, 0.4)
            p[side + "knee"] += 0.15 * rise
    elif drill == "arm_circles":
        radius, direction = rng.uniform(0.2, 0.5), rng.choice([-1.0, 1.0])
        for side, _ in sides:
            p[side + "arm_abduct"] += rng.uniform(1.1, 1.5) + radius * np.cos(phase)
            p[side + "arm_flex"] += direction * radius * np.sin(phase)
            p[side + "elbow"] *= 0.3
    elif drill == "punches":
        reach = rng.uniform(1.3, 1.8)
        for side, offset in sides:
            guard(side)
            out = np.maximum(np.sin(phase + offset), 0.0) ** 2
            p[side + "arm_flex"] += out * (reach - p[side + "arm_flex"])
            p[side + "arm_abduct"] -= out * rng.uniform(0.1, 0.4)
            p[side + "elbow"] *= 1.0 - 0.95 * out
            p["spine_twist"] += (0.35 if side == "r_" else -0.35) * out
        front = ("l_", "r_")[rng.integers(2)]
        p[front + "leg_flex"] += 0.25
        p[("r_" if front == "l_" else "l_") + "leg_flex"] -= 0.2
    elif drill == "press":
        for side, _ in sides:
            p[side + "arm_abduct"] += 1.1 + rise * rng.uniform(1.0, 1.4)
            p[side + "arm_flex"] += rng.uniform(0.0, 0.5)
            p[side + "arm_twist"] += rng.uniform(-1.1, -0.7) * (1.0 - rise)
            p[side + "elbow"] = 0.1 + (1.0 - rise) * rng.uniform(1.6, 2.2)
    elif drill == "high_knees":
        lift_by, fold_by = rng.uniform(0.9, 1.6), rng.uniform(1.2, 2.0)
        for side, offset in sides:
            lift = np.maximum(np.sin(0.8 * phase + offset), 0.0) ** 2
            p[side + "leg_flex"] += lift * lift_by
            p[side + "knee"] += lift * fold_by
            p[side + "arm_flex"] += 0.6 * np.sin(0.8 * phase + offset + np.pi)
            p[side + "elbow"] += 1.2
    elif drill == "side_bends":
        overhead = rng.random() < 0.5
        for side, _ in sides:
            if overhead:
                p[side + "arm_abduct"] += rng.uniform(2.2, 2.6)
                p[side + "elbow"] *= 0.3
            else:  # hands on the hips
                p[side + "arm_abduct"] += 0.4
                p[side + "arm_twist"] += 0.8
                p[side + "elbow"] = np.full_like(t, rng.uniform(1.5, 1.9))
        p["spine_side"] += rng.uniform(0.3, 0.5) * np.sin(phase)
        p["pelvis_roll"] -= 0.1 * np.sin(phase)
    elif drill == "trunk_twists":
        for side, _ in sides:
            p[side + "arm_flex"] += rng.uniform(1.0, 1.5)
            p[side + "arm_abduct"] += rng.uniform(0.0, 1.2)
            p[side + "elbow"] += rng.uniform(0.0, 1.6)
        twist = rng.uniform(0.5, 0.8) * np.sin(phase)
        p["spine_twist"] += twist
        p["head_twist"] += 0.5 * twist
    elif drill == "toe_touches":
        depth = rng.uniform(0.7, 1.0) * rise
        windmill = rng.random() < 0.4
        p["spine_flex"] += 1.0 * depth
        p["pelvis_tilt"] += 0.5 * depth
        p["head_flex"] += 0.3 * depth
        for side, offset in sides:
            p[side + "knee"] *= 0.3
            p[side + "arm_flex"] += 1.3 * depth
            p[side + "elbow"] *= 0.3
            if windmill:  # one hand to the opposite foot, the other arm up behind
                down = 0.5 + 0.5 * np.sin(0.5 * phase + offset)
                p[side + "arm_abduct"] += (1.0 - down) * 1.8 * depth
        if windmill:
            p["spine_twist"] += 0.5 * depth * np.sin(0.5 * phase)
    elif drill == "kicks":
        side = ("l_", "r_")[rng.integers(2)]
        kick = np.maximum(np.sin(0.5 * phase), 0.0) ** 2  # a kick every 2-5 s, landing without sliding
        for s in ("l_", "r_"):
            guard(s)
        p[side + "knee"] += 0.15  # the kicking foot rests a little lighter: the other one carries the body
        if rng.random() < 0.6:  # front kick: knee up, then the shin snaps out
            p[side + "leg_flex"] += kick * rng.uniform(1.1, 1.7)
            p[side + "knee"] += 1.8 * kick - 1.4 * kick ** 4
            p["spine_flex"] -= 0.15 * kick
        else:  # side kick: the leg out to the side, the trunk leaning away
            p[side + "leg_abduct"] += kick * rng.uniform(0.6, 0.9)
            p[side + "knee"] += 0.5 * kick - 0.4 * kick ** 4
            p["spine_side"] += (-0.35 if side == "l_" else 0.35) * kick
    elif drill == "raises":
        how = rng.integers(3)  # lateral raises, front raises, curls
        for side, offset in sides:
            lift = rise if rng.random() < 0.5 else 0.5 - 0.5 * np.cos(phase + offset)
            if how == 0:
                p[side + "arm_abduct"] += lift * rng.uniform(1.2, 1.5)
            elif how == 1:
                p[side + "arm_flex"] += lift * rng.uniform(1.3, 1.6)
                p[side + "arm_abduct"] *= 0.3
            else:
                p[side + "elbow"] = 0.15 + lift * rng.uniform(1.9, 2.3)
                p[side + "arm_twist"] += 0.4
            if how < 2:
                p[side + "elbow"] *= 0.4
    else:  # stretch: an arm across the chest or bent behind the head, held, then the other
        half = 1.0 / (1.0 + np.exp(-(t - 0.5 * t[-1]) * 4)) if len(t) > 1 else np.zeros_like(t)
        across = rng.random() < 0.5
        for side, weight in (("l_", 1.0 - half), ("r_", half)):
            other = "r_" if side == "l_" else "l_"
            if across:
                p[side + "arm_flex"] += weight * 1.5
                p[side + "arm_abduct"] -= weight * 0.6
                p[side + "elbow"] *= 1.0 - 0.8 * weight
                p[other + "arm_flex"] += weight * 1.2
                p[other + "elbow"] += weight * 1.6
            else:
                p[side + "arm_flex"] += weight * 2.5
                p[side + "elbow"] += weight * 2.2
                p[other + "arm_flex"] += weight * 2.0
                p[other + "arm_abduct"] += weight * 0.6
                p[other + "elbow"] += weight * 1.6
    p["head_flex"] += 0.1 * _smooth_noise(rng, len(t), fps, 1.0)
    return yaw + 0.3 * _smooth_noise(rng, len(t), fps, 2.0)


#: Arm postures of the "seated" kind, per arm: (arm_flex, arm_abduct, arm_twist, elbow) ranges.
_SEATED_ARMS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((0.3, 0.7), (0.05, 0.3), (-0.2, 0.3), (0.7, 1.3)),    # hand on the thigh
    ((0.1, 0.4), (0.0, 0.2), (0.2, 0.6), (1.2, 1.7)),      # hands in the lap
    ((0.4, 1.3), (0.1, 0.8), (-0.6, 0.2), (0.9, 2.0)),     # talking with the hands
    ((0.7, 1.1), (-0.3, 0.0), (0.3, 0.8), (1.9, 2.3)),     # arms folded across the chest
    ((0.6, 1.2), (0.0, 0.4), (-0.4, 0.2), (2.1, 2.45)),    # hand to the chin or face
    ((0.0, 0.4), (0.3, 0.6), (-0.3, 0.3), (1.2, 1.7)))     # forearm on an armrest


def _seated(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray],
            yaw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """On a chair that is not drawn: eased from one seated posture to the next (feet flat, tucked back or
    stretched out, legs crossed, an ankle on the other knee, knees apart; upright, leaning in or slouching;
    turned to one side; hands on the thighs, in the lap, folded, at the chin, on an armrest or talking),
    and now and then standing up or sitting down, the trunk leaning forward as it does to rise. Why: people
    sit in a great share of real footage (interviews, desks, sofas), and seated thighs point at or away from
    the camera, the limb depth one view cannot tell. Returns the yaw and how seated (F,) the body is: the seat
    holds the pelvis only once it is fully down, so sitting down and rising push off the planted feet."""
    fps = 1.0 / (t[1] - t[0]) if len(t) > 1 else 30.0
    standing = rng.random() < 0.3

    def legs_seated() -> np.ndarray:
        """Left and right (leg_flex, leg_abduct, leg_twist, knee, ankle_x): at least one foot flat on the floor."""
        legs = np.zeros((2, 5))
        apart = rng.uniform(0.4, 0.75) if rng.random() < 0.2 else rng.uniform(0.05, 0.35)
        for i in range(2):
            flex = rng.uniform(1.45, 1.75)
            knee = flex + rng.uniform(-0.45, 0.35)  # shin forward (feet out) or back (feet tucked)
            legs[i] = [flex, apart + rng.uniform(-0.05, 0.05), rng.uniform(-0.1, 0.3), knee, flex - knee]
        free = rng.integers(2)
        how = rng.integers(4)
        if how == 0:  # legs crossed at the knee
            legs[free] = [rng.uniform(1.7, 1.95), rng.uniform(-0.3, -0.15), rng.uniform(0.0, 0.3),
                          rng.uniform(1.4, 1.8), rng.uniform(0.2, 0.5)]
        elif how == 1:  # ankle on the other knee
            legs[free] = [rng.uniform(1.4, 1.6), rng.uniform(0.65, 0.8), rng.uniform(0.4, 0.6),
                          rng.uniform(1.9, 2.2), rng.uniform(0.0, 0.3)]
        elif how == 2:  # one leg stretched out
            legs[free] = [rng.uniform(1.3, 1.5), rng.uniform(0.05, 0.3), rng.uniform(-0.1, 0.3),
                          rng.uniform(0.2, 0.7), rng.uniform(0.1, 0.4)]
        return legs.ravel()

    def arms() -> np.ndarray:
        """Left and right (arm_flex, arm_abduct, arm_twist, elbow), one posture of _SEATED_ARMS each."""
        return np.concatenate([[rng.uniform(*r) for r in _SEATED_ARMS[rng.integers(len(_SEATED_ARMS))]]
                               for _ in range(2)])

    def posture() -> np.ndarray:
        """How seated (0 or 1), the legs (10), spine flex, pelvis tilt, spine twist, then the arms (8)."""
        nonlocal standing
        standing = not standing if rng.random() < (0.8 if standing else 0.25) else standing
        if standing:
            return np.concatenate([[0.0], np.zeros(10), [rng.uniform(-0.05, 0.1), 0.0, 0.0], np.zeros(8)])
        lean = rng.choice(3, p=(0.5, 0.3, 0.2))  # upright, leaning in (elbows towards the knees), slouching
        flex = (rng.uniform(-0.1, 0.2), rng.uniform(0.3, 0.7), rng.uniform(-0.35, -0.1))[lean]
        tilt = rng.uniform(-0.25, -0.05) if lean == 2 else rng.uniform(-0.1, 0.15)
        return np.concatenate([[1.0], legs_seated(), [flex, tilt, rng.uniform(-0.4, 0.4)], arms()])

    targets = _eased_targets(rng, t, (1.0, 2.2), posture)
    sit = targets[:, 0]
    rising = 4.0 * sit * (1.0 - sit)  # 1 halfway between standing and seated
    for i, side in enumerate(("l_", "r_")):
        for j, name in enumerate(("leg_flex", "leg_abduct", "leg_twist", "knee", "ankle_x")):
            p[side + name] = p[side + name] * (1.0 - sit) + targets[:, 1 + 5 * i + j]
        p[side + "knee"] += 0.35 * rising  # knees over the toes while the weight is on the feet
        p[side + "ankle_x"] -= 0.35 * rising
        for j, name in enumerate(("arm_flex", "arm_abduct", "arm_twist", "elbow")):
            p[side + name] = p[side + name] * (1.0 - sit) + targets[:, 14 + 4 * i + j]
        p[side + "arm_flex"] += 0.5 * rising  # arms forward for balance
        talk = 0.15 * sit * _smooth_noise(rng, len(t), fps, 0.35)
        p[side + "arm_flex"] += talk
        p[side + "elbow"] += 1.5 * talk
    lean = rng.uniform(0.4, 0.7) * rising
    p["spine_flex"] += 0.1 * np.logaddexp(targets[:, 11] / 0.1, lean / 0.1)  # a smooth max: leaning in already
    p["pelvis_tilt"] += targets[:, 12] + 0.6 * lean
    p["spine_twist"] += targets[:, 13]
    p["head_twist"] += 0.6 * targets[:, 13] + rng.uniform(0.1, 0.5) * _smooth_noise(rng, len(t), fps, 1.2)
    p["head_flex"] += -0.3 * lean + rng.uniform(0.05, 0.25) * _smooth_noise(rng, len(t), fps, 1.0)
    return yaw + 0.15 * _smooth_noise(rng, len(t), fps, 2.0), smoothstep((sit - 0.85) / 0.15)

#: The postures of the "floor" kind and their shares: lying prone, supine and on the side, on hands and knees
#: (crawling), in a plank (push-ups), sitting on the floor, kneeling. Why: a body on the floor is where
#: MediaPipe's image landmarks fail most (a fifth of the body off on prone frames, at any image rotation),
#: and the corpus holds only ten training trials that leave upright.
FLOOR_POSTURES: dict[str, float] = {"prone": 0.18, "supine": 0.2, "side": 0.14, "all_fours": 0.15, "plank": 0.1,
                                    "sit": 0.14, "kneel": 0.09}
#: Roll about the long axis of each lying posture (0: face down); lying postures pitch the trunk forward to
#: about horizontal, the others keep it near upright and roll with it as a turn.
_LYING_ROLL = {"prone": (0.0,), "supine": (np.pi,), "side": (-np.pi / 2, np.pi / 2), "all_fours": (0.0,),
               "plank": (0.0,)}
_FLOOR_SIDED = ("leg_flex", "leg_abduct", "leg_twist", "knee", "ankle_x", "arm_flex", "arm_abduct", "arm_twist",
                "elbow")
_FLOOR_TRUNK = ("spine_flex", "spine_side", "spine_twist", "head_flex", "head_twist")
#: Arm postures on the floor, per arm: (arm_flex, arm_abduct, arm_twist, elbow) ranges.
_FLOOR_ARMS: dict[str, tuple[tuple[float, float], ...]] = {
    "sides": ((-0.2, 0.3), (0.05, 0.4), (-0.3, 0.3), (0.0, 0.5)),
    "overhead": ((2.3, 2.8), (0.0, 0.5), (-0.5, 0.5), (0.0, 0.6)),
    "out": ((-0.2, 0.5), (1.2, 1.7), (-0.5, 0.5), (0.0, 0.8)),
    "head": ((1.9, 2.4), (0.6, 1.0), (-0.6, 0.0), (2.0, 2.4)),       # under or behind the head
    "push": ((0.2, 0.6), (0.5, 0.9), (-0.8, -0.3), (1.6, 2.2)),      # hands by the shoulders
    "chest": ((0.8, 1.2), (-0.3, 0.0), (0.3, 0.8), (1.8, 2.3)),      # across the chest
    "knees": ((1.0, 1.4), (-0.1, 0.2), (-0.2, 0.3), (1.2, 1.8)),     # hugging the knees
    "prop": ((-0.7, -0.4), (0.2, 0.5), (-0.3, 0.3), (0.0, 0.2))}     # leaning back on the hands
#: Leg postures on the floor, per leg: (leg_flex, leg_abduct, leg_twist, knee, ankle_x) ranges.
_FLOOR_LEGS: dict[str, tuple[tuple[float, float], ...]] = {
    "straight": ((-0.2, 0.15), (0.0, 0.35), (-0.3, 0.4), (0.0, 0.3), (0.2, 0.7)),
    "flat": ((0.7, 1.1), (0.0, 0.3), (-0.2, 0.2), (1.3, 2.0), (-0.3, 0.1)),      # knee up, foot flat
    "raised": ((1.0, 1.8), (0.0, 0.3), (-0.2, 0.3), (0.0, 0.6), (0.0, 0.6)),
    "frog": ((0.6, 1.2), (0.5, 0.8), (0.3, 0.6), (1.2, 2.0), (0.2, 0.7)),        # knee out to the side
    "curled": ((0.5, 1.5), (0.0, 0.3), (-0.2, 0.3), (0.6, 1.8), (0.0, 0.5)),
    "long": ((1.4, 1.7), (0.0, 0.4), (-0.2, 0.3), (0.0, 0.5), (0.0, 0.5)),       # sitting, legs out
    "crossed": ((1.2, 1.6), (0.6, 0.8), (0.4, 0.6), (2.2, 2.45), (0.0, 0.4)),
    "hugged": ((1.8, 2.2), (0.0, 0.3), (-0.1, 0.3), (2.0, 2.5), (-0.3, 0.0)),
    "heels": ((1.0, 1.6), (0.0, 0.35), (-0.2, 0.3), (2.45, 2.75), (0.6, 1.0)),   # sitting back on the heels
    "kneel": ((-0.1, 0.3), (0.0, 0.3), (-0.2, 0.3), (1.4, 1.7), (0.5, 1.0))}
#: Which arm and leg postures go with each floor posture.
_FLOOR_LIMBS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "prone": (("sides", "overhead", "out", "head", "push"), ("straight", "frog")),
    "supine": (("sides", "overhead", "out", "head", "chest"), ("straight", "flat", "raised")),
    "side": (("sides", "overhead", "out", "head", "chest"), ("straight", "curled")),
    "sit": (("sides", "knees", "prop", "chest", "out"), ("long", "crossed", "hugged")),
    "kneel": (("sides", "out", "chest", "overhead"), ("heels", "kneel"))}


def _floor(rng: np.random.Generator, t: np.ndarray, p: dict[str, np.ndarray],
           yaw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eased from one FLOOR_POSTURES posture to the next, each held a moment, with a crawl on all fours,
    push-ups in a plank and flutter kicks lying down. Lying postures pitch the trunk to about horizontal and
    roll it about its long axis (face down, face up, on either side); moving between them rolls the body over,
    the near way round or, now and then, the far way. Returns the yaw and the `lie` (F, 2) pitch and roll of
    _pose_from_params."""
    fps = 1.0 / (t[1] - t[0]) if len(t) > 1 else 30.0
    names, shares = list(FLOOR_POSTURES), np.array(list(FLOOR_POSTURES.values()))
    roll_now = 0.0

    def ranges(draw: tuple[tuple[float, float], ...]) -> list[float]:
        return [rng.uniform(*r) for r in draw]

    def posture() -> np.ndarray:
        """pitch, roll, per side (_FLOOR_SIDED), trunk and head (_FLOOR_TRUNK), crawl, push, kick amplitudes."""
        nonlocal roll_now
        name = names[rng.choice(len(names), p=shares / shares.sum())]
        limbs = np.zeros((2, len(_FLOOR_SIDED)))
        trunk = [rng.uniform(-0.2, 0.3), rng.uniform(-0.25, 0.25), rng.uniform(-0.3, 0.3), rng.uniform(-0.4, 0.4),
                 rng.uniform(-1.0, 1.0)]
        crawl = push = kick = 0.0
        if name in ("all_fours", "plank"):
            pitch = rng.uniform(1.35, 1.6) if name == "all_fours" else rng.uniform(1.1, 1.4)
            kneeling = name == "all_fours" or rng.random() < 0.35  # knee push-ups
            for i in range(2):
                thigh = pitch + rng.uniform(-0.25, 0.15) if name == "all_fours" else rng.uniform(-0.05, 0.1)
                knee = (thigh + rng.uniform(-0.2, 0.2)) if name == "all_fours" else (
                    rng.uniform(1.2, 1.7) if kneeling else rng.uniform(0.0, 0.15))
                limbs[i] = [thigh, rng.uniform(0.0, 0.25), rng.uniform(-0.2, 0.2), knee, rng.uniform(-0.2, 0.9),
                            pitch + rng.uniform(-0.2, 0.2), rng.uniform(0.0, 0.35), rng.uniform(-0.3, 0.3),
                            rng.uniform(0.0, 0.3)]
            trunk[0], trunk[3] = rng.uniform(-0.3, 0.3), rng.uniform(-0.6, 0.1)  # looking ahead or down
            if name == "all_fours":
                crawl = rng.uniform(0.1, 0.35) if rng.random() < 0.6 else 0.0
            else:
                push = rng.uniform(0.6, 1.5) if rng.random() < 0.75 else 0.0
        else:
            arms, legs = _FLOOR_LIMBS[name]
            symmetric = rng.random() < 0.5
            leg = [legs[rng.integers(len(legs))]] * 2
            arm = [arms[rng.integers(len(arms))]] * 2
            if not symmetric:
                leg[1], arm[1] = legs[rng.integers(len(legs))], arms[rng.integers(len(arms))]
            for i in range(2):
                limbs[i] = ranges(_FLOOR_LEGS[leg[i]]) + ranges(_FLOOR_ARMS[arm[i]])
            if name in ("sit", "kneel"):
                pitch = rng.uniform(-0.25, 0.35) if name == "sit" else rng.uniform(-0.1, 0.4)
            else:
                pitch = rng.uniform(1.45, 1.65)
                kick = rng.uniform(0.1, 0.4) if name in ("prone", "supine") and rng.random() < 0.3 else 0.0
            if name == "prone":
                trunk[0], trunk[3] = rng.uniform(-0.5, 0.0), rng.uniform(-0.6, 0.2)  # chest and head lifted
            elif name == "supine":
                trunk[0], trunk[3] = rng.uniform(-0.1, 0.6), rng.uniform(-0.2, 0.7)  # curled up to sit-ups
        if name in _LYING_ROLL:
            bases = np.array(_LYING_ROLL[name])
            options = (bases[:, None] + 2 * np.pi * np.arange(-2, 3)[None]).ravel()
            options = options[np.argsort(np.abs(options - roll_now))]
            roll_now = float(options[0] if rng.random() < 0.75 else options[1])
        else:
            roll_now += rng.uniform(-0.6, 0.6)  # near upright, the roll is a turn
        return np.concatenate([[pitch, roll_now], limbs.ravel(), trunk, [crawl, push, kick]])

    targets = _eased_targets(rng, t, (1.2, 2.5), posture)
    crawl, push, kick = targets[:, -3], targets[:, -2], targets[:, -1]
    step = 2 * np.pi * rng.uniform(0.6, 1.2) * t + rng.uniform(0, 2 * np.pi)
    press = 0.5 - 0.5 * np.cos(2 * np.pi * rng.uniform(0.4, 0.9) * t)
    flutter = 2 * np.pi * rng.uniform(1.5, 2.5) * t
    width = len(_FLOOR_SIDED)
    for i, (side, offset) in enumerate((("l_", 0.0), ("r_", np.pi))):
        for j, name in enumerate(_FLOOR_SIDED):
            p[side + name] = 0.2 * p[side + name] + targets[:, 2 + width * i + j]
        p[side + "arm_flex"] += crawl * np.sin(step + offset) - 0.4 * push * press
        p[side + "leg_flex"] += crawl * np.sin(step + offset + np.pi) + kick * np.sin(flutter + offset)
        p[side + "knee"] += 0.5 * crawl * (1.0 + np.sin(step + offset + np.pi))
        p[side + "elbow"] += push * press
    for j, name in enumerate(_FLOOR_TRUNK):
        p[name] = p[name] + targets[:, 2 + 2 * width + j]
    p["head_twist"] += 0.3 * _smooth_noise(rng, len(t), fps, 1.0)
    lie = targets[:, :2].copy()
    lie[:, 0] += 0.12 * push * press  # the chest goes down as the elbows bend
    return yaw + 0.3 * _smooth_noise(rng, len(t), fps, 3.0), lie


def _base(name: str) -> str:
    """The LIMITS key of a parameter ('l_knee' -> 'knee')."""
    return name[2:] if name[:2] in ("l_", "r_") else name


def _edge_clip(values: np.ndarray, limits: tuple[float, float], soft: float = 0.1) -> np.ndarray:
    """Values unchanged inside the limits but for the last `soft` of the range at each end, where they are
    squashed smoothly (continuous slope) into the limit: a posture drawn near a limit keeps its depth."""
    lo, hi = limits
    margin = soft * (hi - lo)
    top, bottom = hi - margin, lo + margin
    out = np.array(values, dtype=np.float64, copy=True)
    over, under = out > top, out < bottom
    out[over] = top + margin * np.tanh((out[over] - top) / margin)
    out[under] = bottom - margin * np.tanh((bottom - out[under]) / margin)
    return out


def _soft_clip(values: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    """Smoothly squash values into the open interval `limits` (identity-like near the centre)."""
    lo, hi = limits
    centre, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    return centre + half * np.tanh((values - centre) / half)


def _limb_direction(flex: np.ndarray, abduct: np.ndarray, mirror: bool) -> np.ndarray:
    """Bone direction (F, 3) from hanging down: `flex` forward (+Z), `abduct` sideways (+X on the left)."""
    x = np.sin(abduct) * np.cos(flex)
    direction = np.stack([-x if mirror else x, -np.cos(abduct) * np.cos(flex), np.sin(flex)], axis=-1)
    return direction


def _pose_from_params(p: dict[str, np.ndarray], yaw: np.ndarray, rest_joints: np.ndarray,
                      lie: np.ndarray | None = None) -> np.ndarray:
    """Joint parameters (already inside their limits) -> (F, 24, 3) SMPL local axis-angle with the root
    orientation in the world. `lie` (F, 2): the trunk pitched forward from upright (about the body's +X) and
    rolled about its own long axis (+Y), between the heading and the pelvis tilt (floor work)."""
    num_frames = len(yaw)
    rest = np.asarray(rest_joints, dtype=np.float64)
    local = np.zeros((num_frames, NUM_JOINTS, 3))

    def small(joint: int, x: np.ndarray, y: np.ndarray, z: np.ndarray, mirror: bool = False) -> None:
        local[:, joint] = np.stack([x, y, z], axis=-1) * (_MIRROR if mirror else 1.0)

    spine = np.stack([p["spine_flex"], p["spine_twist"], p["spine_side"]], axis=-1)
    for joint, share in _SPINE_SHARE:
        local[:, joint] = share * spine
    head = np.stack([p["head_flex"], p["head_twist"], p["head_side"]], axis=-1)
    for joint, share in _HEAD_SHARE:
        local[:, joint] = share * head
    zero = np.zeros(num_frames)
    for side, mirror, (collar, shoulder, elbow, wrist, hip, knee, ankle, foot) in (
            ("l_", False, (13, 16, 18, 20, 1, 4, 7, 10)), ("r_", True, (14, 17, 19, 21, 2, 5, 8, 11))):
        small(collar, zero, p[side + "collar_y"], p[side + "collar_z"], mirror)
        small(wrist, p[side + "wrist_x"], p[side + "wrist_y"], p[side + "wrist_z"], mirror)
        small(ankle, p[side + "ankle_x"], p[side + "ankle_y"], p[side + "ankle_z"], mirror)
        small(foot, p[side + "toes_x"], zero, zero, mirror)
        small(knee, p[side + "knee"], zero, zero, mirror)
        small(elbow, zero, -p[side + "elbow"], zero, mirror)  # left forearm bends forward about -Y
        for joint, child, prefix in ((shoulder, elbow, "arm_"), (hip, knee, "leg_")):
            bone = rest[child] - rest[joint]
            target = _limb_direction(p[side + prefix + "flex"], p[side + prefix + "abduct"], mirror)
            twist = p[side + prefix + "twist"] * (-1.0 if mirror else 1.0)
            rot = swing_rotation(np.broadcast_to(bone, target.shape), target) @ twist_matrix(
                np.broadcast_to(bone, target.shape), twist)
            local[:, joint] = rotations.matrix_to_axis_angle(rot)
    root = rotations.axis_angle_to_matrix(np.stack([zero, yaw, zero], axis=-1))
    if lie is not None:
        root = (root @ rotations.axis_angle_to_matrix(np.stack([lie[:, 0], zero, zero], axis=-1))
                @ rotations.axis_angle_to_matrix(np.stack([zero, lie[:, 1], zero], axis=-1)))
    root = root @ rotations.axis_angle_to_matrix(np.stack([p["pelvis_tilt"], zero, p["pelvis_roll"]], axis=-1))
    local[:, 0] = rotations.matrix_to_axis_angle(root)
    return local


def _grounded_root(pose_aa: np.ndarray, rest_joints: np.ndarray, knees: bool = False,
                   smooth_steps: bool = False, seated: np.ndarray | None = None) -> np.ndarray:
    """Pelvis world positions (F, 3): the horizontal path of _planted_xz (`smooth_steps`: low-passed; `seated`
    (F,) in [0, 1]: that share of each step is held by a seat instead, so a seated pelvis stays put and the
    feet move), height keeping the lowest ankle or foot joint at FOOT_JOINT_HEIGHT_M (and, with `knees`, the
    knees at least KNEE_JOINT_HEIGHT_M up)."""
    posed, _ = kinematics.forward_kinematics(rotations.axis_angle_to_matrix(pose_aa.astype(np.float64)),
                                             np.asarray(rest_joints, dtype=np.float64), SMPL_PARENTS)
    lowest = posed[:, FOOT_JOINTS, 1].min(axis=1) - posed[:, 0, 1]
    height = FOOT_JOINT_HEIGHT_M - lowest
    if knees:
        height = np.maximum(height, KNEE_JOINT_HEIGHT_M - (posed[:, KNEE_JOINTS, 1].min(axis=1) - posed[:, 0, 1]))
    height = gaussian_filter1d(height, 1.0, mode="nearest")
    relative = posed - posed[:, :1]
    xz = _planted_xz_kneeling(relative) if knees else _planted_xz(relative)
    if smooth_steps:
        xz = gaussian_filter1d(xz, SMOOTH_STEPS_FRAMES, axis=0, mode="nearest")
    if seated is not None:
        xz = np.concatenate([xz[:1], xz[0] + np.cumsum((1.0 - seated[1:, None]) * np.diff(xz, axis=0), axis=0)])
    return np.column_stack([xz[:, 0], height, xz[:, 1]])


def _body_grounded_root(pose_aa: np.ndarray, rest_joints: np.ndarray) -> np.ndarray:
    """Pelvis world positions (F, 3) for a body that any part of may carry (floor work): its height keeps the
    lowest point of the body's surface (each joint's BODY_RADII_M sphere) on the ground; its path keeps the
    carrying points of that surface still, shared smoothly between those within a few BODY_BLEND_M of the
    lowest. The points are fixed to the bones (_SPHERE_DIRECTIONS turned with each joint), so a body rolling
    over travels as a rolling body does instead of spinning in place."""
    posed, global_rot = kinematics.forward_kinematics(rotations.axis_angle_to_matrix(pose_aa.astype(np.float64)),
                                                      np.asarray(rest_joints, dtype=np.float64), SMPL_PARENTS)
    relative = posed - posed[:, :1]
    height = gaussian_filter1d(-(relative[:, :, 1] - BODY_RADII_M).min(axis=1), 1.0, mode="nearest")
    offsets = BODY_RADII_M[None, :, None, None] * np.einsum("fjab,kb->fjka", global_rot, _SPHERE_DIRECTIONS)
    points = (relative[:, :, None] + offsets).reshape(len(relative), -1, 3)
    xz = _carried_xz(points, points[:, :, 1], BODY_BLEND_M)
    return np.column_stack([xz[:, 0], height, xz[:, 1]])


def _sphere_directions() -> np.ndarray:
    """(26, 3) unit vectors to the faces, edges and corners of a cube: points around a joint's sphere."""
    grid = np.stack(np.meshgrid([-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], indexing="ij"), -1)
    grid = grid.reshape(-1, 3)
    grid = grid[np.abs(grid).sum(axis=1) > 0]
    return grid / np.linalg.norm(grid, axis=1, keepdims=True)


_SPHERE_DIRECTIONS = _sphere_directions()


def _planted_xz(relative: np.ndarray) -> np.ndarray:
    """(F, 2) horizontal pelvis path, starting at 0, that keeps the supporting foot still on the ground.

    relative: (F, 24, 3) posed joints relative to the pelvis (world axes). The lower foot bears the weight;
    its lower point (ankle, or the toes once the heel rises) stays put, so the pelvis moves by the opposite
    of that point's motion relative to it. Where the feet are within a few SUPPORT_BLEND_M of each other the
    weight is shared (their motions blended), so the pelvis does not jolt when the other foot takes over.
    """
    feet = relative[:, FOOT_JOINTS]  # left ankle, right ankle, left toes, right toes
    frames = np.arange(len(relative))
    heights, moves = [], []
    for ankle, toes in ((0, 2), (1, 3)):
        point = np.where(feet[:, ankle, 1] < feet[:, toes, 1], ankle, toes)
        heights.append(feet[frames, point, 1])
        moves.append(feet[frames[1:], point[1:]][:, [0, 2]] - feet[frames[:-1], point[1:]][:, [0, 2]])
    left_share = 1.0 / (1.0 + np.exp(np.clip((heights[0] - heights[1]) / SUPPORT_BLEND_M, -50.0, 50.0)))[1:, None]
    xz = np.zeros((len(relative), 2))
    xz[1:] = -np.cumsum(left_share * moves[0] + (1.0 - left_share) * moves[1], axis=0)
    return xz


def _planted_xz_kneeling(relative: np.ndarray) -> np.ndarray:
    """_planted_xz for bodies that may kneel: the weight rests on whichever of the ankles, toes and knees are
    lowest (a knee counted at its resting height, KNEE_JOINT_HEIGHT_M, against the feet's), shared smoothly
    between those within a few KNEELING_BLEND_M of the lowest, so the pelvis does not jolt as a knee goes down
    or a foot takes the weight back. (Feet-only kinds keep _planted_xz, so their motion stays bit for bit what
    the committed detection archives were rendered from.)"""
    contacts = relative[:, FOOT_JOINTS + KNEE_JOINTS]
    heights = contacts[:, :, 1] - np.array([0.0] * len(FOOT_JOINTS) + [KNEE_JOINT_HEIGHT_M - FOOT_JOINT_HEIGHT_M]
                                           * len(KNEE_JOINTS))
    return _carried_xz(contacts, heights, KNEELING_BLEND_M)


def _carried_xz(contacts: np.ndarray, heights: np.ndarray, blend_m: float) -> np.ndarray:
    """(F, 2) horizontal pelvis path, starting at 0, that keeps the carrying points still: contacts (F, N, 3)
    relative to the pelvis carry the body in shares by how far their `heights` (F, N) are above the lowest,
    softened over a few `blend_m`."""
    weights = np.exp(-np.clip((heights - heights.min(axis=1, keepdims=True)) / blend_m, 0.0, 50.0))
    weights = (weights / weights.sum(axis=1, keepdims=True))[1:, :, None]
    moves = contacts[1:, :, [0, 2]] - contacts[:-1, :, [0, 2]]
    xz = np.zeros((len(contacts), 2))
    xz[1:] = -np.cumsum((weights * moves).sum(axis=1), axis=0)
    return xz
