"""Training clips whose landmarks come from MediaPipe itself, run on Blender renders of the body model.

    python -m scripts.synth.detected_clips --out DIR --motion-dir ../shared/motion [--clips N] [--seconds 4]
        [--seed 0] [--split train] [--look random|plain] [--size WxH] [--keep-video] [--tumble-share 0]
        [--splice-share 0] [--face-share 0] [--limits-share 0] [--crouch-share 0] [--exercise-share 0]
        [--seated-share 0]
        [--archive scripts/synth/detections/NAME]

Why: the simulated clips (generate.py) model MediaPipe's errors by hand, and real MediaPipe output differs
from that model. Here each clip is a motion posed on a body of random shape, dressed and lit at random in a
random set (appearance.py, dress.py, staging.py), rendered with Workbench (render_scene.py), and MediaPipe
finds the person in the video exactly as the bridge does for a user's video (bridge.pipeline.track_video:
person choice, VIDEO-mode tracking, crop recovery of missed frames). The clip file (format
`arts-synth-clip/1`, README.md) holds the exact ground truth beside MediaPipe's landmarks (mp_image,
mp_world; `landmark_source` = 'mediapipe'), the synthetic model's noise-free landmarks for the same frames
(mp_image_clean, mp_world_clean, as scripts/eval_rendered.py makes them) and the look (`appearance`, JSON).

Clip k is planned from (--seed, k) alone: a motion of the requested split (mocap trials retargeted through
generate.py's loader and cache, weighted by the square root of their length, and a quarter procedural), a
start frame, a shape β ~ N(0, 1) clipped to ±2.5, a look and, for --tumble-share of the clips, a turn head
over heels (motion_mix.tumbled: flips, cartwheels, held tilts), the body's lowest point on the floor: what
MediaPipe does with bodies at odd angles to gravity is what the detector-noise model knows least; and, for
--splice-share of the mocap clips, the spine, arms and head of a piece of another upright trial of the split
on the legs (motion_mix.spliced): body configurations that no single trial has, as generate.py's splices give
the simulated clips, but with the real detector's answer to them; and, for --face-share of the random looks,
painted eyes, brows and lips (face_paint.py; without them the head is bare skin); and, for --limits-share,
--crouch-share, --exercise-share, --seated-share or --floor-share of the plans, procedural motion instead
(procedural.py): every joint over its whole range, postures low to the ground (kneeling, sitting back on the
heels, lunges), fitness drills (arms punched and pressed towards the camera, kicks, stretches), sitting on a
chair that is not drawn (legs crossed, sitting down, standing up), or floor work (lying prone, supine or on
the side, rolling over, crawling, push-ups; the camera aimed low: floor_camera), poses few trials hold. A clip in
which MediaPipe found nobody at all is written to OUT/nobody/ instead. The run is resumable: a clip whose
file exists is skipped, files are written atomically, index.json is rewritten after every clip, so a kill
loses at most the clip in progress; a folder made with other settings is refused.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bridge import tracking
from bridge.body_model import BodyModelArrays, load_body_model_arrays, shaped_rest
from bridge.geometry import rotations
from bridge.skeleton import NUM_BETAS

from .appearance import Appearance, CameraPlan, plain_appearance, sample_appearance
from .camera import Camera
from .clip_file import CLIP_FORMAT, load_clip, write_clip
from .dress import DressedBody, dress
from .face_paint import sample_face
from .generate import (BETA_LIMIT, CROUCH_SEED0, EXERCISE_SEED0, FLOOR_SEED0, FPS, LIMITS_SEED0, SEATED_SEED0,
                       load_motions, motion_kind, split_of)
from .landmarks import world_landmarks
from .motion import MotionClip
from .motion_mix import spliced, tumbled, upright_fraction
from .procedural import BODY_GROUNDED_KINDS, MOTION_KINDS, procedural_motion
from .retarget import DEFAULT_CACHE_DIR
from .staging import SetPiece, facing_yaw, layout_set, place_camera

#: Share of clips with procedural motion when mocap is available too.
PROCEDURAL_SHARE = 0.25
#: Procedural motions are generate.py's: seeds 0..479, kinds in turn (seed % number of kinds).
PROCEDURAL_SEEDS = 480
LOOKS = ("random", "plain")
#: Clips in which MediaPipe found nobody go to this subfolder: kept for analysis, but out of the training
#: folder (their landmarks are all zeros, and the bridge refuses such a video rather than run the model).
NOBODY_DIR = "nobody"
#: Settings that decide what clip k is; a folder holds clips of one setting only.
#: Shares that define clips only when above 0 (each was added after folders without it existed).
OPTIONAL_SHARES = ("tumble_share", "splice_share", "face_share", "limits_share", "crouch_share", "acrobatic_share",
                   "exercise_share", "seated_share", "floor_share")
DEFINING = ("seed", "seconds", "split", "look", "size", "body_model_id") + OPTIONAL_SHARES
#: Faces are drawn from their own stream, (seed, index, FACE_STREAM), so that painting them changes nothing
#: else about a plan: the same plan with and without a face is the same clip otherwise.
FACE_STREAM = 1
#: Procedural kinds that replace a plan's motion, each drawn from its own stream, (seed, index, stream), from
#: EXTRA_SEEDS seeds on from its first seed in generate.py (its split rule; far more than generate.py's own 480):
#: kind -> (stream, first seed, what it is), its share RunConfig.<kind>_share. A plan drawn for one is not drawn
#: for the next.
EXTRA_MOTIONS: dict[str, tuple[int, int, str]] = {
    "limits": (2, LIMITS_SEED0, "joint-limit"), "crouch": (3, CROUCH_SEED0, "low-posture"),
    "exercise": (5, EXERCISE_SEED0, "fitness-drill"), "seated": (6, SEATED_SEED0, "seated"),
    "floor": (7, FLOOR_SEED0, "floor-work")}
#: Camera plans of floor-work clips look this share as high as they would at a standing person (the body is
#: low); their "feet" crops become no crop (the frame's bottom edge would cut the whole lying body).
FLOOR_AIM_SCALE = 0.5
EXTRA_SEEDS = 100_000
#: A trial is upright when its pelvis is upright (motion_mix.upright_fraction) more than this share of its frames
#: (generate.py's splice rule): splices join only upright trials, --acrobatic-share plans draw only the others.
UPRIGHT_TRIAL = 0.9
#: Acrobatic plans (--acrobatic-share) are drawn from their own stream, (seed, index, ACROBATIC_STREAM). Why they
#: exist: about 7 % of the training trials' draws leave upright (flips, breakdance, rolling and getting up from
#: the floor), and tumbled walks turn the body without the limbs doing what they do when hands or back carry it.
ACROBATIC_STREAM = 4


@dataclass(frozen=True)
class ClipPlan:
    """Everything that defines clip `index` except the motion's frames themselves."""

    index: int
    source: str
    group: str
    split: str
    start: int  # first frame of the motion used (30 fps)
    frames: int
    betas: tuple[float, ...]
    appearance: Appearance
    tumble_seed: int | None = None  # the motion turned head over heels (motion_mix.tumbled) with this seed
    splice: tuple[str, int] | None = None  # upper body from this trial's frames from this start (motion_mix.spliced)

    @property
    def clip_id(self) -> str:
        return (f"{self.source}@{self.start}#r{self.index}" + ("~splice" if self.splice is not None else "")
                + ("~tumble" if self.tumble_seed is not None else ""))

    @property
    def file_name(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.source)
        return f"{self.split}-{self.index:06d}-{safe}.npz"


