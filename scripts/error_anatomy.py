"""Where a network's error on the rendered sets lies, from the per-frame joints of `eval_rendered.py --joints`.

Why: the tables give each set's means; choosing what to try next needs their anatomy. Per row (each checkpoint
and MediaPipe's world landmarks) and set, on the frames the tables score:
- by LSP joint: MPJPE-14's mean error, its depth part (along the camera's axis), its in-picture part, and the
  signed mean depth error (a lean shows as feet one way and head the other);
- what a turn of the whole body would take off MPJPE-14: one turn per clip (a lean or heading held all clip,
  which a clip-level fix such as the floor could reach) and one per frame (metrics.turn_aligned14), and one per
  frame about each camera axis alone: x (leaning towards or away from the camera, which one picture cannot
  measure), y (the heading) and z (the turn in the picture, which the landmarks show);
- how the error of the body's lean towards the camera (its feet-to-trunk line about the camera's x axis, clip
  median, answered minus true) goes with the camera's pitch (the floor's normal in camera axes, from the truth's
  feet: bridge.ground), over clips: error = slope x pitch + offset. A network that reads the pitch fully has slope
  0; one that cannot read it at all, -1, and is right only at the pitch -offset / slope (clips whose body gives
  no plausible up, lying down, are left out);
- the lean of the legs (hips' midpoint over the ankles' midpoint, about the camera's horizontal axis): the
  true mean per clip and the row's mean error, and their correlation over clips: a network that cannot see the
  camera's height guesses an average lean and errs against the true one (negative correlation);
- how long wrong limb depth orders last (metrics.wrong_limb_orders, per bone run of consecutive wrong frames):
  short runs would yield to a vote along time, long ones are whole misreadings.

    python scripts/error_anatomy.py --joints JOINTS.npz [--eval-json RENDERED.json]

Without --eval-json (eval_simulated_bridge.py --joints, one choosing set per file) every clip in the file is
one set.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge import ground, metrics, pipeline  # noqa: E402
from bridge.body_model import load_body_model_arrays, shaped_rest  # noqa: E402
from bridge.tracking import runs_of  # noqa: E402

LSP14_NAMES = ("r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "r_wrist", "r_elbow", "r_shoulder",
               "l_shoulder", "l_elbow", "l_wrist", "neck", "head")
MM = 1000.0


def clip_rows(joints: dict[str, np.ndarray], clip: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({row: (F, 24, 3) joints on the scored frames} with 'truth' among them, the scored mask) of one clip."""
    scored = np.asarray(joints[f"{clip}/scored"], bool)
    rows = {key[len(clip) + 1:]: np.asarray(value, np.float64)[scored] for key, value in joints.items()
            if key.startswith(f"{clip}/") and key != f"{clip}/scored"}
    return rows, scored


