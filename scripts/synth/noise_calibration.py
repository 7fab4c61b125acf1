"""Compare the detector-error model with what MediaPipe really reports, on clips that have both and the truth.

Real: clip files from scripts/synth/detected_clips.py (`landmark_source` mediapipe: PoseLandmarker run on
rendered video of the clip). Simulated: clip files from scripts/synth/generate.py. Both hold the clean
landmarks the error is measured against. Per landmark group, on detected frames, medians of:
- image error (total) and its frame-to-frame part (jitter), as a fraction of the person's size;
- world-landmark error (total), its jitter and its slow part (15-frame running mean), mm, after removing
  nothing but the hips (both are hip-centred);
and per clip: the world skeleton's size against the truth (root-sum-square ratio), the share of frames whose
world landmarks fit the truth better mirrored in depth or with left and right exchanged, the gains across the
image plane and in depth (least-squares slope of the world landmarks' hip-relative offsets on the truth's, after
that size: MediaPipe flattens the body towards the image plane), and mean visibility; and the whole world
skeleton's turn against the truth (rotation vector in camera axes, degrees: x leaning towards or away from the
camera, y heading, z roll): its per-clip mean and its spread within a clip. Real world landmarks are first
turned from MediaPipe's crop view into camera axes (--world-frame camera, the default), as the network reads them.

  python -m scripts.synth.noise_calibration --real .cache/arts/detected_v1 --simulated .cache/arts/data_v3
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.spatial.transform import Rotation

from bridge.keypoints import MEDIAPIPE_FLIP
from bridge.metrics import best_rotation
from bridge.models.config import WORLD_FRAMES

from .clip_file import load_clip, world_in_camera_axes

GROUPS = {"face": list(range(11)), "torso": [11, 12, 23, 24], "elbows, knees": [13, 14, 25, 26],
          "wrists, ankles": [15, 16, 27, 28], "hands, feet": [17, 18, 19, 20, 21, 22, 29, 30, 31, 32]}
BODY = np.arange(11, 33)
MEASURES = ("image", "image jitter", "world mm", "world jitter mm", "world slow mm")


def clip_errors(clip: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """Per-frame, per-landmark error norms of one clip's detected frames (None if under 20 of them)."""
    valid = clip["valid"].astype(bool)
    if valid.sum() < 20:
        return None
    clean_px = clip["mp_image_clean"][valid]
    size = np.maximum((clean_px.max(axis=1) - clean_px.min(axis=1)).max(axis=-1), 1.0)[:, None, None]
    image = (clip["mp_image"][valid, :, :2] - clean_px) / size
    truth = clip["mp_world_clean"][valid]
    truth = truth - 0.5 * (truth[:, 23:24] + truth[:, 24:25])
    world = clip["mp_world"][valid] - truth
    norm = lambda e: np.linalg.norm(e, axis=-1)  # noqa: E731
    return {"image": norm(image), "image jitter": norm(np.diff(image, axis=0)) / np.sqrt(2.0),
            "world mm": 1000 * norm(world), "world jitter mm": 1000 * norm(np.diff(world, axis=0)) / np.sqrt(2.0),
            "world slow mm": 1000 * norm(uniform_filter1d(world, 15, axis=0))}


def clip_confusions(clip: dict[str, np.ndarray]) -> dict[str, float]:
    """World scale against the truth, shares of frames best explained by a depth mirror or a left/right
    exchange, and mean visibility, on detected frames."""
    valid = clip["valid"].astype(bool)
    truth = clip["mp_world_clean"][valid]
    truth = truth - 0.5 * (truth[:, 23:24] + truth[:, 24:25])
    world = clip["mp_world"][valid]
    scale = float(np.sqrt((world[:, BODY] ** 2).sum() / (truth[:, BODY] ** 2).sum()))  # blind to rotation
    candidates = [truth, truth * [1.0, 1.0, -1.0], truth[:, list(MEDIAPIPE_FLIP)]]
    errors = np.stack([np.linalg.norm(scale * c[:, BODY] - world[:, BODY], axis=-1).mean(axis=1) for c in candidates])
    best = errors.argmin(axis=0)
    body_truth, body_world = scale * truth[:, BODY], world[:, BODY]
    gains = (body_world * body_truth).sum(axis=(0, 1)) / np.maximum((body_truth ** 2).sum(axis=(0, 1)), 1e-9)
    return {"scale": scale, "depth mirrored": float((best == 1).mean()), "left/right": float((best == 2).mean()),
            "lateral gain": float(0.5 * (gains[0] + gains[1])), "depth gain": float(gains[2]),
            "visibility": float(clip["mp_image"][valid][:, BODY, 2].mean())}


