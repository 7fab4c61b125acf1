"""Tracking logic without MediaPipe: boxes, overlap, candidate ranking, following one person, gap filling."""
from __future__ import annotations

import numpy as np
import pytest

from bridge import tracking
from bridge.detection import FramePoses, poses_from_result


def _person(x0, y0, x1, y1, conf=1.0):
    """(33, 4) landmarks spread over a box, every point confident."""
    rng = np.random.default_rng(int(x0 * 7 + y0))
    lm = np.zeros((33, 4), np.float32)
    lm[:, 0] = rng.uniform(x0, x1, 33)
    lm[:, 1] = rng.uniform(y0, y1, 33)
    lm[[0, 1], 0], lm[[0, 1], 1] = (x0, x1), (y0, y1)
    lm[:, 2:] = conf
    return lm


def _poses(*people):
    image = np.stack(people) if people else np.zeros((0, 33, 4), np.float32)
    return FramePoses(image=image, world=np.zeros((len(people), 33, 3), np.float32))


def test_box_and_iou():
    lm = _person(10, 20, 50, 120)
    lm[5, :2] = (500, 500)
    lm[5, 2] = 0.1  # an unconfident outlier does not stretch the box
    np.testing.assert_allclose(tracking.landmarks_box(lm), [10, 20, 50, 120])
    assert tracking.box_iou(np.array([0, 0, 10, 10]), np.array([5, 0, 15, 10])) == pytest.approx(1 / 3)
    assert tracking.box_iou(np.array([0, 0, 10, 10]), np.array([20, 20, 30, 30])) == 0.0


def test_confidences():
    lm = _person(0, 0, 10, 10)
    lm[:, 2] = 0.5
    lm[:, 3] = 0.8
    np.testing.assert_allclose(tracking.keypoint_confidence(lm), 0.4)
    assert tracking.frame_confidence(lm) == pytest.approx(0.4)


def test_prominence_prefers_large_and_central():
    size = (640, 480)
    central = np.array([270, 140, 370, 440])
    corner = np.array([0, 0, 100, 300])
    small = np.array([300, 200, 340, 280])
    scores = tracking.prominence(np.stack([central, corner, small]), size)
    assert scores[0] > scores[1] and scores[0] > scores[2]


def test_candidates_ranked_and_clustered():
    size = (640, 480)
    main, side = np.array([250, 100, 390, 460.0]), np.array([10, 150, 90, 400.0])
    detections = [(0, np.stack([side, main])), (10, np.stack([main + 3, side - 2])), (20, np.stack([main + 6])),
                  (30, np.zeros((0, 4)))]
    cands = tracking.cluster_candidates(detections, size, samples=4, max_people=4)
    assert [c.index for c in cands] == [0, 1]
    assert cands[0].frames_seen == 3 and cands[1].frames_seen == 2
    np.testing.assert_allclose(cands[0].box, main + 3)
    d = cands[0].to_dict()
    assert d["index"] == 0 and len(d["box"]) == 4 and d["samples"] == 4
    assert len(tracking.cluster_candidates(detections, size, 4, max_people=1)) == 1


def test_a_person_walking_across_the_frame_stays_one_candidate():
    """Samples are seconds apart: a walker's boxes do not overlap from one sample to the next."""
    size = (640, 480)
    walker = [(i * 30, np.array([[20.0 + 150 * i, 100, 120 + 150 * i, 400]])) for i in range(4)]
    cands = tracking.cluster_candidates(walker, size, samples=4, max_people=4)
    assert len(cands) == 1 and cands[0].frames_seen == 4 and cands[0].first_frame == 0
    # two people walking right at different speeds, listed in either order: two people, never swapped
    a = [np.array([20.0 + 120 * i, 100, 120 + 120 * i, 400]) for i in range(3)]
    b = [np.array([360.0 + 60 * i, 120, 440 + 60 * i, 380]) for i in range(3)]
    pair = [(0, np.stack([a[0], b[0]])), (30, np.stack([b[1], a[1]])), (60, np.stack([a[2], b[2]]))]
    two = tracking.cluster_candidates(pair, size, samples=3, max_people=4)
    assert len(two) == 2 and all(c.frames_seen == 3 for c in two)
    by_start = {float(c.first_box[0]): c for c in two}
    np.testing.assert_allclose(by_start[20.0].box, a[1])
    np.testing.assert_allclose(by_start[360.0].box, b[1])


def test_tracker_follows_the_chosen_person():
    left, right = _person(10, 10, 100, 300), _person(300, 10, 400, 300)
    tracker = tracking.PersonTracker(tracking.landmarks_box(right))
    assert tracker.choose(_poses(left, right)) == 1
    assert tracker.choose(_poses(right + [5, 0, 0, 0], left)) == 0
    assert tracker.choose(_poses(left)) is None  # the person left the frame: not swapped for someone else
    assert tracker.choose(_poses()) is None
    assert tracker.choose(_poses(left, right + [8, 0, 0, 0])) == 1


def test_fill_missing_interpolates_and_holds_ends():
    values = np.array([[0.0], [0.0], [2.0], [0.0], [6.0], [0.0]])
    valid = np.array([False, True, True, False, True, False])
    values[1] = 1.0
    filled = tracking.fill_missing(values, valid)
    np.testing.assert_allclose(filled[:, 0], [1.0, 1.0, 2.0, 4.0, 6.0, 6.0])
    with pytest.raises(ValueError):
        tracking.fill_missing(values, np.zeros(6, bool))


def test_sample_frames(tmp_path):
    from bridge.video import VideoInfo

    info = VideoInfo("x.mp4", 640, 480, 30.0, 300, 0, "avc1", True)
    picks = tracking.sample_frames(info, 100, 200, 5)
    assert picks[0] == 100 and picks[-1] == 199 and len(picks) == 5
    assert tracking.sample_frames(info, 0, 3, 12) == [0, 1, 2]


class _Lm:
    def __init__(self, x, y, z=0.0, visibility=None, presence=None):
        self.x, self.y, self.z, self.visibility, self.presence = x, y, z, visibility, presence


def test_poses_from_result_scales_to_pixels():
    image = [[_Lm(0.5, 0.25, visibility=0.9, presence=0.8)] * 33]
    world = [[_Lm(0.1, -0.2, 0.3)] * 33]
    poses = poses_from_result(image, world, 640, 480)
    assert poses.count == 1
    np.testing.assert_allclose(poses.image[0, 0], [320, 120, 0.9, 0.8], rtol=1e-6)
    np.testing.assert_allclose(poses.world[0, 5], [0.1, -0.2, 0.3], rtol=1e-6)
    none = poses_from_result([], [], 640, 480)
    assert none.count == 0 and none.image.shape == (0, 33, 4)


def test_the_chosen_person_is_kept_when_someone_crosses_in_front():
    """A walks right, B (same size) walks left in front of A; while they overlap MediaPipe sees only B."""
    tracker = tracking.PersonTracker(tracking.landmarks_box(_person(40, 50, 140, 350)))
    chosen_a = []
    for t in range(40):
        a = _person(40 + 8 * t, 50, 140 + 8 * t, 350)
        b = _person(560 - 8 * t, 60, 660 - 8 * t, 360)
        gap = abs((40 + 8 * t) - (560 - 8 * t))
        poses = _poses(b) if gap < 100 else _poses(b, a)  # B hides A while they overlap
        pick = tracker.choose(poses)
        if pick is not None:
            chosen_a.append(bool(np.allclose(poses.image[pick, :, 0].min(), 40 + 8 * t, atol=1)))
    assert all(chosen_a) and len(chosen_a) >= 25  # never B; A again once they part
