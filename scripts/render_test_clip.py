"""Render short test clips of the project's own body model, with ground truth, headless with the bpy wheel.

    python scripts/render_test_clip.py OUT_DIR [--motion wave] [--seconds 3] [--size 480x360] [--seed 0]
    python scripts/render_test_clip.py OUT_DIR --bvh ../shared/motion/cmu_iclone/007/007_01.bvh --seconds 4
    python scripts/render_test_clip.py OUT_DIR --bad-inputs     # corrupt / empty / not-a-video / no-person

A clip is OUT_DIR/<name>.mp4 (H.264, encoded by Blender) plus OUT_DIR/<name>.npz with the ground truth in
the results file's conventions (OpenCV camera space, metres): pose_aa (F, 24, 3) with the root orientation
in camera space, betas (10,), trans_m (F, 3) SMPL transl, joints_3d (F, 24, 3), fps, focal_px, image_size.
The body is bridge/assets/body_model_free.npz posed by linear blend skinning in numpy and rendered with
Workbench (skin, shirt and trousers colours from the skinning weights, a floor, a light background), the
camera in front of the person with a 55 degree field of view across the long side (the bridge's default). The
motion is the project's procedural generator (scripts/synth/procedural.py): deterministic for a seed, licence-free;
or, with --bvh, a real motion-capture trial (read and retargeted as scripts/synth does) from --start-s on,
with real foot contacts, the camera pushed back for motion that travels.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import struct
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge import camera  # noqa: E402
from bridge.geometry import kinematics, rotations  # noqa: E402
from bridge.skeleton import SMPL_PARENTS  # noqa: E402
from scripts.synth.camera import look_at  # noqa: E402

DEFAULT_FOV_DEG = 55.0
#: Mocap that travels gets a camera far enough that the person never comes nearer than this (m, horizontally).
NEAREST_M = 3.0
SKIN_RGBA = (0.80, 0.60, 0.48, 1.0)
SHIRT_RGBA = (0.10, 0.22, 0.55, 1.0)
TROUSERS_RGBA = (0.12, 0.12, 0.14, 1.0)
FLOOR_RGBA = (0.55, 0.55, 0.52, 1.0)
BACKGROUND_RGB = (0.85, 0.87, 0.90)
#: SMPL joints whose skin is dressed: shirt over the trunk and upper arms, trousers over the legs.
SHIRT_JOINTS = (3, 6, 9, 13, 14, 16, 17)
TROUSER_JOINTS = (0, 1, 2, 4, 5)


# ---------------------------------------------------------------------------------------------------------
# Posing (numpy).

def skin_vertices(body, betas: np.ndarray, pose_aa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear blend skinning with pose correctives. pose_aa (F, 24, 3) -> vertices (F, V, 3), joints (F, 24, 3);
    the pelvis at rest_joints[0] (add the translation).

    One frame at a time: each frame's blended 3x4 maps (V, 12) stay in cache, where all frames' at once
    (F, V, 3, 4; 160 MB for 120 frames of the free body) made this 8x slower, and it runs for every
    staged, restored and scored clip."""
    from bridge.body_model import shaped_rest

    v_shaped, rest_joints = shaped_rest(body, betas)
    v_shaped, rest_joints = np.asarray(v_shaped, np.float64), np.asarray(rest_joints, np.float64)
    rotmats = rotations.axis_angle_to_matrix(np.asarray(pose_aa, np.float64))
    posed_joints, global_rot = kinematics.forward_kinematics(rotmats, rest_joints, SMPL_PARENTS)
    frames, count = len(rotmats), len(v_shaped)
    pose_feature = (rotmats[:, 1:] - np.eye(3)).reshape(frames, -1)  # (F, 207)
    posedirs = np.asarray(body.posedirs, np.float64).reshape(-1, pose_feature.shape[1])  # (V*3, 207)
    v_posed = (pose_feature @ posedirs.T).reshape(frames, count, 3) + v_shaped
    # Per-joint affine maps x -> R_j (x - rest_j) + posed_j, as 3x4 rows [R_j | offset_j]
    offsets = posed_joints - np.einsum("fjab,jb->fja", global_rot, rest_joints)
    maps = np.concatenate([global_rot, offsets[..., None]], axis=-1).reshape(frames, -1, 12)
    weights = np.asarray(body.weights, np.float64)  # (V, 24)
    verts = np.empty((frames, count, 3))
    for frame in range(frames):
        blended = (weights @ maps[frame]).reshape(count, 3, 4)
        point = v_posed[frame]
        verts[frame] = (blended[:, :, 3] + blended[:, :, 0] * point[:, None, 0] + blended[:, :, 1] * point[:, None, 1]
                        + blended[:, :, 2] * point[:, None, 2])
    return verts, posed_joints


