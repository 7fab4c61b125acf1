"""Turn a results file into an animated rig: the worker behind the import button and the headless script.

Operators only gather options and call `import_clip`; scripts/video_to_blend.py calls the same function.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from . import keyframes, rig_builder, rig_math
from .bridge_locator import import_bridge
from .keyframe_writer import new_action_for, write_channels

_body_model = import_bridge("body_model")
_results = import_bridge("results")


class ImportProblem(RuntimeError):
    """The clip cannot be imported as asked; the message says what to change."""


@dataclass
class ImportOptions:
    """What the user chose. fps_mode "VIDEO" keeps the clip's rate (and sets the scene's), "SCENE" resamples
    to the scene's rate. target "NEW" builds a rig, "ACTIVE" animates the active ARTS rig with a new action.
    Tolerances of 0 keep a key on every frame (rotation in radians, location in metres)."""

    fps_mode: str = "VIDEO"
    target: str = "NEW"
    frame_start: int = 1
    rotation_tolerance_rad: float = 0.0
    location_tolerance_m: float = 0.0
    with_mesh: bool = True
    add_camera: bool = True
    use_world: bool = True  # the clip's world frame (floor at z = 0) when the results have one
    video_path: str = ""
    body_model_path: str = ""


@dataclass
class ImportedClip:
    armature: bpy.types.Object
    mesh: bpy.types.Object | None
    camera: bpy.types.Object | None
    action: bpy.types.Action
    frame_start: int
    frame_end: int
    fps: float


_BODY_MODEL_CACHE: dict[tuple[str, float], object] = {}


def load_body_model(path: str = ""):
    """BodyModelArrays for `path` ("" = the bundled free model), cached by path and modification time."""
    resolved = str(Path(bpy.path.abspath(path)).resolve()) if path else ""
    key = (resolved, Path(resolved).stat().st_mtime if resolved and Path(resolved).is_file() else 0.0)
    if key not in _BODY_MODEL_CACHE:
        _BODY_MODEL_CACHE.clear()  # one model at a time: they are tens of MB
        try:
            _BODY_MODEL_CACHE[key] = _body_model.load_body_model_arrays(resolved or None)
        except _body_model.BodyModelError as exc:
            raise ImportProblem(str(exc)) from exc
    return _BODY_MODEL_CACHE[key]


def read_clip(path: str):
    """ClipResult from a results file; ImportProblem with the reader's message when it is not valid."""
    try:
        return _results.read_results(bpy.path.abspath(path))
    except _results.ResultsError as exc:
        raise ImportProblem(str(exc)) from exc


def set_scene_fps(scene: bpy.types.Scene, fps: float) -> None:
    """Blender stores a rate as fps / fps_base with an integer fps (29.97 = 30 / 1.001)."""
    whole = max(1, round(fps))
    scene.render.fps = whole
    scene.render.fps_base = whole / fps


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base


def clip_name(clip) -> str:
    """Action and rig name: the source video's stem, or a generic name for results without one."""
    return Path(clip.source).stem if clip.source else "ARTS clip"


def _check_body_model(clip, arrays) -> None:
    if clip.body_model_id and clip.body_model_id != arrays.model_id:
        raise ImportProblem(
            f"this clip was made with body model '{clip.body_model_id}' but the add-on preferences select "
            f"'{arrays.model_id}'; select the same body model (Preferences > Add-ons > ARTS Mocap) or "
            "process the video again")


def _target_rig(context, clip, arrays, options: ImportOptions, name: str) -> tuple[rig_builder.Rig, bool]:
    active = context.view_layer.objects.active
    if options.target == "ACTIVE":  # checked by import_clip before anything is built
        return rig_builder.Rig(armature=active, mesh=None, rest=rig_builder.rest_from_armature(active)), False
    rig = rig_builder.build_rig(name, context.collection, arrays, clip.betas, with_mesh=options.with_mesh)
    return rig, True


