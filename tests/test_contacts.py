"""Foot contact probabilities from world-frame joints (synthetic feet)."""
from __future__ import annotations

import numpy as np

from bridge.contacts import CONTACT_POINTS, contact_labels, contact_probabilities, pictured_stillness

SOLES = {7: 0.08, 8: 0.08, 10: 0.03, 11: 0.03}
FPS = 30.0


def stepping_feet(frames: int = 90) -> np.ndarray:
    """Joints (F, 24, 3): the left foot planted throughout, the right one lifted and carried 0.3 m forward
    between frames 30 and 50, planted before and after."""
    joints = np.zeros((frames, 24, 3))
    for joint, height in SOLES.items():
        joints[:, joint, 2] = height
    t = np.clip((np.arange(frames) - 30) / 20.0, 0.0, 1.0)
    for joint in (8, 11):
        joints[:, joint, 1] += 0.3 * t
        joints[:, joint, 2] += 0.2 * np.sin(np.pi * t)
    return joints


def test_planted_feet_are_in_contact_and_a_swinging_foot_is_not():
    probabilities = contact_probabilities(stepping_feet(), FPS, SOLES)
    names = [name for _, name in CONTACT_POINTS]
    left, right = [names.index("left_heel"), names.index("left_toe")], [names.index("right_heel"), names.index("right_toe")]
    assert probabilities.shape == (90, 4) and probabilities.dtype == np.float32
    assert (probabilities[:, left] > 0.9).all()
    assert (probabilities[35:46, right] < 0.1).all()  # in the air and moving
    assert (probabilities[:25, right] > 0.9).all() and (probabilities[56:, right] > 0.9).all()


def test_labels_are_stricter_versions_of_the_same_tests():
    joints = stepping_feet()
    labels = contact_labels(joints, FPS, SOLES)
    predicted = contact_probabilities(joints, FPS, SOLES) > 0.5
    assert (predicted[labels]).all() and 0.9 < labels.mean() / predicted.mean() <= 1.0
    joints[:, 10, 2] += 0.1  # a raised left toe (standing on the heel) is not planted
    assert not contact_labels(joints, FPS, SOLES)[:, 1].any()


def pictured_feet(frames: int = 90, right_moves: bool = True) -> np.ndarray:
    """(F, 33, 3) detected keypoints of a person 400 px tall: every landmark still and seen, except the right
    heel and toe, which sweep 300 px across the image (0.75 heights in 20 frames) while the right foot swings."""
    keypoints = np.zeros((frames, 33, 3))
    keypoints[..., 0] = 300.0
    keypoints[..., 1] = np.linspace(100.0, 500.0, 33)[None]
    keypoints[..., 2] = 0.9
    if right_moves:
        t = np.clip((np.arange(frames) - 30) / 20.0, 0.0, 1.0)
        keypoints[:, [30, 32], 0] += 300.0 * t[:, None]
    return keypoints


def test_stillness_is_judged_in_the_image_where_the_feet_are_seen():
    # The estimate carries the planted left foot forward at 1.5 m/s (the depth a single view cannot see);
    # the image shows it still, so it is planted. The swinging right foot is seen moving.
    joints = stepping_feet()
    joints[:, [7, 10], 1] += 1.5 * np.arange(90)[:, None] / FPS
    assert (contact_probabilities(joints, FPS, SOLES)[:, :2] < 0.1).all()  # 3D alone: never planted
    probabilities = contact_probabilities(joints, FPS, SOLES, pictured_feet())
    assert (probabilities[:, :2] > 0.9).all()
    assert (probabilities[35:46, 2:] < 0.1).all()
    # Where the detector does not see a foot, 3D stillness decides as before.
    unseen = pictured_feet()
    unseen[:, [29, 31], 2] = 0.1
    assert (contact_probabilities(joints, FPS, SOLES, unseen)[:, :2] < 0.1).all()


def test_pictured_stillness_says_still_moving_or_unseen_per_foot_joint():
    keypoints = pictured_feet()
    keypoints[:, 29, 2] = 0.1  # the left heel not seen well
    still = pictured_stillness(keypoints, FPS, (7, 8, 10, 11))  # ground.FOOT_JOINTS order
    assert np.isnan(still[:, 0]).all()  # left heel: unseen
    assert (still[:, 2] == 1.0).all()  # left toe: still in the picture throughout
    assert (still[35:46, 1] == 0.0).all() and (still[35:46, 3] == 0.0).all()  # the right foot swings
