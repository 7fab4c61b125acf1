"""Generate synthetic ARTS training clips: motion × body shapes × cameras × detector noise.

    python -m scripts.synth.generate --out DIR --motion-dir ../shared/motion [--procedural 480] [--variants 4] ...

Motion comes from every BVH / AMASS-style npz under --motion-dir (retargeted once, cached under
.cache/motion/) and from procedural motion. Each motion is cut into clips of --clip-frames frames at 30 fps;
each clip is rendered --variants times with its own shape β ~ N(0, 1) clipped to ±2.5, camera and noise.
Whole motion groups are held out for testing (all of CMU subject 007, every procedural seed ending in 9,
one in ten dance, martial-arts and exp-map trials), so no trial is split across train and test; whole kinds
of motion (UNSEEN_KINDS) never train and form the 'unseen' split. Output: one `.npz` per clip (format in
README.md) and an `index.json`. Deterministic given --seed.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bridge.body_model import BodyModelArrays, load_body_model_arrays, shaped_rest
from bridge.geometry import rotations
from bridge.skeleton import NUM_BETAS

from .camera import sample_camera
from .clip_file import CLIP_FORMAT, write_clip
from .detector_noise import NoiseConfig, apply_detector_noise
from .landmarks import landmark_vertex_ids, pose_body, self_visibility, torso_away_score, world_landmarks
from .motion import MotionClip, fit_to_body
from .motion_bundle import read_bundle
from .motion_mix import random_speed, retimed, spliced, tumbled, upright_fraction
from .procedural import MOTION_KINDS, procedural_motion
from .retarget import DEFAULT_CACHE_DIR, RetargetError, find_motion_files, load_retargeted

FPS = 30.0
BETA_LIMIT = 2.5
#: First seed of the "limits" procedural motions: apart from the kind-rotating seeds, same test rule (s % 10 == 9).
LIMITS_SEED0 = 100_000
#: First seed of the "crouch" procedural motions (low postures), same test rule.
CROUCH_SEED0 = 200_000
#: First seed of the "exercise" procedural motions (fitness drills), same test rule.
EXERCISE_SEED0 = 300_000
#: First seed of the "seated" procedural motions (sitting on a chair, sitting down, standing up), same test rule.
SEATED_SEED0 = 400_000
#: First seed of the "floor" procedural motions (lying, rolling over, crawling, push-ups), same test rule.
FLOOR_SEED0 = 500_000
#: Procedural kinds drawn from their own seed streams, each asked for by the GenerateConfig field of its name.
SEEDED_KINDS = {"limits": LIMITS_SEED0, "exercise": EXERCISE_SEED0, "seated": SEATED_SEED0, "floor": FLOOR_SEED0}
#: Motion groups held out whole for testing.
TEST_GROUPS: frozenset[str] = frozenset({"cmu:007"})
PROCEDURAL_TEST_SEED_MOD = (10, 9)  # procedural seeds s with s % 10 == 9 are test clips
#: Families whose trials are each their own group: a trial goes to the test split when crc32(group) % 10 is 0.
TRIAL_HASHED_FAMILIES = ("dance_martial:", "expmap:")
#: Whole kinds of motion kept out of training in every form, to measure generalisation to motion unlike the
#: training set ('unseen' split). Each family keeps related kinds in training: Indian dance out, salsa in;
#: flips and cartwheels out (CMU subjects 88 and 90), runs, jumps and the other acrobatics in; directing
#: traffic and window washing out, basketball signals and procedural reaches in; procedural waves and squats
#: out, the other procedural kinds in.
UNSEEN_KINDS: frozenset[str] = frozenset({
    "dance_martial:indian", "cmu:088", "cmu:090", "expmap:directing_traffic", "expmap:washwindow",
    "procedural:wave", "procedural:squat"})


def motion_kind(source: str) -> str:
    """The kind of motion a source belongs to: 'procedural:walk', 'dance_martial:salsa', 'expmap:jumping',
    or the CMU subject ('cmu:088') for CMU trials, whose subjects each recorded one kind of activity."""
    family, _, rest = source.partition(":")
    if family == "procedural":
        return f"procedural:{rest.split(':')[0]}"
    if family == "dance_martial":
        return f"dance_martial:{rest.split('/')[0]}"
    if family == "expmap":  # expmap:<train|test>/<action>/<stem>
        parts = rest.split("/")
        return f"expmap:{parts[1] if len(parts) > 2 else parts[0]}"
    if family == "cmu":
        return f"cmu:{rest.split('_')[0]}"
    return family


def split_of(source: str, group: str) -> str:
    """'train', 'test' (held-out trials of kinds that also train) or 'unseen' (a kind that never trains).

    A whole group (mocap subject, single trial or procedural seed) always lands in one split."""
    if motion_kind(source) in UNSEEN_KINDS:
        return "unseen"
    if group in TEST_GROUPS:
        return "test"
    if group.startswith("procedural:"):
        modulus, remainder = PROCEDURAL_TEST_SEED_MOD
        return "test" if int(group.split(":")[1]) % modulus == remainder else "train"
    if group.startswith(TRIAL_HASHED_FAMILIES):
        return "test" if zlib.crc32(group.encode()) % 10 == 0 else "train"
    return "train"


@dataclass
class GenerateConfig:
    """What to generate; every field is a CLI option."""

    clip_frames: int = 120  # frames per clip (4 s at 30 fps)
    min_clip_frames: int = 48  # a motion's tail shorter than this (or than clip_frames) is dropped
    variants: int = 4  # shape/camera/noise draws per mocap segment (procedural motions are drawn once)
    procedural: int = 480  # procedural clips (kinds in turn, seeds 0..n-1)
    limits: int = 0  # procedural clips over the full joint limits (seeds LIMITS_SEED0..)
    exercise: int = 0  # procedural fitness-drill clips (seeds EXERCISE_SEED0..)
    seated: int = 0  # procedural clips sitting on a chair, sitting down and standing up (seeds SEATED_SEED0..)
    floor: int = 0  # procedural clips lying, rolling over, crawling, on the floor (seeds FLOOR_SEED0..)
    speed_copies: int = 0  # retimed copies of each mocap motion, speed log-uniform in 0.5-2x
    splices: int = 0  # training motions made of one trial's legs and another's upper body
    tumbles: int = 0  # training motions turned head over heels (motion_mix.tumbled)
    seed: int = 0
    noise: NoiseConfig = field(default_factory=NoiseConfig)


def _rng(seed: int, clip_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(clip_id.encode())])


def segments(clip: MotionClip, clip_frames: int, min_frames: int) -> list[tuple[int, MotionClip]]:
    """(start frame, piece) pieces of at most `clip_frames` frames; a tail shorter than `min_frames` is
    dropped."""
    pieces = []
    for start in range(0, clip.num_frames, clip_frames):
        stop = min(start + clip_frames, clip.num_frames)
        if stop - start >= min_frames:
            pieces.append((start, clip.slice(start, stop)))
    return pieces


def render_clip(motion: MotionClip, arrays: BodyModelArrays, vertex_ids: np.ndarray,
                rng: np.random.Generator, noise: NoiseConfig) -> dict[str, np.ndarray]:
    """One synthetic clip: draw β, fit the motion (made for the mean body) to it and pose it, draw a camera,
    project, add detector noise.

    Returns the clip file's arrays (camera space; see README.md) except the naming fields."""
    betas = np.clip(rng.standard_normal(NUM_BETAS), -BETA_LIMIT, BETA_LIMIT)
    motion = fit_to_body(motion, shaped_rest(arrays, None)[1], shaped_rest(arrays, betas)[1])
    body = pose_body(arrays, betas, motion.pose_aa, motion.root_pos_m, vertex_ids)
    feet = body.landmarks[:, 27:33, 1].min(axis=1)
    ground_y = float(np.percentile(feet, 5)) - 0.01
    camera = sample_camera(rng, body.joints[:, 0], ground_y, body.height_m)

    joints_cam = camera.world_to_camera(body.joints)
    landmarks_cam = camera.world_to_camera(body.landmarks)
    root_cam = camera.rotation @ body.global_rotmats[:, 0]
    pose_aa = np.asarray(motion.pose_aa, dtype=np.float64).copy()
    pose_aa[:, 0] = rotations.matrix_to_axis_angle(root_cam)
    trans_cam = joints_cam[:, 0] - body.rest_joints[0]

    clean_px = camera.project(landmarks_cam)
    visibility = self_visibility(landmarks_cam, joints_cam, camera.rotation @ body.global_rotmats[:, 15],
                                 body.height_m / 1.7)
    world_clean = world_landmarks(landmarks_cam)
    detections = apply_detector_noise(clean_px, world_clean, landmarks_cam[..., 2], visibility,
                                      torso_away_score(root_cam, joints_cam[:, 0]), camera.image_size,
                                      motion.fps, rng, noise)
    return {
        "pose_aa": pose_aa.astype(np.float32),
        "betas": betas.astype(np.float32),
        "trans_m": trans_cam.astype(np.float32),
        "joints_3d": joints_cam.astype(np.float32),
        "mp_image": detections.image,
        "mp_image_clean": clean_px.astype(np.float32),
        "mp_world": detections.world,
        "mp_world_clean": world_clean.astype(np.float32),
        "valid": detections.valid,
        "image_size": np.array(camera.image_size, dtype=np.int64),
        "focal_px": np.array(camera.focal_px, dtype=np.float32),
        "fps": np.array(motion.fps, dtype=np.float32),
    }


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def load_motions(motion_dir: Path | None, rest_joints: np.ndarray, cache_dir: Path | None,
                 log=print) -> list[MotionClip]:
    """Every motion file under `motion_dir`, retargeted at 30 fps (files that cannot be read are reported
    and skipped, so one odd file does not stop a run)."""
    if motion_dir is None:
        return []
    clips = []
    for path in find_motion_files(motion_dir):
        try:
            clips.append(load_retargeted(path, rest_joints, cache_dir, FPS))
        except (RetargetError, ValueError) as exc:
            log(f"skipping {path}: {exc}")
    return clips