def joint_axes(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(14, 4) per LSP joint, mm: mean error, mean |depth error|, mean in-picture error, mean signed depth
    error (positive: further from the camera than the truth); hip-aligned, (F, 24, 3) camera-space joints."""
    error = metrics.lsp14_hip_aligned(pred) - metrics.lsp14_hip_aligned(gt)
    return MM * np.stack([np.linalg.norm(error, axis=-1).mean(0), np.abs(error[..., 2]).mean(0),
                          np.linalg.norm(error[..., :2], axis=-1).mean(0), error[..., 2].mean(0)], axis=-1)


def leg_lean_deg(joints: np.ndarray) -> np.ndarray:
    """(F,) angle of the ankles' midpoint to the hips' midpoint about the camera's x axis, degrees; positive:
    the hips nearer the camera than the feet (camera axes: y down, z away)."""
    return pitch_deg(joints[:, [1, 2]].mean(axis=1) - joints[:, [7, 8]].mean(axis=1))


def axis_turn_aligned14(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(3,) MPJPE-14 (m) after the best turn of each frame's hip-aligned LSP joints about the camera's x, y and z
    axis alone (closed form: the angle that best fits the two coordinates across that axis)."""
    pred, gt = metrics.lsp14_hip_aligned(pred), metrics.lsp14_hip_aligned(gt)
    out = []
    for first, second in ((1, 2), (2, 0), (0, 1)):
        sin = (pred[..., first] * gt[..., second] - pred[..., second] * gt[..., first]).sum(-1)[:, None]
        cos = (pred[..., first] * gt[..., first] + pred[..., second] * gt[..., second]).sum(-1)[:, None]
        norm = np.maximum(np.hypot(sin, cos), 1e-12)
        turned = pred.copy()
        turned[..., first] = (cos * pred[..., first] - sin * pred[..., second]) / norm
        turned[..., second] = (sin * pred[..., first] + cos * pred[..., second]) / norm
        out.append(np.linalg.norm(turned - gt, axis=-1).mean())
    return np.array(out)


def pitch_deg(up: np.ndarray) -> np.ndarray:
    """Angle (degrees) of (..., 3) up vectors in camera axes about the camera's x axis; positive: their top
    towards the camera (a camera looking down sees the world's up so)."""
    return np.degrees(np.arctan2(-up[..., 2], -up[..., 1]))


def default_sole_heights() -> dict[int, float]:
    """The bundled body's foot joints' heights above its sole (what the bridge gives bridge.ground)."""
    return pipeline.sole_heights(*shaped_rest(load_body_model_arrays(), None))


def body_pitch_deg(joints: np.ndarray) -> float:
    """pitch_deg of bridge.ground.body_up, NaN where that falls back to the camera's up (no plausible body up)."""
    up = ground.body_up(joints)
    return float("nan") if np.array_equal(up, [0.0, -1.0, 0.0]) else float(pitch_deg(up))


def lean_error_fit(pitches: np.ndarray) -> np.ndarray:
    """(slope, offset deg, mean error deg, clips) of the lean error (answered minus true) against the camera's
    pitch, least squares over the clips with both leans; pitches (N, 3) per clip: camera pitch, the truth's
    lean, the row's lean (degrees). Slope and offset NaN with fewer than three clips."""
    camera, true, answered = np.asarray(pitches, np.float64).reshape(-1, 3).T
    kept = np.isfinite(true) & np.isfinite(answered)
    error = answered[kept] - true[kept]
    mean = float(error.mean()) if kept.any() else float("nan")
    if kept.sum() < 3:
        return np.array([np.nan, np.nan, mean, kept.sum()])
    slope, offset = np.polyfit(camera[kept], error, 1)
    return np.array([slope, offset, mean, kept.sum()])


def wrong_order_runs(pred: np.ndarray, gt: np.ndarray) -> list[int]:
    """Lengths of the runs of consecutive frames in which a clear limb bone's depth order is wrong, every bone."""
    return [int(b - a) for bone in metrics.wrong_limb_orders(pred, gt).T for a, b in runs_of(bone)]


def set_anatomy(clips: list[tuple[dict[str, np.ndarray], np.ndarray]], row: str,
                sole_heights: dict[int, float], fps: float = 30.0) -> dict:
    """The anatomy of one row over one set's clips (clip_rows of each), frame-weighted like the tables."""
    axes, weights, plain, whole, per_frame, leans, runs = [], [], [], [], [], [], []
    per_axis, pitches = [], []
    for rows, _ in clips:
        pred, gt = rows[row], rows["truth"]
        frames = len(gt)
        axes.append(joint_axes(pred, gt))
        weights.append(frames)
        plain.append(metrics.mpjpe14(pred, gt) * frames)
        whole.append(metrics.slow_turn_aligned14(pred, gt, frames) * frames)
        per_frame.append(metrics.turn_aligned14(pred, gt)[0] * frames)
        per_axis.append(axis_turn_aligned14(pred, gt) * frames)
        floor_up = ground.estimate_world_frame(gt, np.ones(frames, bool), fps, sole_heights).rotation[2]
        pitches.append((float(pitch_deg(floor_up)), body_pitch_deg(gt), body_pitch_deg(pred)))
        true_lean = leg_lean_deg(gt)
        leans.append((float(true_lean.mean()), float((leg_lean_deg(pred) - true_lean).mean())))
        runs += wrong_order_runs(pred, gt)
    total = float(sum(weights))
    leans_array = np.array(leans)
    run_array = np.array(runs or [0])
    return {
        "joints": np.average(np.stack(axes), axis=0, weights=weights),
        "mpjpe14": MM * sum(plain) / total,
        "clip_turn_aligned14": MM * sum(whole) / total,
        "frame_turn_aligned14": MM * sum(per_frame) / total,
        "axis_turn_aligned14": MM * np.sum(per_axis, axis=0) / total,
        "pitches_deg": np.array(pitches), "lean_error_fit": lean_error_fit(np.array(pitches)),
        "lean_true_deg": leans_array[:, 0], "lean_error_deg": leans_array[:, 1],
        "lean_correlation": float(np.corrcoef(leans_array.T)[0, 1]) if len(leans) > 2 else float("nan"),
        "wrong_runs": len(runs), "wrong_frames_in_runs_of_10_or_more":
            float(run_array[run_array >= 10].sum() / max(run_array.sum(), 1)),
    }


def format_anatomy(name: str, anatomy: dict) -> str:
    lines = [f"### {name}: MPJPE-14 {anatomy['mpjpe14']:.1f}; one turn per clip {anatomy['clip_turn_aligned14']:.1f}; "
             f"one per frame {anatomy['frame_turn_aligned14']:.1f}",
             "| joint | error | depth | in picture | signed depth |", "|---|---|---|---|---|"]
    lines += [f"| {joint} | {a:.1f} | {d:.1f} | {p:.1f} | {s:+.1f} |"
              for joint, (a, d, p, s) in zip(LSP14_NAMES, anatomy["joints"])]
    lines.append(f"Leg lean, true mean per clip {np.round(anatomy['lean_true_deg'], 1).tolist()} deg; error "
                 f"{np.round(anatomy['lean_error_deg'], 1).tolist()}; correlation {anatomy['lean_correlation']:+.2f}")
    x, y, z = anatomy["axis_turn_aligned14"]
    lines.append(f"One turn per frame about the camera's x axis {x:.1f}, y {y:.1f}, z {z:.1f}")
    slope, offset, mean, kept = anatomy["lean_error_fit"]
    camera, true, answered = anatomy["pitches_deg"].T
    lines.append(f"Lean towards the camera per clip (deg): camera pitch {np.round(camera, 1).tolist()}, true "
                 f"{np.round(true, 1).tolist()}, answered {np.round(answered, 1).tolist()}; error over {kept:.0f} "
                 f"clips: mean {mean:+.1f}, {slope:+.2f} x pitch {offset:+.1f}, none at pitch {-offset / slope:+.1f}")
    lines.append(f"Wrong depth-order runs: {anatomy['wrong_runs']}, "
                 f"{100 * anatomy['wrong_frames_in_runs_of_10_or_more']:.0f} % of their frames in runs of 10 or more")
    return "\n".join(lines)


def joint_sets(joints: dict[str, np.ndarray], eval_json: Path | None, name: str
               ) -> dict[str, tuple[list[str], list[str]]]:
    """{set: (clip names, row names)}: eval_rendered.py's sets, or every clip of the file as one set `name`."""
    if eval_json is not None:
        report = json.loads(eval_json.read_text())
        return {set_name: ([clip["name"] for clip in entry["clips"]], list(entry["rows"]))
                for set_name, entry in report["sets"].items()}
    clips = [key[:-len("/scored")] for key in joints if key.endswith("/scored")]
    rows = [key[len(clips[0]) + 1:] for key in joints if key.startswith(f"{clips[0]}/")] if clips else []
    return {name: (clips, [row for row in rows if row not in ("truth", "scored")])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--joints", type=Path, required=True, help="eval_rendered.py --joints output")
    parser.add_argument("--eval-json", type=Path, default=None,
                        help="eval_rendered.py's --json of the same run (which clip is in which set)")
    args = parser.parse_args(argv)
    with np.load(args.joints) as data:
        joints = {key: data[key] for key in data.files}
    soles = default_sole_heights()
    for set_name, (names, row_names) in joint_sets(joints, args.eval_json, args.joints.stem).items():
        clips = [clip_rows(joints, name) for name in names]
        for row in row_names:
            print(format_anatomy(f"{set_name}, {row}", set_anatomy(clips, row, soles)) + "\n")


if __name__ == "__main__":
    main()
