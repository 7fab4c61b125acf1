"""Operators: thin wrappers that gather options and call the workers (jobs, importer, smoothing, exporter).

Bridge work runs as a modal operator driven by a timer: the UI stays responsive, progress shows in the
status bar and the Mocap panel, and Esc or the panel's Cancel button stops the job. In background mode
(no window, e.g. `blender -b` or the bpy module) the same operators wait for the bridge instead.
"""

import time
from pathlib import Path

import bpy
import numpy as np
from bpy_extras.io_utils import ExportHelper, ImportHelper

from . import export_presets, exporter, jobs, keyframes, rig_builder
from .bridge_client import BridgeError, JobState
from .bridge_locator import import_bridge
from .env_setup import EnvSetup, install_source, setup_command, setup_steps
from .importer import ImportProblem, import_clip, read_clip, scene_fps
from .keyframe_writer import fcurves_of, read_channel, write_channels
from .preferences import get_prefs

_smoothing = import_bridge("smoothing")

VIDEO_GLOB = "*.mp4;*.mov;*.avi;*.mkv;*.webm;*.m4v;*.mpg;*.mpeg"
TIMER_S = 0.1
#: The bridge job of this Blender session, if one is running (the scene's `running` flag only mirrors it).
_live_job: list = []


def _status_bar(context, text: str | None) -> None:
    if context.workspace is not None:
        context.workspace.status_text_set(text)


def _redraw(context) -> None:
    for window in context.window_manager.windows:
        for area in window.screen.areas:
            area.tag_redraw()


