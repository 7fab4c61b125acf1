"""Foot lock on a standing motion made to slide, as video estimates do (world frame given)."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.contacts import contact_probabilities
from bridge import foot_lock
from bridge.foot_lock import MAX_PELVIS_DROP_M, ankle_rays, lock_feet, lock_targets
from bridge.geometry import rotations
from bridge.pipeline import pose_joints, sole_heights
from scripts.synth.procedural import FOOT_JOINT_HEIGHT_M, procedural_motion

FPS = 30.0


@pytest.fixture(scope="module")
def sliding():
    """A person waving on the spot whose whole body drifts 12 cm/s away from the camera, 1 cm/s sideways,
    and bobs 1 cm, as video estimates drift (mostly in depth, which one image cannot see): in camera space
    (camera 3.5 m away, level), with the world frame that stands them on the floor."""
    vertices, rest = shaped_rest(load_body_model_arrays(), None)
    motion = procedural_motion("wave", 4, rest, 120)
    soles = sole_heights(vertices, rest)
    pose = motion.pose_aa.astype(np.float64)
    root = motion.root_pos_m - rest[0]  # SMPL transl in the Y-up world (floor at 0)
    root[:, 1] -= FOOT_JOINT_HEIGHT_M - soles[10]  # procedural feet hover at a fixed joint height: soles down
    t = np.arange(120) / FPS
    root = root + np.stack([0.01 * t, 0.01 * np.sin(6 * t), -0.12 * t], axis=1)
    camera_from_yup = np.diag([1.0, -1.0, -1.0])  # a level camera at (0, 0, 3.5) looking along -z
    camera_at = np.array([0.0, 0.0, 3.5])
    pose[:, 0] = rotations.matrix_to_axis_angle(camera_from_yup @ rotations.axis_angle_to_matrix(pose[:, 0]))
    trans = (root + rest[0] - camera_at) @ camera_from_yup.T - rest[0]
    zup_from_yup = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    world = np.eye(4)  # camera -> the Y-up world -> Z up (floor at z = 0)
    world[:3, :3] = zup_from_yup @ camera_from_yup.T
    world[:3, 3] = zup_from_yup @ camera_at
    joints_world = (pose_joints(pose, rest) - rest[0] + (trans + rest[0])[:, None]) @ world[:3, :3].T + world[:3, 3]
    return pose, trans, rest, world, joints_world, soles


def foot_speed(joints_world: np.ndarray, joint: int) -> np.ndarray:
    return np.linalg.norm(np.diff(joints_world[:, joint, :2], axis=0), axis=-1) * FPS


def test_the_set_up_stands_on_the_floor_and_slides(sliding):
    _, _, _, _, joints_world, soles = sliding
    assert np.median(joints_world[:, [10, 11], 2].min(axis=1)) == pytest.approx(soles[10], abs=0.01)
    assert np.median(foot_speed(joints_world, 7)) == pytest.approx(0.12, abs=0.02)


def test_planted_feet_stop_sliding_and_nothing_else_changes(sliding):
    pose, trans, rest, world, joints_world, soles = sliding
    contacts = contact_probabilities(joints_world, FPS, soles)
    assert (contacts.max(axis=1) > 0.5).mean() > 0.9  # slow enough to count as planted
    locked = lock_feet(pose, trans, rest, world, contacts, soles, FPS)
    for ankle in (7, 8):
        before, after = foot_speed(joints_world, ankle), foot_speed(locked.joints_world, ankle)
        assert np.median(after) < 0.01 and np.median(before) > 0.05, (np.median(after), np.median(before))
    assert (locked.joints_world[:, [7, 8], 2] >= np.array([soles[7], soles[8]]) - 1e-6).all()
    assert (locked.joints_world[:, [10, 11], 2] >= soles[10] - 1e-6).all()  # nor the toes
    legs = [1, 2, 4, 5, 7, 8]
    others = [j for j in range(24) if j not in legs]
    np.testing.assert_allclose(locked.pose_aa[:, others], pose[:, others], atol=1e-5)  # arms, spine, root
    # The upper body keeps its shape (only the pelvis may move as a whole).
    trunk = lambda j: j[:, 15] - j[:, 0]  # noqa: E731
    np.testing.assert_allclose(trunk(locked.joints_world), trunk(joints_world), atol=1e-5)
    step = lambda j: np.linalg.norm(np.diff(j[:, legs], axis=0), axis=-1).max()  # noqa: E731
    assert step(locked.joints_world) < step(joints_world) + 0.015  # no pops where locks start and end


def test_a_foot_the_image_saw_move_is_not_pinned(sliding):
    """The same motion drifting sideways instead (across the line of sight, which the image measures): the
    'contacts' are contradicted by the image after a few cm, so the feet are let go and the body stays where
    the image put it (up to the little the pelvis may sink to let the legs reach)."""
    pose, trans, rest, world, joints_world, soles = sliding
    sideways = trans.copy()
    t = np.arange(len(trans)) / FPS
    sideways[:, 0] += 0.25 * t  # camera x: 25 cm/s across the view
    joints = (pose_joints(pose, rest) - rest[0] + (sideways + rest[0])[:, None]) @ world[:3, :3].T + world[:3, 3]
    contacts = contact_probabilities(joints, FPS, soles)
    contacts[:] = 1.0  # a contact estimate that insists the feet are planted throughout
    locked = lock_feet(pose, sideways, rest, world, contacts, soles, FPS)
    seen = lambda j: (j[:, 0] - world[:3, 3]) @ world[:3, :3]  # noqa: E731  (the pelvis in camera space)
    image = lambda j: seen(j)[:, :2] / seen(j)[:, 2:]  # noqa: E731
    moved = np.abs(image(locked.joints_world) - image(joints))
    assert moved[:, 0].max() < 1e-3  # the body stays on the person: not dragged across the view
    assert moved[:, 1].max() < MAX_PELVIS_DROP_M / 3.0  # and sinks no further than allowed (3.5 m away)
    late = slice(len(t) // 2, None)
    assert np.median(foot_speed(locked.joints_world, 7)[late]) > 0.15  # the foot moves as the image shows


def test_strength_zero_only_keeps_soles_out_of_the_floor(sliding):
    pose, trans, rest, world, joints_world, soles = sliding
    contacts = contact_probabilities(joints_world, FPS, soles)
    off = lock_feet(pose, trans, rest, world, contacts, soles, FPS, strength=0.0)
    legs_and_body = [j for j in range(24) if j not in (10, 11)]  # the toes are pitched up where they sank
    np.testing.assert_allclose(off.joints_world[:, legs_and_body], joints_world[:, legs_and_body], atol=1e-5)
    np.testing.assert_allclose(off.trans_m, trans, atol=1e-5)
    assert (off.joints_world[:, [10, 11], 2] >= soles[10] - 1e-6).all()
    sunk = world.copy()
    sunk[2, 3] -= 0.03  # the same motion 3 cm into the floor
    lifted = lock_feet(pose, trans, rest, sunk, contacts, soles, FPS, strength=0.0)
    assert (lifted.joints_world[:, [7, 8], 2] >= np.array([soles[7], soles[8]]) - 1e-6).all()


def test_contacts_close_together_hand_over_without_a_jump():
    """Two contacts at spots 40 cm apart with a 3-frame gap: each used to fade over at least 4 frames into
    the other, and the target jumped where the larger weight switched contacts. Now the foot is on each spot
    for its whole contact and travels between them during the gap at no more than the gap's pace."""
    from bridge.foot_lock import lock_targets

    frames = 40
    ankles = np.zeros((frames, 3))
    ankles[:, 0] = np.linspace(0.0, 0.4, frames)  # the estimate slides 40 cm over the clip
    planted = np.zeros(frames)
    planted[3:18], planted[21:37] = 1.0, 1.0
    goal, weights = lock_targets(ankles, planted, -np.inf, 1.0, FPS)
    assert np.ptp(goal[3:18], axis=0).max() < 1e-9 and np.ptp(goal[21:37], axis=0).max() < 1e-9
    gap_step = np.linalg.norm(goal[21] - goal[17]) / 4
    assert np.linalg.norm(np.diff(goal, axis=0), axis=1).max() <= 1.6 * gap_step  # smoothstep peaks at 1.5x
    assert (weights[3:37] == 1.0).all()


