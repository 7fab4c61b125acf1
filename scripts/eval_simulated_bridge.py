"""The whole bridge after detection, on simulated clips: for choosing the strengths of its test-time steps.

Why: the steps after the network (limb re-aim and any later 2D correction) have strengths and smoothing to
choose. Choosing them on the rendered evaluation sets would tune the product to the numbers it is judged by,
so they are chosen here: on held-out clips of a synthetic data folder (scripts/synth/generate.py: the 'test'
split, and the 'unseen' kinds), whose landmarks come from the detector-error model fitted to MediaPipe, and
on detected clips (scripts/synth/detected_clips.py, `--splits train`), the real MediaPipe's output on
renders with random looks. A step should help on both: the plain renders of the evaluation sets flatter
steps that trust the 2D keypoints (a whole-body perspective fit gained 2 mm there and lost 1-3 mm on both
of these, session 17).

How: each clip's stored MediaPipe track (simulated, or the real one of a detected clip) stands in for the
tracker (process_video's `track_person`), over a black video of the clip's size and length (the bridge reads
frame rate and size from it; nothing could be found in it, so the bridge does not look again for missed frames
or stuck tracking, which took a third of the time and changed nothing). Every --variant runs process_video with
those options (foot lock off, smoothing none, the clip's own focal length, unless the variant says otherwise,
e.g. `"focal_px": null`, the bridge's default field of view as for a video of unknown lens) and is scored against
the clip's exact joints as eval_rendered.py scores renders (same metrics, hip-aligned, frame-weighted over
clips), beside MediaPipe's own world landmarks (the clip's mp_world read as the skeleton) on the same frames.
Detected clips that any compared network (or one it was fine-tuned from) trained on are left out before
drawing (scripts/synth/trained_clips.py), so every variant is scored on the same clips and none on its own
training data.

Several --data folders make one choosing set: --clips are drawn from each folder as from one, and the table
pools all of them frame-weighted (clip rows are named FOLDER/CLIP), with one row per folder under each model.
A choosing set is many renders (seeds and tumbled plans in several folders); a candidate is judged on the
pooled row, so the number comes from one command.

With --inputs, each clip's noise-free synthetic landmarks (or only part of the detector's error on them) stand
in for the stored ones: how much of a network's error the detector's errors cause, which no network change can
reach without other evidence (INPUTS).

    python scripts/eval_simulated_bridge.py --data .cache/arts/data_v9 [DIR ...] [--splits test,unseen] [--clips 40] \
        [--seed 0] [--per-clip] [--variant 'no re-aim={"limb_reaim": 0}' --variant 're-aim 0.2={"limb_reaim": 0.2}' ...] \
        [--inputs detected|clean-2d|clean|2d-slow-error|2d-fast-error] [--json F.json] [--joints F.npz]

--joints keeps every clip's per-frame joints (truth, each variant, MediaPipe's world landmarks, the scored frames)
for scripts/error_anatomy.py, which reads the file as one set.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge import tracking  # noqa: E402
from scripts.eval_rendered import (MEDIAPIPE_ROW, aggregate, baseline_scores, clip_joints,  # noqa: E402
                                   format_pose_table, pose_scores, table_rows)
from scripts.synth import trained_clips  # noqa: E402
from scripts.synth.camera import moving_average  # noqa: E402
from scripts.synth.clip_file import load_clip  # noqa: E402

SPLITS = ("test", "unseen")
DEFAULT_VARIANTS = ('limb re-aim 0={"limb_reaim": 0}', 'limb re-aim 0.2 (default)={}')
#: What stands in for the stored landmarks (--inputs): the detector's own ('detected'), or the clip's noise-free
#: synthetic landmarks in its place, to measure what the detector's errors cost the whole bridge: image
#: landmarks only ('clean-2d', MediaPipe's visibilities kept), image and world ('clean'), or the noise-free
#: image landmarks plus only the slow part of the detector's image error (its mean over SLOW_ERROR_FRAMES
#: frames around each frame, '2d-slow-error') or only the rest ('2d-fast-error').
INPUTS = ("detected", "clean-2d", "clean", "2d-slow-error", "2d-fast-error")
SLOW_ERROR_FRAMES = 15


def parse_variant(text: str) -> tuple[str, dict]:
    """'NAME={json options}' -> (NAME, options) for bridge.pipeline.ProcessOptions."""
    name, sep, options = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME={{json}}, got {text!r}")
    try:
        parsed = json.loads(options)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"variant {name!r}: {exc}") from exc
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError(f"variant {name!r}: options must be a JSON object")
    return name.strip(), parsed


def choose_clips(data: Path, split: str, count: int, seed: int, leave_out: set[str] = frozenset()) -> list[Path]:
    """`count` clip files of `split` that show no motion piece of a clip id in `leave_out`, drawn without
    replacement, in a seed-fixed order."""
    files = sorted(data.glob(f"{split}-*.npz"))
    if not files:
        raise SystemExit(f"no '{split}' clips in {data}: make them with scripts/synth/generate.py")
    if leave_out:
        pieces = trained_clips.motion_pieces(leave_out)
        kept = [f for f in files if not trained_clips.seen(f, pieces)]
        if len(kept) < len(files):
            print(f"{data.name} '{split}': {len(files) - len(kept)} of {len(files)} clips left out: a compared "
                  "network trained on them (scripts/synth/trained_clips.py)", file=sys.stderr)
        if not kept:
            raise SystemExit(f"every '{split}' clip in {data} was trained on by a compared network: render new "
                             "ones with scripts/synth/detected_clips.py and another --seed")
        files = kept
    order = np.random.default_rng(seed).permutation(len(files))[:count]
    return [files[k] for k in sorted(order)]


def black_video(path: Path, frames: int, size: tuple[int, int], fps: float) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (int(size[0]), int(size[1])))
    blank = np.zeros((int(size[1]), int(size[0]), 3), np.uint8)
    for _ in range(frames):
        writer.write(blank)
    writer.release()
    return path


def substituted_inputs(clip: dict[str, np.ndarray], inputs: str) -> dict[str, np.ndarray]:
    """The clip with its stored landmarks replaced as INPUTS `inputs` says (a copy; 'detected': as it is)."""
    if inputs not in INPUTS:
        raise ValueError(f"inputs must be one of {INPUTS}, got {inputs!r}")
    if inputs == "detected":
        return clip
    clip = dict(clip)
    image, clean = np.array(clip["mp_image"], np.float32), np.asarray(clip["mp_image_clean"], np.float32)
    error = image[..., :2] - clean
    if inputs in ("2d-slow-error", "2d-fast-error"):
        slow = moving_average(error.reshape(len(error), -1), SLOW_ERROR_FRAMES).reshape(error.shape).astype(np.float32)
        error = slow if inputs == "2d-slow-error" else error - slow
    else:
        error = np.zeros_like(error)
    image[..., :2] = clean + error
    clip["mp_image"] = image
    if inputs == "clean":
        clip["mp_world"] = clip["mp_world_clean"]
    return clip


def simulated_track(clip: dict[str, np.ndarray]) -> tracking.TrackedClip:
    valid = np.asarray(clip["valid"], bool)
    image = np.where(valid[:, None, None], clip["mp_image"], 0.0).astype(np.float32)
    world = np.where(valid[:, None, None], clip["mp_world"], 0.0).astype(np.float32)
    return tracking.TrackedClip(np.arange(len(valid), dtype=np.int64), image, world, valid)


def person_box(track: tracking.TrackedClip) -> list[float]:
    """The box the tracker would be started from: the first found frame's landmarks."""
    first = int(np.argmax(track.valid))
    return [float(v) for v in tracking.landmarks_box(track.image_landmarks[first])]


