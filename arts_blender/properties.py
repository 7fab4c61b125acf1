"""Scene settings shown in the Mocap panel and the import dialog, plus the state of a running job."""

import json
import math

import bpy

from . import export_presets
from .bridge_locator import import_bridge

_smoothing = import_bridge("smoothing")

# Dynamic enum items must stay referenced while Blender shows them.
_PEOPLE_ITEMS: list[tuple[str, str, str]] = []


def _people_items(self, context):
    _PEOPLE_ITEMS.clear()
    _PEOPLE_ITEMS.append(("AUTO", "Automatic", "The most visible person in the frame range"))
    for person in json.loads(self.people_json or "[]"):
        x0, y0, x1, y1 = person["box"]
        _PEOPLE_ITEMS.append((str(person["index"]), f"Person {person['index'] + 1}",
                              f"box {x0:.0f},{y0:.0f} to {x1:.0f},{y1:.0f} px, seen in {person['frames_seen']} "
                              f"of {person['samples']} sampled frames"))
    return _PEOPLE_ITEMS


_SMOOTHING_ITEMS = [(name, name.replace("_", " ").title(), params.describe() or "No filtering")
                    for name, params in _smoothing.PRESETS.items()]


class ArtsBonePair(bpy.types.PropertyGroup):
    """One row of the retarget mapping shown in the panel: an ARTS bone and the character's bone that plays it."""

    source: bpy.props.StringProperty(name="ARTS bone")
    role: bpy.props.StringProperty(name="Role")
    target: bpy.props.StringProperty(name="Character bone", description="Empty: this part is not retargeted")


