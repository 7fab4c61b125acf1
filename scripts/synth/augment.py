"""Flip and camera-roll augmentation of a synthetic clip (or a window of one), done so labels stay consistent.

The flip mirrors the image and camera space through bridge.mirror (left and right swap names; a rotation R
becomes M R M with M = diag(-1, 1, 1)). SMPL's `transl` is not mirrored directly: the pelvis is
(joints_3d[0] = J0 + transl), so transl' = M (J0 + transl) - J0 with J0 = joints_3d[0] - transl. The body
model is left/right symmetric, so β is unchanged and the flipped clip is exactly what the mirrored person would produce.
Applying the flip twice gives back the input.

Landmark hiding (hide_landmarks) blanks one occluder-sized group of landmarks over part of a window, so the
network must infer a limb from the rest of the body and from neighbouring frames instead of trusting every
landmark it is given (the landmark dropout of issue #10's ablation).

Camera roll (roll_clip) turns the camera about its optical axis by φ. With the principal point at the image
centre this is exact for a pinhole camera: camera-space points turn by R = R_z(φ), pixels turn by the same
angle about the centre, and depth is unchanged. The root orientation becomes R R_root (local rotations are
untouched) and transl' = R (J0 + transl) - J0 as for the flip. A person standing in a rolled view looks like a
person lying, tilted or upside down in an upright one: the network then meets bodies in every orientation,
which the mocap (almost always upright) rarely shows, and which users' videos of floor work, cartwheels and
handstands do.

Detector-error scaling (scale_detector_error) multiplies what MediaPipe got wrong in a clip of its real output
(its landmarks minus the noise-free ones of the truth, stored beside them) by a factor. Most of the network's
remaining error is inherited from MediaPipe's sustained, pose-dependent 2D errors (model card,
detector_error_cost_v55); at one fixed strength the network can learn each trained pose's error as it is,
while at varied strengths it would have to recognise the error's pattern and take it out. Measured in a
fine-tune (model card, detector_error_scale_v56_not_shipped): no gain beyond one fine-tune's spread. numpy only.
"""
from __future__ import annotations

import numpy as np

from bridge.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from bridge.mirror import MIRROR, mirror_image_landmarks, mirror_pose_aa, mirror_smpl_points, mirror_world_landmarks
from bridge.upright import roll_image_landmarks, roll_matrix, roll_points


