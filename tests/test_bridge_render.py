"""scripts/render_test_clip.py: Blender renders the body model, and its ground truth lines up with the video."""
from __future__ import annotations

import numpy as np
import pytest

from bridge import camera, video


@pytest.mark.blender
def test_rendered_clip_and_ground_truth_agree(tmp_path):
    from bridge.tracking import track_person
    from scripts.render_test_clip import render_clip

    mp4, npz = render_clip(tmp_path, "idle", "idle", seconds=0.4, size=(320, 240), seed=3)
    info = video.probe(mp4)
    assert info.codec in ("avc1", "h264") and info.image_size == (320, 240) and info.fps == pytest.approx(30.0)
    truth = np.load(npz)
    frames = truth["pose_aa"].shape[0]
    assert frames == 12 and truth["joints_3d"].shape == (12, 24, 3) and truth["betas"].shape == (10,)
    assert float(truth["focal_px"]) == pytest.approx(camera.focal_from_fov(320, 55.0))
    assert np.all(truth["joints_3d"][..., 2] > 1.0)  # in front of the camera
    track = track_person(info)
    assert track.num_frames == frames and track.valid.all()
    uv = camera.project(truth["joints_3d"], float(truth["focal_px"]), camera.principal_point(info.image_size))
    pairs = [(4, 25), (5, 26), (7, 27), (8, 28), (16, 11), (17, 12)]  # knees, ankles, shoulders
    err = [np.linalg.norm(uv[:, s] - track.image_landmarks[:, m, :2], axis=-1) for s, m in pairs]
    assert np.median(err) < 8.0  # px in a 320 x 240 frame: the camera and the pose are where the file says
