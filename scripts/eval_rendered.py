"""End-to-end accuracy on rendered held-out motion, and how far the synthetic landmarks sit from MediaPipe's.

Why: ARTS is trained only on synthetic landmarks (scripts/synth: points of the posed free body model plus a
detector-noise model), and scripts/eval_arts.py scores it on held-out *synthetic* landmarks. This
script measures what a user gets: the real MediaPipe detector on rendered video, through the whole bridge
(`bridge.pipeline.process_video`), against exact ground truth; and it measures the sim-to-real gap of the
training data: where MediaPipe puts each landmark on those frames versus where the synthetic model puts it.

How:
1. For each set (--sets): `rendered_heldout`, held-out trials of kinds that also train (generate.py's 'test'
   split: CMU 007, held-out dance, martial-arts and exp-map trials, procedural seeds s % 10 == 9), and
   `rendered_unseen_kinds`, kinds of motion that never train ('unseen': UNSEEN_KINDS), pick --clips motions
   deterministic from --seed: half mocap, spread over the motion kinds (retargeted through the .cache/motion
   cache as generate.py does), half procedural (with generate.py's pairing of seed and kind). Each gets a
   body β ~ N(0, 0.5²) and a fixed camera 3-5 m from the person's mean position (pushed back for a walk,
   which travels up to 5 m, so the person never comes nearer than 3 m and their feet stay in view),
   0.8-1.6 m high, within ±40° of the way the body faces.
2. Render each with Blender (scripts/render_test_clip.py, Workbench, H.264) into --out; a clip whose
   mp4 and npz already exist is reused (names carry a hash of everything that defines the clip), and so is
   a committed render (scripts/eval_renders/, written by --store-renders) whose ground truth, rebuilt from
   the corpus without Blender, matches the first and last frame recorded with it.
3. Run process_video with each --checkpoint and score, beside MediaPipe's own world landmarks read as the
   skeleton, the frames where the bridge and MediaPipe both found the person, in millimetres
   (bridge.metrics, eval_arts.py's definitions): MPJPE / PA-MPJPE on the 14-joint LSP subset (aligned on
   the hips' midpoint) and all 24 joints (pelvis-aligned), MPJPE-14's depth and image-plane parts
   (Depth-14, Plane-14: mean |dz| and |(dx, dy)| of the same errors; Order %: of the limb bones, upper arms
   to shins, that clearly reach towards or away from the camera, the share answered the other way round),
   the part that the whole body's orientation holds (Turned-14: MPJPE-14 after turning each frame's
   prediction about the hips to fit best; Turn: that turn's angle, deg; Slow-turned-14: the same with one
   turn fitted over each second of consecutive frames, so Turned-14 to Slow-turned-14 is the part that
   changes within a second and Slow-turned-14 to MPJPE-14 the part held longer; Flip %: the share of frames
   turned more than 90 degrees, the body facing the wrong way, which MediaPipe's world skeleton does for
   runs of frames and the network can copy), MPVPE (free body model meshes, pelvis-aligned), Accel (the
   hip-aligned LSP joints, over runs of consecutive scored frames), the root (pelvis) position error in
   camera space and its depth bias (m), and the camera-space root orientation error (deg). Means over clips
   are frame-weighted (Order % weighted by its bones). MediaPipe runs once per clip; later checkpoints
   reuse its landmarks.
4. Landmark calibration: the synthetic model's noise-free landmarks for the same frames
   (scripts/synth/landmarks.py), projected with the render's camera, minus MediaPipe's image landmarks
   (confidence >= --min-confidence): per landmark group, mean distance in px and in % of the person's 2D
   torso length (hip midpoint to shoulder midpoint), and the signed mean offset in a body-aligned frame:
   `up` (towards the shoulders), `out` (away from the body's midline, sides mirrored; nose: towards the
   person's left) and `limb` (along the parent landmark -> landmark direction, e.g. elbow -> wrist). The same
   for MediaPipe's world landmarks against the synthetic ones (both re-centred on the hip midpoint), in mm,
   with `fwd` (the direction the chest faces), plus the ratio of MediaPipe's 3D torso length to the truth's.
   Positive offsets mean MediaPipe's landmark lies further that way than the synthetic one.

    python scripts/eval_rendered.py [--clips 6] [--sets rendered_heldout,rendered_unseen_kinds] [--seconds 4] \
        [--size 640x480] [--seed 0] [--checkpoint [NAME=]PATH ...] [--flip on|off|both] [--smoothing none] \
        [--window-strides 1,2,4] [--limb-reaim 0.2,0] [--per-clip] [--json results.json] \
        [--model-card addon_manifest/models/arts_default.json]
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge import camera, metrics, tracking  # noqa: E402
from bridge.geometry import rotations  # noqa: E402
from bridge.parallel_tracking import track_person_parallel  # noqa: E402
from bridge.limb_reaim import DEFAULT_STRENGTH as LIMB_REAIM_STRENGTH  # noqa: E402
from bridge.windows import DEFAULT_WINDOW_STRIDE  # noqa: E402
from bridge.keypoints import (MEDIAPIPE_LIMB_PARENT, MEDIAPIPE_SIDE, mediapipe_body_frame_2d,  # noqa: E402
                             mediapipe_limb_directions, mediapipe_world_to_smpl_joints)
from bridge.models.tik import twist_mask  # noqa: E402
from scripts.synth.detection_archive import truth_check, truth_matches  # noqa: E402
from scripts.synth.generate import FPS, motion_kind, split_of  # noqa: E402
from scripts.render_test_clip import camera_distance, grounded  # noqa: E402
from scripts.synth.motion import MotionClip  # noqa: E402
from scripts.synth.procedural import MOTION_KINDS  # noqa: E402
from scripts.synth.retarget import DEFAULT_CACHE_DIR, clip_identity, find_motion_files  # noqa: E402

MM = 1000.0
DEFAULT_OUT = REPO / ".cache" / "eval_rendered"
#: The evaluation sets' videos, committed (renders may be, their motion may not): a machine without the
#: renders rebuilds each clip's ground truth from the corpus in a second instead of rendering it in a minute.
STORED_RENDERS = REPO / "scripts" / "eval_renders"
STORED_FORMAT = "arts-eval-renders/1"
STORED_NOTE = ("Blender renders of eval_rendered.py's clips (free body model, CMU motion: see the model card's "
               "credit). truth_check: ground-truth joints (m, camera axes) of each clip's first and last frame; a "
               "render is reused only when its rebuilt ground truth matches them within 1 mm.")
DEFAULT_MOTION_DIR = REPO.parent / "shared" / "motion"
#: generate.py's default number of procedural clips: held-out seeds are drawn below it (9, 19, ..., 479).
PROCEDURAL_SEEDS = 480
DISTANCE_RANGE_M = (3.0, 5.0)
CAMERA_HEIGHT_RANGE_M = (0.8, 1.6)
AZIMUTH_RANGE_DEG = 40.0
BETA_SCALE = 0.5
#: Part of every render's name: bump it when how a clip is made changes, so old renders are not reused.
RENDER_VERSION = 2
#: No pelvis position comes nearer the camera than this (m): nearer, a 55° camera cuts off the feet.
#: MediaPipe landmarks with visibility x presence below this are left out of the calibration.
MIN_CONFIDENCE = 0.5
#: A frame's 2D `out` component needs the body's width to show: |left - right| >= this x torso length.
MIN_WIDTH_FOR_SIDES = 0.2

LANDMARK_GROUPS: dict[str, tuple[int, ...]] = {
    "nose": (0,), "eyes": (1, 2, 3, 4, 5, 6), "ears": (7, 8), "mouth": (9, 10), "shoulders": (11, 12),
    "elbows": (13, 14), "wrists": (15, 16), "hands": (17, 18, 19, 20, 21, 22), "hips": (23, 24),
    "knees": (25, 26), "ankles": (27, 28), "heels": (29, 30), "toes": (31, 32),
}
EVALUATION_DEFINITIONS = (
    "Rendered with Blender, detected by the real MediaPipe through the whole bridge (smoothing none); frames "
    "where the bridge and MediaPipe both found the person. MPJPE-14 and PA-MPJPE-14: 14 LSP joints of the SMPL "
    "skeleton after aligning the hips' midpoint (PA: per-frame similarity Procrustes), mm. Accel: mean norm of "
    "the second-difference error of those hip-aligned joints over runs of consecutive frames, mm/frame^2 at "
    "30 fps. mediapipe_world: MediaPipe's world landmarks read as the skeleton, same frames and joints. "
    "Means are frame-weighted over clips.")
#: A frame whose whole body is turned more than this from the truth faces the wrong way (front for back).
FLIP_RAD = 0.5 * np.pi
#: Slow-turned-14 fits one whole-body turn over the frames within this many of each frame (1 s at 30 fps).
SLOW_TURN_HALF_FRAMES = 15
POSE_COLUMNS = ("Det %", "MPJPE-14", "Depth-14", "Plane-14", "Order %", "Turned-14", "Slow-turned-14", "Turn (deg)",
                "Flip %", "PA-MPJPE-14", "MPJPE-24", "PA-MPJPE-24", "MPVPE", "Accel", "Root (m)", "Depth bias (m)",
                "Root rot (deg)", "Rot (deg)", "Twist (deg)")


# ---------------------------------------------------------------------------------------------------------
# Clip selection (pure).

@dataclass
class ClipSpec:
    """One evaluation clip: which held-out motion, which body, which camera."""

    source: str  # "cmu:007_03" or "procedural:walk:19"
    group: str  # the held-out motion group ("cmu:007", "procedural:19")
    motion_file: str | None  # the BVH / npz for mocap, None for procedural motion
    start_fraction: float  # where a mocap segment starts, as a fraction of the free room in the trial
    frames: int  # at most this many (a shorter trial is used whole)
    betas: list[float]
    distance_m: float  # camera to the person's mean pelvis position, horizontally (see camera_distance)
    camera_height_m: float
    azimuth_deg: float  # from the way the body faces at the middle of the clip
    size: tuple[int, int]

    @property
    def name(self) -> str:
        """File stem: the source plus a hash of everything that defines the render (not where the corpus is)."""
        defining = {**asdict(self), "motion_file": None, "render_version": RENDER_VERSION}
        digest = hashlib.sha1(json.dumps(defining, sort_keys=True).encode()).hexdigest()[:8]
        return "".join(c if c.isalnum() or c in "-_" else "_" for c in self.source) + "-" + digest


#: The evaluation sets: the split of the synthetic data each draws its motions from.
EVAL_SETS: dict[str, str] = {"rendered_heldout": "test", "rendered_unseen_kinds": "unseen"}
#: Row name of the baseline: MediaPipe's own world landmarks read as the skeleton, on the same frames.
MEDIAPIPE_ROW = "MediaPipe world landmarks"


def motion_files_of_split(files: list[Path], split: str) -> list[Path]:
    """The motion files whose trials generate.py puts in `split` ('test' or 'unseen')."""
    return [p for p in files if split_of(*clip_identity(Path(p))) == split]


def procedural_seeds_of_split(split: str, count: int = PROCEDURAL_SEEDS) -> list[int]:
    """Procedural seeds below `count` (with generate.py's pairing of seed and kind) in `split`."""
    return [s for s in range(count)
            if split_of(f"procedural:{MOTION_KINDS[s % len(MOTION_KINDS)]}:{s}", f"procedural:{s}") == split]


def _stratified(files: list[Path], count: int, rng: np.random.Generator) -> list[Path]:
    """`count` files spread over motion kinds: kinds in turn (shuffled), a random unused file of each."""
    by_kind: dict[str, list[Path]] = {}
    for path in files:
        by_kind.setdefault(motion_kind(clip_identity(Path(path))[0]), []).append(path)
    pools = [list(rng.permutation(len(v))) for v in by_kind.values()]
    kinds, chosen = list(by_kind), []
    order = [int(i) for i in rng.permutation(len(kinds))]
    while len(chosen) < count:
        for k in order:
            if pools[k] and len(chosen) < count:
                chosen.append(by_kind[kinds[k]][int(pools[k].pop())])
    return sorted(chosen)


def select_clips(num_clips: int, seed: int, motion_files: list[Path], frames: int,
                 size: tuple[int, int], split: str = "test") -> list[ClipSpec]:
    """Deterministic clips of one split: half from its mocap trials (when any, spread over motion kinds),
    the rest procedural."""
    rng = np.random.default_rng(seed)
    files = motion_files_of_split(motion_files, split)
    num_mocap = min(num_clips // 2, len(files)) if files else 0
    chosen_files = _stratified(files, num_mocap, rng) if num_mocap else []
    seeds = procedural_seeds_of_split(split)
    chosen_seeds = sorted(int(s) for s in rng.choice(seeds, num_clips - num_mocap, replace=False))
    specs = []
    for path in chosen_files:
        source, group = clip_identity(Path(path))
        specs.append(_spec(rng, source, group, str(path), frames, size))
    for s in chosen_seeds:
        kind = MOTION_KINDS[s % len(MOTION_KINDS)]  # generate.py's pairing of seed and kind
        specs.append(_spec(rng, f"procedural:{kind}:{s}", f"procedural:{s}", None, frames, size))
    return specs


def _spec(rng: np.random.Generator, source: str, group: str, motion_file: str | None, frames: int,
          size: tuple[int, int]) -> ClipSpec:
    return ClipSpec(source=source, group=group, motion_file=motion_file, start_fraction=float(rng.random()),
                    frames=int(frames), betas=[round(float(b), 6) for b in rng.normal(0.0, BETA_SCALE, 10)],
                    distance_m=round(float(rng.uniform(*DISTANCE_RANGE_M)), 4),
                    camera_height_m=round(float(rng.uniform(*CAMERA_HEIGHT_RANGE_M)), 4),
                    azimuth_deg=round(float(rng.uniform(-AZIMUTH_RANGE_DEG, AZIMUTH_RANGE_DEG)), 3),
                    size=(int(size[0]), int(size[1])))


# ---------------------------------------------------------------------------------------------------------
# Motion and rendering.

def make_motion(spec: ClipSpec, body, cache_dir: Path | None = DEFAULT_CACHE_DIR) -> MotionClip:
    """The clip's motion on its body, standing on the floor (world y = 0)."""
    from bridge.body_model import shaped_rest
    from scripts.synth.procedural import procedural_motion
    from scripts.synth.retarget import load_retargeted

    betas = np.asarray(spec.betas)
    if spec.motion_file is None:
        kind, seed = spec.source.split(":")[1], int(spec.source.split(":")[2])
        motion = procedural_motion(kind, seed, np.asarray(shaped_rest(body, None)[1]), spec.frames, FPS)
    else:  # retargeted onto the mean body, as generate.py does (grounded fits both to this body)
        full = load_retargeted(Path(spec.motion_file), shaped_rest(body, None)[1], cache_dir, FPS)
        start = int(spec.start_fraction * max(0, full.num_frames - spec.frames))
        motion = full.slice(start, start + spec.frames)
    return grounded(motion, body, betas)


def render_spec(spec: ClipSpec, out_dir: Path, body, cache_dir: Path | None = DEFAULT_CACHE_DIR,
                stored: Path | None = STORED_RENDERS, log: Callable[[str], None] = print) -> tuple[Path, Path, str]:
    """(mp4, ground-truth npz, where it came from: 'cached', 'stored' or 'rendered') for the clip.

    A render already in `out_dir` is reused; else a committed one in `stored` whose ground truth rebuilds as
    it was recorded (the motion from the corpus, no Blender); else Blender renders it."""
    from scripts.render_test_clip import DEFAULT_FOV_DEG, ground_truth, render_clip, save_truth

    mp4, npz = out_dir / f"{spec.name}.mp4", out_dir / f"{spec.name}.npz"
    if mp4.is_file() and npz.is_file():
        return mp4, npz, "cached"
    motion = make_motion(spec, body, cache_dir)
    betas = np.asarray(spec.betas, np.float32)
    placement = {"size": spec.size, "fov_deg": DEFAULT_FOV_DEG,
                 "distance_m": camera_distance(motion.root_pos_m, spec.distance_m),
                 "camera_height_m": spec.camera_height_m, "azimuth_deg": spec.azimuth_deg}
    if stored is not None and (stored / f"{spec.name}.mp4").is_file():
        truth = ground_truth(body, motion, betas, **placement)
        recorded = stored_checks(stored).get(spec.name)
        if recorded is not None and truth_matches(truth["joints_3d"], recorded):
            shutil.copyfile(stored / f"{spec.name}.mp4", mp4)
            save_truth(npz, body, truth)
            return mp4, npz, "stored"
        log(f"{stored / spec.name}.mp4 no longer matches its motion (retargeting or the body model changed): "
            "rendering it again")
    render_clip(out_dir, spec.name, motion=motion, betas=betas, **placement)
    return mp4, npz, "rendered"


def stored_checks(stored: Path) -> dict[str, np.ndarray]:
    """{render name: its recorded truth check} of a committed-renders folder (empty when it has none)."""
    index = stored / "index.json"
    if not index.is_file():
        return {}
    content = json.loads(index.read_text())
    if content.get("format") != STORED_FORMAT:
        raise ValueError(f"{index}: format {content.get('format')!r}, expected {STORED_FORMAT!r}")
    return {name: np.asarray(check, np.float32) for name, check in content["truth_check"].items()}


def store_renders(names: list[str], out_dir: Path, stored: Path) -> None:
    """Copy these renders from `out_dir` into the committed-renders folder, with their truth checks."""
    stored.mkdir(parents=True, exist_ok=True)
    checks = {name: check.tolist() for name, check in stored_checks(stored).items()}
    for name in names:
        with np.load(out_dir / f"{name}.npz", allow_pickle=False) as data:
            checks[name] = np.round(truth_check(data["joints_3d"]), 6).tolist()
        shutil.copyfile(out_dir / f"{name}.mp4", stored / f"{name}.mp4")
    index = {"format": STORED_FORMAT, "note": STORED_NOTE, "truth_check": dict(sorted(checks.items()))}
    (stored / "index.json").write_text(json.dumps(index, indent=1) + "\n")


# ---------------------------------------------------------------------------------------------------------
# Running the bridge.

class TrackOnce:
    """Stands in for bridge.tracking.track_person in process_video and keeps what it found (by video and
    range): one MediaPipe pass per clip, whatever the number of checkpoints. Each run gets its own copy, which
    process_video then looks at again where needed (crop recovery, stuck tracking) in place, the same way
    every time; the last copy handed out, so processed, is what the network read, and its world landmarks (not
    in the results file) are kept for the calibration and MediaPipe's row. `workers` > 1 tracks in pieces side
    by side as the bridge does on that many threads (bridge/parallel_tracking.py); 1 is one pass, as in every
    published table. `seconds` adds up the time spent tracking, so that a model's bridge time does not include
    the pass that the first model of a clip happens to make for all of them."""

    def __init__(self, workers: int = 1) -> None:
        self.tracks: dict[tuple[str, int, int | None], tracking.TrackedClip] = {}
        self.handed: dict[str, tracking.TrackedClip] = {}
        self.workers = workers
        self.seconds = 0.0

    def __call__(self, info, start_frame: int = 0, end_frame: int | None = None, **kwargs) -> tracking.TrackedClip:
        key = (str(Path(info.path).resolve()), start_frame, end_frame)
        if key not in self.tracks:
            started = time.perf_counter()
            self.tracks[key] = track_person_parallel(info, start_frame, end_frame, workers=self.workers, **kwargs)
            self.seconds += time.perf_counter() - started
        self.handed[key[0]] = copy.deepcopy(self.tracks[key])
        return self.handed[key[0]]

    def of(self, video: Path) -> tracking.TrackedClip:
        """The track of this video as the last run read it."""
        return self.handed[str(video.resolve())]


class BridgeRun(NamedTuple):
    """One evaluated row: a checkpoint (None: the shipped one) and the bridge's inference options."""

    path: str | None
    flip_average: bool = True
    window_stride: int = DEFAULT_WINDOW_STRIDE
    limb_reaim: float = LIMB_REAIM_STRENGTH


def run_bridge(mp4: Path, run: BridgeRun, smoothing: str, track_person: TrackOnce, foot_lock: float = 1.0):
    """process_video on the clip (no output file) -> ClipResult."""
    from bridge.pipeline import ProcessOptions, process_video

    options = ProcessOptions(video=str(mp4), checkpoint=run.path, smoothing=smoothing, foot_lock=foot_lock,
                             flip_average=run.flip_average, window_stride=run.window_stride,
                             limb_reaim=run.limb_reaim)
    result, _ = process_video(options, track_person=track_person)
    return result


# ---------------------------------------------------------------------------------------------------------
# Pose metrics (pure).

def pose_scores(pred_joints: np.ndarray, gt_joints: np.ndarray, valid: np.ndarray,
                pred_vertices: np.ndarray | None = None, gt_vertices: np.ndarray | None = None,
                pred_root_rot: np.ndarray | None = None, gt_root_rot: np.ndarray | None = None
                ) -> dict[str, tuple[float, float]]:
    """One clip's metrics as {name: (value, weight)} over its valid frames (weights make means frame-weighted).

    pred_joints, gt_joints (F, 24, 3) camera space, metres; valid (F,) bool; vertices (V_frames, N, 3) for the
    valid frames only (pelvis-aligned inside); root rotations (F, 3, 3) camera space. Millimetres, except the
    root position (m), its depth bias (m), the rotation (deg) and the detection rate (%).
    """
    valid = np.asarray(valid, bool)
    frames, count = len(valid), int(valid.sum())
    scores: dict[str, tuple[float, float]] = {"Det %": (100.0 * count / max(frames, 1), frames)}
    if count == 0:
        return scores
    pred, gt = np.asarray(pred_joints, np.float64)[valid], np.asarray(gt_joints, np.float64)[valid]
    depth, plane = metrics.mpjpe14_axes(pred, gt)
    turn_aligned, turn = metrics.turn_aligned14(pred, gt)
    clear, wrong = metrics.depth_order_errors(pred, gt)
    if clear:
        scores["Order %"] = (100.0 * wrong / clear, clear)
    scores.update({
        "MPJPE-14": (MM * metrics.mpjpe14(pred, gt), count),
        "Depth-14": (MM * depth, count),
        "Plane-14": (MM * plane, count),
        "Turned-14": (MM * turn_aligned, count),
        "Turn (deg)": (float(np.degrees(turn.mean())), count),
        "Flip %": (100.0 * float((turn > FLIP_RAD).mean()), count),
        "PA-MPJPE-14": (MM * metrics.pa_mpjpe14(pred, gt), count),
        "MPJPE-24": (MM * metrics.mpjpe(pred, gt), count),
        "PA-MPJPE-24": (MM * metrics.pa_mpjpe(pred, gt), count),
        "Root (m)": (float(np.linalg.norm(pred[:, 0] - gt[:, 0], axis=-1).mean()), count),
        "Depth bias (m)": (float((pred[:, 0, 2] - gt[:, 0, 2]).mean()), count),
    })
    all_pred, all_gt = np.asarray(pred_joints, np.float64), np.asarray(gt_joints, np.float64)
    accel, slow = [], []
    for a, b in tracking.runs_of(valid):  # consecutive detected frames only; a run needs 3 for one acceleration
        p, g = all_pred[a:b], all_gt[a:b]
        slow.append((metrics.slow_turn_aligned14(p, g, SLOW_TURN_HALF_FRAMES), b - a))
        if b - a >= 3:
            accel.append((metrics.accel14(p, g), b - a - 2))
    values, weights = zip(*slow)
    scores["Slow-turned-14"] = (MM * float(np.average(values, weights=weights)), float(sum(weights)))
    if accel:
        values, weights = zip(*accel)
        scores["Accel"] = (MM * float(np.average(values, weights=weights)), float(sum(weights)))
    if pred_vertices is not None:
        scores["MPVPE"] = (MM * metrics.mpvpe(pred_vertices, gt_vertices, pred[:, 0], gt[:, 0]), count)
    if pred_root_rot is not None:
        angle = metrics.rotation_angle_error(np.asarray(pred_root_rot)[valid], np.asarray(gt_root_rot)[valid])
        scores["Root rot (deg)"] = (float(np.degrees(angle.mean())), count)
    return scores


def aggregate(rows: list[dict[str, tuple[float, float]]]) -> dict[str, float]:
    """Weighted mean of each metric over clips (a metric missing from a clip does not count there)."""
    names = [n for n in POSE_COLUMNS if any(n in r for r in rows)]
    names += sorted({n for r in rows for n in r} - set(names))
    out = {}
    for name in names:
        pairs = [r[name] for r in rows if name in r and r[name][1] > 0]
        out[name] = float(np.average([v for v, _ in pairs], weights=[w for _, w in pairs])) if pairs else math.nan
    return out


def table_rows(scores: dict[str, dict[str, dict[str, tuple[float, float]]]],
               per_clip: bool) -> dict[str, dict[str, float]]:
    """One row per model (frame-weighted over its clips), then, with per_clip, one per clip of that model."""
    rows = {}
    for model, clips in scores.items():
        rows[model] = aggregate(list(clips.values()))
        if per_clip:
            rows.update({f"  {model}: {clip}": aggregate([row]) for clip, row in clips.items()})
    return rows


def score_clip(result, truth: dict[str, np.ndarray], body, valid: np.ndarray | None = None
               ) -> dict[str, tuple[float, float]]:
    """pose_scores of a bridge result against the rendered clip's ground truth (meshes of the free body model),
    on the frames `valid` (default: those the bridge found the person in); 'Det %' stays the bridge's own."""
    from scripts.render_test_clip import skin_vertices

    detected = np.asarray(result.valid, bool)
    valid = detected if valid is None else np.asarray(valid, bool) & detected
    gt_pose = np.asarray(truth["pose_aa"], np.float64)
    pred_pose = np.asarray(result.pose_aa, np.float64)
    if len(pred_pose) != len(gt_pose):
        raise ValueError(f"the bridge returned {len(pred_pose)} frames for a {len(gt_pose)}-frame render")
    pred_vertices = gt_vertices = None
    if valid.any():
        pred_vertices, pred_posed = skin_vertices(body, np.asarray(result.betas), pred_pose[valid])
        gt_vertices, gt_posed = skin_vertices(body, np.asarray(truth["betas"]), gt_pose[valid])
        # skin_vertices puts the pelvis at the rest pelvis: align on its own pelvis joints.
        pred_vertices = pred_vertices - pred_posed[:, :1] + np.asarray(result.joints_3d, np.float64)[valid][:, :1]
        gt_vertices = gt_vertices - gt_posed[:, :1] + np.asarray(truth["joints_3d"], np.float64)[valid][:, :1]
    pred_rot, gt_rot = rotations.axis_angle_to_matrix(pred_pose), rotations.axis_angle_to_matrix(gt_pose)
    scores = pose_scores(result.joints_3d, truth["joints_3d"], valid, pred_vertices, gt_vertices,
                         pred_rot[:, 0], gt_rot[:, 0])
    scores["Det %"] = (100.0 * detected.mean(), len(detected))
    if valid.any():  # local rotations, as eval_arts.py: all non-root joints, and the twist of the free ones
        pred_rot, gt_rot = pred_rot[valid], gt_rot[valid]
        rot = metrics.rotation_angle_error(pred_rot[:, 1:], gt_rot[:, 1:])
        twist = metrics.twist_error(pred_rot, gt_rot, body.J_regressor @ body.v_template)
        twist = twist[:, twist_mask().numpy() > 0]
        count = int(valid.sum())
        scores["Rot (deg)"] = (float(np.degrees(rot.mean())), count)
        scores["Twist (deg)"] = (float(np.degrees(twist.mean())), count)
    return scores


# ---------------------------------------------------------------------------------------------------------
# Landmark calibration (pure).

def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def offsets_2d(detected_px: np.ndarray, clean_px: np.ndarray) -> dict[str, np.ndarray]:
    """Components (F, 33) of detected - clean image landmarks in the body's 2D frame.

    dist_px: |offset| px; dist, up, out, limb: in % of the 2D torso length (clean hip midpoint to shoulder
    midpoint). up: towards the shoulders; out: away from the midline (NaN where the body shows too little
    width to tell left from right, e.g. in profile); limb: along parent -> landmark.
    """
    det, clean = np.asarray(detected_px, np.float64), np.asarray(clean_px, np.float64)
    torso, up, lateral, width = mediapipe_body_frame_2d(clean)
    wide = width / torso >= MIN_WIDTH_FOR_SIDES
    d = det - clean
    pct = 100.0 / torso
    return {
        "dist_px": np.linalg.norm(d, axis=-1),
        "dist": np.linalg.norm(d, axis=-1) * pct,
        "up": np.einsum("fnd,fd->fn", d, up) * pct,
        "out": np.where(wide, np.einsum("fnd,fd->fn", d, lateral) * MEDIAPIPE_SIDE * pct, np.nan),
        "limb": _limb_component(d, clean) * pct,
    }


def offsets_3d(detected_world: np.ndarray, clean_world: np.ndarray) -> dict[str, np.ndarray]:
    """Components (F, 33) in mm of detected - clean world landmarks, each re-centred on its hip midpoint,
    in the body's frame: up, out, fwd (the way the chest faces), limb."""
    det, clean = _hip_centred(detected_world), _hip_centred(clean_world)
    torso = 0.5 * (clean[:, 11] + clean[:, 12])  # hips at the origin
    up = _unit(torso)
    across = clean[:, 11] + clean[:, 23] - clean[:, 12] - clean[:, 24]
    left = _unit(across - np.sum(across * up, -1, keepdims=True) * up)
    forward = np.cross(left, up)
    d = det - clean
    return {
        "dist_mm": MM * np.linalg.norm(d, axis=-1),
        "up_mm": MM * np.einsum("fnd,fd->fn", d, up),
        "out_mm": MM * np.einsum("fnd,fd->fn", d, left) * MEDIAPIPE_SIDE,
        "fwd_mm": MM * np.einsum("fnd,fd->fn", d, forward),
        "limb_mm": MM * _limb_component(d, clean),
    }


def _hip_centred(world: np.ndarray) -> np.ndarray:
    world = np.asarray(world, np.float64)
    return world - 0.5 * (world[:, 23:24] + world[:, 24:25])


def torso_scale(detected_world: np.ndarray, clean_world: np.ndarray) -> np.ndarray:
    """(F,) detected / clean 3D torso length (hip midpoint to shoulder midpoint): MediaPipe's metric scale."""
    length = lambda w: np.linalg.norm(0.5 * (w[:, 11] + w[:, 12]), axis=-1)  # noqa: E731
    return length(_hip_centred(detected_world)) / np.maximum(length(_hip_centred(clean_world)), 1e-9)


def _limb_component(d: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """(F, 33) component of offsets d along parent -> landmark (NaN for landmarks without a parent)."""
    out = np.einsum("fnd,fnd->fn", d, mediapipe_limb_directions(clean))
    has_parent = np.zeros(d.shape[1], bool)
    has_parent[list(MEDIAPIPE_LIMB_PARENT)] = True
    return np.where(has_parent[None], out, np.nan)


def summarise_offsets(components: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, dict[str, float]]:
    """Per landmark group: the number of observations and the mean of every component over the masked
    (F, 33) entries (NaN entries skipped), plus the median of the first (distance) component."""
    mask = np.asarray(mask, bool)
    first = next(iter(components))
    summary = {}
    for group, indices in LANDMARK_GROUPS.items():
        sel = np.zeros_like(mask)
        sel[:, list(indices)] = mask[:, list(indices)]
        row: dict[str, float] = {"n": int(sel.sum())}
        for name, values in components.items():
            picked = values[sel]
            picked = picked[np.isfinite(picked)]
            row[name] = float(picked.mean()) if picked.size else math.nan
        picked = components[first][sel]
        row["median_" + first] = float(np.median(picked)) if picked.size else math.nan
        summary[group] = row
    return summary


class Calibration:
    """MediaPipe's landmarks against the synthetic model's, gathered over clips (see offsets_2d / offsets_3d).

    Only detected frames and landmarks with MediaPipe confidence >= MIN_CONFIDENCE count."""

    def __init__(self) -> None:
        self.image: list[dict[str, np.ndarray]] = []
        self.world: list[dict[str, np.ndarray]] = []
        self.masks: list[np.ndarray] = []
        self.scales: list[np.ndarray] = []

    def add(self, detected: np.ndarray, detected_world: np.ndarray, valid: np.ndarray, clean_px: np.ndarray,
            clean_world: np.ndarray) -> None:
        """detected (F, 33, 4) MediaPipe image landmarks [x, y, visibility, presence]; detected_world (F, 33, 3);
        valid (F,); clean_px (F, 33, 2) and clean_world (F, 33, 3) the synthetic model's for the same frames."""
        mask = np.asarray(valid, bool)[:, None] & (tracking.keypoint_confidence(detected) >= MIN_CONFIDENCE)
        self.image.append(offsets_2d(np.asarray(detected)[..., :2], clean_px))
        self.world.append(offsets_3d(detected_world, clean_world))
        self.masks.append(mask)
        torso_seen = mask[:, [11, 12, 23, 24]].all(axis=1)
        self.scales.append(torso_scale(detected_world, clean_world)[torso_seen])

    def summary(self) -> dict:
        mask = np.concatenate(self.masks)
        join = lambda parts: {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}  # noqa: E731
        scales = np.concatenate(self.scales)
        return {"image": summarise_offsets(join(self.image), mask), "world": summarise_offsets(join(self.world), mask),
                "world_torso_scale": float(scales.mean()) if scales.size else math.nan}


def synthetic_landmarks(truth: dict[str, np.ndarray], body) -> tuple[np.ndarray, np.ndarray]:
    """The synthetic model's noise-free landmarks for a rendered clip: (F, 33, 2) px and (F, 33, 3) world
    (hip-centred, camera axes), exactly as scripts/synth/generate.py makes them."""
    from scripts.synth.landmarks import landmark_vertex_ids, pose_body, world_landmarks

    # The truth's root orientation and pelvis are in camera space, so the posed landmarks are too.
    posed = pose_body(body, np.asarray(truth["betas"], np.float64), truth["pose_aa"], truth["joints_3d"][:, 0],
                      landmark_vertex_ids(body))
    size = tuple(int(v) for v in truth["image_size"])
    clean_px = camera.project(posed.landmarks, float(truth["focal_px"]), camera.principal_point(size))
    return clean_px, world_landmarks(posed.landmarks)


# ---------------------------------------------------------------------------------------------------------
# Tables.

def format_pose_table(rows: dict[str, dict[str, float]]) -> str:
    lines = ["| model / clip | " + " | ".join(POSE_COLUMNS) + " |", "|---" * (len(POSE_COLUMNS) + 1) + "|"]
    for name, row in rows.items():
        cells = []
        for column in POSE_COLUMNS:
            value = row.get(column, math.nan)
            cells.append("n/a" if not np.isfinite(value) else f"{value:.3f}" if "(m)" in column else f"{value:.1f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_calibration(summary_2d: dict[str, dict[str, float]], summary_3d: dict[str, dict[str, float]]) -> str:
    head = ("| group | n | px mean | px median | % torso | up % | out % | limb % | 3D mm | up mm | out mm | "
            "fwd mm | limb mm |")
    lines = [head, "|---" * 13 + "|"]
    fmt = lambda v: "n/a" if not np.isfinite(v) else f"{v:+.1f}"  # noqa: E731
    for group in LANDMARK_GROUPS:
        a, b = summary_2d[group], summary_3d[group]
        lines.append(f"| {group} | {a['n']} | {a['dist_px']:.1f} | {a['median_dist_px']:.1f} | {a['dist']:.1f} | "
                     f"{fmt(a['up'])} | {fmt(a['out'])} | {fmt(a['limb'])} | {b['dist_mm']:.0f} | "
                     f"{fmt(b['up_mm'])} | {fmt(b['out_mm'])} | {fmt(b['fwd_mm'])} | {fmt(b['limb_mm'])} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------

def parse_checkpoints(specs: list[str], flip: str = "on", strides: tuple[int, ...] = (DEFAULT_WINDOW_STRIDE,),
                      reaims: tuple[float, ...] = (LIMB_REAIM_STRENGTH,)) -> dict[str, BridgeRun]:
    """['NAME=PATH' or 'PATH', ...] -> {row name: BridgeRun}; none given -> the shipped checkpoint (path None).
    flip: "off", "on", or "both" (two rows per checkpoint, the second named "NAME +flip"); several window
    strides: one row per stride, named "NAME stride N"; several limb re-aim strengths: one row per strength,
    named "NAME reaim S"."""
    paths: dict[str, str | None] = {}
    for spec in specs or ["arts_default (shipped)="]:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = Path(spec).stem, spec
            if name in paths:
                name = spec
        paths[name] = path or None
    out: dict[str, BridgeRun] = {}
    for name, path in paths.items():
        for stride in strides:
            for reaim in reaims:
                named = name + (f" stride {stride}" if len(strides) > 1 else "") + (
                    f" reaim {reaim:g}" if len(reaims) > 1 else "")
                if flip in ("off", "both"):
                    out[named] = BridgeRun(path, False, stride, reaim)
                if flip in ("on", "both"):
                    out[f"{named} +flip" if flip == "both" else named] = BridgeRun(path, True, stride, reaim)
    return out


def baseline_scores(world_landmarks: np.ndarray, gt_joints: np.ndarray, valid: np.ndarray
                    ) -> dict[str, tuple[float, float]]:
    """pose_scores of MediaPipe's world landmarks read as the skeleton (mediapipe_world_to_smpl_joints):
    hip-centred, so only the root-free metrics (MPJPE, PA-MPJPE, Accel) mean anything."""
    joints = mediapipe_world_to_smpl_joints(np.asarray(world_landmarks, np.float64))
    scores = pose_scores(joints, gt_joints, valid)
    return {k: v for k, v in scores.items() if k not in ("Root (m)", "Depth bias (m)")}


def clip_joints(clip: str, answers: dict[str, np.ndarray], world_landmarks: np.ndarray, truth_joints: np.ndarray,
                scored: np.ndarray) -> dict[str, np.ndarray]:
    """One clip's per-frame camera-space SMPL joints (F, 24, 3) as named arrays, for analyses the tables do not
    make (where along the clip, which joint, which axis): CLIP/truth, CLIP/ROW for each checkpoint row and
    MediaPipe's world landmarks read as the skeleton (hip-centred), and CLIP/scored, the frames every row is
    scored on."""
    arrays = {f"{clip}/truth": np.asarray(truth_joints, np.float32), f"{clip}/scored": np.asarray(scored, bool),
              f"{clip}/{MEDIAPIPE_ROW}": mediapipe_world_to_smpl_joints(
                  np.asarray(world_landmarks, np.float64)).astype(np.float32)}
    arrays.update({f"{clip}/{row}": np.asarray(joints, np.float32) for row, joints in answers.items()})
    return arrays


def evaluate(specs: list[ClipSpec], checkpoints: dict[str, BridgeRun], out_dir: Path, smoothing: str,
             cache_dir: Path | None, log: Callable[[str], None], foot_lock: float = 1.0, detect_workers: int = 1,
             stored: Path | None = STORED_RENDERS, joints: dict[str, np.ndarray] | None = None
             ) -> tuple[dict[str, dict[str, dict]], Calibration, list[dict]]:
    """Render (or reuse) every clip, run every checkpoint on it, score MediaPipe's world landmarks as the
    baseline on the same frames, and calibrate the landmarks.

    Every row is scored on the frames where the bridge gave a result and MediaPipe itself found the person
    (crop recovery finds some the plain tracker misses; both rows see exactly the same frames).
    Returns ({row: {clip name: pose_scores}}, the calibration, one description per clip); `joints`, where
    given, receives every clip's clip_joints."""
    from bridge.body_model import load_body_model_arrays

    body = load_body_model_arrays()
    scores: dict[str, dict[str, dict]] = {name: {} for name in [*checkpoints, MEDIAPIPE_ROW]}
    calibration, clips = Calibration(), []
    track_once = TrackOnce(detect_workers)
    for number, spec in enumerate(specs, start=1):
        started = time.perf_counter()
        mp4, npz, source = render_spec(spec, out_dir, body, cache_dir, stored, log)
        with np.load(npz, allow_pickle=False) as data:
            truth = {k: data[k] for k in data.files}
        clip = {**asdict(spec), "name": spec.name, "rendered_frames": int(len(truth["pose_aa"])),
                "render_s": round(time.perf_counter() - started, 1) if source == "rendered" else None,
                "bridge_s": {}}
        results = {}
        tracking_before = track_once.seconds
        for model, run in checkpoints.items():
            t0, tracked = time.perf_counter(), track_once.seconds
            results[model] = run_bridge(mp4, run, smoothing, track_once, foot_lock)
            clip["bridge_s"][model] = round(time.perf_counter() - t0 - (track_once.seconds - tracked), 1)
        clip["track_s"] = round(track_once.seconds - tracking_before, 1)
        track = track_once.of(mp4)
        both = np.asarray(track.valid, bool)
        for model, result in results.items():
            both = both & np.asarray(result.valid, bool)
        for model, result in results.items():
            scores[model][spec.name] = score_clip(result, truth, body, both)
        scores[MEDIAPIPE_ROW][spec.name] = baseline_scores(track.world_landmarks, truth["joints_3d"], both)
        scores[MEDIAPIPE_ROW][spec.name]["Det %"] = (100.0 * np.mean(track.valid), len(both))
        if joints is not None:
            joints.update(clip_joints(spec.name, {row: result.joints_3d for row, result in results.items()},
                                      track.world_landmarks, truth["joints_3d"], both))
        calibration.add(track.image_landmarks, track.world_landmarks, track.valid,
                        *synthetic_landmarks(truth, body))
        clips.append(clip)
        log(f"clip {number}/{len(specs)} {spec.name}: {clip['rendered_frames']} frames, render "
            f"{str(clip['render_s']) + ' s' if clip['render_s'] is not None else source}, "
            f"MediaPipe track {clip['track_s']} s, bridge without it (s) {clip['bridge_s']}")
    return scores, calibration, clips


def bridge_options_sentence(run: BridgeRun) -> str:
    """How the bridge ran for a model-card row, in words."""
    every = "on every frame" if run.window_stride == 1 else f"every {run.window_stride} frames"
    return (f" The bridge ran with test-time flip averaging {'on' if run.flip_average else 'off'} and a window "
            f"{every} (window_stride {run.window_stride}: each frame the weighted mean of the answers of the "
            "windows within two strides, bridge/windows.py)"
            + (f", and the limbs turned {run.limb_reaim:g} of the way to the 2D keypoints (limb_reaim "
               f"{run.limb_reaim:g}, bridge/limb_reaim.py)." if run.limb_reaim > 0 else
               ", and no limb re-aiming (limb_reaim 0)."))


def model_card_evaluation(set_rows: dict[str, dict[str, dict[str, float]]], model: str) -> dict[str, dict]:
    """The model card's `evaluation` object: per set, `arts` (row `model`) and `mediapipe_world`, each with
    hip-aligned MPJPE-14, PA-MPJPE-14, Accel (LSP-14) and the number of frames scored."""
    out = {}
    for set_name, rows in set_rows.items():
        entry = {}
        for key, row in (("arts", rows[model]), ("mediapipe_world", rows[MEDIAPIPE_ROW])):
            entry[key] = {"mpjpe14_mm": round(row["MPJPE-14"], 1), "pa_mpjpe14_mm": round(row["PA-MPJPE-14"], 1),
                          "accel_mm_per_frame2": round(row["Accel"], 2), "frames": int(round(row["_frames"]))}
        out[set_name] = entry
    return out


def main(argv: list[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=6, help="clips per set (half mocap, half procedural)")
    parser.add_argument("--sets", default=",".join(EVAL_SETS),
                        help=f"comma-separated evaluation sets among {', '.join(EVAL_SETS)}")
    parser.add_argument("--seconds", type=float, default=4.0, help="clip length (a shorter mocap trial is used whole)")
    parser.add_argument("--size", default="640x480", help="WIDTHxHEIGHT px")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", action="append", default=[], metavar="[NAME=]PATH",
                        help="ARTS checkpoint to evaluate; repeatable (default: the shipped one)")
    parser.add_argument("--flip", default="on", choices=("off", "on", "both"),
                        help="the bridge's test-time flip averaging (default on, as in the bridge); both: a second "
                             "row per checkpoint")
    parser.add_argument("--window-strides", default=str(DEFAULT_WINDOW_STRIDE),
                        help=f"comma-separated bridge window strides (default {DEFAULT_WINDOW_STRIDE}, the bridge's); "
                             "several: one row per stride")
    parser.add_argument("--limb-reaim", default=f"{LIMB_REAIM_STRENGTH:g}",
                        help=f"comma-separated limb re-aim strengths (default {LIMB_REAIM_STRENGTH:g}, the bridge's); "
                             "several: one row per strength")
    parser.add_argument("--smoothing", default="none", help="bridge smoothing preset (none, light, ...)")
    parser.add_argument("--foot-lock", type=float, default=1.0, help="bridge foot-lock strength (0: off)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the renders (reused)")
    parser.add_argument("--stored-renders", type=Path, default=STORED_RENDERS,
                        help="committed renders to reuse where --out lacks a clip (default: the repository's)")
    parser.add_argument("--store-renders", action="store_true",
                        help="copy this run's renders into --stored-renders, for committing")
    parser.add_argument("--motion-dir", type=Path, default=DEFAULT_MOTION_DIR, help="CMU corpus (BVH)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="retargeted-motion cache")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--detect-workers", type=int, default=1,
                        help="MediaPipe landmarkers tracking pieces of each clip side by side (1: one pass)")
    parser.add_argument("--per-clip", action="store_true", help="also one table row per clip")
    parser.add_argument("--json", type=Path, default=None, help="write every number here")
    parser.add_argument("--joints", type=Path, default=None,
                        help="write every clip's per-frame joints (each row's, MediaPipe's, the truth's) to this "
                             ".npz (clip_joints)")
    parser.add_argument("--model-card", type=Path, default=None,
                        help="write the first checkpoint's rendered-set entries into this model-card JSON's "
                             "`evaluation` object (other entries are kept)")
    args = parser.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in EVAL_SETS]
    if unknown or not sets:
        parser.error(f"unknown evaluation set(s) {unknown}; choose among {', '.join(EVAL_SETS)}")

    import torch

    torch.set_num_threads(args.threads)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    width, height = (int(v) for v in args.size.lower().split("x"))
    files = find_motion_files(args.motion_dir) if args.motion_dir.is_dir() else []
    if not files:
        log(f"no motion files under {args.motion_dir}: procedural clips only")
    checkpoints = parse_checkpoints(args.checkpoint, args.flip,
                                    tuple(int(v) for v in args.window_strides.split(",") if v.strip()),
                                    tuple(float(v) for v in args.limb_reaim.split(",") if v.strip()))
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict = {"config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "sets": {}}
    set_rows: dict[str, dict[str, dict[str, float]]] = {}
    joints: dict[str, np.ndarray] | None = {} if args.joints else None
    for set_name in sets:
        specs = select_clips(args.clips, args.seed, files, int(round(args.seconds * FPS)), (width, height),
                             EVAL_SETS[set_name])
        started = time.perf_counter()
        scores, calibration, clips = evaluate(specs, checkpoints, args.out, args.smoothing, args.cache_dir, log,
                                              args.foot_lock, args.detect_workers, args.stored_renders, joints)
        if args.store_renders:
            store_renders([spec.name for spec in specs], args.out, args.stored_renders)
        wall = time.perf_counter() - started
        frames = sum(c["rendered_frames"] for c in clips)
        rows = table_rows(scores, args.per_clip)
        set_rows[set_name] = {name: {**rows[name], "_frames": float(sum(r["MPJPE-14"][1] for r in per_clip.values()
                                                                       if "MPJPE-14" in r))}
                              for name, per_clip in scores.items()}
        kinds = sorted({motion_kind(s.source) for s in specs})
        print(f"\n## {set_name}: {len(specs)} rendered clips ({', '.join(kinds)}), {frames} frames, "
              f"{width}x{height}, smoothing {args.smoothing!r}, foot lock {args.foot_lock:g}, {wall:.0f} s\n")
        print(format_pose_table(rows))
        summary = calibration.summary()
        print("\nLandmark calibration, MediaPipe minus the synthetic model (2D: px and % of the 2D torso length; "
              "3D: mm, both hip-centred):\n")
        print(format_calibration(summary["image"], summary["world"]))
        print(f"\nMediaPipe world torso length / true torso length: {summary['world_torso_scale']:.3f}")
        report["sets"][set_name] = {
            "wall_s": round(wall, 1), "frames": frames, "clips": clips, "calibration": summary,
            "rows": {row: {**(checkpoints[row]._asdict() if row in checkpoints else
                              dict.fromkeys(BridgeRun._fields)), "mean": set_rows[set_name][row],
                           "clips": {c: {k: v for k, (v, _) in r.items()} for c, r in per_clip.items()}}
                     for row, per_clip in scores.items()}}
    first = next(iter(checkpoints))
    report["evaluation"] = model_card_evaluation(set_rows, first)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
    if args.joints:
        args.joints.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.joints, **joints)
    if args.model_card:
        card = json.loads(args.model_card.read_text())
        card.setdefault("evaluation", {}).update({
            "rendered_command": "python scripts/eval_rendered.py " + shlex.join(argv or sys.argv[1:]),
            "rendered_definitions": EVALUATION_DEFINITIONS + bridge_options_sentence(checkpoints[first]),
            **report["evaluation"]})
        args.model_card.write_text(json.dumps(card, indent=1) + "\n")
    return set_rows


if __name__ == "__main__":
    main()