@dataclass
class RunConfig:
    """What to make (every field is a CLI option)."""

    clips: int = 100
    seconds: float = 4.0
    seed: int = 0
    split: str = "train"
    look: str = "random"
    size: tuple[int, int] | None = None  # every clip at this size instead of the sampled one
    keep_video: bool = False
    tumble_share: float = 0.0  # share of clips whose motion is turned head over heels
    splice_share: float = 0.0  # share of mocap clips whose upper body comes from another trial
    face_share: float = 0.0  # share of random looks with painted eyes, brows and lips (face_paint.py)
    limits_share: float = 0.0  # share of clips moving over the full joint limits (procedural "limits")
    crouch_share: float = 0.0  # share of clips in low postures: kneeling, sitting back, lunges (procedural "crouch")
    acrobatic_share: float = 0.0  # share of clips whose motion is a trial that leaves upright (flips, floor work)
    exercise_share: float = 0.0  # share of clips doing a fitness drill (procedural "exercise")
    seated_share: float = 0.0  # share of clips sitting on a chair, sitting down, standing up (procedural "seated")
    floor_share: float = 0.0  # share of clips lying, rolling over, crawling, doing push-ups (procedural "floor")

    @property
    def frames(self) -> int:
        return int(round(self.seconds * FPS))


# ---------------------------------------------------------------------------------------------------------
# Planning (pure, deterministic).

