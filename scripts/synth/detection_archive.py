"""The committed part of detected_clips.py's work: MediaPipe's landmarks on each render, without the motion.

    python -m scripts.synth.detection_archive save --clips .cache/arts/detected_s7 --archive ARCHIVE
    python -m scripts.synth.detection_archive restore --archive ARCHIVE --out .cache/arts/detected_s7 \\
        --motion-dir ../shared/motion [--plans 160:]

Why: a detected clip costs about 80 CPU-seconds of rendering and tracking, and `.cache/` does not outlive a
machine. Clip files cannot be committed: their ground truth is the CMU motion itself, which the corpus's terms
keep out of the repository. But a clip is planned from (seed, index) alone (detected_clips.plan_clip) and
staged without Blender (stage_clip), so only what MediaPipe said needs keeping: `save` stores that, about
60 kB a clip, and `restore` rebuilds full clip files from it and ../shared/motion in well under a second
each, into a folder that `detected_clips.py` then extends with the same settings.

Each archived clip (format ARCHIVE_FORMAT) holds the landmarks as the clip file has them (image x, y in pixels
as float32; visibility and presence as uint8 / 255; world landmarks as float16, under 0.5 mm off), `valid`,
and two frames of the ground-truth joints that `restore` checks the rebuilt truth against, so a change to
retargeting, staging or the body model cannot pair old detections with a different motion: such clips are
skipped and reported, never restored.

--plans START:STOP restores only the plans numbered START to STOP - 1 (either end may be left out), so the
subsets that the model card's training and choosing commands name (detected_s7_160: seed-7 plans 160 on,
detected_t8_train: seed-8 tumbled plans 0-43, ...) are rebuilt by a command rather than by hand. Such a folder
is for reading: detected_clips.py would make the plans left out again if pointed at it. --match GLOB
restores only the clips whose file name matches (e.g. '*limits*': the procedural limit clips of a run that
also rendered mocap), so such a subset is a folder of its own, not a set of links into another.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bridge.body_model import load_body_model_arrays, shaped_rest

from .clip_file import load_clip, write_clip
from .detected_clips import (Index, clip_arrays, config_of, plan_clip, plan_motion, split_motions, stage_clip,
                             trial_pools)
from .retarget import DEFAULT_CACHE_DIR

ARCHIVE_FORMAT = "arts-detections/1"
#: Largest difference (metres) between the archived and the rebuilt ground-truth joints of a clip.
TRUTH_TOLERANCE_M = 1e-3
_CONFIDENCE_STEPS = 255.0


def truth_check(joints_3d: np.ndarray) -> np.ndarray:
    """The ground-truth joints of the first and last frame (2, 24, 3)."""
    return np.stack([joints_3d[0], joints_3d[-1]]).astype(np.float32)


def truth_matches(joints_3d: np.ndarray, recorded: np.ndarray) -> bool:
    """Whether rebuilt ground-truth joints (F, 24, 3) agree with a recorded truth_check within tolerance."""
    return bool(np.abs(truth_check(joints_3d) - recorded).max() <= TRUTH_TOLERANCE_M)


def pack(arrays: dict[str, np.ndarray], entry: dict) -> dict[str, np.ndarray]:
    """One clip file's arrays and index entry -> the archived arrays."""
    image = np.asarray(arrays["mp_image"], np.float32)
    return {
        "format": np.array(ARCHIVE_FORMAT), "entry": np.array(json.dumps(entry, sort_keys=True)),
        "image_xy": image[..., :2],
        "image_confidence": np.round(np.clip(image[..., 2:], 0.0, 1.0) * _CONFIDENCE_STEPS).astype(np.uint8),
        "world": np.asarray(arrays["mp_world"]).astype(np.float16), "valid": np.asarray(arrays["valid"], bool),
        "truth_check": truth_check(arrays["joints_3d"]),
    }


