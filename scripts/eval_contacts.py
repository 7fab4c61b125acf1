"""Foot contacts, foot skate and the floor on rendered held-out motion, before and after foot lock.

The clips are scripts/eval_rendered.py's (same selection, same cached renders). Ground truth: the true joints
placed in a world frame estimated from them (bridge/ground.py on motion capture, whose planted feet make it
exact to a few millimetres) and labelled with the hard contact tests (bridge/contacts.contact_labels). The
bridge runs once with foot lock off and once on (MediaPipe once per clip). Reported per set, pooled over
the frames the bridge found the person:
- contact precision and recall (predicted probability > 0.5 against the labels), per point and overall;
- foot skate: median horizontal speed of the toe joints in the bridge's world frame, over frames the truth
  labels planted (cm/s);
- the floor: lowest toe joint, 1st percentile and minimum over frames (cm; the soles' own height above the
  floor is subtracted, so 0 is resting on it) and the tilt of a floor fitted to predicted contact points
  (ground.floor_tilt_deg, on their heights above resting);
- MPJPE-14 and PA-MPJPE-14 with and without foot lock (mm, eval_rendered's definitions), so locking is seen
  not to cost accuracy.

    python scripts/eval_contacts.py [--clips 12] [--sets rendered_heldout,rendered_unseen_kinds] [--json F]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge import contacts, ground  # noqa: E402
from bridge.pipeline import sole_heights  # noqa: E402
from scripts.eval_rendered import (DEFAULT_CACHE_DIR, DEFAULT_MOTION_DIR, DEFAULT_OUT, EVAL_SETS, FPS,  # noqa: E402
                                   BridgeRun, TrackOnce, find_motion_files, render_spec, run_bridge, score_clip,
                                   select_clips)

TOES = (1, 3)  # columns of contacts.CONTACT_POINTS that are toes
TOE_JOINTS = (10, 11)


def truth_contacts(truth: dict[str, np.ndarray], body) -> tuple[np.ndarray, np.ndarray]:
    """(F, 4) contact labels and (F, 24, 3) world joints of the ground truth."""
    from bridge.body_model import shaped_rest

    vertices, rest = shaped_rest(body, truth["betas"])
    soles = sole_heights(vertices, rest)
    joints = np.asarray(truth["joints_3d"], np.float64)
    frame = ground.estimate_world_frame(joints, np.ones(len(joints), bool), float(truth["fps"]), soles)
    world = joints @ frame.rotation.T + frame.translation
    return contacts.contact_labels(world, float(truth["fps"]), soles), world


def clip_stats(result, labels: np.ndarray, body, scored: np.ndarray) -> dict[str, np.ndarray]:
    """Pooled arrays for one clip and one run: predictions, labels, toe speeds in labelled contact, lowest
    toe heights above resting, predicted contact points."""
    from bridge.body_model import shaped_rest

    vertices, rest = shaped_rest(body, result.betas)
    soles = sole_heights(vertices, rest)
    world = np.asarray(result.joints_world_m, np.float64)
    predicted = np.asarray(result.contacts) > 0.5
    speed = np.linalg.norm(np.gradient(world[:, TOE_JOINTS, :2], axis=0), axis=-1) * result.fps  # (F, 2)
    toe_labels = labels[:, list(TOES)]
    heights = world[:, TOE_JOINTS, 2] - np.array([soles[j] for j in TOE_JOINTS])
    points = contacts.resting_points(world, soles)[predicted & scored[:, None]]
    return {"predicted": predicted[scored], "labels": labels[scored], "skate": speed[scored][toe_labels[scored]],
            "lowest": heights[scored].min(axis=1), "points": points}


def summarise(parts: list[dict[str, np.ndarray]]) -> dict[str, float]:
    pooled = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    pred, truth = pooled["predicted"], pooled["labels"]
    out = {}
    for k, (_, name) in enumerate(contacts.CONTACT_POINTS):
        tp = float((pred[:, k] & truth[:, k]).sum())
        out[f"precision {name}"] = tp / max(pred[:, k].sum(), 1)
        out[f"recall {name}"] = tp / max(truth[:, k].sum(), 1)
    tp = float((pred & truth).sum())
    out["precision"], out["recall"] = tp / max(pred.sum(), 1), tp / max(truth.sum(), 1)
    out["skate cm/s (median toe speed in true contact)"] = 100.0 * float(np.median(pooled["skate"]))
    out["lowest toe p1 (cm)"] = 100.0 * float(np.percentile(pooled["lowest"], 1))
    out["lowest toe min (cm)"] = 100.0 * float(pooled["lowest"].min())
    if len(pooled["points"]) >= 3:
        out["floor tilt (deg)"] = ground.floor_tilt_deg(pooled["points"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--sets", default=",".join(EVAL_SETS))
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=None, help="ARTS checkpoint (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--motion-dir", type=Path, default=DEFAULT_MOTION_DIR)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from bridge.body_model import load_body_model_arrays

    body = load_body_model_arrays()
    width, height = (int(v) for v in args.size.lower().split("x"))
    files = find_motion_files(args.motion_dir) if args.motion_dir.is_dir() else []
    report = {}
    for set_name in [s for s in args.sets.split(",") if s]:
        specs = select_clips(args.clips, args.seed, files, int(round(args.seconds * FPS)), (width, height),
                             EVAL_SETS[set_name])
        parts: dict[str, list] = {"off": [], "on": []}
        poses: dict[str, list] = {"off": [], "on": []}
        track_once = TrackOnce()
        for number, spec in enumerate(specs, start=1):
            mp4, npz, _ = render_spec(spec, args.out, body, DEFAULT_CACHE_DIR)
            with np.load(npz, allow_pickle=False) as data:
                truth = {k: data[k] for k in data.files}
            labels, _ = truth_contacts(truth, body)
            for mode, strength in (("off", 0.0), ("on", 1.0)):
                result = run_bridge(mp4, BridgeRun(args.checkpoint), "none", track_once, strength)
                scored = np.asarray(result.valid, bool)
                parts[mode].append(clip_stats(result, labels, body, scored))
                poses[mode].append(score_clip(result, truth, body, scored))
            print(f"clip {number}/{len(specs)} {spec.name}", file=sys.stderr, flush=True)
        report[set_name] = {}
        for mode in ("off", "on"):
            row = summarise(parts[mode])
            for metric in ("MPJPE-14", "PA-MPJPE-14"):
                values = [(p[metric][0], p[metric][1]) for p in poses[mode] if metric in p]
                row[f"{metric} (mm)"] = sum(v * w for v, w in values) / max(sum(w for _, w in values), 1)
            report[set_name][f"foot lock {mode}"] = row
        print(f"\n## {set_name}: {len(specs)} clips, contacts against mocap labels\n")
        names = list(report[set_name]["foot lock off"])
        print("| metric | foot lock off | foot lock on |\n|---|---|---|")
        for name in names:
            print(f"| {name} | {report[set_name]['foot lock off'][name]:.2f} | {report[set_name]['foot lock on'][name]:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
