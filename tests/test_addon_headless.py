"""The headless script's choice of preview frame: a detected frame near the middle, in scene frames."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.results import write_results
from tests.test_results import make_result

pytestmark = pytest.mark.blender


@pytest.fixture(scope="module")
def video_to_blend():
    from scripts import video_to_blend  # imports bpy

    return video_to_blend


def test_preview_skips_undetected_frames(video_to_blend, tmp_path) -> None:
    result = make_result(frames=7)
    result.valid = np.array([False, False, False, False, True, True, False])
    path = write_results(tmp_path / "clip.npz", result)
    assert video_to_blend.preview_frame(str(path), scene_fps=30.0) == (4, 14)  # frame_indices start at 10
    assert video_to_blend.preview_frame(str(path), scene_fps=60.0) == (8, 14)


def test_preview_falls_back_to_the_middle_when_nothing_was_detected(video_to_blend, tmp_path) -> None:
    result = make_result(frames=5)
    result.valid = np.zeros(5, dtype=bool)
    path = write_results(tmp_path / "clip.npz", result)
    assert video_to_blend.preview_frame(str(path), scene_fps=30.0) == (2, 12)
