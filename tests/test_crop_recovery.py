"""bridge/crop_recovery.py: missed frames beside found ones are looked at again in a crop around the person."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bridge import video
from bridge.crop_recovery import crop_window, missed_runs, recover_missed
from bridge.detection import FramePoses
from bridge.tracking import TrackedClip, landmarks_box

SIZE = 256  # fake frames are SIZE x SIZE (pixel coordinates fit in uint8)
CLIP = Path(__file__).resolve().parent / "fixtures" / "bridge" / "wave_480x360.mp4"


def test_crop_is_a_square_around_the_box_kept_inside_the_frame():
    assert crop_window(np.array([100.0, 100, 120, 160]), (640, 480)) == (50, 70, 170, 190)
    assert crop_window(np.array([0.0, 400, 20, 470]), (640, 480)) == (0, 340, 140, 480)  # shifted, not cut
    assert crop_window(np.array([10.0, 10, 14, 14]), (640, 480)) == (0, 0, 64, 64)  # never tiny
    assert crop_window(np.array([0.0, 0, 600, 470]), (640, 480)) == (60, 0, 540, 480)  # at most the frame


def test_missed_runs_are_the_gaps_beside_found_frames():
    valid = np.array([0, 0, 1, 1, 0, 1, 0, 0], bool)
    assert missed_runs(valid) == [(0, 2), (4, 5), (6, 8)]
    assert missed_runs(np.zeros(5, bool)) == []  # nobody anywhere: nothing to start from


def _box(frame: int) -> np.ndarray:
    """The walker's true box in frame `frame`: moves 5 px right per frame, 20 x 60 px."""
    return np.array([20.0 + 5 * frame, 50.0, 40.0 + 5 * frame, 110.0])


def _landmarks(box: np.ndarray) -> np.ndarray:
    lm = np.ones((33, 4), np.float32)
    lm[:, 0] = np.linspace(box[0], box[2], 33)
    lm[:, 1] = np.linspace(box[1], box[3], 33)[::-1]
    return lm


def coded_frame(index: int) -> np.ndarray:
    """Channel 0 says which frame it is, channels 1 and 2 each pixel's column and row (so a crop knows where)."""
    frame = np.zeros((SIZE, SIZE, 3), np.uint8)
    frame[..., 0] = index
    frame[..., 1] = np.arange(SIZE)[None, :]
    frame[..., 2] = np.arange(SIZE)[:, None]
    return frame


class FakeDetector:
    """Finds the walker when the whole box is in the image, except in `absent` frames; in `decoy` frames it
    finds only someone else, 40 px to the right. Landmarks in the image's own pixels, as MediaPipe gives."""

    def __init__(self, absent=(), decoy=()):
        self.absent, self.decoy, self.calls = set(absent), set(decoy), []

    def __call__(self, image: np.ndarray) -> FramePoses:
        index, x0, y0 = (int(v) for v in image[0, 0])
        self.calls.append(index)
        box = _box(index) + (np.array([40.0, 0, 40, 0]) if index in self.decoy else 0.0)
        height, width = image.shape[:2]
        inside = box[0] >= x0 and box[1] >= y0 and box[2] <= x0 + width and box[3] <= y0 + height
        if index in self.absent or not inside:
            return FramePoses(np.zeros((0, 33, 4), np.float32), np.zeros((0, 33, 3), np.float32))
        lm = _landmarks(box)
        lm[:, 0] -= x0
        lm[:, 1] -= y0
        return FramePoses(lm[None], np.full((1, 33, 3), index, np.float32))


def _clip(found: list[int], frames: int, first: int = 100) -> TrackedClip:
    valid = np.zeros(frames, bool)
    valid[found] = True
    image = np.stack([_landmarks(_box(i)) if valid[i] else np.zeros((33, 4), np.float32) for i in range(frames)])
    return TrackedClip(frame_indices=np.arange(first, first + frames), image_landmarks=image,
                       world_landmarks=np.zeros((frames, 33, 3), np.float32), valid=valid)


def test_runs_are_filled_from_their_ends_until_the_person_is_not_there():
    # found: 6-9 and 14; missed: 0-5 (the start), 10-13 (a gap; 12 absent), 15-19 (the end; 17 someone else)
    clip = _clip([6, 7, 8, 9, 14], 20, first=0)
    read = []

    def read_frame(index):
        read.append(index)
        return coded_frame(index)

    detector, looked = FakeDetector(absent={12}, decoy={17}), []
    assert recover_missed(clip, read_frame, detector, looked=looked.append) == 6 + 3 + 2
    # progress is told of every missed frame once, tried or passed over where a run stops (18, 19)
    assert sum(looked) == 6 + 4 + 5 and min(looked) > 0
    assert np.flatnonzero(~clip.valid).tolist() == [12, 17, 18, 19]
    for i in np.flatnonzero(clip.valid):  # back in frame pixels
        np.testing.assert_allclose(clip.image_landmarks[i], _landmarks(_box(i)), atol=1e-4)
    assert clip.world_landmarks[3, 0, 0] == 3
    # the start backwards (one chunk, decoded forwards); the gap forwards to 12, then 13-12 backwards; the
    # end forwards to 17, where a run stops at its first miss
    assert read == [0, 1, 2, 3, 4, 5, 10, 11, 12, 12, 13, 15, 16, 17]
    assert detector.calls == [5, 4, 3, 2, 1, 0, 10, 11, 12, 13, 12, 15, 16, 17]


def test_long_runs_go_backwards_a_chunk_at_a_time_and_video_indices_are_kept():
    clip = _clip([39], 40, first=0)
    read = []
    assert recover_missed(clip, lambda i: read.append(i) or coded_frame(i), FakeDetector()) == 39 and clip.valid.all()
    assert read == list(range(7, 39)) + list(range(0, 7))
    shifted = _clip([0], 3, first=7)  # positions 0-2 are video frames 7-9
    seen = []
    recover_missed(shifted, lambda i: seen.append(i) or coded_frame(i - 7), FakeDetector())
    assert seen == [8, 9] and shifted.valid.all()
    past_the_end = _clip([0], 3, first=0)
    assert recover_missed(past_the_end, lambda i: None, FakeDetector()) == 0


def test_cancel_stops_the_search():
    clip = _clip([5], 10, first=0)
    with pytest.raises(InterruptedError):
        recover_missed(clip, coded_frame, FakeDetector(), should_cancel=lambda: True)


def test_mediapipe_finds_the_person_again_in_a_crop():
    """Real detector, real video: frames whose landmarks were dropped are found again where they were."""
    from bridge.detection import PoseDetector
    from bridge.tracking import track_person

    info = video.probe(CLIP)
    track = track_person(info, 0, 24)
    assert track.valid.all()
    truth = track.image_landmarks.copy()
    track.valid[8:14] = False
    track.image_landmarks[8:14] = 0.0
    with PoseDetector(video_mode=False) as detector, video.FrameReader(CLIP) as reader:
        found = recover_missed(track, reader.read, detector.detect)
    assert found == 6 and track.valid.all()
    boxes, true_boxes = landmarks_box(track.image_landmarks[8:14]), landmarks_box(truth[8:14])
    height = true_boxes[:, 3] - true_boxes[:, 1]
    assert np.all(np.abs(boxes - true_boxes).max(axis=1) < 0.1 * height)
