"""limb_reaim: limbs turned towards the 2D keypoints, bone lengths and the network's depth side kept."""
import numpy as np
import pytest

from bridge import camera
from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.limb_reaim import REAIM_ORDER, aimed_child, reaim_limbs
from bridge.pipeline import pose_joints

FOCAL, SIZE = 600.0, (640, 480)
PRINCIPAL = camera.principal_point(SIZE)
LANDMARK_OF = {child: landmark for bones in REAIM_ORDER for _, child, landmark in bones}


@pytest.fixture(scope="module")
def rest():
    return np.asarray(shaped_rest(load_body_model_arrays(), np.zeros(10))[1], np.float64)


def _pose(frames: int, seed: int) -> np.ndarray:
    """Upright-ish random poses seen from the front (camera axes: y down, z away from the camera)."""
    rng = np.random.default_rng(seed)
    pose = rng.normal(0.0, 0.25, (frames, 24, 3))
    pose[:, 0] = [np.pi, 0.0, 0.0]  # SMPL's y-up body turned into the camera's y-down axes
    return pose


def _keypoints(pose: np.ndarray, rest: np.ndarray, pelvis: np.ndarray, confidence: float = 1.0) -> np.ndarray:
    """(F, 33, 3) keypoints: the limb joints of `pose` projected, the other landmarks left at 0 px."""
    joints = pose_joints(pose, rest) - rest[0] + pelvis[:, None]
    keypoints = np.zeros((len(pose), 33, 3))
    for child, landmark in LANDMARK_OF.items():
        keypoints[:, landmark, :2] = camera.project(joints[:, child], FOCAL, PRINCIPAL)
        keypoints[:, landmark, 2] = confidence
    return keypoints


def _limb_pixels(pose: np.ndarray, rest: np.ndarray, pelvis: np.ndarray) -> np.ndarray:
    joints = pose_joints(pose, rest) - rest[0] + pelvis[:, None]
    return camera.project(joints[:, list(LANDMARK_OF)], FOCAL, PRINCIPAL)


def _bone_lengths(pose: np.ndarray, rest: np.ndarray) -> np.ndarray:
    joints = pose_joints(pose, rest)
    return np.stack([np.linalg.norm(joints[:, c] - joints[:, p], axis=-1)
                     for bones in REAIM_ORDER for p, c, _ in bones], axis=-1)


def test_aimed_child_keeps_length_and_the_network_depth_side():
    parent = np.array([[0.1, -0.2, 4.0]] * 2)
    ray = camera.pixel_rays(camera.project(parent[:1] + [0.3, 0.1, 0.0], FOCAL, PRINCIPAL), FOCAL, PRINCIPAL)
    rays = np.repeat(ray, 2, axis=0)
    behind, in_front = parent[0] + [0.2, 0.1, 0.3], parent[0] + [0.2, 0.1, -0.3]  # same length, either depth side
    aimed = aimed_child(parent, np.stack([behind, in_front]), rays)
    length = np.linalg.norm(behind - parent[0])
    np.testing.assert_allclose(np.linalg.norm(aimed - parent, axis=-1), length, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(np.cross(aimed, rays), axis=-1), 0.0, atol=1e-9)  # on the ray
    assert aimed[0, 2] > parent[0, 2] and aimed[1, 2] < parent[0, 2]


def test_aimed_child_points_at_a_ray_out_of_reach():
    parent, child = np.array([[0.0, 0.0, 4.0]]), np.array([[0.0, 0.3, 4.0]])
    ray = camera.pixel_rays(camera.project(np.array([[1.0, 0.0, 4.0]]), FOCAL, PRINCIPAL), FOCAL, PRINCIPAL)
    aimed = aimed_child(parent, child, ray)
    np.testing.assert_allclose(np.linalg.norm(aimed - parent, axis=-1), 0.3, atol=1e-9)
    nearest = ray * (ray @ parent[0])[:, None]
    np.testing.assert_allclose(np.cross(aimed - parent, nearest - parent), 0.0, atol=1e-9)  # same direction
    assert np.dot((aimed - parent)[0], (nearest - parent)[0]) > 0


def test_zero_strength_and_matching_keypoints_change_nothing(rest):
    pose = _pose(20, 0)
    pelvis = np.tile([0.0, 0.0, 4.0], (20, 1))
    keypoints = _keypoints(pose, rest, pelvis)
    np.testing.assert_allclose(reaim_limbs(pose, rest, pelvis, keypoints * 1.1, FOCAL, SIZE, 0.0), pose)
    np.testing.assert_allclose(reaim_limbs(pose, rest, pelvis, keypoints, FOCAL, SIZE, 1.0), pose, atol=1e-9)


def test_limbs_move_towards_the_keypoints_with_lengths_kept(rest):
    frames = 30
    pelvis = np.tile([0.05, -0.1, 3.5], (frames, 1))
    truth, network = _pose(frames, 1), _pose(frames, 1)
    limbs = [p for bones in REAIM_ORDER for p, _, _ in bones]  # the rest of the body as the truth: the same parents
    network[:, limbs] = _pose(frames, 2)[:, limbs]
    keypoints = _keypoints(truth, rest, pelvis)
    target = _limb_pixels(truth, rest, pelvis)
    before = np.linalg.norm(_limb_pixels(network, rest, pelvis) - target, axis=-1).mean()
    errors = []
    for strength in (0.35, 1.0):
        pose = reaim_limbs(network, rest, pelvis, keypoints, FOCAL, SIZE, strength, smoothing_frames=0.0)
        errors.append(np.linalg.norm(_limb_pixels(pose, rest, pelvis) - target, axis=-1).mean())
        np.testing.assert_allclose(_bone_lengths(pose, rest), _bone_lengths(network, rest), atol=1e-9)
        np.testing.assert_allclose(pose[:, 0], network[:, 0])  # the body's orientation is left alone
    # full strength lands on the keypoints (within a fraction of a pixel: where the knee or elbow took the
    # other depth side than the truth, the ankle or wrist can be just out of reach)
    assert errors[1] < 0.25 and errors[0] < 0.8 * before


def test_unsure_keypoints_leave_their_limbs_alone(rest):
    frames = 10
    pelvis = np.tile([0.0, 0.0, 4.0], (frames, 1))
    network = _pose(frames, 3)
    keypoints = _keypoints(_pose(frames, 4), rest, pelvis, confidence=0.2)
    np.testing.assert_allclose(reaim_limbs(network, rest, pelvis, keypoints, FOCAL, SIZE, 1.0), network, atol=1e-9)


def test_strength_outside_zero_to_one_is_refused(rest):
    pose = _pose(3, 5)
    with pytest.raises(ValueError, match="strength"):
        reaim_limbs(pose, rest, np.tile([0.0, 0.0, 4.0], (3, 1)), np.zeros((3, 33, 3)), FOCAL, SIZE, 1.5)


def test_limbs_are_reaimed_thighs_shins_upper_arms_forearms_each_to_its_landmark():
    # A thigh before its shin and an upper arm before its forearm, so each bone aims from its parent's new place.
    assert REAIM_ORDER == (((1, 4, 25), (2, 5, 26)), ((4, 7, 27), (5, 8, 28)),
                           ((16, 18, 13), (17, 19, 14)), ((18, 20, 15), (19, 21, 16)))
