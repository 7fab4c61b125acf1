"""Random cameras: ranges, world -> camera transforms, perspective projection, the person in view."""
from __future__ import annotations

import numpy as np
import pytest

from bridge import camera as bridge_camera
from scripts.synth.camera import (
    DISTANCE_RANGE_M, FOV_RANGE_DEG, HEIGHT_RANGE_M, IMAGE_SIZES, look_at, project_points,
    sample_camera)


def test_look_at_is_a_rotation_facing_the_target():
    position = np.array([[3.0, 1.5, -2.0]])
    target = np.array([[0.0, 1.0, 0.0]])
    rot = look_at(position, target, roll_rad=np.array([0.1]))[0]
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rot) == pytest.approx(1.0)
    forward = (target - position)[0] / np.linalg.norm(target - position)
    np.testing.assert_allclose(rot[2], forward, atol=1e-12)


def test_look_at_without_roll_keeps_world_up_pointing_up_in_the_image():
    rot = look_at(np.array([0.0, 1.0, -5.0]), np.array([0.0, 1.0, 0.0]))
    # OpenCV camera: y points down, so world +Y maps to camera -y; looking along +Z, world -X is image right.
    np.testing.assert_allclose(rot @ [0, 1, 0], [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(rot @ [-1, 0, 0], [1, 0, 0], atol=1e-12)


def test_projection_pinhole_and_principal_point():
    px = project_points(np.array([[0.0, 0.0, 4.0], [1.0, -0.5, 2.0]]), 1000.0, np.array([640.0, 360.0]))
    np.testing.assert_allclose(px, [[640, 360], [1140, 110]])
    assert bridge_camera.focal_from_fov(1920, 90.0) == pytest.approx(960.0)  # what sample_camera uses


def test_sampled_cameras_stay_in_their_ranges_and_keep_the_person_in_view():
    rng = np.random.default_rng(0)
    ground = 0.0
    height = 1.7
    pelvis = np.tile([0.3, 0.95, -0.4], (30, 1)) + np.linspace(0, 1, 30)[:, None] * [1.0, 0.0, 0.5]
    body = np.array([[0.0, 0.75, 0.0], [0.0, -0.9, 0.0], [0.8, 0.45, 0.0], [-0.8, 0.45, 0.0]])  # head, feet, hands
    inside, sizes = [], set()
    for _ in range(300):
        cam = sample_camera(rng, pelvis, ground, height)
        width, h = cam.image_size
        sizes.add(cam.image_size)
        assert cam.image_size in IMAGE_SIZES
        fov = np.rad2deg(2 * np.arctan(0.5 * max(width, h) / cam.focal_px))
        assert FOV_RANGE_DEG[0] - 1e-6 <= fov <= FOV_RANGE_DEG[1] + 1e-6
        assert HEIGHT_RANGE_M[0] <= cam.position_m[0, 1] - ground <= HEIGHT_RANGE_M[1]
        centre = 0.5 * (pelvis.min(0) + pelvis.max(0))
        distance = np.linalg.norm((cam.position_m[0] - centre)[[0, 2]])
        assert DISTANCE_RANGE_M[0] - 1e-6 <= distance <= DISTANCE_RANGE_M[1] + 1e-6
        rot = cam.rotation
        np.testing.assert_allclose(rot @ np.swapaxes(rot, 1, 2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-9)
        points = cam.world_to_camera(pelvis[:, None, :] + body[None])
        assert (points[..., 2] > 0.5).all()  # the person is in front of the camera
        px = cam.project(points)
        inside.append(((px >= 0) & (px < [width, h])).all(-1).mean())
    assert len(sizes) == len(IMAGE_SIZES)  # portrait and landscape both drawn
    assert np.mean(inside) > 0.85
    assert np.median(inside) == 1.0


def test_world_to_camera_then_back():
    cam = sample_camera(np.random.default_rng(3), np.zeros((5, 3)) + [0, 1, 0], 0.0, 1.8)
    points = np.random.default_rng(4).normal(size=(5, 7, 3))
    cam_points = cam.world_to_camera(points)
    back = np.einsum("fba,fnb->fna", cam.rotation, cam_points) + cam.position_m[:, None]
    np.testing.assert_allclose(back, points, atol=1e-12)
