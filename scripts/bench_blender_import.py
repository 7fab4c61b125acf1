"""Benchmark: build the rig and every key for a long clip, bulk writing versus per-key `keyframe_insert`.

Synthesises a 10-minute 30 fps results clip (18,000 frames of smooth random motion), imports it with the
add-on's importer (rig + bulk F-curve writes), then keys the same rotations and pelvis locations on a
second rig one `keyframe_insert` at a time, and prints both times and their ratio.
Targets: bulk under 3 s, at least 50x faster than per-key.

    .venv/bin/python scripts/bench_blender_import.py [--frames 18000] [--per-key-frames 3600]

Per-key inserting slows down as curves grow (each insert searches and shifts the keys: about 1.4 ms per
frame at 600 frames, 18 ms at 4,800), so keying all 18,000 frames one by one takes tens of minutes. By
default it is timed on the first 3,600 frames and scaled LINEARLY to the clip, which underestimates it:
the printed speed-up is a lower bound. --per-key-frames 0 times every frame.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts.bpy_module import import_bpy  # noqa: E402

bpy = import_bpy()
import numpy as np  # noqa: E402

from arts_blender import importer, rig_builder, rig_math  # noqa: E402
from arts_blender.keyframe_writer import fcurves_of  # noqa: E402
from bridge import body_model  # noqa: E402
from bridge.geometry import kinematics, rotations  # noqa: E402
from bridge.results import ClipResult  # noqa: E402
from bridge.skeleton import SMPL_PARENTS  # noqa: E402


def synthetic_clip(frames: int, fps: float, arrays) -> ClipResult:
    """Smooth random motion: every joint angle a sum of slow sines, the body walking across the view."""
    rng = np.random.default_rng(0)
    t = np.arange(frames) / fps
    freqs = rng.uniform(0.1, 1.5, size=(3, 24, 3))
    phases = rng.uniform(0, 2 * np.pi, size=(3, 24, 3))
    pose = 0.25 * np.sin(2 * np.pi * freqs[None] * t[:, None, None, None] + phases[None]).sum(axis=1)
    pose[:, 0] = [np.pi, 0.0, 0.0]
    trans = np.stack([np.sin(t * 0.2), 0.1 * np.sin(t), 4.0 + np.cos(t * 0.1)], axis=1)
    _, rest_joints = body_model.shaped_rest(arrays, np.zeros(10))
    posed, _ = kinematics.forward_kinematics(rotations.axis_angle_to_matrix(pose), rest_joints, SMPL_PARENTS)
    return ClipResult(
        fps=fps, frame_indices=np.arange(frames), pose_aa=pose.astype(np.float32),
        betas=np.zeros(10, np.float32), trans_m=trans.astype(np.float32),
        joints_3d=(posed + trans[:, None]).astype(np.float32), keypoints_2d=np.zeros((frames, 33, 3), np.float32),
        valid=np.ones(frames, bool), confidence=np.full(frames, 0.9, np.float32), image_size=(1280, 720),
        focal_px=1000.0, model_id="benchmark", body_model_id=arrays.model_id, source="benchmark.mp4")


def per_key_insert(armature, quats: np.ndarray, locs: np.ndarray, frame_start: int) -> None:
    """The naive way: set each pose bone's value and call keyframe_insert, frame by frame."""
    bones = [armature.pose.bones[name] for name in rig_math.SMPL_JOINT_NAMES]
    for f in range(len(quats)):
        frame = frame_start + f
        for j, bone in enumerate(bones):
            bone.rotation_quaternion = quats[f, j]
            bone.keyframe_insert("rotation_quaternion", frame=frame)
        bones[0].location = locs[f]
        bones[0].keyframe_insert("location", frame=frame)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=18000)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--per-key-frames", type=int, default=3600,
                    help="time per-key on this many frames and scale linearly (0: all frames)")
    args = ap.parse_args()

    arrays = importer.load_body_model("")
    clip = synthetic_clip(args.frames, args.fps, arrays)
    context = bpy.context

    t0 = time.perf_counter()
    imported = importer.import_clip(context, clip, importer.ImportOptions(add_camera=False))
    bulk_s = time.perf_counter() - t0

    # Per-key: the same rig build, then the same values keyed one at a time.
    t0 = time.perf_counter()
    rig = rig_builder.build_rig("per_key", context.collection, arrays, clip.betas)
    rig.armature.animation_data_create().action = bpy.data.actions.new("per_key")
    _, rest_joints = body_model.shaped_rest(arrays, clip.betas)
    quats, locs, _, _, _ = importer.clip_tracks(clip, rig.rest, np.asarray(rest_joints)[0], clip.fps, clip.fps)
    build_s = time.perf_counter() - t0
    count = min(args.per_key_frames or len(quats), len(quats))
    t0 = time.perf_counter()
    per_key_insert(rig.armature, quats[:count], locs[:count], 1)
    insert_s = (time.perf_counter() - t0) * len(quats) / count
    per_key_s = build_s + insert_s

    keys = sum(len(fc.keyframe_points) for fc in fcurves_of(imported.armature))
    scaled = (f" (keyframe_insert timed on {count} frames, scaled linearly: a lower bound)"
              if count < len(quats) else "")
    print(f"clip: {args.frames} frames at {args.fps:g} fps, {keys} keys in the bulk action")
    print(f"bulk import (rig + mesh + all keys): {bulk_s:.2f} s")
    print(f"per-key keyframe_insert (rig + mesh + all keys): {per_key_s:.2f} s{scaled}")
    print(f"speed-up: {per_key_s / bulk_s:.1f}x  (targets: bulk < 3 s, speed-up >= 50x)")


if __name__ == "__main__":
    main()
