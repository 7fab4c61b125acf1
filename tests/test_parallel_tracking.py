"""Tracking in consecutive pieces side by side (MediaPipe for real, on the 90-frame rendered fixture)."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from bridge import camera, parallel_tracking, threads, tracking, video
from bridge.parallel_tracking import pieces, track_person_parallel
from bridge.pipeline import PipelineError, ProcessOptions, process_video
from scripts.render_test_clip import derive_clip, write_bad_inputs

CLIP = Path(__file__).resolve().parent / "fixtures" / "bridge" / "wave_480x360.mp4"


def truth_error(track: tracking.TrackedClip) -> float:
    """Mean distance (px) of the shoulders, elbows, wrists, knees and ankles from the rendered body's."""
    truth = np.load(CLIP.with_suffix(".npz"))
    uv = camera.project(truth["joints_3d"], float(truth["focal_px"]), camera.principal_point((480, 360)))
    pairs = [(16, 11), (17, 12), (18, 13), (19, 14), (20, 15), (21, 16), (4, 25), (5, 26), (7, 27), (8, 28)]
    return float(np.mean([np.linalg.norm(uv[:, s] - track.image_landmarks[:, m, :2], axis=-1) for s, m in pairs]))


def test_pieces_cover_the_clip_in_order_and_are_never_too_short():
    assert pieces(10, 200, 2, 48) == [(10, 110), (110, 210)]
    assert pieces(0, 200, 3, 48) == [(0, 67), (67, 133), (133, 200)]
    assert pieces(0, 100, 4, 48) == [(0, 50), (50, 100)]  # 4 pieces would be 25 frames each
    assert pieces(0, 90, 2, 48) == [(0, 90)]
    assert pieces(5, 0, 2, 48) == [(5, 5)]  # length unknown: one pass
    assert pieces(0, 500, 1, 48) == [(0, 500)]


def test_one_landmarker_per_thread_in_force(monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 4)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert (threads.in_force(), threads.detect_workers()) == (2, 2)
    monkeypatch.setenv("OMP_NUM_THREADS", "16")
    assert (threads.in_force(), threads.detect_workers()) == (4, 4)
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert (threads.in_force(), threads.detect_workers()) == (4, 4)
    monkeypatch.setattr(threads, "available_cpus", lambda: 64)
    assert threads.detect_workers() == threads.MAX_DETECT_WORKERS
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.detect_workers() == 1


@pytest.fixture(scope="module")
def one_pass():
    return tracking.track_person(video.probe(str(CLIP)))


def test_pieces_find_the_same_frames_and_landmarks_close_to_one_pass(one_pass):
    handed, reports = {}, []
    split = track_person_parallel(video.probe(str(CLIP)), workers=3, min_piece_frames=30,
                                  on_landmarks=lambda at, image, world, found: handed.setdefault(at, image),
                                  progress=lambda done, total, s: reports.append((done, total)))
    np.testing.assert_array_equal(split.frame_indices, one_pass.frame_indices)
    np.testing.assert_array_equal(split.valid, one_pass.valid)
    # each frame handed on once as it is found, with its place in the clip (the pieces' frames interleave)
    assert sorted(handed) == list(range(90)) and list(handed) != sorted(handed)
    np.testing.assert_array_equal(np.stack([handed[k] for k in range(90)]), split.image_landmarks)
    assert reports[-1] == (90, 90) and all(a[0] <= b[0] for a, b in zip(reports, reports[1:]))
    # MediaPipe carries state from frame to frame, so after each seam the landmarks are those of another run of
    # the same detector: mostly within a pixel of one pass, and where MediaPipe is unsure (the waving arms of a
    # few frames) either run may be the further from the rendered body. Against that body they are as good.
    both = split.valid & one_pass.valid
    gap = np.linalg.norm(split.image_landmarks[both, :, :2] - one_pass.image_landmarks[both, :, :2], axis=-1)
    assert np.median(gap) < 1.0 and gap.max() > 0.0  # pieces, not the one-pass fallback
    assert truth_error(split) < 1.1 * truth_error(one_pass)
    np.testing.assert_array_equal(split.image_landmarks[:30], one_pass.image_landmarks[:30])  # the first piece
    assert not any(t.name.startswith("arts-track-") for t in threading.enumerate())


def test_one_worker_or_a_given_person_is_one_pass(one_pass, monkeypatch):
    same = track_person_parallel(video.probe(str(CLIP)), workers=1, min_piece_frames=30)
    np.testing.assert_array_equal(same.image_landmarks, one_pass.image_landmarks)
    monkeypatch.setattr(parallel_tracking, "PoseDetector", None)  # any piece would fail to start
    box = np.array([100.0, 20.0, 380.0, 350.0])
    chosen = track_person_parallel(video.probe(str(CLIP)), person_box=box, num_poses=2, workers=3,
                                   min_piece_frames=30, end_frame=20)
    assert chosen.num_frames == 20