def run_on_track(video: Path, track: tracking.TrackedClip, box: list[float], focal_px: float | None,
                 **options) -> tuple[np.ndarray, np.ndarray]:
    """process_video on a stored track over `video` (black_video of the clip's size and length), foot lock
    off and smoothing none unless `options` say otherwise: (joints_3d (F, 24, 3), valid (F,): frames both found
    the person). `focal_px` None: the bridge's default field of view, as for a video of unknown lens."""
    from bridge.pipeline import ProcessOptions, process_video

    run = ProcessOptions(**{"video": str(video), "person": box, "focal_px": focal_px, "foot_lock": 0.0,
                            "smoothing": "none", **options})
    result, _ = process_video(run, track_person=lambda *a, **k: track, look_again=False)
    return np.asarray(result.joints_3d), np.asarray(result.valid, bool) & track.valid


def score_clip(path: Path, variants: dict[str, dict], work: Path, inputs: str = "detected",
               joints: dict[str, np.ndarray] | None = None, key: str = "") -> dict[str, dict]:
    """{variant: pose_scores} of one simulated clip, and MediaPipe's world landmarks as the baseline row, all on
    the frames where every variant and the track have the person; `inputs` (INPUTS) replaces the stored
    landmarks first (the baseline row then reads the world landmarks given). `joints`, where given, receives
    the clip's per-frame joints (eval_rendered.clip_joints) under `key`."""
    clip = substituted_inputs(load_clip(path), inputs)
    track = simulated_track(clip)
    if not track.valid.any():
        return {}
    size = (int(clip["image_size"][0]), int(clip["image_size"][1]))
    video = black_video(work / f"{path.stem}.mp4", len(track.valid), size, float(clip["fps"]))
    box = person_box(track)
    answers = {name: run_on_track(video, track, box, **{"focal_px": float(clip["focal_px"]), **options})
               for name, options in variants.items()}
    both = np.logical_and.reduce([valid for _, valid in answers.values()])
    out = {name: pose_scores(answer, clip["joints_3d"], both) for name, (answer, _) in answers.items()}
    out[MEDIAPIPE_ROW] = baseline_scores(clip["mp_world"], clip["joints_3d"], both)
    if joints is not None:
        joints.update(clip_joints(key, {name: answer for name, (answer, _) in answers.items()}, clip["mp_world"],
                                  clip["joints_3d"], both))
    return out