def clip_tracks(clip, rest: rig_math.RestSkeleton, pelvis_rest_smpl: np.ndarray, src_fps: float,
                dst_fps: float, use_world: bool = True
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(quaternions (K, 24, 4), pelvis locations (K, 3), confidence (K,), detected (K,), contacts (K, 4) or
    None) at `dst_fps`, in the clip's world frame when it has one and `use_world`, else in camera space."""
    rotation, offset = rig_math.world_transform(clip.world_from_camera if use_world else None)
    quats = rig_math.pose_bone_quaternions(clip.pose_aa, rest.rest_rotmats, rotation)
    locs = rig_math.pelvis_locations(clip.trans_m, pelvis_rest_smpl, rest.heads[0], rest.rest_rotmats[0],
                                     rotation, offset)
    confidence = clip.confidence.astype(np.float64)
    detected = clip.valid.astype(np.float64)
    contacts = None if clip.contacts is None else np.asarray(clip.contacts, dtype=np.float64)
    if not math.isclose(src_fps, dst_fps, rel_tol=1e-6):
        positions = keyframes.resample_times(len(quats), src_fps, dst_fps)
        quats = keyframes.resample_quaternions(quats, positions)
        locs = keyframes.resample_linear(locs, positions)
        confidence = keyframes.resample_linear(confidence, positions)
        detected = keyframes.resample_linear(detected, positions) >= 0.5
        contacts = None if contacts is None else keyframes.resample_linear(contacts, positions)
    return quats, locs, confidence, np.asarray(detected, dtype=np.float64), contacts


def import_clip(context, clip, options: ImportOptions, name: str | None = None) -> ImportedClip:
    """Build (or reuse) a rig and give it a NEW action holding the clip; set the scene's range and rate.

    Nothing is created when the clip and the options do not fit together (ImportProblem is raised first).
    """
    scene = context.scene
    name = name or clip_name(clip)
    arrays = load_body_model(options.body_model_path)
    _check_body_model(clip, arrays)
    if options.target == "ACTIVE" and not rig_builder.is_arts_rig(context.view_layer.objects.active):
        raise ImportProblem("'Animate active rig' needs an ARTS rig as the active object; select one or "
                            "choose 'New rig'")
    if options.fps_mode not in ("VIDEO", "SCENE"):
        raise ImportProblem(f"unknown frame-rate mode {options.fps_mode!r}")

    dst_fps = scene_fps(scene) if options.fps_mode == "SCENE" else clip.fps
    _, pelvis_rest = _body_model.shaped_rest(arrays, clip.betas)
    rig, created = _target_rig(context, clip, arrays, options, name)
    quats, locs, confidence, detected, contacts = clip_tracks(clip, rig.rest, np.asarray(pelvis_rest)[0], clip.fps,
                                                              dst_fps, options.use_world)

    armature = rig.armature
    per_frame = [(keyframes.CONFIDENCE_PROPERTY, confidence), (keyframes.DETECTED_PROPERTY, detected)]
    if contacts is not None:
        per_frame += list(zip(keyframes.CONTACT_PROPERTIES, contacts.T))
    for prop, values in per_frame:
        armature[prop] = float(values[0])
        armature.id_properties_ui(prop).update(min=0.0, max=1.0, description="ARTS per-frame detection")
    channels = keyframes.pose_channels(rig_math.SMPL_JOINT_NAMES, quats, locs, options.frame_start,
                                       options.rotation_tolerance_rad, options.location_tolerance_m)
    channels += keyframes.property_channels(confidence, detected, options.frame_start, contacts)
    action = new_action_for(armature, name)
    write_channels(armature, action, channels)
    action["arts_source"] = clip.source
    action["arts_model_id"] = clip.model_id
    action["arts_smoothing"] = clip.smoothing
    action["arts_fps"] = float(dst_fps)

    if options.fps_mode == "VIDEO":
        set_scene_fps(scene, clip.fps)
    frame_end = options.frame_start + len(quats) - 1
    scene.frame_start, scene.frame_end = options.frame_start, frame_end
    scene.frame_set(options.frame_start)

    for obj in context.view_layer.objects:
        obj.select_set(False)
    armature.select_set(True)
    context.view_layer.objects.active = armature  # ready for editing, smoothing and export

    camera = None
    if options.add_camera and created:
        # Line the video's first processed frame up with the first key (movie clips play one frame per
        # scene frame, so with "resample to scene" the backdrop drifts when the two rates differ).
        offset = options.frame_start - int(clip.frame_indices[0])
        rotation, origin = rig_math.world_transform(clip.world_from_camera if options.use_world else None)
        camera = rig_builder.add_camera(f"{name}_camera", context.collection, scene, clip.focal_px,
                                        clip.image_size, rig_math.camera_object_matrix(rotation, origin),
                                        options.video_path, offset)
    return ImportedClip(armature=armature, mesh=rig.mesh, camera=camera, action=action,
                        frame_start=options.frame_start, frame_end=frame_end, fps=float(dst_fps))