class _BridgeModal:
    """Mixin for operators that run one bridge request: start, follow, cancel, finish."""

    _job = None
    _timer = None

    def run_job(self, context, method: str, params: dict):
        settings = context.scene.arts_mocap
        if _live_job:
            self.report({"ERROR"}, "An ARTS job is already running; cancel it first")
            return {"CANCELLED"}
        try:
            self._job = jobs.start_job(context, method, params)
        except (BridgeError, RuntimeError) as exc:
            self.report({"ERROR"}, str(exc))
            settings.status = f"Failed: {exc}"
            return {"CANCELLED"}
        _live_job.append(self._job)
        settings.running, settings.cancel_requested, settings.progress = True, False, 0.0
        settings.status = "Starting the bridge…"
        if bpy.app.background or context.window is None:
            return self._finish(context, self._job.wait(on_update=lambda s: self._show(context, s, echo=True)))
        wm = context.window_manager
        self._timer = wm.event_timer_add(TIMER_S, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _show(self, context, state: JobState, echo: bool = False) -> None:
        settings = context.scene.arts_mocap
        text = state.status_text()
        if echo and text != settings.status:
            print(f"ARTS: {text}", flush=True)  # background mode: the terminal is the only progress display
        settings.progress = state.fraction
        settings.status = text

    def modal(self, context, event):
        settings = context.scene.arts_mocap
        if event.type == "ESC" or settings.cancel_requested:
            settings.cancel_requested = False
            settings.status = "Cancelling…"
            self._job.cancel()
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        state = self._job.update()
        self._show(context, state)
        _status_bar(context, f"ARTS: {state.status_text()} ({state.fraction:.0%}) — Esc to cancel")
        _redraw(context)
        if not state.finished:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        _status_bar(context, None)
        return self._finish(context, state)

    def _finish(self, context, state: JobState):
        settings = context.scene.arts_mocap
        if self._job in _live_job:
            _live_job.remove(self._job)
        settings.running = False
        settings.progress = 1.0 if state.succeeded else 0.0
        if not state.succeeded:
            level = {"WARNING"} if state.error_code == "cancelled" else {"ERROR"}
            settings.status = "Cancelled" if state.error_code == "cancelled" else f"Failed: {state.error}"
            self.report(level, f"ARTS: {state.error}")
            return {"CANCELLED"}
        try:
            message = self.on_result(context, state.result)
        except (ImportProblem, RuntimeError) as exc:
            settings.status = f"Failed: {exc}"
            self.report({"ERROR"}, f"ARTS: {exc}")
            return {"CANCELLED"}
        settings.status = message
        self.report({"INFO"}, f"ARTS: {message}")
        return {"FINISHED"}

    def on_result(self, context, result: dict) -> str:
        raise NotImplementedError


class ARTS_OT_import_video(_BridgeModal, bpy.types.Operator, ImportHelper):
    """Process a video with ARTS and import the motion as an animated SMPL rig"""

    bl_idname = "arts.import_video"
    bl_label = "Video as SMPL animation"
    bl_options = {"REGISTER", "UNDO"}

    filter_glob: bpy.props.StringProperty(default=VIDEO_GLOB, options={"HIDDEN"})
    use_panel_video: bpy.props.BoolProperty(default=False, options={"HIDDEN", "SKIP_SAVE"})
    results_dir: bpy.props.StringProperty(
        default="", subtype="DIR_PATH", options={"HIDDEN", "SKIP_SAVE"},
        description="Folder for the results file (empty: the add-on's user folder)")

    def invoke(self, context, event):
        if self.use_panel_video:
            return self.execute(context)
        return ImportHelper.invoke(self, context, event)

    def draw(self, context):
        draw_import_options(self.layout, context.scene.arts_mocap)

    def execute(self, context):
        settings = context.scene.arts_mocap
        video = settings.video_path if self.use_panel_video else self.filepath
        if not video or not Path(bpy.path.abspath(video)).is_file():
            self.report({"ERROR"}, f"Video not found: '{video}'; choose a video file")
            return {"CANCELLED"}
        settings.video_path = video
        self._video = video
        self._output = jobs.results_path_for(video, self.results_dir)
        try:
            params = jobs.process_video_params(settings, get_prefs(context), video, self._output)
        except RuntimeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return self.run_job(context, "process_video", params)

    def on_result(self, context, result: dict) -> str:
        settings = context.scene.arts_mocap
        path = result.get("output") or str(self._output)
        settings.results_path = path
        clip = read_clip(path)
        imported = import_clip(context, clip, jobs.import_options(settings, get_prefs(context), self._video))
        _follow_clip_range(settings, imported.action)
        warnings = "; ".join(result.get("warnings", []))
        return (f"imported {clip.num_frames} frames as action '{imported.action.name}'"
                + (f" (warnings: {warnings})" if warnings else ""))


class ARTS_OT_find_people(_BridgeModal, bpy.types.Operator):
    """Look for people in the video so you can choose whom to track"""

    bl_idname = "arts.find_people"
    bl_label = "Find people"

    def execute(self, context):
        settings = context.scene.arts_mocap
        if not settings.video_path or not Path(bpy.path.abspath(settings.video_path)).is_file():
            self.report({"ERROR"}, "Choose a video file first")
            return {"CANCELLED"}
        return self.run_job(context, "list_people", jobs.list_people_params(settings, settings.video_path))

    def on_result(self, context, result: dict) -> str:
        count = jobs.store_people(context.scene.arts_mocap, result)
        return f"found {count} {'person' if count == 1 else 'people'}"


class ARTS_OT_cancel_job(bpy.types.Operator):
    """Stop the running ARTS job"""

    bl_idname = "arts.cancel_job"
    bl_label = "Cancel"

    def execute(self, context):
        settings = context.scene.arts_mocap
        if not _live_job:  # nothing to stop: clear a flag left behind (e.g. by a crash) instead of waiting
            settings.running, settings.cancel_requested, settings.progress = False, False, 0.0
            settings.status = "No ARTS job was running"
            return {"FINISHED"}
        settings.cancel_requested = True
        return {"FINISHED"}


class ARTS_OT_import_results(bpy.types.Operator, ImportHelper):
    """Import an ARTS results file (.npz) made earlier, without running the bridge"""

    bl_idname = "arts.import_results"
    bl_label = "ARTS results (.npz)"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".npz"
    filter_glob: bpy.props.StringProperty(default="*.npz", options={"HIDDEN"})
    video_path: bpy.props.StringProperty(
        name="Video", subtype="FILE_PATH", options={"SKIP_SAVE"},
        description="The clip's video, shown behind the rig in the camera view (optional)")

    def draw(self, context):
        self.layout.prop(self, "video_path")
        draw_rig_options(self.layout, context.scene.arts_mocap)

    def execute(self, context):
        settings = context.scene.arts_mocap
        try:
            clip = read_clip(self.filepath)
            imported = import_clip(context, clip, jobs.import_options(settings, get_prefs(context), self.video_path))
        except (ImportProblem, RuntimeError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        _follow_clip_range(settings, imported.action)
        settings.results_path = self.filepath
        self.report({"INFO"}, f"Imported {clip.num_frames} frames as action '{imported.action.name}'")
        return {"FINISHED"}


def _follow_clip_range(settings, action) -> None:
    """Point the re-smoothing range at the clip just imported (not Blender's default 1-250)."""
    start, end = action.frame_range
    settings.smooth_frame_start, settings.smooth_frame_end = int(round(start)), int(round(end))


class ARTS_OT_smooth_keys(bpy.types.Operator):
    """Filter the keys of the selected bones (or all) in the frame range again, e.g. after hand edits"""

    bl_idname = "arts.smooth_keys"
    bl_label = "Smooth keys"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return rig_builder.arts_rig_of(context.active_object) is not None

    def execute(self, context):
        settings = context.scene.arts_mocap
        armature = rig_builder.arts_rig_of(context.active_object)
        bones = [pb.name for pb in armature.pose.bones if _selected(pb)] if settings.smooth_selected_only else []
        bones = bones or [pb.name for pb in armature.pose.bones]
        frame_range = _edit_range(context)
        try:
            count = smooth_bone_keys(armature, bones, frame_range, _smoothing.PRESETS[settings.smooth_preset],
                                     scene_fps(context.scene))
        except ValueError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Smoothed {count} bone(s) from frame {frame_range[0]} to {frame_range[1]}")
        return {"FINISHED"}


def _edit_range(context) -> tuple[int, int]:
    """The Edit panel's frame range when 'Frame range' is on, else the scene's."""
    settings = context.scene.arts_mocap
    if settings.smooth_use_range:
        return settings.smooth_frame_start, settings.smooth_frame_end
    return context.scene.frame_start, context.scene.frame_end


def _selected(pose_bone) -> bool:
    """Blender 5 keeps pose-mode selection on the pose bone, 4.x on its Bone."""
    return pose_bone.select if hasattr(pose_bone, "select") else pose_bone.bone.select


def smooth_bone_keys(armature, bone_names: list[str], frame_range: tuple[int, int], params, fps: float) -> int:
    """Re-filter the rotation (and pelvis location) keys of `bone_names` within `frame_range`, in place.

    Curves are sampled at every frame from their keys (linear), filtered with bridge.smoothing, and the
    range's keys replaced by one key per frame; keys outside the range are untouched. Returns bones changed.
    """
    fcurves = fcurves_of(armature)
    if fcurves is None:
        raise ValueError(f"'{armature.name}' has no action to smooth")
    start, end = int(min(frame_range)), int(max(frame_range))
    grid = np.arange(start, end + 1, dtype=np.float64)
    if len(grid) < 3:
        raise ValueError("the frame range needs at least 3 frames to smooth")
    channels, changed = [], 0
    for name in bone_names:
        for prop, size, is_rotation in (("rotation_quaternion", 4, True), ("location", 3, False)):
            path = f'pose.bones["{name}"].{prop}'
            curves = [fcurves.find(path, index=i) for i in range(size)]
            if any(fc is None for fc in curves):
                continue
            keys = [read_channel(fc) for fc in curves]
            samples = np.stack([keyframes.sample_keys(f, v, grid) for f, v in keys], axis=1)
            smooth = (_smoothing.smooth_quaternions(samples, fps, params) if is_rotation
                      else _smoothing.smooth_array(samples, fps, params))
            for i, (frames, values) in enumerate(keys):
                new_frames, new_values = keyframes.splice_keys(frames, values, grid, smooth[:, i])
                channels.append(keyframes.Channel(path, i, name, new_frames, new_values))
            changed += is_rotation
    write_channels(armature, armature.animation_data.action, channels)
    return changed


class ARTS_OT_relock_feet(bpy.types.Operator):
    """Pin the planted feet again after editing the legs or hips (in the frame range, or the whole scene range)"""

    bl_idname = "arts.relock_feet"
    bl_label = "Re-apply foot lock"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return rig_builder.arts_rig_of(context.active_object) is not None

    def execute(self, context):
        from .foot_relock import relock_feet

        armature = rig_builder.arts_rig_of(context.active_object)
        frame_range = _edit_range(context)
        try:
            planted = relock_feet(armature, frame_range, scene_fps(context.scene))
        except ValueError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Feet locked again from frame {min(frame_range)} to {max(frame_range)} "
                              f"({planted} frame(s) with a planted foot)")
        return {"FINISHED"}


class ARTS_OT_retarget(bpy.types.Operator):
    """Put the active ARTS rig's motion on your character, as a new action (the clip's action is untouched)"""

    bl_idname = "arts.retarget"
    bl_label = "Apply to character"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return (rig_builder.arts_rig_of(context.active_object) is not None
                and context.scene.arts_mocap.retarget_target is not None)

    def execute(self, context):
        from .retarget.bake import RetargetError, bake
        from .retarget_operators import rows_mapping

        settings = context.scene.arts_mocap
        source = rig_builder.arts_rig_of(context.active_object)
        wm = context.window_manager
        wm.progress_begin(0.0, 1.0)  # the cursor shows how far a long bake has got
        try:
            action, mapping = bake(source, settings.retarget_target, rows_mapping(settings),
                                   in_place=settings.retarget_in_place, progress=wm.progress_update)
        except RetargetError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        finally:
            wm.progress_end()
        skipped = ", ".join(mapping.missing()) or "none"
        self.report({"INFO"}, f"'{settings.retarget_target.name}' keyed as action '{action.name}' ({mapping.preset} "
                              f"bones; not on this rig: {skipped})")
        return {"FINISHED"}


class ARTS_OT_export(bpy.types.Operator, ExportHelper):
    """Export the active ARTS rig and its action for a game engine (FBX), or as BVH or glTF"""

    bl_idname = "arts.export"
    bl_label = "Export ARTS rig"

    filename_ext = ".fbx"
    filter_glob: bpy.props.StringProperty(default="*.fbx;*.bvh;*.glb", options={"HIDDEN"})
    target: bpy.props.EnumProperty(name="Target", items=[(t, export_presets.target_label(t), f"Export for {t}")
                                                         for t in export_presets.TARGETS])

    @classmethod
    def poll(cls, context):
        return rig_builder.arts_rig_of(context.active_object) is not None

    def invoke(self, context, event):
        self.target = context.scene.arts_mocap.export_target
        fmt, _ = export_presets.export_options(self.target)
        self.filename_ext = export_presets.FORMAT_EXTENSIONS[fmt]
        return ExportHelper.invoke(self, context, event)

    def execute(self, context):
        try:
            settings = context.scene.arts_mocap
            path = exporter.export_rig(context, rig_builder.arts_rig_of(context.active_object), self.target,
                                       self.filepath, settings.export_armature_name, settings.export_bone_naming,
                                       settings.export_in_place)
        except RuntimeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Exported {path}")
        return {"FINISHED"}


class ARTS_OT_setup_environment(bpy.types.Operator):
    """Create a private Python environment for the bridge with the project's pinned packages (about 1 GB)"""

    bl_idname = "arts.setup_environment"
    bl_label = "Create private environment"

    _setup = None
    _timer = None

    def execute(self, context):
        prefs = get_prefs(context)
        state = context.window_manager.arts_env_setup
        if state.running:
            self.report({"ERROR"}, "The environment is already being created")
            return {"CANCELLED"}
        venv = prefs.environment_dir()
        try:
            wheels = install_source(bpy.path.abspath(prefs.wheels_dir) if prefs.wheels_dir else "",
                                    getattr(bpy.app, "online_access", True))
        except RuntimeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        command = setup_command(venv, cuda=prefs.device == "CUDA", wheels=wheels)
        try:
            self._setup = EnvSetup(command, setup_steps(offline=wheels is not None)).start()
        except OSError as exc:
            self.report({"ERROR"}, f"Cannot run the setup script: {exc}")
            return {"CANCELLED"}
        state.running, state.progress, state.status = True, 0.0, f"Creating {venv}…"
        if bpy.app.background or context.window is None:
            while not self._setup.finished:
                self._setup.poll()
                time.sleep(0.2)
            return self._finish(context)
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.25, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        state = context.window_manager.arts_env_setup
        if event.type == "ESC":
            self._setup.cancel()
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        lines = self._setup.poll()
        state.progress = self._setup.fraction
        if lines:
            state.status = lines[-1][:120]
        _status_bar(context, f"ARTS environment: {state.progress:.0%} — {state.status}")
        _redraw(context)
        if not self._setup.finished:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        _status_bar(context, None)
        return self._finish(context)

    def _finish(self, context):
        state = context.window_manager.arts_env_setup
        state.running = False
        if self._setup.returncode != 0:
            state.status = f"Setup failed (exit code {self._setup.returncode})"
            self.report({"ERROR"}, f"Environment setup failed:\n{self._setup.error_summary()}")
            return {"CANCELLED"}
        state.status = "Environment ready"
        self.report({"INFO"}, "ARTS bridge environment ready")
        return {"FINISHED"}


def draw_rig_options(layout, settings) -> None:
    col = layout.column()
    col.prop(settings, "fps_mode")
    col.prop(settings, "target")
    col.prop(settings, "use_world")
    col.prop(settings, "add_camera")
    col.prop(settings, "reduce_keys")
    sub = col.column()
    sub.enabled = settings.reduce_keys
    sub.prop(settings, "rotation_tolerance")
    sub.prop(settings, "location_tolerance")


def draw_import_options(layout, settings) -> None:
    col = layout.column()
    row = col.row(align=True)
    row.prop(settings, "start_frame")
    row.prop(settings, "end_frame")
    col.prop(settings, "person")
    col.prop(settings, "camera_fov")
    col.prop(settings, "smoothing")
    col.prop(settings, "foot_lock")
    col.prop(settings, "limb_reaim")
    col.prop(settings, "flip_average")
    col.prop(settings, "window_stride")
    draw_rig_options(col, settings)


def menu_import(self, context):
    self.layout.operator(ARTS_OT_import_video.bl_idname, text="Video as SMPL animation")
    self.layout.operator(ARTS_OT_import_results.bl_idname, text="ARTS results (.npz)")


CLASSES = (ARTS_OT_import_video, ARTS_OT_find_people, ARTS_OT_cancel_job, ARTS_OT_import_results,
           ARTS_OT_smooth_keys, ARTS_OT_relock_feet, ARTS_OT_retarget, ARTS_OT_export, ARTS_OT_setup_environment)
