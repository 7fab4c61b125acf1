"""Swapped-person and lost-person warnings from the track's boxes (synthetic tracks)."""
from __future__ import annotations

import numpy as np

from bridge.track_checks import identity_jumps, lost_stretches, tracking_warnings

FPS = 30.0


def person(centres: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """(F, 33, 4) landmarks of a stick figure: a vertical line of points `heights` px tall at `centres`."""
    frames = len(centres)
    offsets = np.linspace(-0.5, 0.5, 33)[None, :] * heights[:, None]
    lm = np.zeros((frames, 33, 4))
    lm[..., 0] = centres[:, None, 0] + 0.25 * offsets  # some width
    lm[..., 1] = centres[:, None, 1] + offsets
    lm[..., 2:] = 1.0
    return lm


def walk(frames: int, speed_px: float, height: float = 300.0, start=(100.0, 300.0)) -> np.ndarray:
    centres = np.array(start) + np.arange(frames)[:, None] * [speed_px, 0.0]
    return person(centres, np.full(frames, height))


def test_ordinary_motion_is_not_a_jump():
    assert identity_jumps(walk(120, 3.0), np.ones(120, bool), FPS) == []  # walking
    assert identity_jumps(walk(60, 30.0), np.ones(60, bool), FPS) == []  # sprinting, 0.1 diagonal per frame
    crouch = person(np.tile([[320.0, 300.0]], (40, 1)), np.linspace(300.0, 150.0, 40))  # half height in 1.3 s
    assert identity_jumps(crouch, np.ones(40, bool), FPS) == []


def test_a_swap_to_someone_else_is_found_where_it_happens():
    track = walk(100, 2.0)
    other = walk(100, -2.0, height=220.0, start=(520.0, 330.0))
    track[60:] = other[60:]
    assert identity_jumps(track, np.ones(100, bool), FPS) == [60]
    same_place_other_size = walk(100, 2.0)
    same_place_other_size[70:] = walk(100, 2.0, height=150.0)[70:]  # a person further back, in line
    assert identity_jumps(same_place_other_size, np.ones(100, bool), FPS) == [70]


def test_a_gap_allows_the_motion_made_while_unseen_but_not_teleporting():
    track, valid = walk(100, 6.0), np.ones(100, bool)
    valid[40:60] = False  # 20 frames unseen, walked on 120 px
    assert identity_jumps(track, valid, FPS) == []
    track[60:, :, 0] += 900.0  # reappears far beyond where they could have got to
    assert identity_jumps(track, valid, FPS) == [60]


def test_warnings_name_video_frames():
    track, valid = walk(200, 2.0), np.ones(200, bool)
    valid[50:95] = False  # 1.5 s
    track[150:, :, 0] += 400.0
    warnings = tracking_warnings(np.arange(1000, 1200), track, valid, FPS)
    assert len(warnings) == 2
    assert "frame(s) 1150" in warnings[0] and "swapped" in warnings[0]
    assert "45 frame(s)" in warnings[1] and "frames 1050-1094" in warnings[1]
    assert lost_stretches(valid, FPS, min_s=2.0) == []
    assert tracking_warnings(np.arange(200), walk(200, 2.0), np.ones(200, bool), FPS) == []
