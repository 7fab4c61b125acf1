"""scripts/error_anatomy.py: its measures on made-up clips whose errors are known."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.geometry.rotations import axis_angle_to_matrix
from bridge.skeleton import LIMB_BONES
from scripts.error_anatomy import (axis_turn_aligned14, clip_rows, default_sole_heights, joint_axes, leg_lean_deg,
                                   lean_error_fit, pitch_deg, set_anatomy, wrong_order_runs)


def standing(frames: int, seed: int) -> np.ndarray:
    """(F, 24, 3) camera-space joints of a roughly standing body 4 m away, jittering."""
    rng = np.random.default_rng(seed)
    body = rng.normal(scale=0.15, size=(24, 3))
    body[[1, 2], 1], body[[7, 8], 1], body[[12, 15], 1] = 0.0, 0.9, -0.6  # hips, ankles below, neck and head above
    return body + rng.normal(scale=0.01, size=(frames, 24, 3)) + np.array([0.0, 0.0, 4.0])


def pitched(joints: np.ndarray, degrees: float) -> np.ndarray:
    """The joints turned about the camera's x axis through the hips' midpoint."""
    hips = joints[:, [1, 2]].mean(axis=1, keepdims=True)
    turn = np.asarray(axis_angle_to_matrix(np.array([np.radians(degrees), 0.0, 0.0])), np.float64)
    return (joints - hips) @ turn.T + hips


def test_a_lean_held_all_clip_is_one_turn_and_shows_in_the_leg_lean():
    clips = []
    for seed, lean in ((0, 4.0), (1, 6.0), (2, 8.0)):
        truth = standing(30, seed)
        arrays = {"c/truth": truth, "c/net": pitched(truth, lean), "c/scored": np.ones(30, bool)}
        clips.append(clip_rows(arrays, "c"))
    anatomy = set_anatomy(clips, "net", default_sole_heights())
    assert anatomy["mpjpe14"] > 20.0 and anatomy["clip_turn_aligned14"] < 1e-6
    # All of it is a lean towards the camera: a turn about x alone takes it all, one about y or z does not.
    assert anatomy["axis_turn_aligned14"][0] < 1e-6 and min(anatomy["axis_turn_aligned14"][1:]) > 10.0
    assert np.allclose(anatomy["pitches_deg"][:, 2] - anatomy["pitches_deg"][:, 1], [4.0, 6.0, 8.0], atol=0.5)
    assert np.allclose(anatomy["lean_error_deg"], [4.0, 6.0, 8.0], atol=0.5)
    # Turned towards the camera: the hips come nearer than the feet, so the ankles lie further than the truth.
    axes = joint_axes(clips[0][0]["net"], clips[0][0]["truth"])
    assert axes[0, 3] > 0 and axes[5, 3] > 0 and axes[13, 3] < 0
    assert leg_lean_deg(pitched(clips[0][0]["truth"], 4.0)).mean() == pytest.approx(
        leg_lean_deg(clips[0][0]["truth"]).mean() + 4.0, abs=0.5)


def test_only_the_scored_frames_count_and_wrong_orders_come_as_runs():
    truth = standing(10, 3)
    parent, child = LIMB_BONES[6]  # a shin: its ankle starts no other limb bone
    truth[:, child] = truth[:, parent] + np.array([0.0, 0.1, -0.25])  # the foot towards the camera
    net = truth.copy()
    net[2:7, child, 2] = truth[2:7, parent, 2] + 0.25  # the network reaches away in frames 2-6
    assert wrong_order_runs(net, truth) == [5]
    scored = np.ones(10, bool)
    scored[4] = False
    rows, mask = clip_rows({"c/truth": truth, "c/net": net, "c/scored": scored}, "c")
    assert len(rows["net"]) == len(rows["truth"]) == 9 and mask.sum() == 9
    assert wrong_order_runs(rows["net"], rows["truth"]) == [4]


def test_a_turn_about_one_camera_axis_is_undone_by_that_axis_alone():
    truth = standing(5, 4)
    hips = truth[:, [1, 2]].mean(axis=1, keepdims=True)
    for axis in range(3):
        rotvec = np.zeros(3)
        rotvec[axis] = np.radians(12.0)
        turned = (truth - hips) @ np.asarray(axis_angle_to_matrix(rotvec), np.float64).T + hips
        errors = axis_turn_aligned14(turned, truth)
        assert errors[axis] < 1e-9 and np.delete(errors, axis).min() > 0.01


def test_the_lean_error_fit_says_how_much_of_the_camera_pitch_an_answer_misses():
    rng = np.random.default_rng(5)
    camera, own = rng.uniform(-2, 10, 12), rng.uniform(-3, 3, 12)
    true = camera + own
    answered = true - 0.7 * camera + 4.0  # reads 30 % of the pitch, right only at 4 / 0.7 deg
    answered[3] = np.nan  # a clip lying down: no body up, left out
    slope, offset, mean, kept = lean_error_fit(np.column_stack([camera, true, answered]))
    assert (slope, offset, kept) == pytest.approx((-0.7, 4.0, 11))
    assert mean == pytest.approx(np.nanmean(answered - true))
    assert np.isnan(lean_error_fit(np.zeros((2, 3)))[:2]).all()
    # A world up turned 5 degrees towards the camera about x (its top nearer) reads +5.
    up = np.array([0.0, -np.cos(np.radians(5.0)), -np.sin(np.radians(5.0))])
    assert pitch_deg(up) == pytest.approx(5.0)
