"""bridge/stuck_tracking.py: where the tracked landmarks jump, frames are looked at afresh and the smoother
answer is kept."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.detection import FramePoses
from bridge.stuck_tracking import JUMP_FLAG, LIMB_LANDMARKS, choose, limb_moves, repair_stuck, suspect_stretches
from bridge.tracking import TrackedClip
from tests.test_crop_recovery import coded_frame

FPS = 30.0
LIMBS = list(LIMB_LANDMARKS)


def _truth(frame: int) -> np.ndarray:
    """A body 40 x 120 px walking 2 px a frame to the right, its limb points swinging a little."""
    lm = np.ones((33, 4), np.float32)
    lm[:, 0] = 60.0 + 2 * frame + np.linspace(0, 40, 33) + 3 * np.sin(0.3 * frame + np.arange(33))
    lm[:, 1] = np.linspace(60, 180, 33)
    return lm


def _stuck(frame: int) -> np.ndarray:
    """What a stuck tracker reports: the same box, the limbs upside down (each limb point where its mirror
    across the box's middle height is)."""
    lm = _truth(frame)
    lm[LIMBS, 1] = 240.0 - lm[LIMBS, 1]
    return lm


def _stretches(clip: TrackedClip) -> list[tuple[int, int]]:
    return suspect_stretches(clip.image_landmarks, clip.valid, FPS)


class FreshDetector:
    """IMAGE-mode stand-in: the true landmarks (or `answer(frame)`), in the crop's own pixels."""

    def __init__(self, answer=_truth):
        self.answer, self.calls = answer, []

    def __call__(self, image: np.ndarray) -> FramePoses:
        index, x0, y0 = (int(v) for v in image[0, 0])
        self.calls.append(index)
        lm = self.answer(index).copy()
        lm[:, 0] -= x0
        lm[:, 1] -= y0
        return FramePoses(lm[None], np.full((1, 33, 3), index, np.float32))


def _clip(frames: int, stuck: range = range(0), valid: np.ndarray | None = None) -> TrackedClip:
    image = np.stack([_stuck(i) if i in stuck else _truth(i) for i in range(frames)])
    return TrackedClip(frame_indices=np.arange(frames), image_landmarks=image,
                       world_landmarks=np.zeros((frames, 33, 3), np.float32),
                       valid=np.ones(frames, bool) if valid is None else valid)


def test_a_smooth_track_is_left_alone_without_looking_again():
    clip = _clip(60)
    assert limb_moves(clip.image_landmarks).max() < JUMP_FLAG
    assert suspect_stretches(clip.image_landmarks, clip.valid, FPS) == []
    detector = FreshDetector()
    before = clip.image_landmarks.copy()
    assert repair_stuck(clip, _stretches(clip), coded_frame, detector) == 0
    assert detector.calls == []
    np.testing.assert_array_equal(clip.image_landmarks, before)


def test_stretches_reach_either_side_of_a_jump_within_found_frames():
    clip = _clip(100, stuck=range(40, 50))
    assert suspect_stretches(clip.image_landmarks, clip.valid, FPS) == [(18, 72)]  # 0.75 s = 22 frames
    valid = np.ones(100, bool)
    valid[30] = False  # a gap ends the stretch: frames beyond it are another run
    assert suspect_stretches(clip.image_landmarks, valid, FPS) == [(31, 72)]


def test_a_stuck_stretch_is_replaced_by_the_fresh_answers():
    clip = _clip(100, stuck=range(40, 50))
    detector, looked = FreshDetector(), []
    assert repair_stuck(clip, _stretches(clip), coded_frame, detector, looked=looked.append) == 10
    np.testing.assert_allclose(clip.image_landmarks, np.stack([_truth(i) for i in range(100)]), atol=1e-4)
    assert (clip.world_landmarks[40:50] == np.arange(40, 50)[:, None, None]).all()  # the fresh world landmarks
    assert (clip.world_landmarks[:40] == 0).all() and (clip.world_landmarks[50:] == 0).all()
    assert sorted(detector.calls) == list(range(18, 72))
    assert looked == [1] * (72 - 18)  # progress told of every frame looked at


def test_a_stuck_start_of_the_clip_is_replaced_too():
    clip = _clip(60, stuck=range(0, 12))
    assert repair_stuck(clip, _stretches(clip), coded_frame, FreshDetector()) == 12
    np.testing.assert_allclose(clip.image_landmarks[:12], np.stack([_truth(i) for i in range(12)]), atol=1e-4)


def test_fresh_answers_that_jump_about_do_not_replace_a_true_fast_move():
    """A real jump (the body 60 px further on from frame 30) is kept when the fresh answers are noise."""
    shifted = lambda i: _truth(i) + np.array([60.0 if i >= 30 else 0.0, 0, 0, 0], np.float32)  # noqa: E731
    rng = np.random.default_rng(0)

    def noisy(i: int) -> np.ndarray:
        lm = shifted(i)
        lm[:, :2] += rng.normal(0, 25, (33, 2))
        return lm

    clip = TrackedClip(frame_indices=np.arange(60), image_landmarks=np.stack([shifted(i) for i in range(60)]),
                       world_landmarks=np.zeros((60, 33, 3), np.float32), valid=np.ones(60, bool))
    before = clip.image_landmarks.copy()
    assert repair_stuck(clip, _stretches(clip), coded_frame, FreshDetector(noisy)) == 0
    np.testing.assert_array_equal(clip.image_landmarks, before)


def test_choose_keeps_the_tracked_answer_on_ties_and_where_nothing_fresh_was_found():
    tracked = np.stack([_truth(i) for i in range(5)])
    assert not choose(tracked, list(tracked.copy()), None, None).any()  # the same answers: the tracked ones
    assert not choose(tracked, [None, tracked[1], None, None, tracked[4]], _truth(-1), None).any()
    stuck = np.stack([_stuck(i) for i in range(5)])
    assert choose(stuck, list(tracked), _truth(-1), _truth(5)).all()
    # A frame with no fresh answer must keep its stuck one; leaving the stuck run there costs as much as
    # staying in it, so the whole stretch stays as tracked.
    assert not choose(stuck, [tracked[0], tracked[1], None, tracked[3], tracked[4]], _truth(-1), _truth(5)).any()


def test_a_cancel_stops_the_second_look():
    clip = _clip(60, stuck=range(20, 30))
    with pytest.raises(InterruptedError):
        repair_stuck(clip, _stretches(clip), coded_frame, FreshDetector(), should_cancel=lambda: True)