def ground_truth(body, motion, betas: np.ndarray, fov_deg: float, size: tuple[int, int], distance_m: float,
                 camera_height_m: float, azimuth_deg: float) -> dict:
    """Pose the body, place a camera in front of it, express everything in that camera (OpenCV axes)."""
    from bridge.body_model import shaped_rest

    pose_aa = np.asarray(motion.pose_aa, np.float64)
    verts_rel, joints_rel = skin_vertices(body, betas, pose_aa)
    _, rest_joints = shaped_rest(body, betas)
    rest_root = np.asarray(rest_joints, np.float64)[0]
    shift = np.asarray(motion.root_pos_m, np.float64) - rest_root  # world transl per frame
    verts_world = verts_rel + shift[:, None]
    joints_world = joints_rel + shift[:, None]
    # Camera in front of where the body faces at the middle of the clip (+Z in the body frame).
    mid = len(pose_aa) // 2
    root_rot = rotations.axis_angle_to_matrix(pose_aa[:, 0])
    facing = root_rot[mid] @ np.array([0.0, 0.0, 1.0])
    yaw = math.atan2(facing[0], facing[2]) + math.radians(azimuth_deg)
    centre = joints_world[:, 0].mean(axis=0)
    position = np.array([centre[0] + distance_m * math.sin(yaw), camera_height_m,
                         centre[2] + distance_m * math.cos(yaw)])
    target = np.array([centre[0], 0.5 * (centre[1] + camera_height_m) - 0.1, centre[2]])
    r_cw = look_at(position, target)
    to_cam = lambda p: (p - position) @ r_cw.T  # noqa: E731
    joints_cam = to_cam(joints_world)
    pose_cam = pose_aa.copy()
    pose_cam[:, 0] = rotations.matrix_to_axis_angle(r_cw[None] @ root_rot)
    width, height = size
    return {
        "pose_aa": pose_cam.astype(np.float32), "betas": np.asarray(betas, np.float32),
        "trans_m": (joints_cam[:, 0] - rest_root).astype(np.float32), "joints_3d": joints_cam.astype(np.float32),
        "fps": np.float64(motion.fps), "focal_px": np.float64(camera.focal_for_frame(size, fov_deg)),
        "image_size": np.array([width, height], np.int64), "source": np.array(motion.source),
        "_verts_world": verts_world, "_camera_position": position, "_camera_rotation": r_cw,
    }


# ---------------------------------------------------------------------------------------------------------
# Rendering (bpy).

def to_blender(points_y_up: np.ndarray) -> np.ndarray:
    """Y-up world (metres) -> Blender Z-up world: (x, y, z) -> (x, -z, y)."""
    p = np.asarray(points_y_up, np.float64)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)


def _material(bpy, name: str, rgba: tuple[float, float, float, float]):
    mat = bpy.data.materials.new(name)
    mat.diffuse_color = rgba
    return mat