class ArtsSettings(bpy.types.PropertyGroup):
    # -- import options --------------------------------------------------------------------------------
    video_path: bpy.props.StringProperty(name="Video", subtype="FILE_PATH", description="Video file to process")
    start_frame: bpy.props.IntProperty(name="First frame", min=0, default=0,
                                       description="First video frame to process (0 = the first)")
    end_frame: bpy.props.IntProperty(name="End frame", min=0, default=0,
                                     description="Video frame to stop before (0 = the end of the video)")
    people_json: bpy.props.StringProperty(default="[]", options={"HIDDEN"})
    person: bpy.props.EnumProperty(name="Person", items=_people_items,
                                   description="Who to track; 'Find people' lists the candidates")
    smoothing: bpy.props.EnumProperty(name="Smoothing", items=_SMOOTHING_ITEMS, default="light",
                                      description="Temporal filter the bridge applies to the motion")
    fps_mode: bpy.props.EnumProperty(
        name="Frame rate", default="VIDEO",
        items=[("VIDEO", "Match video", "Key every video frame and set the scene's frame rate to the video's"),
               ("SCENE", "Resample to scene", "Keep the scene's frame rate; rotations are slerped between frames")])
    target: bpy.props.EnumProperty(
        name="Rig", default="NEW",
        items=[("NEW", "New rig", "Build a new armature and body for this clip"),
               ("ACTIVE", "Animate active rig", "Give the active ARTS rig a new action with this clip")])
    reduce_keys: bpy.props.BoolProperty(name="Reduce keys", default=False,
                                        description="Keep only the keys needed to stay within the tolerances")
    rotation_tolerance: bpy.props.FloatProperty(name="Rotation tolerance", subtype="ANGLE", min=0.0,
                                                default=math.radians(0.5), description="Largest rotation error")
    location_tolerance: bpy.props.FloatProperty(name="Location tolerance", subtype="DISTANCE", unit="LENGTH",
                                                min=0.0, default=0.002, description="Largest root position error")
    foot_lock: bpy.props.FloatProperty(
        name="Foot lock", subtype="FACTOR", min=0.0, max=1.0, default=1.0,
        description="Pin each planted foot to one spot for its whole contact (legs re-solved, pelvis adjusted "
                    "only where a leg cannot reach); 0 turns it off")
    limb_reaim: bpy.props.FloatProperty(
        name="Follow video limbs", subtype="FACTOR", min=0.0, max=1.0, default=0.2,
        description="Turn arms and legs this share of the way towards where the video's 2D keypoints put them "
                    "(bone lengths kept, smoothed over time): closer to the footage on unusual poses; 0 keeps the "
                    "network's pose as it is")
    camera_fov: bpy.props.FloatProperty(
        name="Field of view", subtype="ANGLE", min=math.radians(10.0), max=math.radians(150.0),
        default=math.radians(55.0),
        description="How wide the camera that filmed the video sees, across the picture's long side (its width "
                    "in landscape, its height in portrait). It sets how far away the person stands, so how far "
                    "they travel towards or away from the camera and where the added camera sits; the pose hardly "
                    "changes. A phone's main camera sees about 65-70 degrees held either way, a webcam about "
                    "55-70; 55 when unknown")
    flip_average: bpy.props.BoolProperty(
        name="Mirror check", default=True,
        description="Also read the video mirrored and average the two answers: more accurate and steadier "
                    "motion for twice the network time")
    window_stride: bpy.props.EnumProperty(
        name="Network windows", default="2",
        items=[("1", "Every frame", "A window of the video around every frame: the slowest, no more accurate than "
                "every 2nd frame"),
               ("2", "Every 2nd frame", "A window around every 2nd frame, each answering for the frames near it: "
                "half the network time, as accurate"),
               ("4", "Every 4th frame", "A quarter of the network time, a little less accurate and steady")],
        description="How often the network reads a window of the video; each window answers for the frames around "
                    "it and the answers are averaged")
    use_world: bpy.props.BoolProperty(
        name="Stand on the floor", default=True,
        description="Place the motion in the world frame found from the feet: Z up, the floor at zero, the "
                    "person starting at the origin facing -Y. Off: camera space, as the network sees it")
    add_camera: bpy.props.BoolProperty(name="Add camera", default=True,
                                       description="Add the video's camera with the video behind the rig")
    results_path: bpy.props.StringProperty(name="Results", subtype="FILE_PATH",
                                           description="The results file of the last processed video")
    # -- running job (cleared whenever a file is loaded: a saved flag would outlive its job) -------------
    running: bpy.props.BoolProperty(default=False, options={"SKIP_SAVE"})
    cancel_requested: bpy.props.BoolProperty(default=False, options={"SKIP_SAVE"})
    progress: bpy.props.FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR", options={"SKIP_SAVE"})
    status: bpy.props.StringProperty(default="")
    # -- edit and export -------------------------------------------------------------------------------
    smooth_preset: bpy.props.EnumProperty(name="Filter", items=_SMOOTHING_ITEMS[1:], default="medium",
                                          description="Filter applied by 'Smooth keys'")
    smooth_selected_only: bpy.props.BoolProperty(name="Selected bones only", default=True,
                                                 description="Smooth only the selected pose bones (all if none)")
    smooth_use_range: bpy.props.BoolProperty(name="Frame range", default=False,
                                             description="Smooth only between the two frames below")
    smooth_frame_start: bpy.props.IntProperty(name="From", default=1)
    smooth_frame_end: bpy.props.IntProperty(name="To", default=250)
    retarget_target: bpy.props.PointerProperty(
        name="Character", type=bpy.types.Object,
        poll=lambda self, obj: obj.type == "ARMATURE" and not obj.get("arts_rig"),
        description="Your character's armature (Rigify, Mixamo, Unreal, Unity, VRM or SMPL bone names)")
    retarget_map: bpy.props.CollectionProperty(type=ArtsBonePair)
    retarget_map_for: bpy.props.StringProperty(
        options={"HIDDEN"}, description="The character the mapping rows were made for (rows for another are ignored)")
    retarget_map_preset: bpy.props.StringProperty(options={"HIDDEN"})
    retarget_in_place: bpy.props.BoolProperty(
        name="In place", default=False,
        description="Keep the character's hips over one spot (the up and down motion stays)")
    export_armature_name: bpy.props.StringProperty(
        name="Skeleton name", default=export_presets.ARMATURE_NAME,
        description="The armature's name in exported files, whatever the clip, so clips share one skeleton in "
                    "the engine (empty: the rig's own name). Unreal FBX files always use 'Armature', which "
                    "Unreal drops, so the root bone is the skeleton's root")
    export_bone_naming: bpy.props.EnumProperty(
        name="Bone names", default="SMPL",
        items=[(k, label, text) for k, (label, text) in export_presets.BONE_NAMINGS.items()],
        description="Bone names in FBX exports for engines (the rig in Blender keeps SMPL's)")
    export_in_place: bpy.props.BoolProperty(
        name="In place", default=False,
        description="FBX for engines: the root bone only turns, the body's travel is left out (the up and down "
                    "motion stays); off, the root carries the travel for root motion")
    export_target: bpy.props.EnumProperty(
        name="Export", default="UNITY",
        items=[(t, export_presets.target_label(t), f"Export for {t}") for t in export_presets.TARGETS])


CLASSES = (ArtsBonePair, ArtsSettings)


@bpy.app.handlers.persistent
def clear_job_state(*_args) -> None:
    """No job survives loading a file, so a `running` flag saved in it must not block the next one."""
    for scene in bpy.data.scenes:
        settings = scene.arts_mocap
        if settings.running or settings.cancel_requested:
            settings.running, settings.cancel_requested, settings.progress = False, False, 0.0
            settings.status = "The last job ended when the file was closed"


def register_properties() -> None:
    bpy.types.Scene.arts_mocap = bpy.props.PointerProperty(type=ArtsSettings)
    bpy.app.handlers.load_post.append(clear_job_state)


def unregister_properties() -> None:
    if clear_job_state in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(clear_job_state)
    del bpy.types.Scene.arts_mocap
