"""Evaluate ARTS checkpoints on the held-out synthetic clips and print a metrics table (paper Sec. 4.1.2).

Every window of T frames inside a test clip (stride 1) is predicted for its mid frame, so each clip yields a
run of consecutive frames for the acceleration error. Metrics (bridge.metrics), in millimetres:
MPJPE and PA-MPJPE on a 14-joint LSP-style subset of the SMPL joints (aligned on the hips' midpoint) and on
all 24 (pelvis-aligned; no licensed H36M regressor exists here), MPVPE after pelvis alignment, Accel error
(mm/frame², the 14 hip-aligned joints, frame-weighted over clips), and per-joint local rotation and twist
errors (degrees). Rows: each checkpoint given (the default ARTS and the Table-3 ablations), the
first checkpoint's lifter skeleton (stage 1's output, before the SMPL regressor), and a baseline that reads
MediaPipe's own world landmarks as the skeleton (joints only: neither has a mesh).

  python scripts/eval_arts.py --data .cache/arts/data [--checkpoint PATH] \
      [--model "w/o TIK=runs/no_tik/arts.pt" ...] [--max-clips 30] [--json results.json] [--per-joint]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge import metrics  # noqa: E402
from bridge.geometry.rotations import axis_angle_to_matrix  # noqa: E402
from bridge.keypoints import mediapipe_world_to_smpl_joints  # noqa: E402
from bridge.models.inference import ArtsPredictor  # noqa: E402
from bridge.models.tik import twist_mask  # noqa: E402
from bridge.skeleton import SMPL_JOINT_NAMES  # noqa: E402
from scripts.synth.clip_file import load_clip  # noqa: E402

MM = 1000.0
def test_clips(data_dir: Path, window: int, max_clips: int | None, split: str = "test"
               ) -> list[dict[str, np.ndarray]]:
    """Clips of `split` ('test': held-out trials; 'unseen': kinds of motion that never train) with at least
    `window` + 2 frames, in name order; with `max_clips`, that many spread evenly over the name order (names
    start with the source, so every kind of motion keeps its share)."""
    paths = sorted(p for p in Path(data_dir).glob("*.npz") if p.name.startswith(f"{split}-"))
    if max_clips and len(paths) > max_clips:
        paths = [paths[i] for i in np.linspace(0, len(paths) - 1, max_clips).round().astype(int)]
    clips = []
    for path in paths:
        clip = load_clip(path)
        if str(clip["split"]) == split and clip["pose_aa"].shape[0] >= window + 2:
            clips.append(clip)
    if not clips:
        raise SystemExit(f"no {split} clips of at least {window + 2} frames in {data_dir}")
    return clips


def windows_of(array: np.ndarray, window: int) -> np.ndarray:
    """All stride-1 windows of a (F, ...) array -> (F - window + 1, window, ...)."""
    starts = np.arange(array.shape[0] - window + 1)
    return array[starts[:, None] + np.arange(window)]


class Accumulator:
    """Per-clip predictions and truth for one model, turned into the metrics table row."""

    def __init__(self) -> None:
        self.parts: dict[str, list] = {k: [] for k in ("joints", "gt_joints", "mpvpe", "rot", "twist", "accel")}

    def add(self, joints, gt_joints, vertices=None, gt_vertices=None, rot_err=None, twist_err=None) -> None:
        """One clip's consecutive frames: joints (F, 24, 3), vertices (F, V, 3) metres, errors (F, 24) / (F, 23) rad."""
        self.parts["joints"].append(joints)
        self.parts["gt_joints"].append(gt_joints)
        self.parts["accel"].append((metrics.accel14(joints, gt_joints), len(joints) - 2))
        if vertices is not None:
            self.parts["mpvpe"].append((metrics.mpvpe(vertices, gt_vertices, joints[:, 0], gt_joints[:, 0]),
                                        len(vertices)))
            self.parts["rot"].append(rot_err)
            self.parts["twist"].append(twist_err)

    def row(self) -> dict[str, float]:
        joints, gt = np.concatenate(self.parts["joints"]), np.concatenate(self.parts["gt_joints"])
        row = {
            "MPJPE-14": MM * metrics.mpjpe14(joints, gt),
            "PA-MPJPE-14": MM * metrics.pa_mpjpe14(joints, gt),
            "MPJPE-24": MM * metrics.mpjpe(joints, gt),
            "PA-MPJPE-24": MM * metrics.pa_mpjpe(joints, gt),
            "Accel": MM * weighted_mean(self.parts["accel"]),
        }
        if self.parts["mpvpe"]:
            errors, counts = zip(*self.parts["mpvpe"])
            row["MPVPE"] = MM * float(np.average(errors, weights=counts))
            rot = np.concatenate(self.parts["rot"])
            twist = np.concatenate(self.parts["twist"])
            row["Rot (deg)"] = float(np.degrees(rot[:, 1:].mean()))
            row["Root rot (deg)"] = float(np.degrees(rot[:, 0].mean()))
            row["Twist (deg)"] = float(np.degrees(twist[:, twist_mask().numpy() > 0].mean()))
            row["_rot_per_joint"] = np.degrees(rot.mean(axis=0)).tolist()
            row["_twist_per_joint"] = np.degrees(twist.mean(axis=0)).tolist()
        return row