def pooled_rows(scores: dict[str, dict[str, dict]], folders: list[str], per_clip: bool) -> dict[str, dict[str, float]]:
    """eval_rendered.table_rows with, under each model's pooled row, one row per folder when there are several
    (clip keys are FOLDER/CLIP)."""
    rows = {}
    for model, clips in scores.items():
        own = table_rows({model: clips}, per_clip)
        rows[model] = own.pop(model)
        if len(folders) > 1:
            for folder in folders:
                mine = [row for key, row in clips.items() if key.partition("/")[0] == folder]
                if mine:
                    rows[f"  {model} [{folder}]"] = aggregate(mine)
        rows.update(own)
    return rows


def main(argv: list[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", required=True,
                        help="synthetic or detected clip folders (generate.py, detected_clips.py); several are pooled")
    parser.add_argument("--splits", default=",".join(SPLITS),
                        help="comma-separated splits (file name prefixes) to score, e.g. 'train' for detected clips")
    parser.add_argument("--clips", type=int, default=40, help="clips per split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", type=parse_variant, action="append", default=None,
                        help="NAME={json ProcessOptions}; repeat (default: limb re-aim off and default)")
    parser.add_argument("--per-clip", action="store_true", help="also one table row per clip")
    parser.add_argument("--json", type=Path, default=None, help="also write the tables (and each clip's scores) here")
    parser.add_argument("--joints", type=Path, default=None,
                        help="also save every clip's per-frame joints here, .npz (eval_rendered.clip_joints; "
                             "keys SPLIT/CLIP/ROW), for scripts/error_anatomy.py")
    parser.add_argument("--inputs", choices=INPUTS, default="detected",
                        help="landmarks given in place of the stored ones, to measure what the detector's errors "
                             "cost (see INPUTS)")
    args = parser.parse_args(argv)
    variants = dict(args.variant or [parse_variant(v) for v in DEFAULT_VARIANTS])
    folders = [folder.name for folder in args.data]
    if len(set(folders)) < len(folders):
        parser.error(f"--data folders must have distinct names (clip rows are named by them): {folders}")
    leave_out = set().union(*(trained_clips.checkpoint_clip_ids(checkpoint)
                              for checkpoint in {options.get("checkpoint") for options in variants.values()}))
    tables = {}
    joints: dict[str, np.ndarray] | None = {} if args.joints else None
    with tempfile.TemporaryDirectory() as tmp:
        for split in [s.strip() for s in args.splits.split(",") if s.strip()]:
            scores: dict[str, dict] = {name: {} for name in [*variants, MEDIAPIPE_ROW]}
            clips = [path for data in args.data for path in choose_clips(data, split, args.clips, args.seed, leave_out)]
            for number, path in enumerate(clips, start=1):
                key = path.stem if len(folders) == 1 else f"{path.parent.name}/{path.stem}"
                for name, row in score_clip(path, variants, Path(tmp), args.inputs, joints, f"{split}/{key}").items():
                    scores[name][key] = row
                print(f"{split} {number}/{len(clips)} {key}", file=sys.stderr, flush=True)
            tables[split] = pooled_rows(scores, folders, args.per_clip)
            given = "" if args.inputs == "detected" else f", inputs {args.inputs}"
            print(f"\n## {' + '.join(folders)}, split '{split}': {len(clips)} clips, foot lock off, smoothing none"
                  f"{given}\n")
            print(format_pose_table(tables[split]))
    if args.joints:
        args.joints.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.joints, **joints)
    if args.json:
        args.json.write_text(json.dumps({"config": {k: str(v) for k, v in vars(args).items()}, "tables": tables},
                                        indent=1))
    return tables


if __name__ == "__main__":
    main()
