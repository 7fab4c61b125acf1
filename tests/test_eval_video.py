"""The footage check without ground truth: image agreement is measured in the image, relative to body size."""
from __future__ import annotations

import dataclasses

import numpy as np

from bridge.camera import SMPL_MEDIAPIPE_PAIRS, principal_point, project
from scripts.eval_video import image_agreement, report, smoothness_mm
from tests.test_results import make_result


def _consistent(frames: int = 12):
    """A result whose limb joints project exactly onto MediaPipe's landmarks (a body about 400 px tall)."""
    result = make_result(frames)
    rng = np.random.default_rng(1)
    joints = rng.normal(0.0, 0.4, (frames, 24, 3)) + [0.0, 0.0, 4.0]
    joints[:, :, 1] = np.linspace(-0.8, 0.8, 24)[None]  # a tall figure
    keypoints = np.zeros((frames, 33, 3))
    keypoints[..., :2] = 320.0
    keypoints[:, 11:33, 1] = np.linspace(240 - 200, 240 + 200, 22)[None]
    for smpl, mp in SMPL_MEDIAPIPE_PAIRS:
        keypoints[:, mp, :2] = project(joints[:, smpl], result.focal_px, principal_point(result.image_size))
    return dataclasses.replace(result, joints_3d=joints, keypoints_2d=keypoints, valid=np.ones(frames, bool))


def test_a_pose_that_matches_the_image_has_no_disagreement():
    result = _consistent()
    errors = np.concatenate([e.ravel() for e in image_agreement(result).values()])
    np.testing.assert_allclose(errors, 0.0, atol=1e-9)


def test_disagreement_is_a_share_of_the_persons_height():
    result = _consistent()
    height = np.ptp(result.keypoints_2d[:, 11:33, :2], axis=1).max(axis=-1)[:, None]
    moved = result.keypoints_2d.copy()
    moved[:, 15, 0] += 0.05 * height[:, 0]  # left wrist landmark 5 % of the height to the side
    errors = image_agreement(dataclasses.replace(result, keypoints_2d=moved))
    wrists = errors["wrists, ankles"]
    np.testing.assert_allclose(wrists[:, 0], 0.05, rtol=1e-6)
    assert np.allclose(wrists[:, 1:], 0.0) and np.allclose(errors["elbows, knees"], 0.0)


def test_smoothness_skips_undetected_frames_and_report_has_a_row_per_file():
    result = _consistent(20)
    still = dataclasses.replace(result, joints_3d=np.repeat(result.joints_3d[:1], 20, axis=0))
    assert smoothness_mm(still) == 0.0
    jumpy = still.joints_3d.copy()
    jumpy[10, 20] += 0.1  # one wild wrist, on a frame marked undetected
    valid = np.ones(20, bool)
    valid[10] = False
    assert smoothness_mm(dataclasses.replace(still, joints_3d=jumpy, valid=valid)) == 0.0
    table = report([("a", result), ("b", still)])
    assert table.count("\n| a |") == 1 and table.count("\n| b |") == 1