def _random_piece(motion: MotionClip, frames: int, rng: np.random.Generator) -> MotionClip:
    """`frames` consecutive frames of `motion` from a random start (the motion is at least that long)."""
    start = int(rng.integers(0, motion.num_frames - frames + 1))
    return motion.slice(start, start + frames)


def derived_motions(mocap: list[MotionClip], config: GenerateConfig) -> list[MotionClip]:
    """Speed-changed copies of every mocap motion (same group, so same split), splices of training
    trials (legs of one, upper body of another, both mostly upright) and tumbled pieces of training trials,
    deterministic given config.seed."""
    out = []
    for motion in mocap:
        for k in range(config.speed_copies):
            out.append(retimed(motion, random_speed(_rng(config.seed, f"speed:{motion.source}:{k}")), FPS))
    pieces = [m for m in mocap if split_of(m.source, m.group) == "train" and m.num_frames >= config.clip_frames]
    donors = [m for m in pieces if upright_fraction(m) > 0.9]
    for i in range(config.splices if len(donors) >= 2 else 0):
        rng = _rng(config.seed, f"splice:{i}")
        a, b = (donors[j] for j in rng.choice(len(donors), 2, replace=False))
        legs_and_arms = [_random_piece(motion, config.clip_frames, rng) for motion in (a, b)]
        out.append(spliced(*legs_and_arms, f"splice:{i}:{a.source}+{b.source}", f"splice:{i}"))
    for i in range(config.tumbles if pieces else 0):
        rng = _rng(config.seed, f"tumble:{i}")
        motion = pieces[int(rng.integers(len(pieces)))]
        out.append(tumbled(_random_piece(motion, config.clip_frames, rng), rng,
                           f"tumble:{i}:{motion.source}", f"tumble:{i}"))
    return out