def flip_clip(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Mirror every per-frame array of a clip dict (the clip file's keys; others pass through).

    Needs `image_size` for the pixel arrays and `joints_3d` with `trans_m` for the translation."""
    out = dict(data)
    width = float(np.asarray(data["image_size"])[0]) if "image_size" in data else None
    for key in ("mp_image", "mp_image_clean"):
        if key in data:
            if width is None:
                raise KeyError("flipping pixel landmarks needs image_size")
            out[key] = mirror_image_landmarks(data[key], width)
    for key in ("mp_world", "mp_world_clean"):
        if key in data:
            out[key] = mirror_world_landmarks(data[key])
    if "pose_aa" in data:
        out["pose_aa"] = mirror_pose_aa(data["pose_aa"])
    if "joints_3d" in data:
        out["joints_3d"] = mirror_smpl_points(data["joints_3d"])
    if "trans_m" in data:
        pelvis_rest = data["joints_3d"][..., 0, :] - data["trans_m"]
        out["trans_m"] = data["joints_3d"][..., 0, :] * MIRROR - pelvis_rest
    return out


def roll_clip(data: dict[str, np.ndarray], angle_rad: float) -> dict[str, np.ndarray]:
    """The clip as a camera rolled by `angle_rad` about its optical axis would have seen it.

    Needs `image_size` for the pixel arrays and `joints_3d` with `trans_m` for the translation; pixel
    landmarks may leave the image (the person is not re-cropped). Rolling by φ then -φ gives back the input."""
    out = dict(data)
    rot = roll_matrix(angle_rad)
    angles = np.array([angle_rad])
    if any(key in data for key in ("mp_image", "mp_image_clean")) and "image_size" not in data:
        raise KeyError("rolling pixel landmarks needs image_size")
    for key in ("mp_image", "mp_image_clean"):
        if key in data:
            out[key] = roll_image_landmarks(np.asarray(data[key])[None], angles, tuple(data["image_size"]))[0]
    for key in ("mp_world", "mp_world_clean", "joints_3d"):
        if key in data:
            out[key] = roll_points(np.asarray(data[key])[None], angles)[0]
    if "pose_aa" in data:
        pose = np.array(data["pose_aa"], copy=True)
        root = rot @ axis_angle_to_matrix(np.asarray(pose[..., 0, :], dtype=np.float64))
        pose[..., 0, :] = matrix_to_axis_angle(root)
        out["pose_aa"] = pose
    if "trans_m" in data:
        pelvis = np.asarray(data["joints_3d"][..., 0, :], dtype=np.float64)
        pelvis_rest = pelvis - data["trans_m"]
        out["trans_m"] = (pelvis @ rot.T - pelvis_rest).astype(data["trans_m"].dtype)
    return out


#: MediaPipe landmarks an occluder or the frame edge typically takes away together: each arm below the
#: shoulder (elbow, wrist, hand), each leg below the hip (knee, ankle, heel, toe), and the face.
HIDE_GROUPS: tuple[tuple[int, ...], ...] = ((13, 15, 17, 19, 21), (14, 16, 18, 20, 22), (25, 27, 29, 31),
                                            (26, 28, 30, 32), tuple(range(11)))
_HIPS = (23, 24)


def hide_landmarks(image: np.ndarray, world: np.ndarray, rng: np.random.Generator,
                   min_frames: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """One window's MediaPipe arrays, image (T, 33, 4) and world (T, 33, 3), with one HIDE_GROUPS group hidden
    over a random run of at least `min_frames` frames (copies; the inputs are untouched).

    A hidden landmark says nothing: visibility and presence 0, pixels at the hips' midpoint and world
    coordinates at the hips (where MediaPipe centres them), so neither its place nor its confidence
    leaks what was hidden."""
    image, world = np.array(image, copy=True), np.array(world, copy=True)
    frames = image.shape[0]
    length = int(rng.integers(min(min_frames, frames), frames + 1))
    start = int(rng.integers(0, frames - length + 1))
    span = slice(start, start + length)
    group = list(HIDE_GROUPS[int(rng.integers(len(HIDE_GROUPS)))])
    image[span, group, :2] = image[span][:, list(_HIPS), :2].mean(axis=1, keepdims=True)
    image[span, group, 2:] = 0.0
    world[span, group] = world[span][:, list(_HIPS)].mean(axis=1, keepdims=True)
    return image, world


def scale_detector_error(data: dict[str, np.ndarray], scale: float) -> dict[str, np.ndarray]:
    """The window with MediaPipe's error on its found frames (`valid`) times `scale`: image positions
    (mp_image minus mp_image_clean) and world landmarks (mp_world minus mp_world_clean, both in camera axes).
    Visibility, presence and frames without a person are kept; scale 1 gives the window back, 0 the truth's
    noise-free landmarks."""
    out = dict(data)
    found = np.asarray(data["valid"], bool)[:, None, None]
    image = np.array(data["mp_image"], copy=True)
    clean = np.asarray(data["mp_image_clean"], image.dtype)
    image[..., :2] = np.where(found, clean + scale * (image[..., :2] - clean), image[..., :2])
    out["mp_image"] = image
    world, clean_world = np.asarray(data["mp_world"]), np.asarray(data["mp_world_clean"], data["mp_world"].dtype)
    out["mp_world"] = np.where(found, clean_world + scale * (world - clean_world), world).astype(world.dtype)
    return out
