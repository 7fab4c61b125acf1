"""MediaPipe's world landmarks are seen from the person's crop, not from the camera: turn them into camera axes.

Why: PoseLandmarker estimates its metric skeleton from a crop around the person as if a camera looked straight
at the crop; it does not know the focal length, so the skeleton comes out turned by the angle between the
camera's optical axis and the ray to the person. On 173 clips of its real output on renders (detected clips,
issue #10) the skeleton's heading error follows the hips' horizontal ray angle (slope -0.9 degree per degree)
and its lean the vertical one (0.8-1.0), and of one share for the whole ray rotation, 0.8-1.0 match
MediaPipe's skeleton best (0 and 0.5 worse; the two parts apart: below). Someone at the side of a 55-degree
picture is 20-27 degrees off axis. The network trains on skeletons in camera axes, so the bridge turns
MediaPipe's back with the focal length it has (given, or assumed from the field of view) before the network
reads them; training turns the detector's real output the same way with each clip's own focal length.

The lean is turned by only LEAN_SHARE of the ray's vertical part (session 22): read as the SMPL skeleton,
MediaPipe's output on 186 upright detected clips is closest to the truth (hip-aligned MPJPE-14) with the whole
horizontal part and half the vertical one; on the 13 clips whose hips sit 12 degrees or more above or below
the axis, 166.3 mm with half against 174.6 mm with all of it (176.1 with none), and on the 11 as far to a side,
177.0 mm with the whole horizontal part against 198.9 with none. A network trained on the whole turn lost
30-50 mm on clips 15-24 degrees off axis vertically.

The ray is the one through the hips' midpoint in the image (MediaPipe centres its crop there). numpy only.
"""
from __future__ import annotations

import numpy as np

from .camera import pixel_rays, principal_point
from .geometry.rotations import axis_angle_to_matrix

#: MediaPipe image landmarks of the left and right hip.
HIPS = (23, 24)
#: Share of the ray's vertical part (lean) that MediaPipe's world skeleton keeps; the horizontal part is kept whole.
LEAN_SHARE = 0.5


def ray_rotations(points_px: np.ndarray, focal_px: float, image_size: tuple[int, int],
                  lean_share: float = 1.0) -> np.ndarray:
    """(..., 3, 3) the smallest rotation taking the optical axis (0, 0, 1) onto the ray through each (..., 2)
    pixel, principal point at the image centre (camera axes: x right, y down, z forward); with lean_share, its
    part about the x axis (the ray's vertical part) scaled so."""
    ray = pixel_rays(points_px, focal_px, principal_point(image_size))
    axis = np.stack([-ray[..., 1] * lean_share, ray[..., 0], np.zeros(ray.shape[:-1])], axis=-1)  # z x ray
    sin = np.hypot(ray[..., 0], ray[..., 1])[..., None]
    return axis_angle_to_matrix(axis / np.maximum(sin, 1e-12) * np.arctan2(sin, ray[..., 2:3]))


def crop_to_camera_axes(world_landmarks: np.ndarray, image_landmarks: np.ndarray, focal_px: float,
                        image_size: tuple[int, int], lean_share: float = LEAN_SHARE) -> np.ndarray:
    """MediaPipe world landmarks (..., 33, 3), as seen from the crop, turned into the camera's axes about the
    hips (their origin), frame by frame, by the rotation of the ray through that frame's hips in
    image_landmarks (..., 33, >=2, px), its lean part scaled by lean_share."""
    image = np.asarray(image_landmarks)
    hips = 0.5 * (image[..., HIPS[0], :2] + image[..., HIPS[1], :2])
    rotation = ray_rotations(hips, float(focal_px), image_size, lean_share)
    world = np.asarray(world_landmarks, dtype=np.float64)
    return np.einsum("...ij,...kj->...ki", rotation, world).astype(np.float32)
