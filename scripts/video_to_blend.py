"""Turn a video (or an existing results file) into a .blend, an .fbx and a preview PNG, headless.

Uses the add-on's own operators (the same code path as the panel's button): the import operator starts
the bridge (`python -m bridge serve`), follows it to the end and builds the rig; then the export operator
writes the FBX with an engine preset and a Workbench render gives the preview.

    .venv/bin/python scripts/video_to_blend.py VIDEO --out DIR             # the bpy wheel: no Blender binary
    .venv/bin/python scripts/video_to_blend.py --results clip.npz --out DIR [VIDEO]  # VIDEO: preview backdrop
    blender -b --python scripts/video_to_blend.py -- VIDEO --out DIR --python /path/to/bridge/env/bin/python
    .venv/bin/python scripts/video_to_blend.py VIDEO --out DIR --target-rig hero.fbx --export UNREAL

With --target-rig the motion is also baked onto your character's armature (arts_blender/retarget: Rigify,
Mixamo, Unreal, Unity, VRM or SMPL bone names), the .blend holds both rigs, and the FBX is the character's.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts.bpy_module import import_bpy  # noqa: E402

bpy = import_bpy()
import numpy as np  # noqa: E402
import addon_utils  # noqa: E402  (Blender's own module: importable once bpy is)

from bridge.results import read_results  # noqa: E402

PREVIEW_MAX_WIDTH_PX = 640


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video", nargs="?", help="video file to process (with --results: only shown behind the rig)")
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--results", type=Path, help="import this results .npz instead of running the bridge")
    ap.add_argument("--python", help="bridge interpreter (default: this one when it is not Blender's own)")
    ap.add_argument("--device", choices=("AUTO", "CPU", "CUDA"), default="CPU")
    ap.add_argument("--smoothing", default="light", help="bridge smoothing preset")
    ap.add_argument("--start", type=int, default=0, help="first video frame")
    ap.add_argument("--end", type=int, default=0, help="video frame to stop before (0: the end)")
    ap.add_argument("--person", default="AUTO", help="person index from list_people, or AUTO")
    ap.add_argument("--fov-deg", type=float, default=None,
                    help="the camera's field of view across the picture's long side, degrees (default: the add-on's, "
                         "55; a phone's main camera: about 65-70, held either way)")
    ap.add_argument("--fps-mode", choices=("VIDEO", "SCENE"), default="VIDEO")
    ap.add_argument("--reduce-deg", type=float, default=0.0, help="keyframe reduction tolerance, degrees (0: off)")
    ap.add_argument("--export", default="UNITY", help="export target: UNITY, UNREAL, GODOT, BVH or GLTF")
    ap.add_argument("--body-model", default="", help="body model file (default: bundled)")
    ap.add_argument("--checkpoint", default="", help="ARTS checkpoint (default: bundled)")
    ap.add_argument("--target-rig", type=Path, default=None,
                    help="your character (.blend or .fbx): the motion is baked onto its armature and the export is "
                         "of the character")
    ap.add_argument("--in-place", action="store_true",
                    help="keep the hips over one spot (with --target-rig), no root travel in the engine FBX")
    ap.add_argument("--bone-names", default="SMPL", choices=("SMPL", "UNITY", "UNREAL", "MIXAMO"),
                    help="bone names in the engine FBX of the ARTS rig (UNITY: Humanoid names)")
    ap.add_argument("--no-preview", action="store_true")
    args = ap.parse_args(argv)
    if not args.video and not args.results:
        ap.error("give a VIDEO or --results")
    return args


def _empty_scene() -> None:
    for collection in (bpy.data.objects, bpy.data.meshes, bpy.data.armatures, bpy.data.cameras,
                       bpy.data.lights, bpy.data.actions):
        for block in list(collection):
            collection.remove(block)


def _configure(args: argparse.Namespace):
    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    from arts_blender.preferences import get_prefs
    prefs = get_prefs()
    running_in_blender = bool(bpy.app.binary_path)
    python = args.python or ("" if running_in_blender else sys.executable)
    if python:
        prefs.python_path = python
    prefs.device = args.device
    prefs.body_model_path = args.body_model
    prefs.checkpoint_path = args.checkpoint
    settings = bpy.context.scene.arts_mocap
    settings.start_frame, settings.end_frame = args.start, args.end
    settings.smoothing = args.smoothing
    if args.fov_deg is not None:
        settings.camera_fov = math.radians(args.fov_deg)
    settings.fps_mode = args.fps_mode
    settings.reduce_keys = args.reduce_deg > 0
    settings.rotation_tolerance = math.radians(args.reduce_deg)
    settings.target = "NEW"
    return settings


def load_character(path: Path) -> bpy.types.Object:
    """The armature of the character file (appended from a .blend, imported from an .fbx), with its meshes;
    the one with the most bones when there are several."""
    before = set(bpy.data.objects)
    if path.suffix.lower() == ".blend":
        with bpy.data.libraries.load(str(path), link=False) as (source, loaded):
            loaded.objects = list(source.objects)
        for obj in loaded.objects:
            if obj is not None:
                bpy.context.collection.objects.link(obj)
    elif path.suffix.lower() == ".fbx":
        bpy.ops.import_scene.fbx(filepath=str(path))
    else:
        raise RuntimeError(f"--target-rig takes a .blend or .fbx file, got '{path.name}'")
    armatures = [o for o in set(bpy.data.objects) - before if o.type == "ARMATURE" and not o.get("arts_rig")]
    if not armatures:
        raise RuntimeError(f"'{path.name}' holds no armature to put the motion on")
    return max(armatures, key=lambda o: len(o.data.bones))


def preview_frame(results_path: str, scene_fps: float) -> tuple[int, int]:
    """(scene frame offset, source-video frame) of the detected frame nearest the clip's middle.

    A frame the detector missed holds an interpolated pose, so showing it would misjudge the result."""
    result = read_results(results_path)
    candidates = np.flatnonzero(result.valid)
    if candidates.size == 0:
        candidates = np.arange(result.num_frames)
    index = int(candidates[np.argmin(np.abs(candidates - (result.num_frames - 1) / 2))])
    return round(index * scene_fps / result.fps), int(result.frame_indices[index])


def render_preview(path: Path, video: str | None, scene_offset: int, video_frame: int) -> Path:
    """A Workbench render of one frame through the video's camera, over the video frame when the
    interpreter has OpenCV (the bpy wheel's venv does), else on a transparent background.
    `scene_offset` counts from the scene's first frame; `video_frame` is the matching source-video frame."""
    scene = bpy.context.scene
    scene.frame_set(scene.frame_start + scene_offset)
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "SINGLE"
    scene.render.resolution_percentage = min(100, int(100 * PREVIEW_MAX_WIDTH_PX / scene.render.resolution_x))
    scene.render.film_transparent = True
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    if video:
        try:
            import cv2
        except ImportError:
            return path
        capture = cv2.VideoCapture(video)
        capture.set(cv2.CAP_PROP_POS_FRAMES, video_frame)
        ok, frame = capture.read()
        capture.release()
        rig = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if ok and rig is not None and rig.shape[2] == 4:
            frame = cv2.resize(frame, (rig.shape[1], rig.shape[0]), interpolation=cv2.INTER_AREA)
            alpha = rig[:, :, 3:4].astype(np.float32) / 255.0
            blended = rig[:, :, :3] * alpha + frame * (1.0 - alpha)
            cv2.imwrite(str(path), blended.astype(np.uint8))
    return path


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    _empty_scene()
    settings = _configure(args)
    try:  # bpy.ops raises RuntimeError with the operator's error report
        if args.results:
            video = str(Path(args.video).resolve()) if args.video else ""
            bpy.ops.arts.import_results(filepath=str(args.results.resolve()), video_path=video)
            stem = args.results.stem
        else:
            settings.video_path = str(Path(args.video).resolve())
            settings.person = args.person
            bpy.ops.arts.import_video(use_panel_video=True, results_dir=str(args.out.resolve()))
            stem = Path(args.video).stem
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    blend = args.out / f"{stem}.blend"
    export = args.out / f"{stem}_{args.export.lower()}.fbx"
    if args.target_rig:
        from arts_blender import exporter
        from arts_blender.retarget.bake import RetargetError, bake

        source = bpy.context.view_layer.objects.active
        try:
            character = load_character(args.target_rig.resolve())
            action, mapping = bake(source, character, in_place=args.in_place)
        except (RuntimeError, RetargetError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"retargeted onto '{character.name}' ({mapping.preset}; not on it: {', '.join(mapping.missing()) or 'none'})")
        export = args.out / f"{stem}_{character.name}_{args.export.lower()}.fbx"
        exporter.export_rig(bpy.context, character, args.export.upper(), export.resolve(), armature_name="")
        bpy.context.view_layer.objects.active = source
    else:
        settings.export_bone_naming, settings.export_in_place = args.bone_names, args.in_place
        bpy.ops.arts.export(target=args.export.upper(), filepath=str(export.resolve()))
    print(f"wrote {export}")
    bpy.ops.wm.save_as_mainfile(filepath=str(blend.resolve()))
    print(f"wrote {blend}")
    if not args.no_preview:
        scene = bpy.context.scene
        offset, video_frame = preview_frame(settings.results_path, scene.render.fps / scene.render.fps_base)
        print(f"wrote {render_preview(args.out / f'{stem}_preview.png', args.video, offset, video_frame)}")
    return 0


if __name__ == "__main__":
    # `blender -b --python this.py -- ARGS` passes ARGS after "--"; the bpy wheel passes them directly.
    sys.exit(main(sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]))
