"""The whole pipeline on a rendered clip (MediaPipe for real, an untrained tiny ARTS: no test depends on
accuracy of the network), plus person choice, undetected frames, cancel, ranges and bad inputs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bridge import camera, pipeline, tracking
from bridge.pipeline import PipelineError, ProcessOptions, process_video
from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.results import read_results
from bridge.skeleton import SMPL_BONES
from scripts.render_test_clip import derive_clip, write_bad_inputs
from smpl_pickle_fixtures import skeleton_body_arrays, smpl_like_pickle

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bridge"
CLIP = FIXTURES / "wave_480x360.mp4"
TRUTH = FIXTURES / "wave_480x360.npz"


def tiny_predictor():
    from bridge.models.config import ArtsConfig
    from bridge.models.inference import ArtsPredictor

    config = ArtsConfig(window=8, lifter_depth=1, lifter_dim=16, lifter_heads=2, feature_dim=16, tik_dim=16,
                        tik_heads=2, mcr_dim=16, mcr_heads=2, bsf_iterations=1)
    return ArtsPredictor.from_config(config, "cpu")


@pytest.fixture(scope="module")
def predictor():
    return tiny_predictor()


@pytest.fixture(scope="module")
def processed(predictor, tmp_path_factory):
    out = tmp_path_factory.mktemp("pipeline") / "wave.npz"
    events = []
    result, summary = process_video(ProcessOptions(video=str(CLIP), output=str(out), smoothing="light"),
                                    progress=lambda *e: events.append(e), predictor=predictor)
    return result, summary, events, out


def test_result_file_and_summary(processed):
    result, summary, _, out = processed
    saved = read_results(out)
    assert saved.num_frames == 90 == summary.frames
    np.testing.assert_array_equal(saved.frame_indices, np.arange(90))
    assert saved.image_size == (480, 360) and saved.fps == pytest.approx(30.0)
    assert saved.focal_px == pytest.approx(camera.focal_from_fov(480, 55.0))
    assert saved.model_id == "arts-untrained" and saved.body_model_id
    assert saved.smoothing.startswith("savgol") and saved.source == CLIP.name
    assert summary.valid_frames >= 80 and saved.valid.sum() == summary.valid_frames
    assert not any("swapped" in w or "not found" in w for w in summary.warnings)  # one person, always in view
    world = saved.world_from_camera  # a rigid camera -> world transform (its accuracy: tests/test_ground.py)
    np.testing.assert_allclose(world[:3, :3] @ world[:3, :3].T, np.eye(3), atol=1e-6)
    assert set(summary.world) == {"method", "planted_frames", "camera_height_m", "camera_pitch_deg", "camera_roll_deg"}
    assert summary.foot_lock["strength"] == 1.0 and set(summary.foot_lock["locked_frames"]) == {"left", "right"}
    np.testing.assert_allclose(saved.joints_world_m, saved.joints_3d @ world[:3, :3].T + world[:3, 3], atol=1e-4)
    assert saved.contacts.shape == (90, 4)
    assert np.all(saved.confidence[saved.valid] > 0.3) and np.all(saved.confidence[~saved.valid] == 0)
    np.testing.assert_allclose(saved.pose_aa, result.pose_aa, atol=1e-6)
    # joints are the rig's joints: pelvis of joints_3d = trans_m + the shaped rest pelvis
    from bridge.body_model import load_body_model_arrays, shaped_rest

    _, rest = shaped_rest(load_body_model_arrays(), saved.betas)
    np.testing.assert_allclose(saved.joints_3d[:, 0], saved.trans_m + rest[0], atol=1e-4)


def test_detected_keypoints_match_the_rendered_body(processed):
    result, _, _, _ = processed
    truth = np.load(TRUTH)
    uv = camera.project(truth["joints_3d"], float(truth["focal_px"]), camera.principal_point((480, 360)))
    legs = [(4, 25), (5, 26), (7, 27), (8, 28)]  # knees and ankles: MediaPipe is steady on them
    err = np.concatenate([np.linalg.norm(uv[:, s] - result.keypoints_2d[:, m, :2], axis=-1) for s, m in legs])
    assert np.median(err) < 12.0  # px, in a 480 x 360 frame with a 200 px tall person


def test_progress_runs_through_the_stages_in_order(processed):
    _, summary, events, _ = processed
    stages = [e[0] for e in events]
    order = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    assert order == ["load", "people", "detect", "model", "smooth", "camera", "write"]
    detect = [e for e in events if e[0] == "detect"]
    assert detect[-1][1] == detect[-1][2] == 90
    assert any(e[3] is not None and e[3] > 0 for e in detect[:-1])  # an ETA while running
    assert set(summary.timings_s) >= {"load", "people", "detect", "model", "camera", "write"}


def test_range_and_preview(predictor, tmp_path):
    result, summary = process_video(
        ProcessOptions(video=str(CLIP), start_frame=30, end_frame=50, preview=str(tmp_path / "p.mp4")),
        predictor=predictor)
    np.testing.assert_array_equal(result.frame_indices, np.arange(30, 50))
    assert summary.output is None and Path(summary.preview).stat().st_size > 1000
    from bridge.preview import write_preview
    from bridge.video import probe

    sheet = write_preview(tmp_path / "sheet.png", probe(CLIP), result)
    import cv2

    assert cv2.imread(str(sheet)).shape[1] == 4 * 320


def test_undetected_frames_stay_invalid(predictor, tmp_path):
    clip = derive_clip(CLIP, tmp_path / "gap.mp4", blank=(40, 55))
    result, summary = process_video(ProcessOptions(video=str(clip)), predictor=predictor)
    gap = slice(42, 53)  # MediaPipe may keep a ghost for a frame at the edges of the gap
    assert not result.valid[gap].any()
    assert np.all(result.confidence[gap] == 0) and np.all(result.keypoints_2d[gap, :, 2] == 0)
    assert np.all(np.isfinite(result.pose_aa)) and np.all(np.isfinite(result.trans_m))
    assert summary.valid_frames == int(result.valid.sum()) < 90
    assert not any("swapped" in w for w in summary.warnings)  # the same person before and after the gap


def test_frames_the_detector_missed_beside_found_ones_are_found_in_a_crop(predictor):
    """A stand-in for track_person (the hook evaluation uses) that loses the person for frames 10-19."""
    calls = []

    def losing_a_stretch(info, *args, **kwargs):
        calls.append(info.path)
        track = tracking.track_person(info, *args, **kwargs)
        assert track.valid.all()
        track.valid[10:20] = False
        track.image_landmarks[10:20] = 0.0
        track.world_landmarks[10:20] = 0.0
        return track

    events = []
    result, summary = process_video(ProcessOptions(video=str(CLIP), end_frame=30), predictor=predictor,
                                    track_person=losing_a_stretch, progress=lambda *e: events.append(e))
    assert len(calls) == 1 and result.valid.all() and summary.valid_frames == 30
    assert np.all(result.confidence[10:20] > 0.5)
    # the second look reports as part of the detect stage, after the 30 tracked frames: the 10 missed ones
    # and any where the tracked landmarks jump (this clip's MediaPipe track jumps at frame 21)
    again = [e for e in events if e[0] == "detect" and e[4] == pipeline.LOOK_AGAIN_MESSAGE]
    assert again[0][1] == 30 and again[0][2] >= 40
    assert again[-1][1] == again[-1][2] >= again[0][2]
    assert all(a[1] <= b[1] <= b[2] for a, b in zip(again, again[1:]))


def test_choose_the_second_person(predictor, tmp_path):
    clip = derive_clip(CLIP, tmp_path / "two.mp4", second_person_scale=0.8)
    listing = pipeline.people(str(clip), samples=5, thumbnails_dir=str(tmp_path / "thumbs"))
    people = listing["people"]
    assert len(people) == 2 and people[0]["box"][0] < 240 <= people[1]["box"][0]  # bigger (left) one first
    assert all(Path(p["thumbnail"]).is_file() for p in people)
    auto, _ = process_video(ProcessOptions(video=str(clip), end_frame=30), predictor=predictor)
    second, summary = process_video(ProcessOptions(video=str(clip), end_frame=30, person=1), predictor=predictor)
    by_box, _ = process_video(ProcessOptions(video=str(clip), end_frame=30, person=people[1]["first_box"]),
                              predictor=predictor)
    hips = lambda r: r.keypoints_2d[r.valid][:, [23, 24], 0].mean()  # noqa: E731
    assert hips(auto) < 240 < hips(second) and hips(by_box) > 240
    assert summary.person["index"] == 1 and not any("swapped" in w for w in summary.warnings)
    with pytest.raises(PipelineError) as info:
        process_video(ProcessOptions(video=str(clip), person=5), predictor=predictor)
    assert info.value.code == "no_person"


def test_cancel_between_batches(predictor, tmp_path):
    calls = {"model": 0}

    def progress(stage, done, total, eta, message):
        calls["model"] += stage == "model"

    out = tmp_path / "never.npz"
    with pytest.raises(PipelineError) as info:
        process_video(ProcessOptions(video=str(CLIP), output=str(out), batch_size=8, overlap=False),
                      progress=progress, should_cancel=lambda: calls["model"] >= 2, predictor=predictor)
    assert info.value.code == "cancelled" and not out.exists()


def test_cancel_during_detection_stops_the_windows_run_ahead(predictor, tmp_path):
    import threading

    seen = {"detect": 0}

    def progress(stage, done, total, eta, message):
        seen["detect"] += stage == "detect"

    with pytest.raises(PipelineError) as info:
        process_video(ProcessOptions(video=str(CLIP), batch_size=8), progress=progress,
                      should_cancel=lambda: seen["detect"] >= 6, predictor=predictor)
    assert info.value.code == "cancelled"
    assert not any(t.name == "arts-windows-ahead" for t in threading.enumerate())


@pytest.mark.parametrize("stride", [1, 2])
def test_windows_run_during_detection_give_the_same_results(predictor, tmp_path, stride):
    """Overlapping the model with detection changes nothing: the same clip with a gap (frames where nobody is
    found, filled by interpolation afterwards) gives the same results within 1e-5 either way."""
    clip = derive_clip(CLIP, tmp_path / "gap.mp4", blank=(40, 55))
    before, _ = process_video(ProcessOptions(video=str(clip), batch_size=4, overlap=False, window_stride=stride),
                              predictor=predictor)
    after, summary = process_video(ProcessOptions(video=str(clip), batch_size=4, window_stride=stride),
                                   predictor=predictor)
    for name in ("pose_aa", "betas", "trans_m", "joints_3d", "joints_world_m", "contacts"):
        np.testing.assert_allclose(getattr(after, name), getattr(before, name), atol=1e-5, err_msg=name)


def test_the_people_pass_beside_tracking_changes_nothing(predictor, tmp_path):
    """The people pass runs beside the first frames of MediaPipe's own tracking. With one person that track is
    kept; with two it is dropped and tracking starts again from the chosen one's box. Either way the results
    equal those of the pass and then tracking, and the stages still report in order."""
    import threading

    two = derive_clip(CLIP, tmp_path / "two.mp4", second_person_scale=0.8)
    for clip in (CLIP, two):
        events = []
        before, _ = process_video(ProcessOptions(video=str(clip), end_frame=40, overlap=False), predictor=predictor)
        after, summary = process_video(ProcessOptions(video=str(clip), end_frame=40),
                                       progress=lambda *e: events.append(e), predictor=predictor)
        for name in ("keypoints_2d", "pose_aa", "trans_m", "joints_world_m"):
            np.testing.assert_allclose(getattr(after, name), getattr(before, name), atol=1e-5, err_msg=name)
        stages = [e[0] for e in events]
        assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s][:3] == ["load", "people", "detect"]
    assert summary.person["index"] == 0 and after.keypoints_2d[after.valid][:, [23, 24], 0].mean() < 240
    assert not any(t.name == "arts-people" for t in threading.enumerate())


def test_cancel_during_the_people_pass_stops_both_threads(predictor):
    import threading

    seen = {"people": 0}

    def progress(stage, done, total, eta, message):
        seen["people"] += stage == "people"

    with pytest.raises(PipelineError) as info:
        process_video(ProcessOptions(video=str(CLIP)), progress=progress, should_cancel=lambda: seen["people"] >= 2,
                      predictor=predictor)
    assert info.value.code == "cancelled"
    assert not any(t.name in ("arts-people", "arts-windows-ahead") for t in threading.enumerate())


@pytest.mark.parametrize("kind, code", [("no_person", "no_person"), ("truncated", "video_error"),
                                        ("empty", "video_error"), ("not_a_video", "video_error")])
def test_bad_inputs(predictor, tmp_path, kind, code):
    bad = write_bad_inputs(tmp_path, source_mp4=CLIP)
    with pytest.raises(PipelineError) as info:
        process_video(ProcessOptions(video=str(bad[kind]), output=str(tmp_path / "o.npz")), predictor=predictor)
    assert info.value.code == code and info.value.message
    assert not (tmp_path / "o.npz").exists()


def test_a_video_cut_short_finishes_with_a_warning(predictor, tmp_path):
    half = write_bad_inputs(tmp_path, source_mp4=CLIP)["cut_short"]
    _, summary = process_video(ProcessOptions(video=str(half), output=str(tmp_path / "o.npz")), predictor=predictor)
    assert any("truncated" in w and f"of the {pipeline.video.probe(str(CLIP)).frame_count} frames" in w
               for w in summary.warnings), summary.warnings


def test_a_portrait_video_reads_the_field_of_view_across_its_height(predictor, tmp_path):
    """The default 55 degrees span a portrait video's long side, as for a phone turned upright, not its width."""
    import cv2

    cap = cv2.VideoCapture(str(CLIP))
    portrait = tmp_path / "portrait.mp4"
    writer = cv2.VideoWriter(str(portrait), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (480, 640))
    for _ in range(24):
        ok, frame = cap.read()
        assert ok
        writer.write(cv2.copyMakeBorder(frame, 140, 140, 0, 0, cv2.BORDER_REPLICATE))  # 480 x 360 -> 480 x 640
    writer.release()
    cap.release()
    process_video(ProcessOptions(video=str(portrait), output=str(tmp_path / "p.npz")), predictor=predictor)
    saved = read_results(tmp_path / "p.npz")
    assert saved.image_size == (480, 640)
    assert saved.focal_px == pytest.approx(camera.focal_from_fov(640, camera.DEFAULT_FOV_DEG))