def test_toes_stay_put_while_the_estimate_rocks_the_foot(sliding):
    """The network's foot angle wobbles (±15°, 1 Hz) while the foot is planted: pinning the ankle alone
    would sweep the toes across the floor; they stay on one spot."""
    pose, trans, rest, world, joints_world, soles = sliding
    rocked = pose.copy()
    wobble = np.radians(15.0) * np.sin(2 * np.pi * np.arange(len(pose)) / FPS)
    for ankle in (7, 8):
        turn = rotations.axis_angle_to_matrix(np.stack([wobble, 0 * wobble, 0 * wobble], axis=1))
        rocked[:, ankle] = rotations.matrix_to_axis_angle(rotations.axis_angle_to_matrix(pose[:, ankle]) @ turn)
    contacts = np.ones((len(pose), 4))
    locked = lock_feet(rocked, trans, rest, world, contacts, soles, FPS)
    for toe in (10, 11):
        assert np.median(foot_speed(locked.joints_world, toe)) < 0.005


def test_a_contact_is_pinned_where_the_image_saw_the_ankle():
    """The estimated ankle slides 1.5 m/s through a 20-frame contact (the depth a single view cannot see)
    and sits 5 cm to the side; the detector saw it still: its anchors (the ankle moved onto the camera ray)
    pin the contact there, with no anchors the pin is the sliding ankle's mean."""
    frames = np.arange(40)
    ankles = np.stack([0.05 + 0 * frames, 1.5 * frames / FPS, 0.1 + 0 * frames], axis=1).astype(float)
    planted = ((frames >= 10) & (frames < 30)).astype(float)
    anchors = np.where(planted[:, None] > 0, [0.0, 0.95, 0.1], np.nan)
    anchors[12] = np.nan  # a frame the detector missed: the estimate stands in for it
    goal, weight = lock_targets(ankles, planted, 0.08, 1.0, FPS, anchors)
    assert (weight[10:30] == 1.0).all()
    expected = (19 * np.array([0.0, 0.95, 0.1]) + ankles[12]) / 20
    np.testing.assert_allclose(goal[10:30], np.tile(expected, (20, 1)), atol=1e-9)
    plain, _ = lock_targets(ankles, planted, 0.08, 1.0, FPS)
    np.testing.assert_allclose(plain[10:30], np.tile(ankles[10:30].mean(axis=0), (20, 1)), atol=1e-9)