def unpack(archived: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The archived arrays -> (mp_image (F, 33, 4), mp_world (F, 33, 3), valid (F,)) as the clip file has them."""
    confidence = archived["image_confidence"].astype(np.float32) / _CONFIDENCE_STEPS
    mp_image = np.concatenate([archived["image_xy"].astype(np.float32), confidence], axis=-1)
    return mp_image, archived["world"].astype(np.float32), archived["valid"].astype(bool)


def read_index(archive_dir: Path) -> dict:
    path = archive_dir / "index.json"
    if not path.is_file():
        raise FileNotFoundError(f"{archive_dir} holds no archive (no index.json)")
    stored = json.loads(path.read_text())
    if stored.get("format") != ARCHIVE_FORMAT:
        raise ValueError(f"{path}: format {stored.get('format')!r}, expected {ARCHIVE_FORMAT!r}")
    return stored


def _write_json(path: Path, content: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(content, indent=1) + "\n")
    tmp.replace(path)


def _archive_name(file: str) -> str:
    """Archive file of a clip file `file` ('NAME.npz' or 'nobody/NAME.npz'): flat, the same stem."""
    return Path(file).name


def save(clips_dir: Path, archive_dir: Path, log: Callable[[str], None] = print) -> int:
    """Archive every clip of a detected_clips.py folder that the archive lacks; returns how many were added.
    An archive takes clips of one setting only (its `defining` settings)."""
    source = json.loads((clips_dir / "index.json").read_text())
    archive_dir.mkdir(parents=True, exist_ok=True)
    index_path = archive_dir / "index.json"
    if index_path.is_file():
        stored = read_index(archive_dir)
        if stored["defining"] != source["defining"]:
            raise ValueError(f"{archive_dir} archives clips made with {stored['defining']}, not "
                             f"{source['defining']}; use another archive")
        entries = {e["file"]: e for e in stored["clips_index"]}
    else:
        entries = {}
    added = 0
    for entry in source["clips_index"]:
        if entry["file"] in entries:
            continue
        target = archive_dir / _archive_name(entry["file"])
        tmp = target.with_name(target.name + ".tmp.npz")
        np.savez_compressed(tmp, **pack(load_clip(clips_dir / entry["file"]), entry))
        tmp.replace(target)
        entries[entry["file"]] = entry
        added += 1
    ordered = sorted(entries.values(), key=lambda e: e["index"])
    _write_json(index_path, {"format": ARCHIVE_FORMAT, "defining": source["defining"], "clips": len(ordered),
                             "frames": sum(e["frames"] for e in ordered), "clips_index": ordered})
    log(f"{added} clips added to {archive_dir} ({len(ordered)} in all)")
    return added


def selected(entry: dict, plans: range | None, match: str | None) -> bool:
    """Whether an archived clip's index entry is among the plan numbers `plans` and its file name fits the glob
    `match` (None: any)."""
    return ((plans is None or entry["index"] in plans)
            and (match is None or fnmatch.fnmatch(Path(entry["file"]).name, match)))


def restore(archive_dir: Path, out_dir: Path, motion_dir: Path | None, body_model: Path | None = None,
            cache_dir: Path | None = DEFAULT_CACHE_DIR, log: Callable[[str], None] = print,
            plans: range | None = None, match: str | None = None) -> dict:
    """Rebuild the archived clips that `out_dir` lacks (ground truth from the motion, landmarks from the
    archive), or only those `selected` by `plans` and `match`; returns {'restored', 'present', 'mismatched':
    [files]}. Restored whole, `out_dir` stays a detected_clips.py folder of the same settings, so that script
    resumes there with the clips after the archived ones."""
    stored = read_index(archive_dir)
    defining = stored["defining"]
    body = load_body_model_arrays(body_model)
    if body.model_id != defining["body_model_id"]:
        raise ValueError(f"{archive_dir} was detected on body model {defining['body_model_id']!r}; this one is "
                         f"{body.model_id!r}")
    config = config_of(defining)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = Index(out_dir, defining)
    rest_joints = shaped_rest(body, None)[1]
    motions = split_motions(motion_dir, rest_joints, config, cache_dir, log)
    by_source = {m.source: m for m in motions}
    pools = trial_pools(config, motions)
    restored, present, mismatched = 0, 0, []
    for entry in stored["clips_index"]:
        if not selected(entry, plans, match):
            continue
        target = out_dir / entry["file"]
        if target.is_file():
            present += 1
            index.entries.setdefault(entry["file"], entry)
            continue
        plan = plan_clip(entry["index"], config, motions, pools)
        if plan.file_name != Path(entry["file"]).name:  # the motion list changed: another motion was drawn
            mismatched.append(entry["file"])
            continue
        with np.load(archive_dir / _archive_name(entry["file"]), allow_pickle=False) as data:
            archived = {key: data[key] for key in data.files}
        staged = stage_clip(plan, plan_motion(plan, by_source, rest_joints), body)
        if not truth_matches(staged.truth["joints_3d"], archived["truth_check"]):
            mismatched.append(entry["file"])
            continue
        target.parent.mkdir(exist_ok=True)
        write_clip(target, clip_arrays(plan, staged.truth, body, *unpack(archived)))
        index.entries[entry["file"]] = entry
        restored += 1
    index.save()
    log(f"{restored} clips restored into {out_dir}, {present} already there"
        + (f"; {len(mismatched)} skipped: their ground truth no longer rebuilds as archived (motion, retargeting, "
           f"staging or the body model changed): {', '.join(mismatched[:5])}" if mismatched else ""))
    return {"restored": restored, "present": present, "mismatched": mismatched}


def plan_range(text: str) -> range:
    """'START:STOP' (either may be empty) -> the plan numbers START..STOP-1."""
    start, sep, stop = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected START:STOP (e.g. 160: or 0:44), got {text!r}")
    try:
        return range(int(start or 0), int(stop) if stop else sys.maxsize)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"plan numbers must be integers: {text!r}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.synth.detection_archive",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    save_cmd = commands.add_parser("save", help="archive a detected_clips.py folder's landmarks")
    save_cmd.add_argument("--clips", type=Path, required=True, help="detected_clips.py output folder")
    save_cmd.add_argument("--archive", type=Path, required=True)
    restore_cmd = commands.add_parser("restore", help="rebuild clip files from an archive and the motion")
    restore_cmd.add_argument("--archive", type=Path, required=True)
    restore_cmd.add_argument("--out", type=Path, required=True, help="detected_clips.py folder to fill")
    restore_cmd.add_argument("--motion-dir", type=Path, default=None, help="the corpus, e.g. ../shared/motion")
    restore_cmd.add_argument("--body-model", type=Path, default=None, help="body model (default: bundled)")
    restore_cmd.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="retargeted-motion cache")
    restore_cmd.add_argument("--plans", type=plan_range, default=None,
                             help="only plans START to STOP-1, e.g. 160: or 0:44 (default: all)")
    restore_cmd.add_argument("--match", default=None, help="only clips whose file name fits this glob, e.g. '*limits*'")
    args = parser.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if args.command == "save":
        save(args.clips, args.archive, log)
        return 0
    result = restore(args.archive, args.out, args.motion_dir, args.body_model, args.cache_dir, log, args.plans,
                     args.match)
    return 1 if result["mismatched"] and not result["restored"] and not result["present"] else 0


if __name__ == "__main__":
    sys.exit(main())