@contextlib.contextmanager
def _stdout_to_stderr():
    """Blender logs every encoded frame on file descriptor 1; keep stdout for this script's own output."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def add_animated_mesh(bpy, name: str, verts_world: np.ndarray, faces: np.ndarray, materials: list,
                      face_material: np.ndarray):
    """Link a mesh whose vertices move per frame (verts_world (F, V, 3), Y-up world, metres) to the scene.

    One shape key per frame, each fully on at its own frame only: Blender then plays the motion itself.
    faces (N, 3) vertex ids; face_material (N,) index into `materials` (Blender materials)."""
    scene = bpy.context.scene
    verts = to_blender(verts_world)
    frames = len(verts)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts[0].tolist(), [], np.asarray(faces).tolist())
    for mat in materials:
        mesh.materials.append(mat)
    mesh.polygons.foreach_set("material_index", np.asarray(face_material, np.int32))
    mesh.polygons.foreach_set("use_smooth", np.ones(len(face_material), bool))
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    scene.collection.objects.link(obj)
    obj.shape_key_add(name="basis")
    for f in range(1, frames):
        key = obj.shape_key_add(name=f"f{f}")
        key.data.foreach_set("co", verts[f].astype(np.float32).ravel())
        for frame, value in ((f - 1, 0.0), (f, 1.0), (f + 1, 0.0)):
            if 0 <= frame < frames:
                key.value = value
                key.keyframe_insert("value", frame=frame + 1)
    return obj


def camera_matrix_world(r_cw: np.ndarray, position: np.ndarray) -> list[list[float]]:
    """Blender camera object's 4x4 world matrix for an OpenCV camera: r_cw (3, 3) Y-up world -> camera
    rotation and its centre `position` (3,) in the Y-up world. OpenCV camera axes (x right, y down, z
    forward) are Blender camera axes (x, -y, -z)."""
    y_up_to_b = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    rot = y_up_to_b @ np.asarray(r_cw, np.float64).T @ np.diag([1.0, -1.0, -1.0])
    loc = to_blender(position)
    return [[*rot[0], loc[0]], [*rot[1], loc[1]], [*rot[2], loc[2]], [0.0, 0.0, 0.0, 1.0]]


def set_video_output(scene, size: tuple[int, int], fps: float, frames: int, out_mp4: Path,
                     quality: str = "HIGH") -> None:
    """Render frames 1..frames at `size` (width, height) to an H.264 MP4; quality: Blender's
    constant-rate-factor preset (HIGH, MEDIUM, LOW, ...)."""
    scene.render.resolution_x, scene.render.resolution_y = (int(v) for v in size)
    scene.render.resolution_percentage = 100
    scene.render.fps = int(round(float(fps)))
    scene.frame_start, scene.frame_end = 1, frames
    scene.render.image_settings.media_type = "VIDEO"
    scene.render.image_settings.file_format = "FFMPEG"
    scene.render.ffmpeg.format = "MPEG4"
    scene.render.ffmpeg.codec = "H264"
    scene.render.ffmpeg.constant_rate_factor = quality
    scene.render.ffmpeg.gopsize = 12
    scene.render.filepath = str(out_mp4)


def render_animation(bpy) -> None:
    """Render the scene's frame range to its output (Blender's per-frame log goes to stderr)."""
    with _stdout_to_stderr():
        bpy.ops.render.render(animation=True)


def render(body, truth: dict, out_mp4: Path, fov_deg: float) -> None:
    """Render the posed vertices in truth['_verts_world'] to an H.264 mp4 with Workbench."""
    from scripts.bpy_module import import_bpy

    bpy = import_bpy()
    from mathutils import Matrix

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    frames = len(truth["_verts_world"])
    dominant = np.asarray(body.weights).argmax(axis=1)
    mats = [_material(bpy, "skin", SKIN_RGBA), _material(bpy, "shirt", SHIRT_RGBA),
            _material(bpy, "trousers", TROUSERS_RGBA)]
    face_joint = dominant[np.asarray(body.faces)]  # (F, 3)
    face_mat = np.zeros(len(face_joint), np.int32)
    face_mat[np.isin(face_joint, SHIRT_JOINTS).sum(axis=1) >= 2] = 1
    face_mat[np.isin(face_joint, TROUSER_JOINTS).sum(axis=1) >= 2] = 2
    add_animated_mesh(bpy, "body", truth["_verts_world"], body.faces, mats, face_mat)

    floor_mesh = bpy.data.meshes.new("floor")
    c = truth["_verts_world"][:, :, [0, 2]].mean(axis=(0, 1))
    half = 6.0
    floor_mesh.from_pydata([(c[0] - half, -(c[1] - half), 0.0), (c[0] + half, -(c[1] - half), 0.0),
                            (c[0] + half, -(c[1] + half), 0.0), (c[0] - half, -(c[1] + half), 0.0)], [],
                           [(0, 1, 2, 3)])
    floor_mesh.materials.append(_material(bpy, "floor", FLOOR_RGBA))
    scene.collection.objects.link(bpy.data.objects.new("floor", floor_mesh))

    cam_data = bpy.data.cameras.new("camera")
    cam_data.sensor_fit = "AUTO"  # the angle spans the long side, as the bridge reads fov_deg (camera.focal_for_frame)
    cam_data.angle = math.radians(fov_deg)
    cam = bpy.data.objects.new("camera", cam_data)
    scene.collection.objects.link(cam)
    cam.matrix_world = Matrix(camera_matrix_world(truth["_camera_rotation"], truth["_camera_position"]))
    scene.camera = cam

    world = bpy.data.worlds.new("world")
    world.color = BACKGROUND_RGB
    scene.world = world
    scene.render.engine = "BLENDER_WORKBENCH"
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.color_type = "MATERIAL"
    shading.show_shadows = True
    scene.display.render_aa = "FXAA"  # one sample: several times faster than the default 8, enough for detection
    shading.show_cavity = False
    scene.view_settings.view_transform = "Standard"
    set_video_output(scene, tuple(int(v) for v in truth["image_size"]), float(truth["fps"]), frames, out_mp4)
    render_animation(bpy)


def grounded(motion, body, betas: np.ndarray):
    """A motion made for the mean body (β = 0) fitted to this body (its pelvis path scaled by the ratio of
    leg lengths) and moved up or down so its feet stand on y = 0 (generate.py's ground rule)."""
    from bridge.body_model import shaped_rest
    from scripts.synth.landmarks import landmark_vertex_ids, pose_body
    from scripts.synth.motion import MotionClip, fit_to_body

    motion = fit_to_body(motion, shaped_rest(body, None)[1], shaped_rest(body, betas)[1])
    posed = pose_body(body, betas, motion.pose_aa, motion.root_pos_m, landmark_vertex_ids(body))
    ground_y = float(np.percentile(posed.landmarks[:, 27:33, 1].min(axis=1), 5)) - 0.01
    root = np.asarray(motion.root_pos_m, np.float64) - np.array([0.0, ground_y, 0.0])
    return MotionClip(motion.pose_aa, root.astype(np.float32), motion.fps, motion.source, motion.group)


def camera_distance(root_pos_m: np.ndarray, distance_m: float, nearest_m: float = NEAREST_M) -> float:
    """Camera distance from the clip's mean pelvis position: `distance_m`, or more for motion that travels,
    so that no pelvis position comes nearer than `nearest_m` (horizontally)."""
    xz = np.asarray(root_pos_m, np.float64)[:, [0, 2]]
    return float(max(distance_m, nearest_m + np.linalg.norm(xz - xz.mean(axis=0), axis=1).max()))


def render_clip(out_dir: str | Path, name: str = "wave", motion_kind: str = "wave", seconds: float = 3.0,
                size: tuple[int, int] = (480, 360), fps: float = 30.0, seed: int = 0, fov_deg: float = DEFAULT_FOV_DEG,
                distance_m: float = 3.6, camera_height_m: float = 1.0, azimuth_deg: float = 15.0,
                body_model: str | None = None, motion=None, betas: np.ndarray | None = None) -> tuple[Path, Path]:
    """Render OUT_DIR/<name>.mp4 and write OUT_DIR/<name>.npz (ground truth); returns both paths.

    motion: an already-made motion (pose_aa, root_pos_m, fps, source, e.g. a scripts.synth MotionClip; the
    floor is at world y = 0) instead of procedural `motion_kind` (then seconds and fps are ignored);
    betas: the body shape instead of one drawn from `seed`."""
    from bridge.body_model import load_body_model_arrays, shaped_rest
    from scripts.synth.procedural import procedural_motion

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    body = load_body_model_arrays(body_model)
    if betas is None:
        betas = np.random.default_rng(seed).normal(scale=0.5, size=10).astype(np.float32)
    if motion is None:
        _, rest_joints = shaped_rest(body, betas)
        motion = procedural_motion(motion_kind, seed, np.asarray(rest_joints), int(round(seconds * fps)), fps)
    truth = ground_truth(body, motion, betas, fov_deg, size, distance_m, camera_height_m, azimuth_deg)
    mp4, npz = out_dir / f"{name}.mp4", out_dir / f"{name}.npz"
    render(body, truth, mp4, fov_deg)
    if not mp4.is_file():
        raise RuntimeError(f"Blender did not write {mp4}")
    save_truth(npz, body, truth)
    return mp4, npz


def save_truth(npz: Path, body, truth: dict) -> None:
    """A render's ground-truth file: ground_truth() less its working arrays (those named `_...`)."""
    np.savez_compressed(npz, body_model_id=np.array(body.model_id),
                        **{k: v for k, v in truth.items() if not k.startswith("_")})


def render_mocap(out_dir: str | Path, bvh: Path, start_s: float, seconds: float, size: tuple[int, int],
                 fps: float = 30.0, seed: int = 0, name: str | None = None) -> tuple[Path, Path]:
    """A motion-capture trial (retargeted as scripts/synth does, cached), `seconds` long from `start_s`, on a
    body drawn from `seed`, standing on the floor, filmed from far enough that it stays in view."""
    from bridge.body_model import load_body_model_arrays, shaped_rest
    from scripts.synth.retarget import DEFAULT_CACHE_DIR, load_retargeted

    body = load_body_model_arrays()
    betas = np.random.default_rng(seed).normal(scale=0.5, size=10).astype(np.float32)
    full = load_retargeted(Path(bvh), shaped_rest(body, None)[1], DEFAULT_CACHE_DIR, fps)
    start = min(int(round(start_s * fps)), max(full.num_frames - 1, 0))
    motion = grounded(full.slice(start, start + int(round(seconds * fps))), body, betas)
    return render_clip(out_dir, name or Path(bvh).stem, size=size, fps=fps, seed=seed, motion=motion, betas=betas,
                       distance_m=camera_distance(motion.root_pos_m, 3.6))


# ---------------------------------------------------------------------------------------------------------
# Bad inputs and metadata (no Blender needed).

def write_noise_clip(path: str | Path, frames: int = 30, size: tuple[int, int] = (160, 120), fps: float = 30.0,
                     seed: int = 0) -> Path:
    """A video with no person in it: smoothed colour noise over a plain background (MPEG-4 part 2)."""
    import cv2

    path = Path(path)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    rng = np.random.default_rng(seed)
    for _ in range(frames):
        noise = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
        writer.write(cv2.resize(noise, size, interpolation=cv2.INTER_CUBIC))
    writer.release()
    return path


def set_mp4_rotation(path: str | Path, degrees: int) -> Path:
    """Set the display rotation of every track of an MP4 in place (its 'tkhd' matrix), as phones do.

    degrees: 0, 90, 180 or 270 clockwise. Only version-0 track headers (what OpenCV and Blender write).
    """
    matrices = {0: (1, 0, 0, 1), 90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}
    a, b, c, d = matrices[degrees % 360]
    path = Path(path)
    data = bytearray(path.read_bytes())
    start, found = 0, 0
    while (pos := data.find(b"tkhd", start)) >= 0:
        start = pos + 4
        if data[pos + 4] != 0:
            continue
        matrix = pos + 4 + 40  # after version/flags, times, track id, duration, layer, group, volume
        data[matrix:matrix + 36] = struct.pack(">9i", a << 16, b << 16, 0, c << 16, d << 16, 0, 0, 0, 1 << 30)
        found += 1
    if not found:
        raise ValueError(f"no version-0 track header in {path}")
    path.write_bytes(bytes(data))
    return path


def _boxes(data: bytes | bytearray, start: int, end: int):
    """(type, box start, payload start, box end) of the MP4 boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        yield kind.decode("latin-1"), pos, pos + header, pos + size
        pos += size


def move_moov_first(data: bytes) -> bytes:
    """The same MP4 with its index ('moov') before the media data, as streaming ("faststart") files have it,
    so a copy cut short still opens and plays up to the cut. Chunk offsets are shifted to match."""
    top = {kind: (box_start, box_end) for kind, box_start, _, box_end in _boxes(data, 0, len(data))}
    if "moov" not in top or "mdat" not in top or top["moov"][0] < top["mdat"][0]:
        return data
    moov = bytearray(data[slice(*top["moov"])])
    shift = len(moov)

    def patch(start: int, end: int) -> None:
        for kind, _, payload, box_end in _boxes(moov, start, end):
            if kind in ("trak", "mdia", "minf", "stbl", "edts"):
                patch(payload, box_end)
            elif kind in ("stco", "co64"):
                count = struct.unpack(">I", moov[payload + 4:payload + 8])[0]
                width, fmt = (4, ">I") if kind == "stco" else (8, ">Q")
                for i in range(count):
                    at = payload + 8 + i * width
                    moov[at:at + width] = struct.pack(fmt, struct.unpack(fmt, moov[at:at + width])[0] + shift)

    patch(8, len(moov))
    first_media = top["mdat"][0]
    return data[:first_media] + bytes(moov) + data[first_media:top["moov"][0]] + data[top["moov"][1]:]


def derive_clip(source: str | Path, path: str | Path, *, repeat: int = 1, blank: tuple[int, int] | None = None,
                second_person_scale: float | None = None) -> Path:
    """A new test clip (MPEG-4 part 2) from a rendered one, without Blender.

    repeat: play the clip this many times (ping-pong, so the motion has no jump), for long jobs;
    blank: frames [a, b) painted over with the background colour (nobody there, as when a person leaves);
    second_person_scale: two people: the central half of the frame (where the renders put the person) twice,
    side by side, the right copy scaled by this factor and standing on the same ground line.
    """
    import cv2

    cap = cv2.VideoCapture(str(source))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise ValueError(f"no frames in {source}")
    sequence = []
    for k in range(repeat):
        sequence.extend(frames if k % 2 == 0 else frames[::-1])
    height, width = frames[0].shape[:2]
    quarter = width // 4
    out_size = (4 * quarter if second_person_scale else width, height)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, out_size)
    for k, frame in enumerate(sequence):
        frame = frame.copy()
        if blank is not None and blank[0] <= k < blank[1]:
            frame[:] = frame[0, 0]  # the background colour of the top-left corner
        if second_person_scale:
            left = frame[:, quarter:3 * quarter]
            small = cv2.resize(left, None, fx=second_person_scale, fy=second_person_scale, interpolation=cv2.INTER_AREA)
            right = np.empty_like(left)
            right[:] = frame[0, 0]
            x0 = (right.shape[1] - small.shape[1]) // 2
            right[height - small.shape[0]:, x0:x0 + small.shape[1]] = small
            frame = np.concatenate([left, right], axis=1)
        writer.write(frame)
    writer.release()
    return Path(path)


def write_bad_inputs(out_dir: str | Path, source_mp4: str | Path | None = None) -> dict[str, Path]:
    """Files the bridge must refuse clearly (empty, not a video, truncated MP4 without its index, a clip with
    nobody in it) and one it must finish with a warning: a streaming MP4 cut off halfway ("cut_short")."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    empty = out_dir / "empty.mp4"
    empty.write_bytes(b"")
    text = out_dir / "not_a_video.mp4"
    text.write_text("this is a text file, not a video\n")
    nobody = write_noise_clip(out_dir / "no_person.mp4")
    source = Path(source_mp4) if source_mp4 is not None else nobody
    truncated = out_dir / "truncated.mp4"
    raw = source.read_bytes()
    truncated.write_bytes(raw[: len(raw) // 3])
    cut_short = out_dir / "cut_short.mp4"
    streaming = move_moov_first(raw)
    cut_short.write_bytes(streaming[: len(streaming) // 2])
    return {"empty": empty, "not_a_video": text, "truncated": truncated, "no_person": nobody, "cut_short": cut_short}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--name", default=None, help="file stem (default: the motion kind)")
    parser.add_argument("--motion", default="wave", help="procedural motion kind (idle, walk, wave, squat, ...)")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--size", default="480x360", help="WIDTHxHEIGHT in px")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rotate", type=int, default=0, choices=(0, 90, 180, 270),
                        help="also store display-rotation metadata (as phones do)")
    parser.add_argument("--bad-inputs", action="store_true", help="write the bad-input fixtures instead")
    parser.add_argument("--bvh", type=Path, default=None,
                        help="render this motion-capture trial (any skeleton scripts/synth reads) instead")
    parser.add_argument("--start-s", type=float, default=0.0, help="with --bvh: where in the trial to start")
    args = parser.parse_args(argv)
    if args.bad_inputs:
        for kind, path in write_bad_inputs(args.out_dir).items():
            print(f"{kind}: {path}")
        return 0
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.bvh is not None:
        mp4, npz = render_mocap(args.out_dir, args.bvh, args.start_s, args.seconds, (width, height), args.fps,
                                args.seed, args.name)
    else:
        mp4, npz = render_clip(args.out_dir, args.name or args.motion, args.motion, args.seconds, (width, height),
                               args.fps, args.seed)
    if args.rotate:
        set_mp4_rotation(mp4, args.rotate)
    print(mp4)
    print(npz)
    return 0


if __name__ == "__main__":
    sys.exit(main())