def test_ankle_rays_point_at_the_detected_ankles():
    keypoints = np.zeros((3, 33, 3))
    keypoints[:, 27] = (320.0 + 100.0, 240.0, 0.9)  # left ankle 100 px right of the centre
    keypoints[:, 28] = (320.0, 240.0, 0.2)  # right ankle barely seen
    world = np.eye(4)
    rays = ankle_rays(keypoints, 500.0, (640, 480), world)
    np.testing.assert_allclose(rays[:, 0], np.tile(np.array([0.2, 0.0, 1.0]) / np.hypot(0.2, 1.0), (3, 1)))
    assert np.isnan(rays[:, 1]).all()


def test_a_pin_that_would_bend_the_leg_far_from_the_estimate_is_let_go(sliding, monkeypatch):
    """A leg kicking ±50° (the ankle sweeping 70 cm) that a wrong contact calls planted throughout: pinning
    it would swing the leg far from the pose the network saw, so the pull fades out and the kick stays
    (the image test is switched off here, so only the reach decides)."""
    pose, trans, rest, world, joints_world, soles = sliding
    kicking = pose.copy()
    swing = np.radians(50.0) * np.sin(2 * np.pi * np.arange(len(pose)) / FPS)
    kicking[:, 1] = rotations.matrix_to_axis_angle(
        rotations.axis_angle_to_matrix(pose[:, 1]) @ rotations.axis_angle_to_matrix(
            np.stack([swing, 0 * swing, 0 * swing], axis=1)))
    monkeypatch.setattr(foot_lock, "LATERAL_TRUST_M", 5.0)
    monkeypatch.setattr(foot_lock, "LATERAL_LIMIT_M", 15.0)
    planted = np.ones((len(pose), 4))
    locked = lock_feet(kicking, trans, rest, world, planted, soles, FPS)
    assert locked.weights[:, 0].mean() < 0.6 and np.median(foot_speed(locked.joints_world, 7)) > 0.5
    monkeypatch.setattr(foot_lock, "REACH_TRUST_M", 20.0)
    monkeypatch.setattr(foot_lock, "REACH_LIMIT_M", 40.0)
    pinned = lock_feet(kicking, trans, rest, world, planted, soles, FPS)
    assert pinned.weights[:, 0].mean() > 0.95  # without the reach test the kick would be pinned flat


def test_held_contacts_are_capped_where_the_lock_let_go():
    contacts = np.full((3, 4), 0.9)
    weights = np.array([[0.5, 0.5], [0.5, 0.0], [0.2, 0.5]])  # strength 0.5: held fully, let go, partly
    held = foot_lock.held_contacts(contacts, weights, 0.5)
    np.testing.assert_allclose(held, [[0.9] * 4, [0.9, 0.9, 0.0, 0.0], [0.4, 0.4, 0.9, 0.9]], atol=1e-6)