def procedural_sources(split: str, count: int = PROCEDURAL_SEEDS) -> list[tuple[str, str]]:
    """(source, group) of generate.py's procedural motions that fall in `split`."""
    out = []
    for seed in range(count):
        source, group = f"procedural:{MOTION_KINDS[seed % len(MOTION_KINDS)]}:{seed}", f"procedural:{seed}"
        if split_of(source, group) == split:
            out.append((source, group))
    return out


@dataclass(frozen=True)
class TrialPools:
    """The trials, in `mocap`'s order, that splices join (upright ones: splicing a handstand's arms onto a
    walk's legs makes nonsense) and that acrobatic plans draw from (the others); each empty for a run that
    does not use it. Worked out once per run and handed to every plan_clip call, since it reads every frame
    of every trial."""

    donors: list[MotionClip]
    acrobatic: list[MotionClip]


def trial_pools(config: RunConfig, mocap: list[MotionClip]) -> TrialPools:
    splicing, acrobatic = config.splice_share > 0, config.acrobatic_share > 0
    upright = [upright_fraction(m) if splicing or acrobatic else 1.0 for m in mocap]
    return TrialPools([m for m, u in zip(mocap, upright) if splicing and u > UPRIGHT_TRIAL],
                      [m for m, u in zip(mocap, upright) if acrobatic and u < UPRIGHT_TRIAL])


def plan_clip(index: int, config: RunConfig, mocap: list[MotionClip], pools: TrialPools | None = None) -> ClipPlan:
    """Clip `index`'s motion, start, shape and look, from (config.seed, index) alone. `mocap`: the
    retargeted trials of config.split at least config.frames long (empty: procedural motion only);
    `pools`: trial_pools(config, mocap), worked out here when needed and not given."""
    rng = np.random.default_rng([config.seed, index])
    procedural = procedural_sources(config.split)
    use_procedural = not mocap or (procedural and rng.random() < PROCEDURAL_SHARE)
    if use_procedural:
        if not procedural:
            raise ValueError(f"no motion of split {config.split!r}")
        source, group = procedural[rng.integers(len(procedural))]
        start = 0
    else:
        motion = draw_trial(mocap, rng)
        source, group = motion.source, motion.group
        start = int(rng.integers(0, motion.num_frames - config.frames + 1))
    betas = np.clip(rng.standard_normal(NUM_BETAS), -BETA_LIMIT, BETA_LIMIT)
    look = sample_appearance(rng)
    if config.size is not None:
        look = dataclasses.replace(look, camera=dataclasses.replace(look.camera, image_size=tuple(config.size)))
    if config.look == "plain":
        look = plain_appearance(look.camera)
    # Drawn last, and only when asked for, so the plans of runs without tumbles stay what they were.
    tumble_seed = (int(rng.integers(2**31)) if config.tumble_share > 0 and rng.random() < config.tumble_share
                   else None)
    splice = None
    if config.splice_share > 0 and not use_procedural and rng.random() < config.splice_share:
        pools = trial_pools(config, mocap) if pools is None else pools
        others = [m for m in pools.donors if m.source != source]
        if others and len(others) < len(pools.donors):  # the drawn trial is itself upright enough
            donor = others[int(rng.integers(len(others)))]
            splice = (donor.source, int(rng.integers(0, donor.num_frames - config.frames + 1)))
    if config.look == "random" and config.face_share > 0:
        face_rng = np.random.default_rng([config.seed, index, FACE_STREAM])
        if face_rng.random() < config.face_share:
            outfit = look.outfit
            look = dataclasses.replace(look, outfit=dataclasses.replace(
                outfit, face=sample_face(face_rng, outfit.skin, outfit.hair.colours[0], outfit.bald)))
    for kind, (stream, _, _) in EXTRA_MOTIONS.items():
        share = getattr(config, f"{kind}_share")
        if share > 0:
            extra_rng = np.random.default_rng([config.seed, index, stream])
            if extra_rng.random() < share:
                source, group = extra_source(kind, extra_rng, config.split)
                start, splice = 0, None
                if kind in BODY_GROUNDED_KINDS:
                    look = dataclasses.replace(look, camera=floor_camera(look.camera))
                break
    else:  # no procedural kind took the plan
        acrobatic_rng = np.random.default_rng([config.seed, index, ACROBATIC_STREAM])
        if config.acrobatic_share > 0 and acrobatic_rng.random() < config.acrobatic_share:
            pools = trial_pools(config, mocap) if pools is None else pools
            if not pools.acrobatic:
                raise ValueError(f"no acrobatic trial of split {config.split!r}")
            motion = draw_trial(pools.acrobatic, acrobatic_rng)
            source, group, splice = motion.source, motion.group, None
            start = int(acrobatic_rng.integers(0, motion.num_frames - config.frames + 1))
    return ClipPlan(index, source, group, config.split, start, config.frames,
                    tuple(round(float(b), 6) for b in betas), look, tumble_seed, splice)