#: Turns above this are depth mirrors or left/right exchanges (counted by clip_confusions), not a turn.
_MAX_TURN_DEG = 60.0
#: Shoulders, elbows, wrists, hips, knees, ankles: the joints a body's orientation is read from.
_TURN_LANDMARKS = [11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]


def turn_vectors(truth: np.ndarray, world: np.ndarray) -> np.ndarray:
    """(F, 3) rotation vectors, degrees: each frame's least-squares turn of truth (F, J, 3) onto world, both
    about their own centroids."""
    truth = truth - truth.mean(axis=1, keepdims=True)
    world = world - world.mean(axis=1, keepdims=True)
    rotation, _ = best_rotation(truth, world)
    return np.degrees(Rotation.from_matrix(rotation).as_rotvec())


def clip_turn(clip: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """The per-clip mean (3,) and within-clip std (3,) of the turn that takes the truth onto the world skeleton,
    degrees, on detected frames turned under _MAX_TURN_DEG (None if fewer than 20)."""
    valid = clip["valid"].astype(bool)
    if valid.sum() < 20:
        return None
    turn = turn_vectors(clip["mp_world_clean"][valid][:, _TURN_LANDMARKS].astype(np.float64),
                        clip["mp_world"][valid][:, _TURN_LANDMARKS].astype(np.float64))
    turn = turn[np.linalg.norm(turn, axis=-1) < _MAX_TURN_DEG]
    if len(turn) < 20:
        return None
    return turn.mean(axis=0), turn.std(axis=0)


def summarise(folder: Path, max_clips: int, camera_axes: bool = True
              ) -> tuple[dict[str, dict[str, float]], dict[str, float], int]:
    """Median error per group and measure, mean per-clip confusions, over up to max_clips clips (spread).
    camera_axes: MediaPipe's real world landmarks turned into camera axes first, as training and the bridge
    turn them for a network with world_frame "camera" (clip_file.world_in_camera_axes)."""
    files = sorted(folder.glob("*.npz"))
    files = [files[i] for i in np.unique(np.linspace(0, len(files) - 1, min(max_clips, len(files))).astype(int))]
    pooled: dict[str, list[np.ndarray]] = {m: [] for m in MEASURES}
    confusions: list[dict[str, float]] = []
    turns: list[tuple[np.ndarray, np.ndarray]] = []
    for path in files:
        clip = load_clip(path)
        if camera_axes:
            clip = world_in_camera_axes(clip)
        errors = clip_errors(clip)
        if errors is None:
            continue
        for measure, values in errors.items():
            pooled[measure].append(values)
        confusions.append(clip_confusions(clip))
        turn = clip_turn(clip)
        if turn is not None:
            turns.append(turn)
    if not confusions:
        raise SystemExit(f"{folder}: no clip with 20 detected frames")
    table = {group: {m: float(np.median(np.concatenate([v[:, idx] for v in pooled[m]]))) for m in MEASURES}
             for group, idx in GROUPS.items()}
    means = {key: float(np.mean([c[key] for c in confusions])) for key in confusions[0]}
    if turns:
        clip_means, spreads = np.array([t[0] for t in turns]), np.array([t[1] for t in turns])
        for k, axis in enumerate("xyz"):  # a turn the network cannot see through is the per-clip part
            means[f"turn {axis} per clip rms deg"] = float(np.sqrt((clip_means[:, k] ** 2).mean()))
            means[f"turn {axis} within clip deg"] = float(spreads[:, k].mean())
    return table, means, len(confusions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, required=True, help="clip files with real MediaPipe landmarks")
    parser.add_argument("--simulated", type=Path, required=True, help="clip files from the error model")
    parser.add_argument("--max-clips", type=int, default=200, help="per folder, spread over its files")
    parser.add_argument("--world-frame", choices=WORLD_FRAMES, default="camera",
                        help="real world landmarks turned into camera axes (as training and the bridge do for a "
                             "network with world_frame camera) or as MediaPipe gives them (tables before session 21)")
    args = parser.parse_args()
    results = {name: summarise(folder, args.max_clips, args.world_frame == "camera") for name, folder in
               (("real", args.real), ("simulated", args.simulated))}
    print(f"{'group':16s}{'source':>11s}" + "".join(f"{m:>17s}" for m in MEASURES))
    for group in GROUPS:
        for name, (table, _, _) in results.items():
            print(f"{group:16s}{name:>11s}" + "".join(
                f"{table[group][m]:17.4f}" if m.startswith("image") else f"{table[group][m]:17.1f}" for m in MEASURES))
    for name, (_, means, clips) in results.items():
        print(f"{name} ({clips} clips): " + ", ".join(f"{key} {value:.3f}" for key, value in means.items()))


if __name__ == "__main__":
    main()
