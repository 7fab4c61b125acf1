"""Random pinhole cameras around a person, world -> camera transforms and perspective projection.

World space is the motion's: Y up, metres, the ground at `ground_y`. Camera space is OpenCV's: x right,
y down, z forward (metres); pixels have their origin at the top-left image corner and the principal point
at the image centre. A camera may pan to follow the person, so extrinsics are per frame: (F, 3, 3) and
(F, 3). numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge import camera as bridge_camera

#: (width, height) px of the image sizes drawn: common video formats, landscape and portrait.
IMAGE_SIZES: tuple[tuple[int, int], ...] = (
    (640, 480), (1280, 720), (1920, 1080), (480, 640), (720, 1280), (1080, 1920))
HEIGHT_RANGE_M = (0.8, 2.0)
DISTANCE_RANGE_M = (2.5, 8.0)
#: Field of view across the image's long side (the horizontal one when a phone is held landscape), degrees.
FOV_RANGE_DEG = (40.0, 75.0)


@dataclass
class Camera:
    """A pinhole camera. x_cam = rotation @ (x_world - position_m), per frame."""

    rotation: np.ndarray  # (F, 3, 3) world -> camera
    position_m: np.ndarray  # (F, 3) camera centre in world space
    focal_px: float
    image_size: tuple[int, int]  # (width, height) px

    @property
    def principal_px(self) -> np.ndarray:
        return np.array([self.image_size[0] / 2.0, self.image_size[1] / 2.0])

    def world_to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """(F, ..., 3) world points -> (F, ..., 3) camera-space points, metres."""
        pts = np.asarray(points_world, dtype=np.float64)
        num_frames = pts.shape[0]
        flat = pts.reshape(num_frames, -1, 3) - self.position_m[:, None, :]
        return np.einsum("fab,fnb->fna", self.rotation, flat).reshape(pts.shape)

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """(..., 3) camera-space points -> (..., 2) pixels (see project_points)."""
        return project_points(points_cam, self.focal_px, self.principal_px)


def project_points(points_cam: np.ndarray, focal_px: float, principal_px: np.ndarray) -> np.ndarray:
    """Perspective projection (..., 3) -> (..., 2) px, as the bridge projects. Depth is clamped to 1 cm so
    points behind the camera project somewhere finite (the noise model marks them absent)."""
    pts = np.array(points_cam, dtype=np.float64)
    pts[..., 2] = np.maximum(pts[..., 2], 0.01)
    return bridge_camera.project(pts, focal_px, tuple(np.asarray(principal_px, dtype=np.float64)))


def look_at(position: np.ndarray, target: np.ndarray, roll_rad: np.ndarray | float = 0.0) -> np.ndarray:
    """World -> camera rotations (..., 3, 3) of cameras at `position` looking at `target` (both (..., 3)),
    Y-up world, turned by `roll_rad` about the viewing axis. Rows are the camera's x (right), y (down) and
    z (forward) axes in world coordinates."""
    forward = np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right = right / np.linalg.norm(right, axis=-1, keepdims=True)
    down = np.cross(forward, right)
    roll = np.asarray(roll_rad, dtype=np.float64)[..., None]
    right, down = np.cos(roll) * right + np.sin(roll) * down, -np.sin(roll) * right + np.cos(roll) * down
    return np.stack([right, down, forward], axis=-2)


def sample_camera(rng: np.random.Generator, pelvis_world: np.ndarray, ground_y: float,
                  person_height_m: float) -> Camera:
    """A random camera for a clip whose pelvis follows `pelvis_world` (F, 3) over ground height `ground_y`.

    Draws an image size, a field of view (FOV_RANGE_DEG across the long side), a framing (how much of the
    image height the person fills) that sets the distance within DISTANCE_RANGE_M, a camera height in
    HEIGHT_RANGE_M above the ground, a yaw anywhere around the person, a few degrees of pitch and roll, and
    in 30% of clips a pan that follows the person (as a camera operator would) instead of a fixed view.
    """
    width, height = IMAGE_SIZES[rng.integers(len(IMAGE_SIZES))]
    focal = bridge_camera.focal_for_frame((width, height), rng.uniform(*FOV_RANGE_DEG))
    num_frames = pelvis_world.shape[0]
    centre = 0.5 * (pelvis_world.min(axis=0) + pelvis_world.max(axis=0))
    extent = float(np.linalg.norm(np.ptp(pelvis_world[:, [0, 2]], axis=0)))
    panning = rng.random() < 0.3
    fill = rng.uniform(0.35, 0.9)  # fraction of the image height the standing person spans
    distance = focal * person_height_m / (fill * height)
    if not panning:  # a fixed camera stands back far enough to keep most of the path in view
        distance = max(distance, rng.uniform(0.5, 1.0) * extent * focal / width)
    distance = float(np.clip(distance, *DISTANCE_RANGE_M))
    yaw = rng.uniform(0.0, 2.0 * np.pi)
    cam_height = rng.uniform(*HEIGHT_RANGE_M)
    position = np.array([centre[0] + distance * np.sin(yaw), ground_y + cam_height,
                         centre[2] + distance * np.cos(yaw)])
    aim_height = ground_y + rng.uniform(0.45, 0.6) * person_height_m
    if panning:
        smooth = moving_average(pelvis_world, max(1, num_frames // 8))
        target = np.column_stack([smooth[:, 0], np.full(num_frames, aim_height), smooth[:, 2]])
    else:
        target = np.tile([centre[0], aim_height, centre[2]], (num_frames, 1))
    pitch_offset = np.tan(np.deg2rad(rng.normal(0.0, 4.0))) * distance
    target = target + np.array([0.0, pitch_offset, 0.0])
    positions = np.tile(position, (num_frames, 1))
    rotation = look_at(positions, target, roll_rad=np.deg2rad(np.clip(rng.normal(0.0, 2.5), -8, 8)))
    return Camera(rotation, positions, float(focal), (int(width), int(height)))


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average along axis 0 with edge padding: (F, C) -> (F, C)."""
    pad = window // 2
    padded = np.pad(values, ((pad, window - 1 - pad), (0, 0)), mode="edge")
    kernel = np.ones(window) / window
    return np.stack([np.convolve(padded[:, c], kernel, mode="valid") for c in range(values.shape[1])], axis=1)