def variants_of(motion: MotionClip, config: GenerateConfig) -> int:
    """Renders per segment: config.variants for recorded motion, one for procedural and derived motion."""
    derived = motion.source.startswith(("procedural:", "splice:", "tumble:")) or "~x" in motion.source
    return 1 if derived else config.variants


@dataclass
class _ClipJob:
    """Render and write one clip (a picklable callable for a process pool); returns its index entry."""

    out_dir: Path
    arrays: BodyModelArrays
    vertex_ids: np.ndarray
    config: GenerateConfig

    def __call__(self, task: tuple[MotionClip, int, int]) -> dict:
        """task: (the segment of a motion, its first frame in the motion, the variant)."""
        motion, start, variant = task
        split = split_of(motion.source, motion.group)
        clip_id = f"{motion.source}@{start}#{variant}"
        data = render_clip(motion, self.arrays, self.vertex_ids, _rng(self.config.seed, clip_id), self.config.noise)
        data.update(format=np.array(CLIP_FORMAT), clip_id=np.array(clip_id), source=np.array(motion.source),
                    split=np.array(split), body_model_id=np.array(self.arrays.model_id))
        name = f"{split}-{_safe_name(clip_id)}.npz"
        write_clip(self.out_dir / name, data)
        return {"file": name, "clip_id": clip_id, "source": motion.source, "split": split,
                "frames": motion.num_frames, "valid_frames": int(data["valid"].sum())}