def floor_camera(plan: CameraPlan) -> CameraPlan:
    """A camera plan made for a standing person, aimed and cropped for one on the floor (FLOOR_AIM_SCALE);
    in portrait frames the person fills less of the height, since a lying body spans the narrow width."""
    width, height = plan.image_size
    return dataclasses.replace(plan, aim=round(plan.aim * FLOOR_AIM_SCALE, 3),
                               fill=round(plan.fill * min(1.0, width / height), 4),
                               crop="none" if plan.crop == "feet" else plan.crop,
                               crop_amount=0.0 if plan.crop == "feet" else plan.crop_amount)


def body_grounded(plan: ClipPlan) -> bool:
    """Whether the lowest point of the plan's body goes on the floor frame by frame: a tumbled body rolls,
    cartwheels or stands on its hands, and floor work lies on it, instead of sinking through the floor
    (eval_rendered.grounded puts the feet there, which suits upright motion only)."""
    return plan.tumble_seed is not None or motion_kind(plan.source) in {f"procedural:{k}" for k in BODY_GROUNDED_KINDS}


def extra_source(kind: str, rng: np.random.Generator, split: str) -> tuple[str, str]:
    """(source, group) of a procedural motion of EXTRA_MOTIONS `kind` and of `split`, drawn by `rng`. Why:
    every other clip's body holds poses some activity in the corpus has; MediaPipe's real errors on poses no
    activity has, or that few trials hold (kneeling, sitting back on the heels), and the truth beside them,
    are what a network needs for motion unlike its training set."""
    _, seed0, what = EXTRA_MOTIONS[kind]
    for _ in range(1000):
        seed = seed0 + int(rng.integers(EXTRA_SEEDS))
        source, group = f"procedural:{kind}:{seed}", f"procedural:{seed}"
        if split_of(source, group) == split:
            return source, group
    raise ValueError(f"no {what} motion of split {split!r}")


def draw_trial(pool: list[MotionClip], rng: np.random.Generator) -> MotionClip:
    """A trial of `pool` drawn by `rng`, weighted by √length: longer trials more often, but a long trial does
    not crowd out many short ones."""
    weights = np.sqrt([m.num_frames for m in pool])
    return pool[rng.choice(len(pool), p=weights / weights.sum())]


def plan_motion(plan: ClipPlan, mocap: dict[str, MotionClip], rest_joints: np.ndarray) -> MotionClip:
    """The plan's frames of motion (procedural motion is made on the mean body, as generate.py does)."""
    if plan.source.startswith("procedural:"):
        _, kind, seed = plan.source.split(":")
        motion = procedural_motion(kind, int(seed), rest_joints, plan.frames, FPS)
    else:
        motion = mocap[plan.source].slice(plan.start, plan.start + plan.frames)
    if plan.splice is not None:
        donor, start = plan.splice
        motion = spliced(motion, mocap[donor].slice(start, start + plan.frames), motion.source, motion.group)
    if plan.tumble_seed is None:
        return motion
    return tumbled(motion, np.random.default_rng(plan.tumble_seed), motion.source, motion.group)


# ---------------------------------------------------------------------------------------------------------
# One clip.

