"""MediaPipe's world landmarks from the crop's view into camera axes (bridge/crop_view.py)."""
from __future__ import annotations

import numpy as np
import pytest

from bridge import camera
from bridge.crop_view import HIPS, crop_to_camera_axes, ray_rotations

SIZE = (640, 480)


def _project(points: np.ndarray, focal: float) -> np.ndarray:
    return camera.project(points, focal, camera.principal_point(SIZE))


@pytest.mark.parametrize("pixel", [(320.0, 240.0), (600.0, 100.0), (0.0, 480.0), (100.0, 250.0)])
def test_the_ray_rotation_is_a_rotation_onto_the_pixels_ray(pixel):
    rotation = ray_rotations(np.array(pixel), 500.0, SIZE)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    ray = rotation @ np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(_project(5.0 * ray[None], 500.0)[0], pixel, atol=1e-9)
    # the smallest such rotation: it keeps the direction perpendicular to both the axis and the ray
    normal = np.cross([0.0, 0.0, 1.0], ray)
    if np.linalg.norm(normal) > 1e-9:
        np.testing.assert_allclose(rotation @ normal, normal, atol=1e-12)
    else:
        np.testing.assert_allclose(rotation, np.eye(3), atol=1e-12)


def test_a_skeleton_seen_from_its_crop_comes_back_in_camera_axes():
    """A person off to the side, facing the camera's axis: seen from a crop looking down the ray, the skeleton
    turns by the ray's angle; turning it back with the hips' ray restores it, frame by frame."""
    rng = np.random.default_rng(0)
    focal = camera.focal_from_fov(SIZE[0], 55.0)
    skeleton = rng.normal(scale=0.3, size=(3, 33, 3))
    skeleton -= 0.5 * (skeleton[:, HIPS[0]] + skeleton[:, HIPS[1]])[:, None]
    hips_at = np.array([[2.0, 0.3, 6.0], [-1.5, -0.8, 5.0], [0.0, 0.0, 4.0]])
    image = np.zeros((3, 33, 4))
    image[:, :, :2] = _project(skeleton + hips_at[:, None], focal)
    image[:, HIPS, :2] = _project(hips_at, focal)[:, None]  # the hips' midpoint is where the ray goes
    crop_view = np.einsum("fji,fkj->fki", ray_rotations(image[:, HIPS[0], :2], focal, SIZE), skeleton)
    back = crop_to_camera_axes(crop_view, image, focal, SIZE, lean_share=1.0)
    np.testing.assert_allclose(back, skeleton, atol=1e-5)
    assert np.abs(crop_view[0] - skeleton[0]).max() > 0.05  # 18 degrees off axis: a visible turn
    np.testing.assert_allclose(crop_view[2], skeleton[2], atol=1e-6)  # on the axis: nothing to undo


def test_the_lean_is_turned_by_its_share_of_the_ray_and_the_heading_whole():
    """lean_share scales only the part about the camera's x axis (a ray above or below the axis); 1 is the
    whole ray rotation, and crop_to_camera_axes uses LEAN_SHARE by default."""
    from bridge.crop_view import LEAN_SHARE
    from bridge.geometry.rotations import matrix_to_axis_angle

    pixel = np.array([600.0, 60.0])  # right of and above the centre
    whole = matrix_to_axis_angle(ray_rotations(pixel, 500.0, SIZE))
    half = matrix_to_axis_angle(ray_rotations(pixel, 500.0, SIZE, lean_share=0.5))
    np.testing.assert_allclose(half, whole * np.array([0.5, 1.0, 1.0]), atol=1e-12)
    assert abs(whole[0]) > 0.2 and abs(whole[1]) > 0.3 and whole[2] == 0.0
    skeleton = np.random.default_rng(1).normal(scale=0.3, size=(1, 33, 3))
    image = np.zeros((1, 33, 4))
    image[:, HIPS, :2] = pixel
    turned = crop_to_camera_axes(skeleton, image, 500.0, SIZE)
    expected = skeleton @ ray_rotations(pixel, 500.0, SIZE, lean_share=LEAN_SHARE).T
    np.testing.assert_allclose(turned, expected, atol=1e-5)