def generate(out_dir: Path, motion_dir: Path | None, config: GenerateConfig, body_model: Path | None = None,
             cache_dir: Path | None = DEFAULT_CACHE_DIR, log=print, motion_bundle: Path | None = None,
             workers: int = 1) -> dict:
    """Generate the dataset into `out_dir`; returns the summary also written to index.json.

    Motion comes from `motion_dir` (through the retargeting cache) or from a `motion_bundle`
    (motion_bundle.py). `workers` > 1 renders clips in that many processes; the files are the same."""
    started = time.perf_counter()
    arrays = load_body_model_arrays(body_model)
    vertex_ids = landmark_vertex_ids(arrays)
    rest_joints = shaped_rest(arrays, None)[1]
    mocap = (read_bundle(motion_bundle, arrays.model_id) if motion_bundle is not None
             else load_motions(motion_dir, rest_joints, cache_dir, log))
    motions = mocap + derived_motions(mocap, config)
    motions += [procedural_motion(MOTION_KINDS[i % len(MOTION_KINDS)], i, rest_joints, config.clip_frames, FPS)
                for i in range(config.procedural)]
    motions += [procedural_motion(kind, seed0 + i, rest_joints, config.clip_frames, FPS)
                for kind, seed0 in SEEDED_KINDS.items() for i in range(getattr(config, kind))]
    prepared = time.perf_counter()
    log(f"{len(motions)} motions ready in {prepared - started:.1f} s")

    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = [(piece, start, variant)
             for motion in motions
             for start, piece in segments(motion, config.clip_frames, min(config.min_clip_frames, config.clip_frames))
             for variant in range(variants_of(motion, config))]
    job = _ClipJob(out_dir, arrays, vertex_ids, config)
    if workers > 1:
        # each chunk of tasks carries its 120-frame segments and the job (body model arrays, a few MB)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            index = pool.map(job, tasks, chunksize=max(1, len(tasks) // (workers * 16)))
    else:
        index = [job(task) for task in tasks]
    elapsed = time.perf_counter() - started
    render_s = time.perf_counter() - prepared
    summary = {
        "format": CLIP_FORMAT, "body_model_id": arrays.model_id, "config": asdict(config),
        "clips": len(index), "frames": int(sum(c["frames"] for c in index)),
        "train_clips": sum(c["split"] == "train" for c in index),
        "test_clips": sum(c["split"] == "test" for c in index),
        "unseen_clips": sum(c["split"] == "unseen" for c in index),
        "seconds": round(elapsed, 2), "render_clips_per_s": round(len(index) / max(render_s, 1e-9), 2),
        "clips_index": index,
    }
    (out_dir / "index.json").write_text(json.dumps(summary, indent=1))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.synth.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder for the clip files")
    parser.add_argument("--motion-dir", type=Path, default=None,
                        help="folder of BVH / AMASS-style npz files (searched recursively), e.g. ../shared/motion")
    parser.add_argument("--motion-bundle", type=Path, default=None,
                        help="read the motion from a bundle (python -m scripts.synth.motion_bundle) instead")
    parser.add_argument("--body-model", type=Path, default=None, help="body model (.npz or SMPL pkl); default: bundled")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="retargeted-motion cache")
    parser.add_argument("--workers", type=int, default=1, help="processes rendering clips (same files)")
    defaults = GenerateConfig()
    parser.add_argument("--clip-frames", type=int, default=defaults.clip_frames)
    parser.add_argument("--variants", type=int, default=defaults.variants, help="renders per mocap segment")
    parser.add_argument("--procedural", type=int, default=defaults.procedural, help="procedural clips")
    parser.add_argument("--limits", type=int, default=defaults.limits,
                        help="procedural clips moving every joint over its whole range")
    parser.add_argument("--exercise", type=int, default=defaults.exercise,
                        help="procedural clips of fitness drills (jumping jacks, punches, kicks, presses, stretches)")
    parser.add_argument("--seated", type=int, default=defaults.seated,
                        help="procedural clips on a chair: sitting, crossing the legs, sitting down, standing up")
    parser.add_argument("--floor", type=int, default=defaults.floor,
                        help="procedural clips on the floor: lying, rolling over, crawling, push-ups, kneeling")
    parser.add_argument("--speed-copies", type=int, default=defaults.speed_copies,
                        help="retimed copies (0.5-2x) of each mocap motion")
    parser.add_argument("--splices", type=int, default=defaults.splices,
                        help="training clips splicing one trial's legs with another's upper body")
    parser.add_argument("--tumbles", type=int, default=defaults.tumbles,
                        help="training clips of a trial's piece turned head over heels (flip, cartwheel, lying)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    seeded = [getattr(args, kind) for kind in SEEDED_KINDS]
    if args.clip_frames < 16 or args.variants < 1 or min(args.procedural, *seeded, args.speed_copies, args.splices,
                                                          args.tumbles) < 0:
        parser.error("--clip-frames must be >= 16, --variants >= 1, the counts >= 0")
    if args.motion_dir is not None and args.motion_bundle is not None:
        parser.error("give --motion-dir or --motion-bundle, not both")
    if args.motion_dir is None and args.motion_bundle is None and args.procedural + sum(seeded) == 0:
        parser.error("nothing to generate: give --motion-dir (or --motion-bundle) and/or procedural clips "
                     "(--procedural, --limits, --exercise, --seated, --floor)")
    config = GenerateConfig(clip_frames=args.clip_frames, variants=args.variants, procedural=args.procedural,
                            **{kind: getattr(args, kind) for kind in SEEDED_KINDS},
                            speed_copies=args.speed_copies, splices=args.splices,
                            tumbles=args.tumbles, seed=args.seed)
    summary = generate(args.out, args.motion_dir, config, args.body_model, args.cache_dir,
                       motion_bundle=args.motion_bundle, workers=max(1, args.workers))
    print(f"wrote {summary['clips']} clips ({summary['train_clips']} train, {summary['test_clips']} test, "
          f"{summary['unseen_clips']} unseen kinds), "
          f"{summary['frames']} frames, in {summary['seconds']} s ({summary['render_clips_per_s']} clips/s "
          f"rendering) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