def detected_landmarks(track: tracking.TrackedClip) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's track -> (mp_image (F, 33, 4), mp_world (F, 33, 3)) as the clip format stores them.

    Missed frames are interpolated as the bridge fills them for the model (tracking.fill_missing), with
    visibility = presence = 0 (the simulated clips' convention); world landmarks are re-centred on the hip
    landmarks' midpoint like the simulated ones (landmarks.world_landmarks). MediaPipe's world axes are
    already the camera's (x right, y down, z away from the camera); nothing is rotated, so training sees
    what the bridge feeds the network. Nobody found at all: zeros."""
    frames = track.num_frames
    if not track.valid.any():
        return np.zeros((frames, 33, 4), np.float32), np.zeros((frames, 33, 3), np.float32)
    image = tracking.fill_missing(track.image_landmarks, track.valid).astype(np.float32)
    image[~track.valid, :, 2:] = 0.0
    world = world_landmarks(tracking.fill_missing(track.world_landmarks, track.valid).astype(np.float64))
    return image, world.astype(np.float32)


@dataclass
class StagedClip:
    """A planned clip posed and placed before a camera: what the render needs, and the exact ground truth."""

    truth: dict[str, np.ndarray]  # the clip file's ground-truth arrays (camera axes)
    dressed: DressedBody
    verts_world: np.ndarray  # (F, V, 3) the dressed body's posed vertices, Y-up world, metres
    pieces: list[SetPiece]
    cam: Camera  # per frame
    build_s: float


def stage_clip(plan: ClipPlan, motion: MotionClip, body: BodyModelArrays) -> StagedClip:
    """Pose the planned body, dress it, place the camera and the set (no Blender; deterministic, so the
    ground truth of an archived clip is rebuilt here without rendering: detection_archive.py)."""
    from scripts.eval_rendered import grounded
    from scripts.render_test_clip import skin_vertices

    started = time.perf_counter()
    betas = np.asarray(plan.betas, np.float64)
    motion = grounded(motion, body, betas)
    look = plan.appearance
    dressed = dress(body, look.outfit)
    verts, joints = skin_vertices(dressed.arrays, betas, motion.pose_aa)
    rest_vertices, rest_joints = shaped_rest(body, betas)
    shift = np.asarray(motion.root_pos_m, np.float64) - rest_joints[0]
    if body_grounded(plan):
        shift = shift + np.outer(-(verts[:, :, 1] + shift[:, None, 1]).min(axis=1), [0.0, 1.0, 0.0])
    verts_world, joints_world = verts + shift[:, None], joints + shift[:, None]
    root_rot = rotations.axis_angle_to_matrix(np.asarray(motion.pose_aa, np.float64)[:, 0])
    height_m = float(np.ptp(rest_vertices[:, 1]))
    cam = place_camera(look.camera, joints_world[:, 0], facing_yaw(root_rot), height_m)
    pieces = layout_set(look.backdrop, cam, joints_world[:, 0])

    joints_cam = cam.world_to_camera(joints_world)
    pose_cam = np.asarray(motion.pose_aa, np.float64).copy()
    pose_cam[:, 0] = rotations.matrix_to_axis_angle(cam.rotation @ root_rot)
    truth = {
        "pose_aa": pose_cam.astype(np.float32), "betas": betas.astype(np.float32),
        "trans_m": (joints_cam[:, 0] - rest_joints[0]).astype(np.float32), "joints_3d": joints_cam.astype(np.float32),
        "image_size": np.array(cam.image_size, np.int64), "focal_px": np.array(cam.focal_px, np.float32),
        "fps": np.array(motion.fps, np.float32),
    }
    return StagedClip(truth, dressed, verts_world, pieces, cam, time.perf_counter() - started)


def clip_arrays(plan: ClipPlan, truth: dict[str, np.ndarray], body: BodyModelArrays, mp_image: np.ndarray,
                mp_world: np.ndarray, valid: np.ndarray) -> dict[str, np.ndarray]:
    """The clip file's arrays: the ground truth, MediaPipe's landmarks (detected_landmarks) and the
    noise-free synthetic ones."""
    from scripts.eval_rendered import synthetic_landmarks

    clean_px, clean_world = synthetic_landmarks(truth, body)
    return {
        **truth, "mp_image": mp_image, "mp_image_clean": clean_px.astype(np.float32), "mp_world": mp_world,
        "mp_world_clean": clean_world.astype(np.float32), "valid": np.asarray(valid, bool),
        "format": np.array(CLIP_FORMAT), "clip_id": np.array(plan.clip_id), "source": np.array(plan.source),
        "split": np.array(plan.split), "body_model_id": np.array(body.model_id),
        "landmark_source": np.array("mediapipe"), "appearance": np.array(plan.appearance.to_json()),
    }


def render_and_detect(staged: StagedClip, look: Appearance, fps: float, video_path: Path
                      ) -> tuple[tracking.TrackedClip, float, float]:
    """Render the staged clip to `video_path` and run the bridge's detection on it, as for a user's video;
    returns (track, render_s, detect_s)."""
    from bridge.pipeline import ProcessOptions, track_video

    from .render_scene import render_video

    render_s = render_video(video_path, staged.dressed, staged.verts_world, staged.pieces, staged.cam, look, fps)
    t0 = time.perf_counter()
    _, track, _ = track_video(ProcessOptions(video=str(video_path)))
    return track, render_s, time.perf_counter() - t0


def make_clip(plan: ClipPlan, motion: MotionClip, body: BodyModelArrays, video_path: Path
              ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Render the planned clip to `video_path`, run the bridge's detection on it; returns the clip file's
    arrays and timings (build_s: posing and scene set-up, render_s, detect_s)."""
    staged = stage_clip(plan, motion, body)
    track, render_s, detect_s = render_and_detect(staged, plan.appearance, motion.fps, video_path)
    if track.num_frames != plan.frames:
        raise RuntimeError(f"{video_path}: {track.num_frames} frames decoded, {plan.frames} rendered")
    arrays = clip_arrays(plan, staged.truth, body, *detected_landmarks(track), track.valid)
    return arrays, {"build_s": staged.build_s, "render_s": render_s, "detect_s": detect_s}


# ---------------------------------------------------------------------------------------------------------
# The run.

class Index:
    """index.json: the run's settings, one entry per finished clip and timing totals; rewritten atomically
    after every clip."""

    def __init__(self, out_dir: Path, defining: dict) -> None:
        self.path = out_dir / "index.json"
        self.defining = defining
        self.entries: dict[str, dict] = {}
        if self.path.is_file():
            stored = json.loads(self.path.read_text())
            if stored.get("defining") != defining:
                raise ValueError(f"{out_dir} holds clips made with {stored.get('defining')}, not {defining}; "
                                 "use another --out")
            self.entries = {e["file"]: e for e in stored.get("clips_index", [])}

    def add(self, entry: dict) -> None:
        self.entries[entry["file"]] = entry
        self.save()

    def save(self) -> None:
        entries = sorted(self.entries.values(), key=lambda e: e["index"])
        frames = sum(e["frames"] for e in entries)
        timed = [e for e in entries if "render_s" in e]
        timed_frames = max(sum(e["frames"] for e in timed), 1)
        summary = {
            "format": CLIP_FORMAT, "landmark_source": "mediapipe", "defining": self.defining,
            "clips": len(entries), "nobody_clips": sum(e["valid_frames"] == 0 for e in entries), "frames": frames,
            "valid_frames": sum(e["valid_frames"] for e in entries),
            "render_s_per_frame": round(sum(e["render_s"] for e in timed) / timed_frames, 4),
            "detect_s_per_frame": round(sum(e["detect_s"] for e in timed) / timed_frames, 4),
            "wall_s_per_frame": round(sum(e["wall_s"] for e in timed) / timed_frames, 4),
            "clips_index": entries,
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(summary, indent=1))
        tmp.replace(self.path)


def split_motions(motion_dir: Path | None, rest_joints: np.ndarray, config: RunConfig, cache_dir: Path | None,
                  log: Callable[[str], None]) -> list[MotionClip]:
    """The retargeted mocap trials plan_clip draws from: config.split's, at least config.frames long."""
    return [m for m in load_motions(motion_dir, rest_joints, cache_dir, log)
            if split_of(m.source, m.group) == config.split and m.num_frames >= config.frames]


def defining_settings(config: RunConfig, body: BodyModelArrays) -> dict:
    """The settings that decide what each clip is (index.json's `defining`; the OPTIONAL_SHARES only when
    used, so folders made before they existed stay valid)."""
    defining = {**{k: v for k, v in asdict(config).items() if k in DEFINING}, "body_model_id": body.model_id,
                "size": list(config.size) if config.size else None}
    for optional in OPTIONAL_SHARES:
        if not getattr(config, optional):
            del defining[optional]
    return defining


def config_of(defining: dict) -> RunConfig:
    """The run settings that plan the same clips as a folder with these `defining` settings."""
    size = tuple(defining["size"]) if defining.get("size") else None
    return RunConfig(seconds=defining["seconds"], seed=defining["seed"], split=defining["split"],
                     look=defining["look"], size=size, **{k: defining.get(k, 0.0) for k in OPTIONAL_SHARES})


def _existing(out_dir: Path, plan: ClipPlan) -> Path | None:
    """The plan's clip file if it was made (with the person found, or in NOBODY_DIR)."""
    return next((p for p in (out_dir / plan.file_name, out_dir / NOBODY_DIR / plan.file_name) if p.is_file()), None)


def _entry(plan: ClipPlan, arrays: dict[str, np.ndarray], path: Path, out_dir: Path) -> dict:
    return {"index": plan.index, "file": path.relative_to(out_dir).as_posix(), "clip_id": plan.clip_id,
            "source": plan.source, "split": plan.split, "frames": int(len(arrays["valid"])),
            "valid_frames": int(arrays["valid"].sum()), "image_size": [int(v) for v in arrays["image_size"]]}


def run(out_dir: Path, motion_dir: Path | None, config: RunConfig, body_model: Path | None = None,
        cache_dir: Path | None = DEFAULT_CACHE_DIR, log: Callable[[str], None] = print,
        archive_dir: Path | None = None) -> dict:
    """Make clips 0..config.clips-1 into out_dir (skipping finished ones); returns index.json's content.
    With `archive_dir`, each finished clip's landmarks also go to that detection archive
    (detection_archive.save), so a run left going after a session ends leaves them in the working tree."""
    if archive_dir is not None:
        from .detection_archive import save as archive

    if config.look not in LOOKS:
        raise ValueError(f"look {config.look!r}: expected one of {LOOKS}")
    body = load_body_model_arrays(body_model)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (*out_dir.glob("*.tmp.npz"), *out_dir.glob(f"{NOBODY_DIR}/*.tmp.npz")):  # writes cut short by a kill
        stale.unlink()
    index = Index(out_dir, defining_settings(config, body))
    rest_joints = shaped_rest(body, None)[1]
    motions = split_motions(motion_dir, rest_joints, config, cache_dir, log)
    by_source = {m.source: m for m in motions}
    pools = trial_pools(config, motions)
    plans = [plan_clip(k, config, motions, pools) for k in range(config.clips)]
    todo = [p for p in plans if _existing(out_dir, p) is None]
    for plan in plans:  # finished before a kill, but not yet indexed
        path = _existing(out_dir, plan)
        if path is not None and path.relative_to(out_dir).as_posix() not in index.entries:
            index.add(_entry(plan, load_clip(path), path, out_dir))
    log(f"{len(motions)} mocap trials of split {config.split!r}; {len(plans) - len(todo)} of {len(plans)} clips "
        f"already in {out_dir}")
    video_dir = out_dir / "videos"
    video_dir.mkdir(exist_ok=True)
    session_start, session_frames = time.perf_counter(), 0
    for done, plan in enumerate(todo, start=1):
        t0 = time.perf_counter()
        video = video_dir / (Path(plan.file_name).stem + ".mp4")
        arrays, timing = make_clip(plan, plan_motion(plan, by_source, rest_joints), body, video)
        path = out_dir / plan.file_name if arrays["valid"].any() else out_dir / NOBODY_DIR / plan.file_name
        path.parent.mkdir(exist_ok=True)
        write_clip(path, arrays)
        if not config.keep_video:
            video.unlink(missing_ok=True)
        wall_s = time.perf_counter() - t0
        entry = {**_entry(plan, arrays, path, out_dir), **{k: round(v, 2) for k, v in timing.items()},
                 "wall_s": round(wall_s, 2)}
        index.add(entry)
        if archive_dir is not None:
            archive(out_dir, archive_dir, log=lambda _: None)
        session_frames += entry["frames"]
        elapsed = time.perf_counter() - session_start
        eta = elapsed / done * (len(todo) - done)
        log(f"[{len(plans) - len(todo) + done}/{len(plans)}] {entry['file']} {entry['image_size'][0]}x"
            f"{entry['image_size'][1]}: render {timing['render_s']:.1f} s, detect {timing['detect_s']:.1f} s, "
            f"found {entry['valid_frames']}/{entry['frames']} frames; {session_frames / elapsed:.2f} frames/s, "
            f"ETA {_duration(eta)}")
    if not any(video_dir.iterdir()):
        video_dir.rmdir()
    index.save()
    return json.loads(index.path.read_text())


def _duration(seconds: float) -> str:
    minutes = int(math.ceil(seconds / 60.0))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.synth.detected_clips",
                                     description=__doc__.split("\n\n")[0])
    defaults = RunConfig()
    parser.add_argument("--out", type=Path, required=True, help="output folder (resumed if it exists)")
    parser.add_argument("--motion-dir", type=Path, default=None,
                        help="BVH / AMASS-style npz corpus, e.g. ../shared/motion (none: procedural motion only)")
    parser.add_argument("--body-model", type=Path, default=None, help="body model (default: bundled)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="retargeted-motion cache")
    parser.add_argument("--clips", type=int, default=defaults.clips)
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="clip length")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--split", default=defaults.split, choices=("train", "test", "unseen"),
                        help="only motions of this split (generate.split_of)")
    parser.add_argument("--look", default=defaults.look, choices=LOOKS,
                        help="random looks, or render_test_clip.py's plain look with the same cameras")
    parser.add_argument("--size", default=None, help="WIDTHxHEIGHT for every clip (default: drawn per clip)")
    parser.add_argument("--keep-video", action="store_true", help="keep each clip's mp4 in OUT/videos/")
    parser.add_argument("--archive", type=Path, default=None,
                        help="also save each clip's landmarks to this detection archive (detection_archive.py)")
    parser.add_argument("--tumble-share", type=float, default=defaults.tumble_share,
                        help="share of clips turned head over heels (motion_mix.tumbled), resting on the floor")
    parser.add_argument("--splice-share", type=float, default=defaults.splice_share,
                        help="share of mocap clips with the upper body of another upright trial (motion_mix.spliced)")
    parser.add_argument("--face-share", type=float, default=defaults.face_share,
                        help="share of random looks with painted eyes, brows and lips (face_paint.py)")
    parser.add_argument("--limits-share", type=float, default=defaults.limits_share,
                        help="share of clips moving over the full joint limits (procedural 'limits' motion)")
    parser.add_argument("--crouch-share", type=float, default=defaults.crouch_share,
                        help="share of clips in low postures: crouching, kneeling, sitting back on the heels, "
                             "lunges (procedural 'crouch' motion; a plan drawn for --limits-share keeps that)")
    parser.add_argument("--acrobatic-share", type=float, default=defaults.acrobatic_share,
                        help="share of clips whose motion is a mocap trial that leaves upright: flips, breakdance, "
                             "floor work (a plan drawn for a procedural share, --limits- to --floor-share, keeps that)")
    parser.add_argument("--exercise-share", type=float, default=defaults.exercise_share,
                        help="share of clips doing a fitness drill: jumping jacks, punches, kicks, presses, stretches "
                             "(procedural 'exercise' motion; a plan drawn for --limits-share or --crouch-share keeps "
                             "that)")
    parser.add_argument("--seated-share", type=float, default=defaults.seated_share,
                        help="share of clips on a chair the render does not show: sitting, crossing the legs, sitting "
                             "down, standing up (procedural 'seated' motion; a plan drawn for another procedural "
                             "share keeps that)")
    parser.add_argument("--floor-share", type=float, default=defaults.floor_share,
                        help="share of clips on the floor: lying prone, supine or on the side, rolling over, "
                             "crawling, push-ups, sitting and kneeling (procedural 'floor' motion; a plan drawn for "
                             "another procedural share keeps that)")
    args = parser.parse_args(argv)
    shares = {k: getattr(args, k) for k in OPTIONAL_SHARES}
    shares_ok = all(0.0 <= share <= 1.0 for share in shares.values())
    if args.clips < 1 or args.seconds * FPS < 16 or not shares_ok:
        parser.error("--clips must be >= 1, --seconds long enough for 16 frames, and every --*-share "
                     "within 0-1")
    size = tuple(int(v) for v in args.size.lower().split("x")) if args.size else None
    config = RunConfig(clips=args.clips, seconds=args.seconds, seed=args.seed, split=args.split, look=args.look,
                       size=size, keep_video=args.keep_video, **shares)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    summary = run(args.out, args.motion_dir, config, args.body_model, args.cache_dir, log, args.archive)
    print(f"{summary['clips']} clips ({summary['nobody_clips']} with nobody found, in {NOBODY_DIR}/), "
          f"{summary['frames']} frames ({summary['valid_frames']} with the person found) in {args.out}; "
          f"render {summary['render_s_per_frame']} s/frame, detect {summary['detect_s_per_frame']} s/frame")
    return 0


if __name__ == "__main__":
    sys.exit(main())