def test_bad_options(predictor):
    with pytest.raises(PipelineError) as info:
        process_video(ProcessOptions(video=str(CLIP), smoothing="extreme"), predictor=predictor)
    assert info.value.code == "invalid_request"
    with pytest.raises(PipelineError, match="window_stride must be 1 to 4") as info:
        process_video(ProcessOptions(video=str(CLIP), window_stride=5), predictor=predictor)
    assert info.value.code == "invalid_request"
    with pytest.raises(PipelineError) as info:
        process_video(ProcessOptions(video=str(CLIP), start_frame=500), predictor=predictor)
    assert info.value.code == "video_error"


def test_robust_mean_ignores_outliers():
    values = np.array([[1.0, 2.0]] * 8 + [[50.0, -40.0]])
    np.testing.assert_allclose(pipeline.robust_mean(values, np.ones(9)), [1.0, 2.0])
    weighted = pipeline.robust_mean(np.array([[0.0], [1.0], [1.0]]), np.array([0.0, 1.0, 1.0]))
    np.testing.assert_allclose(weighted, [1.0])


def test_a_users_own_body_model_gets_the_predicted_proportions(free_body, tmp_path):
    """A user's SMPL-format pickle is not what the network's β belong to: the rig gets that model's β with the
    skeleton proportions the network predicted, and the summary says so. The shipped network, whose shapes
    are people's (an untrained one's are far outside the population)."""
    shipped = pipeline.load_predictor(None, "cpu")
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(smpl_like_pickle(skeleton_body_arrays(free_body, scale=1.1)))
    # foot lock and limb re-aim re-solve the limbs per body: compare the network's own poses
    runs = {name: process_video(ProcessOptions(video=str(CLIP), end_frame=40, body_model=body, foot_lock=0.0,
                                               limb_reaim=0.0), predictor=shipped)
            for name, body in (("free", None), ("user", str(path)))}
    (free_result, free_summary), (result, summary) = runs["free"], runs["user"]
    user = load_body_model_arrays(str(path))
    assert result.body_model_id == user.model_id != shipped.body_model_id
    assert any("carried over" in w and user.model_id in w for w in summary.warnings)
    assert not any("carried over" in w for w in free_summary.warnings)
    _, free_rest = shaped_rest(free_body, free_result.betas)
    _, user_rest = shaped_rest(user, result.betas)
    # the user's model is the free skeleton scaled 1.1: bones 1.1 times what the network predicted
    np.testing.assert_allclose(bone_lengths(user_rest), 1.1 * bone_lengths(free_rest), atol=5e-3)
    # the results' joints are the user's rig
    np.testing.assert_allclose(bone_lengths(result.joints_3d[0]), bone_lengths(user_rest), atol=1e-4)
    np.testing.assert_allclose(result.pose_aa, free_result.pose_aa, atol=1e-5)


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    return np.array([np.linalg.norm(joints[c] - joints[p]) for p, c in SMPL_BONES])
