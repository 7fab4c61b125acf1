"""The clip's world frame: floor, up and camera recovered from posed joints seen by a tilted camera."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.ground import FOOT_JOINTS, estimate_world_frame
from bridge.pipeline import pose_joints
from scripts.synth.procedural import FOOT_JOINT_HEIGHT_M, procedural_motion

#: The procedural motions hold the lowest foot joint this high above their floor (y = 0).
SOLES = {joint: FOOT_JOINT_HEIGHT_M for joint in FOOT_JOINTS}


def world_joints(kind: str, seed: int, frames: int = 150) -> np.ndarray:
    """(F, 24, 3) joints of a procedural motion in its Y-up world, floor at y = 0."""
    _, rest = shaped_rest(load_body_model_arrays(), None)
    motion = procedural_motion(kind, seed, rest, frames)
    return pose_joints(motion.pose_aa, rest) - rest[0] + motion.root_pos_m[:, None, :]


def camera(height_m: float, pitch_deg: float, roll_deg: float, target: np.ndarray, distance_m: float):
    """OpenCV camera (x right, y down, z forward) looking down at `target` from `distance_m` away in Y-up space."""
    pitch = np.radians(pitch_deg)
    forward = np.array([0.0, -np.sin(pitch), np.cos(pitch)])
    centre = np.array([target[0], height_m, target[2] - distance_m * np.cos(pitch)])
    right = np.cross([0.0, -1.0, 0.0], forward)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    roll = np.radians(roll_deg)
    right, down = np.cos(roll) * right + np.sin(roll) * down, -np.sin(roll) * right + np.cos(roll) * down
    return np.stack([right, down, forward]), centre


def stepping_between_spots(seed: int = 2) -> np.ndarray:
    """Standing still on three spots of the floor in turn (feet planted, spread over a few metres)."""
    idle = world_joints("idle", seed, 150)
    spots = np.array([[0.0, 0.0, 0.0], [1.6, 0.0, 0.8], [-1.2, 0.0, 2.2]])
    return np.concatenate([idle[i * 50:(i + 1) * 50] + spot for i, spot in enumerate(spots)])


#: (motion, camera height, pitch, roll, tolerance on up and pitch/roll in degrees). The body alone gives up
#: within about 6 degrees (procedural postures lean); planted feet spread over the floor within about 1.
CASES = [("walk", 1.6, 12.0, 3.0, 6.0), ("walk", 2.4, 25.0, -4.0, 6.0), ("wave", 1.2, 5.0, 0.0, 6.0),
         ("stepping", 1.5, 15.0, 5.0, 1.5)]


@pytest.mark.parametrize("kind, height, pitch, roll, tolerance", CASES)
def test_floor_up_and_camera_are_recovered(kind, height, pitch, roll, tolerance):
    joints_w = stepping_between_spots() if kind == "stepping" else world_joints(kind, 3)
    rotation_cw, centre = camera(height, pitch, roll, joints_w[0, 0], 4.0)
    joints_c = (joints_w - centre) @ rotation_cw.T
    frame = estimate_world_frame(joints_c, np.ones(len(joints_c), bool), 30.0, SOLES)
    up_true = rotation_cw @ np.array([0.0, 1.0, 0.0])
    assert np.degrees(np.arccos(np.clip(frame.rotation[2] @ up_true, -1, 1))) < tolerance
    got_pitch, got_roll = frame.camera_pitch_roll_deg()
    assert got_pitch == pytest.approx(pitch, abs=tolerance) and got_roll == pytest.approx(roll, abs=tolerance)
    joints_world = joints_c @ frame.rotation.T + frame.translation
    lowest = joints_world[:, FOOT_JOINTS, 2].min(axis=1)
    # Feet on the floor under the person (where the tilt matters least), camera at its height.
    assert np.median(lowest) == pytest.approx(FOOT_JOINT_HEIGHT_M, abs=0.03)
    assert frame.camera_height_m() == pytest.approx(height, abs=0.1 if tolerance > 2 else 0.05)
    first = joints_world[0]
    assert np.hypot(*first[0, :2]) < 1e-6  # starts over the origin
    assert first[1, 0] > first[2, 0] and abs(first[1, 1] - first[2, 1]) < 0.05  # left hip on +X: facing -Y


def test_planted_feet_are_used_and_a_short_clip_falls_back_to_the_body():
    joints = stepping_between_spots()
    assert estimate_world_frame(joints, np.ones(150, bool), 30.0, SOLES).method == "contacts"
    assert estimate_world_frame(joints[:5], np.ones(5, bool), 30.0, SOLES).method == "body"


def test_feet_still_in_the_picture_count_as_planted_where_the_depth_jitters():
    """A monocular estimate's feet jitter in depth, so in 3D no foot looks planted; where the detector saw the
    feet still, they are (and where it saw them move, they are not, however slow they look in 3D)."""
    joints = stepping_between_spots()
    jittery = joints + np.random.default_rng(0).normal(0.0, 0.03, (len(joints), 1, 3))  # ~1.3 m/s of noise
    frames = np.ones(len(joints), bool)
    assert estimate_world_frame(jittery, frames, 30.0, SOLES).method == "body"
    still = np.ones((len(joints), len(FOOT_JOINTS)))
    assert estimate_world_frame(jittery, frames, 30.0, SOLES, still).method == "contacts"
    unseen = np.full_like(still, np.nan)
    assert estimate_world_frame(jittery, frames, 30.0, SOLES, unseen).method == "body"
    assert estimate_world_frame(joints, frames, 30.0, SOLES, np.zeros_like(still)).method == "body"


def test_the_rendered_fixtures_floor_and_camera_from_its_true_joints(repo_root):
    """The wave clip was filmed from 1.0 m, about 2 degrees down, level (scripts/render_test_clip.py), of a
    person waving on the spot. Without steps only the posture says where up is: this procedural posture
    leans about 5 degrees, which at 3.6 m puts the camera about 0.3 m too high, while the feet stand on
    the floor."""
    from bridge.pipeline import sole_heights

    truth = np.load(repo_root / "tests" / "fixtures" / "bridge" / "wave_480x360.npz")
    vertices, rest = shaped_rest(load_body_model_arrays(), truth["betas"])
    frame = estimate_world_frame(truth["joints_3d"], np.ones(len(truth["joints_3d"]), bool), float(truth["fps"]),
                                 sole_heights(vertices, rest))
    pitch, roll = frame.camera_pitch_roll_deg()
    assert frame.camera_height_m() == pytest.approx(1.0, abs=0.4)
    assert pitch == pytest.approx(1.9, abs=6.0) and roll == pytest.approx(0.0, abs=3.0)
    toes = (truth["joints_3d"][:, [10, 11]] @ frame.rotation.T + frame.translation)[..., 2]
    assert np.median(toes) == pytest.approx(sole_heights(vertices, rest)[10], abs=0.015)
