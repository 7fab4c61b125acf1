"""How well a captured clip lands on other characters: import a results file, retarget it onto Mixamo-,
Unreal-, VRM- and Unity-named skeletons of other proportions in an A-pose and onto a generated Rigify rig,
and print, per rig, what issue 12 asks of a retarget.

    .venv/bin/python scripts/eval_retarget.py RESULTS.npz [--rigs MIXAMO UNREAL VRM UNITY RIGIFY] [--json OUT]

Measures (world space, every frame of the clip):
- segment: mean angle (degrees) between each mapped segment of the target (upper arm, forearm, thigh, shin,
  spine, neck) and its ARTS bone; for Rigify the deform segment as the mesh follows it (head to the tail of
  its last B-Bone split);
- hand: mean angle between the hand's turn away from its rest and the ARTS wrist's, after the fixed rotation
  that lays the target's rest hand along the ARTS one (what the retarget promises to keep);
- feet / root: mean and largest distance between the target's ankle (hips) path and the ARTS one scaled by the
  ratio of leg lengths, both from their first frame, in % of the target's height;
- skate: median horizontal speed (cm/s) of the target's ankle and toe joints in the frames where the results
  file says that point of the foot is planted (contact > 0.5), beside the ARTS rig's in the same frames, and
  the ARTS rig's times the leg ratio (what an exact copy of the motion at the target's size would give);
- source unchanged: the ARTS action's keys are the same before and after every retarget.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RIGS = ("MIXAMO", "UNREAL", "VRM", "UNITY", "RIGIFY")
SEGMENTS = {"upper arm": ("left_shoulder", "right_shoulder"), "forearm": ("left_elbow", "right_elbow"),
            "thigh": ("left_hip", "right_hip"), "shin": ("left_knee", "right_knee"),
            "spine": ("spine1", "spine2", "spine3"), "neck": ("neck",)}
#: Foot points of the results' contacts (left heel, left toe, right heel, right toe) -> the ARTS bone whose
#: head is that point (the ankle joint carries the heel's contact, the toe joint the toe's).
CONTACT_BONES = ("left_ankle", "left_foot", "right_ankle", "right_foot")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(np.sum(_unit(a) * _unit(b), axis=-1), -1.0, 1.0)))


def _rotation_angle(r: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip((np.trace(r, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)))


def sample_world(bpy, armature, bones: list[str], frames: range, segment_of: dict[str, str] | None = None
                 ) -> dict[str, dict[str, np.ndarray]]:
    """Per bone: 'rot' (F, 3, 3) world rotation (scale removed), 'head' (F, 3), 'dir' (F, 3) the segment's
    direction (head to the tail of `segment_of[bone]`, default its own tail)."""
    scene = bpy.context.scene
    world = np.array(armature.matrix_world)
    out = {b: {"rot": np.empty((len(frames), 3, 3)), "head": np.empty((len(frames), 3)),
               "dir": np.empty((len(frames), 3))} for b in bones}
    for k, frame in enumerate(frames):
        scene.frame_set(frame)
        for b in bones:
            pose = armature.pose.bones[b]
            m = world @ np.array(pose.matrix)
            out[b]["rot"][k] = m[:3, :3] / np.linalg.norm(m[:3, :3], axis=0)
            out[b]["head"][k] = world[:3, :3] @ np.array(pose.head) + world[:3, 3]
            tail_bone = armature.pose.bones[(segment_of or {}).get(b, b)]
            out[b]["dir"][k] = world[:3, :3] @ (np.array(tail_bone.tail) - np.array(pose.head))
    return out


def world_rest(armature, bone: str) -> np.ndarray:
    m = np.array(armature.matrix_world) @ np.array(armature.data.bones[bone].matrix_local)
    return m[:3, :3] / np.linalg.norm(m[:3, :3], axis=0)


def build_target(bpy, kind: str, source):
    """(armature, mapping-name -> bone used for segment tails) for a rig kind."""
    from arts_blender.retarget import bake
    from scripts import retarget_rigs

    if kind == "RIGIFY":
        rig = retarget_rigs.generate_rigify(bpy)
        return rig, {b.name: f"{b.name}.001" for b in rig.data.bones
                     if b.name.startswith("DEF-") and not b.name.startswith("DEF-spine")
                     and f"{b.name}.001" in rig.data.bones}
    rest = retarget_rigs.a_posed_rest(bake.rig_rest(source), kind)
    placement = retarget_rigs.MIXAMO_OBJECT if kind == "MIXAMO" else np.eye(4)
    return retarget_rigs.build_armature(bpy, f"{kind.lower()}_character", rest, placement), {}


def evaluate(results: Path, rigs: list[str]) -> dict:
    from scripts.bpy_module import import_bpy

    bpy = import_bpy()
    import addon_utils

    from arts_blender import importer
    from arts_blender.keyframe_writer import fcurves_of, read_channel
    from arts_blender.retarget import bake
    from arts_blender.retarget.mapping import rigify_org_mapping
    from arts_blender.retarget.solve import leg_length
    from bridge.geometry import swing_twist

    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    for collection in (bpy.data.objects, bpy.data.meshes, bpy.data.armatures, bpy.data.actions):
        for block in list(collection):
            collection.remove(block)
    clip = importer.read_clip(str(results))
    imported = importer.import_clip(bpy.context, clip, importer.ImportOptions(add_camera=False))
    source = imported.armature
    frames = range(imported.frame_start, imported.frame_end + 1)
    fps = imported.fps
    keys_before = [read_channel(fc)[1].copy() for fc in fcurves_of(source)]
    smpl = list(bake.rig_rest(source).matrix)
    src = sample_world(bpy, source, smpl, frames)
    contacts = np.asarray(clip.contacts if clip.contacts is not None else np.zeros((len(frames), 4)))[:len(frames)]
    source_leg = leg_length(bake.rig_rest(source), "left_hip", "left_knee")
    report = {"results": str(results), "frames": len(frames), "fps": fps, "rigs": {}}
    for kind in rigs:
        target, segment_of = build_target(bpy, kind, source)
        started = time.perf_counter()
        _, mapping = bake.bake(source, target)
        bake_s = time.perf_counter() - started
        tgt = sample_world(bpy, target, list(mapping.bones.values()), frames, segment_of)
        scale = np.cbrt(abs(np.linalg.det(np.array(target.matrix_world)[:3, :3])))
        target_rest = bake.rig_rest(target)
        legs = rigify_org_mapping(mapping).bones if kind == "RIGIFY" else mapping.bones  # DEF bones are halves
        ratio = scale * leg_length(target_rest, legs["left_hip"], legs["left_knee"]) / source_leg
        heads = np.array([np.array(target.matrix_world) @ np.append(m[:3, 3], 1.0) for m in target_rest.matrix.values()])
        height = float(np.ptp(heads[:, 2])) * 1.08  # head joint to ankles, plus the skull and the foot below
        row: dict = {"preset": mapping.preset, "bake_s": round(bake_s, 2), "leg_ratio": round(float(ratio), 3),
                     "height_m": round(height, 3), "segment_deg": {}}
        for name, bones in SEGMENTS.items():
            angles = [_angle(tgt[mapping.bones[b]]["dir"], src[b]["dir"]) for b in bones if b in mapping.bones]
            row["segment_deg"][name] = round(float(np.mean(angles)), 2) if angles else None
        hand = []
        for b in ("left_wrist", "right_wrist"):
            t = mapping.bones[b]
            t_rest, s_rest = world_rest(target, t), world_rest(source, b)
            lay = swing_twist.swing_rotation(t_rest[:, 1], s_rest[:, 1])
            t_turn = tgt[t]["rot"] @ (lay @ t_rest).T
            s_turn = src[b]["rot"] @ s_rest.T
            hand.append(_rotation_angle(np.swapaxes(t_turn, -1, -2) @ s_turn))
        row["hand_deg"] = round(float(np.mean(hand)), 2)
        for label, pairs in (("feet", (("left_ankle", "left_ankle"), ("right_ankle", "right_ankle"))),
                             ("root", (("pelvis", "pelvis"),))):
            errors = []
            for s_bone, t_key in pairs:
                t_path = tgt[mapping.bones[t_key]]["head"]
                s_path = src[s_bone]["head"]
                errors.append(np.linalg.norm((t_path - t_path[0]) - ratio * (s_path - s_path[0]), axis=-1))
            errors = np.concatenate(errors) / height * 100.0
            row[f"{label}_path_pct"] = {"mean": round(float(errors.mean()), 2), "max": round(float(errors.max()), 2)}
        skate_t, skate_s = [], []
        for k, bone in enumerate(CONTACT_BONES):
            planted = contacts[1:, k] > 0.5
            if bone not in mapping.bones or not planted.any():
                continue
            speed = lambda path: np.linalg.norm(np.diff(path[:, :2], axis=0), axis=-1) * fps * 100.0  # noqa: E731
            skate_t.append(speed(tgt[mapping.bones[bone]]["head"])[planted])
            skate_s.append(speed(src[bone]["head"])[planted])
        if skate_t:
            t_all, s_all = np.concatenate(skate_t), np.concatenate(skate_s)
            row["skate_cm_s"] = {"target": round(float(np.median(t_all)), 2), "source": round(float(np.median(s_all)), 2),
                                 "source_x_ratio": round(float(np.median(s_all) * ratio), 2),
                                 "planted_samples": int(len(t_all))}
        report["rigs"][kind] = row
        print(json.dumps({kind: row}), flush=True)
    report["source_unchanged"] = all(np.array_equal(read_channel(fc)[1], before)
                                     for before, fc in zip(keys_before, fcurves_of(source)))
    return report


def format_table(report: dict) -> str:
    lines = ["| rig | " + " | ".join(SEGMENTS) + " | hand | feet path % (mean/max) | root path % (mean/max) "
             "| skate target / source / source x ratio (cm/s) | bake s |",
             "|---" * (len(SEGMENTS) + 6) + "|"]
    for kind, row in report["rigs"].items():
        seg = " | ".join("n/a" if v is None else f"{v:.1f}" for v in row["segment_deg"].values())
        skate = row.get("skate_cm_s")
        skate_text = f"{skate['target']:.1f} / {skate['source']:.1f} / {skate['source_x_ratio']:.1f}" if skate else "n/a"
        lines.append(f"| {kind} | {seg} | {row['hand_deg']:.1f} | {row['feet_path_pct']['mean']:.2f} / "
                     f"{row['feet_path_pct']['max']:.2f} | {row['root_path_pct']['mean']:.2f} / "
                     f"{row['root_path_pct']['max']:.2f} | {skate_text} | {row['bake_s']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="an ARTS results file (python -m bridge run VIDEO -o FILE)")
    parser.add_argument("--rigs", nargs="+", default=list(RIGS), choices=RIGS)
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    report = evaluate(args.results, args.rigs)
    print(f"\n## Retarget of {args.results.name}: {report['frames']} frames at {report['fps']:g} fps; "
          f"source action unchanged: {report['source_unchanged']}\n")
    print(format_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