def weighted_mean(pairs: list[tuple[float, float]]) -> float:
    """Mean of (value, weight) pairs: per-clip values weighted by their frame counts."""
    values, weights = zip(*pairs)
    return float(np.average(values, weights=weights))


def smpl_vertices(layer, pose_aa: np.ndarray, betas: np.ndarray, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (F, V, 3) and joints (F, 24, 3) for pose_aa (F, 24, 3) and betas (F, 10), metres, no translation."""
    vertices, joints = [], []
    with torch.no_grad():
        for start in range(0, len(pose_aa), chunk):
            rot = axis_angle_to_matrix(torch.from_numpy(pose_aa[start:start + chunk]).float())
            out = layer(betas=torch.from_numpy(betas[start:start + chunk]).float(), global_orient=rot[:, :1],
                        body_pose=rot[:, 1:], pose2rot=False)
            vertices.append(out.vertices.numpy())
            joints.append(out.joints[:, :24].numpy())
    return np.concatenate(vertices), np.concatenate(joints)


def evaluate(models: dict[str, ArtsPredictor], clips: list[dict[str, np.ndarray]], layer, rest_joints: np.ndarray,
             skeleton_of: str | None = None, log=print) -> dict[str, dict[str, float]]:
    """Metrics per model name, plus 'MediaPipe world landmarks' (the baseline) and, for model `skeleton_of`,
    its lifter's 3D skeleton (before the SMPL regressor) as '<name> lifter skeleton'."""
    window = next(iter(models.values())).window
    results = {name: Accumulator() for name in models}
    baseline = Accumulator()
    skeleton = Accumulator()
    for number, clip in enumerate(clips, start=1):
        size = tuple(int(v) for v in clip["image_size"])
        mid = slice(window // 2, clip["pose_aa"].shape[0] - window + 1 + window // 2)
        gt_pose = clip["pose_aa"][mid]
        gt_betas = np.repeat(clip["betas"][None, :10], len(gt_pose), axis=0)
        gt_vertices, gt_joints = smpl_vertices(layer, gt_pose, gt_betas)
        gt_rot = axis_angle_to_matrix(gt_pose.astype(np.float64))
        baseline.add(mediapipe_world_to_smpl_joints(clip["mp_world"][mid]), gt_joints)
        image_windows, world_windows = windows_of(clip["mp_image"], window), windows_of(clip["mp_world"], window)
        for name, predictor in models.items():
            out = predictor.predict_windows(image_windows, world_windows, size)
            vertices, joints = smpl_vertices(layer, out["pose_aa"], out["betas"])
            rot = axis_angle_to_matrix(out["pose_aa"].astype(np.float64))
            results[name].add(joints, gt_joints, vertices, gt_vertices, metrics.rotation_angle_error(rot, gt_rot),
                              metrics.twist_error(rot, gt_rot, rest_joints))
            if name == skeleton_of:
                skeleton.add(out["lifter_joints"].astype(np.float64), gt_joints)
        log(f"clip {number}/{len(clips)}: {len(gt_pose)} frames")
    table = {name: acc.row() for name, acc in results.items()}
    if skeleton_of:
        table[f"{skeleton_of} lifter skeleton"] = skeleton.row()
    table["MediaPipe world landmarks"] = baseline.row()
    return table


def format_table(table: dict[str, dict[str, float]]) -> str:
    columns = ["MPJPE-14", "PA-MPJPE-14", "MPJPE-24", "PA-MPJPE-24", "MPVPE", "Accel", "Rot (deg)", "Twist (deg)",
               "Root rot (deg)"]
    lines = ["| model | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, row in table.items():
        cells = [f"{row[c]:.1f}" if c in row else "n/a" for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_per_joint(row: dict[str, float]) -> str:
    lines = ["| joint | rotation error (deg) | twist error (deg) |", "|---|---|---|"]
    for joint, name in enumerate(SMPL_JOINT_NAMES):
        twist = f"{row['_twist_per_joint'][joint - 1]:.1f}" if joint and twist_mask()[joint - 1] > 0 else "n/a"
        lines.append(f"| {name} | {row['_rot_per_joint'][joint]:.1f} | {twist} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder of synthetic clips (the 'test' split is used)")
    parser.add_argument("--checkpoint", type=Path, default=None, help="ARTS checkpoint (default: the shipped one)")
    parser.add_argument("--name", default="ARTS", help="table row name of --checkpoint")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=PATH",
                        help="another checkpoint to evaluate (e.g. an ablation); repeatable")
    parser.add_argument("--max-clips", type=int, default=None)
    parser.add_argument("--split", default="test", choices=("test", "unseen"),
                        help="held-out trials of trained kinds, or kinds of motion that never train")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the table here")
    parser.add_argument("--per-joint", action="store_true", help="per-joint rotation and twist errors of --name")
    args = parser.parse_args(argv)

    from bridge.body_model import load_body_model_arrays
    from bridge.smpl_layer import make_smpl_layer

    torch.set_num_threads(args.threads)
    models = {args.name: ArtsPredictor.load(args.checkpoint)}
    for spec in args.model:
        name, _, path = spec.partition("=")
        models[name] = ArtsPredictor.load(Path(path))
    windows = {p.window for p in models.values()}
    if len(windows) != 1:
        raise SystemExit(f"all checkpoints must share one window length, got {sorted(windows)}")
    body = load_body_model_arrays()
    mismatched = [n for n, p in models.items() if p.body_model_id != body.model_id]
    if mismatched:
        raise SystemExit(f"{mismatched} were trained with another body model than {body.model_id}")
    clips = test_clips(args.data, windows.pop(), args.max_clips, args.split)
    started = time.time()
    table = evaluate(models, clips, make_smpl_layer(body), body.J_regressor @ body.v_template, skeleton_of=args.name,
                     log=lambda m: print(m, file=sys.stderr))
    frames = sum(len(c["pose_aa"]) - next(iter(models.values())).window + 1 for c in clips)
    print(f"{len(clips)} {args.split} clips, {frames} evaluated frames (mid frame of every window), "
          f"{time.time() - started:.0f} s\n")
    print(format_table(table))
    if args.per_joint:
        print("\n" + format_per_joint(table[args.name]))
    if args.json:
        args.json.write_text(json.dumps({"split": args.split, "clips": len(clips), "frames": frames, "table": table},
                                        indent=1))
    return table


if __name__ == "__main__":
    main()