def _gliding_foot(glide: np.ndarray, frames: int = 90) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World joints of a body 3 m in front of a camera at (0, 0, 0.9) looking along +y, whose left ankle glides
    by `glide` (m/s, 3 vector) while it is planted (frames 10-69); contacts; the camera centre."""
    joints = np.zeros((frames, 24, 3))
    joints[:, 0] = (0.0, 3.0, 0.9)
    t = np.arange(frames)[:, None] / FPS
    joints[:, 7] = np.array([0.1, 3.0, 0.1]) + glide * t
    joints[:, 8] = joints[:, 7] - (0.2, 0.0, 0.0)
    contacts = np.zeros((frames, 4))
    contacts[10:70, :2] = 1.0
    return joints, contacts, np.array([0.0, 0.0, 0.9])


def test_the_body_follows_a_foot_gliding_in_depth_and_holds_still_around_the_contact():
    """The estimate's planted foot glides 0.5 m/s away from the camera (its depth, which one view cannot see):
    the whole body is moved so the foot stays nearly still through the contact, the offset stays small (the
    camera fit measured the distance; a drift is undone, not accumulated), and it holds still outside."""
    joints, contacts, camera = _gliding_foot(np.array([0.0, 0.5, 0.0]))
    follow = foot_lock._follow_planted(joints, contacts, None, camera, 1.0)
    speed = np.linalg.norm(np.diff(joints[:, 7] + follow, axis=0), axis=1) * FPS
    assert speed[10:69].max() < 0.1 * 0.5
    assert np.abs(follow).max() < 0.5 * 1.0  # within the glide over half the 2-s contact
    assert np.ptp(follow[:11], axis=0).max() < 1e-9 and np.ptp(follow[69:], axis=0).max() < 1e-9
    np.testing.assert_allclose(follow[:, [0, 2]], 0.0, atol=1e-9)  # along the line of sight only
    np.testing.assert_allclose(foot_lock._follow_planted(joints, contacts, None, camera, 0.4), 0.4 * follow)
    # A glide across the line of sight is what the image saw: the body is not moved for it.
    joints, contacts, camera = _gliding_foot(np.array([0.5, 0.0, 0.0]))
    assert np.abs(foot_lock._follow_planted(joints, contacts, None, camera, 1.0)).max() < 1e-6


def test_a_foot_lifting_does_not_snap_the_body_to_the_other_foot(sliding):
    """Weight passes from the left foot to the right with 5 frames on both, while the estimate drifts 12 cm/s:
    each foot's spot asks for a different offset, and the body moves from one to the other smoothly."""
    pose, trans, rest, world, joints_world, soles = sliding
    contacts = np.zeros((len(pose), 4))
    contacts[:60, :2], contacts[55:, 2:] = 1.0, 1.0
    locked = lock_feet(pose, trans, rest, world, contacts, soles, FPS)
    assert np.median(foot_speed(locked.joints_world, 7)[5:55]) < 0.01
    assert np.median(foot_speed(locked.joints_world, 8)[60:115]) < 0.01
    pelvis_speed = np.linalg.norm(np.diff(locked.joints_world[:, 0], axis=0), axis=1) * FPS
    assert pelvis_speed.max() < 0.3


def test_a_swing_between_contacts_keeps_its_height():
    """Between two plants 12 frames apart the foot travels to the next spot across the floor (the fades span
    the gap), but it lifts as the estimate lifted it: only the contacts and BLEND_FRAMES around them hold the
    spots' height."""
    frames = 40
    ankles = np.zeros((frames, 3))
    ankles[:, 1] = np.linspace(0.0, 0.6, frames)
    ankles[:, 2] = 0.08
    ankles[14:26, 2] += 0.15 * np.sin(np.pi * (np.arange(14, 26) - 13) / 13)  # the swing
    planted = np.zeros(frames)
    planted[2:14], planted[26:38] = 1.0, 1.0
    goal, weights = lock_targets(ankles, planted, 0.08, 1.0, FPS)
    assert (weights[14:26] > 0.9).all()  # the lock carries the foot from spot to spot
    middle = slice(14 + foot_lock.BLEND_FRAMES, 26 - foot_lock.BLEND_FRAMES)
    np.testing.assert_allclose(goal[middle, 2], ankles[middle, 2])
    # and lifts off and lands without a jump: no faster than the estimate's own foot, and the fade's smoothstep
    assert np.abs(np.diff(goal[:, 2])).max() < 1.5 * np.abs(np.diff(ankles[:, 2])).max()