def seek_by_time(monkeypatch, shift: int = 2) -> None:
    """Make every decoder that seeks land `shift` frames past the count, as OpenCV's time-based seek can on a
    variable-frame-rate video."""
    decode = parallel_tracking.iter_frames

    def decode_shifted(path, start, stop):
        for index, frame in decode(path, start + shift if start else start, stop):
            yield index - shift if start else index, frame

    monkeypatch.setattr(parallel_tracking, "iter_frames", decode_shifted)


def test_a_seek_that_lands_off_the_count_falls_back_to_one_pass(one_pass, monkeypatch):
    """A variable-frame-rate video: OpenCV seeks by time, so a piece may start a few frames off the count. Its
    warm-up then differs from the end of the piece before, and the clip is tracked again in one pass."""
    seek_by_time(monkeypatch)
    handed = []
    split = track_person_parallel(video.probe(str(CLIP)), workers=2, min_piece_frames=30,
                                  on_landmarks=lambda *frame: handed.append(frame[0]))
    np.testing.assert_array_equal(split.image_landmarks, one_pass.image_landmarks)
    # the pieces had handed on their frames (the shifted one ran out 2 early); the caller keeps none that differs
    # from the final track (test_bridge_overlap)
    assert len(handed) == 88


def test_a_video_cut_short_keeps_the_frames_one_pass_decodes(tmp_path):
    half = write_bad_inputs(tmp_path, source_mp4=CLIP)["cut_short"]
    info = video.probe(str(half))
    split = track_person_parallel(info, workers=3, min_piece_frames=20)
    single = tracking.track_person(info)
    np.testing.assert_array_equal(split.frame_indices, single.frame_indices)
    assert single.num_frames < info.frame_count


def test_cancel_stops_every_piece():
    seen = {"reports": 0}

    def progress(done, total, elapsed):
        seen["reports"] += 1

    with pytest.raises(InterruptedError):
        track_person_parallel(video.probe(str(CLIP)), workers=3, min_piece_frames=30, progress=progress,
                              progress_every=5, should_cancel=lambda: seen["reports"] >= 2)
    assert not any(t.name.startswith("arts-track-") for t in threading.enumerate())


def test_a_cancel_while_pieces_are_tracked_stops_every_thread(monkeypatch):
    from test_bridge_pipeline import tiny_predictor

    monkeypatch.setattr(parallel_tracking, "MIN_PIECE_FRAMES", 30)
    seen = {"detect": 0}

    def progress(stage, done, total, eta, message):
        seen["detect"] += stage == "detect"

    with pytest.raises(PipelineError) as info:
        process_video(ProcessOptions(video=str(CLIP), detect_workers=3, batch_size=4), progress=progress,
                      should_cancel=lambda: seen["detect"] >= 2, predictor=tiny_predictor())
    assert info.value.code == "cancelled"
    assert not any(t.name.startswith(("arts-track-", "arts-windows-ahead", "arts-people"))
                   for t in threading.enumerate())


def test_after_a_fallback_the_pipeline_gives_the_one_pass_results(monkeypatch):
    """Windows run ahead on the pieces' landmarks are dropped where the one-pass track differs."""
    from test_bridge_pipeline import tiny_predictor

    predictor = tiny_predictor()
    before, _ = process_video(ProcessOptions(video=str(CLIP), detect_workers=1), predictor=predictor)
    monkeypatch.setattr(parallel_tracking, "MIN_PIECE_FRAMES", 30)
    seek_by_time(monkeypatch)
    after, _ = process_video(ProcessOptions(video=str(CLIP), detect_workers=3, batch_size=4), predictor=predictor)
    for name in ("keypoints_2d", "pose_aa", "betas", "trans_m", "joints_3d"):
        np.testing.assert_allclose(getattr(after, name), getattr(before, name), atol=1e-5, err_msg=name)


def test_the_pipeline_tracks_in_pieces_and_still_refuses_a_clip_with_nobody(tmp_path, monkeypatch):
    from test_bridge_pipeline import tiny_predictor

    monkeypatch.setattr(parallel_tracking, "MIN_PIECE_FRAMES", 30)
    predictor = tiny_predictor()
    clip = derive_clip(CLIP, tmp_path / "gap.mp4", blank=(40, 55))
    result, summary = process_video(ProcessOptions(video=str(clip), detect_workers=3), predictor=predictor)
    assert summary.frames == 90 and not result.valid[42:53].any() and result.valid[:38].all()
    nobody = write_bad_inputs(tmp_path, source_mp4=CLIP)["no_person"]
    with pytest.raises(PipelineError) as info:
        process_video(ProcessOptions(video=str(nobody), detect_workers=3), predictor=predictor)
    assert info.value.code == "no_person"
