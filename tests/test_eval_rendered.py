"""scripts/eval_rendered.py: its pure parts (clip choice, metric aggregation, landmark offsets) on tiny data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bridge import metrics
from bridge.limb_reaim import DEFAULT_STRENGTH as LIMB_REAIM_STRENGTH
from bridge.tracking import runs_of
from scripts.eval_rendered import (LANDMARK_GROUPS, MEDIAPIPE_ROW, aggregate, baseline_scores, clip_joints,
                                   model_card_evaluation, offsets_2d, offsets_3d, parse_checkpoints, pose_scores,
                                   procedural_seeds_of_split, select_clips, summarise_offsets, table_rows,
                                   torso_scale)
from scripts.render_test_clip import camera_distance
from scripts.synth.generate import split_of
from scripts.synth.retarget import clip_identity

MOTION_FILES = [Path(f"motion/cmu_iclone/{s:03d}/{s:03d}_{t:02d}.bvh") for s in (1, 2, 7) for t in (1, 2, 3)]
MOTION_FILES += [Path(f"motion/cmu_dance_martial/{style}/{n:02d}.bvh") for style in ("salsa", "indian")
                 for n in (1, 2, 4, 6, 7)]


def test_clip_selection_is_deterministic_and_only_held_out():
    specs = select_clips(6, 0, MOTION_FILES, 120, (640, 480))
    again = select_clips(6, 0, MOTION_FILES, 120, (640, 480))
    assert [s.name for s in specs] == [s.name for s in again]
    assert len(specs) == 6 and all(split_of(s.source, s.group) == "test" for s in specs)
    assert sum(s.motion_file is not None for s in specs) == 3
    assert all(int(s.source.split(":")[2]) % 10 == 9 for s in specs if s.motion_file is None)
    assert all(3.0 <= s.distance_m <= 5.0 and 0.8 <= s.camera_height_m <= 1.6 and abs(s.azimuth_deg) <= 40
               for s in specs)
    assert len({s.name for s in specs}) == 6
    assert [s.name for s in select_clips(6, 1, MOTION_FILES, 120, (640, 480))] != [s.name for s in specs]
    only_procedural = select_clips(3, 0, [], 120, (640, 480))
    assert all(s.motion_file is None for s in only_procedural)
    assert procedural_seeds_of_split("test", 40) == [19, 29]  # 9 and 39 are squats: an unseen kind
    unseen = select_clips(6, 0, MOTION_FILES, 120, (640, 480), split="unseen")
    assert all(split_of(s.source, s.group) == "unseen" for s in unseen) and len(unseen) == 6
    assert {clip_identity(Path(s.motion_file))[0].split("/")[0] for s in unseen if s.motion_file} == {
        "dance_martial:indian"}


def test_camera_keeps_its_distance_from_every_position_of_a_walk():
    path = np.stack([np.zeros(5), np.ones(5), np.linspace(0.0, 4.0, 5)], axis=1)  # 4 m walk, 2 m either side
    assert camera_distance(path, 4.0, nearest_m=3.0) == pytest.approx(5.0)
    assert camera_distance(path[:1].repeat(5, axis=0), 4.0, nearest_m=3.0) == pytest.approx(4.0)  # standing


def test_pose_scores_and_frame_weighted_aggregation():
    rng = np.random.default_rng(0)
    frames, err = 10, 0.01
    gt = rng.normal(size=(frames, 24, 3)) + np.array([0.0, 0.0, 4.0])
    pred = gt + np.array([0.0, 0.0, 0.5])  # the right pose, 0.5 m too far
    pred[:, 5, 0] += err * (-1.0) ** np.arange(frames)  # one joint jitters by ±1 cm
    pred[4] += 10.0  # an undetected frame: must not count
    valid = np.ones(frames, bool)
    valid[4] = False
    scores = pose_scores(pred, gt, valid)
    assert scores["Det %"] == (90.0, 10)
    assert scores["MPJPE-24"][0] == pytest.approx(1000 * err / 24) and scores["MPJPE-24"][1] == 9
    assert scores["Root (m)"][0] == pytest.approx(0.5) and scores["Depth bias (m)"][0] == pytest.approx(0.5)
    # Accelerations only inside the runs [0, 4) and [5, 10): 2 + 3 triplets, each 4 cm on one joint of 24.
    assert runs_of(valid) == [(0, 4), (5, 10)]
    # Accel is on the 14 hip-aligned LSP joints (the right knee is one of them).
    assert scores["Accel"][0] == pytest.approx(1000 * 4 * err / 14) and scores["Accel"][1] == 5
    assert "MPVPE" not in scores
    # The 0.5 m is the root's; hip-aligned, the only error is the knee's ±1 cm across the image.
    assert scores["Depth-14"][0] == pytest.approx(0.0) and scores["Plane-14"][0] == pytest.approx(1000 * err / 14)

    assert scores["Flip %"] == (0.0, 9)
    assert scores["Order %"][0] == 0.0 and scores["Order %"][1] > 0  # no limb reaches the wrong way

    rows = [{"MPJPE-24": (10.0, 1), "Det %": (100.0, 4)}, {"MPJPE-24": (30.0, 3), "Det %": (50.0, 4)}]
    mean = aggregate(rows)
    assert mean["MPJPE-24"] == pytest.approx(25.0) and mean["Det %"] == pytest.approx(75.0)
    assert np.isnan(aggregate([{"MPJPE-24": (5.0, 0)}])["MPJPE-24"])  # no weight anywhere: no value


def test_a_body_facing_the_wrong_way_counts_as_flipped():
    """Flip %: frames whose best whole-body turn about the hips exceeds 90 degrees (front for back), not
    frames that lean or turn less."""
    rng = np.random.default_rng(3)
    gt = rng.normal(scale=0.3, size=(8, 24, 3)) + np.array([0.0, 0.0, 4.0])
    hips = 0.5 * (gt[:, 1:2] + gt[:, 2:3])

    def turned(frames: np.ndarray, degrees: float) -> np.ndarray:
        c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
        about_y = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        return (frames - hips) @ about_y.T + hips

    pred = gt.copy()
    pred[:3] = turned(gt, 180.0)[:3]  # three frames facing back
    pred[3:5] = turned(gt, 60.0)[3:5]  # two turned, not flipped
    scores = pose_scores(pred, gt, np.ones(8, bool))
    assert scores["Flip %"] == (pytest.approx(100.0 * 3 / 8), 8)
    # Facing back, every limb that reached towards the camera reaches away: the flipped frames' bones are all
    # in the wrong order, so Order % is at least their share.
    flipped = metrics.depth_order_errors(pred[:3], gt[:3])
    assert flipped[0] == flipped[1] > 0 and scores["Order %"][0] >= 100.0 * flipped[0] / scores["Order %"][1]
    assert scores["Turn (deg)"][0] == pytest.approx((3 * 180.0 + 2 * 60.0) / 8, abs=1e-6)


def test_mediapipe_baseline_row_is_scored_on_the_same_frames():
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(6, 24, 3)) + np.array([0.0, 0.0, 4.0])
    world = np.zeros((6, 33, 3))  # a baseline that sees nothing: every joint at the hips' midpoint
    valid = np.array([True, True, True, False, True, True])
    scores = baseline_scores(world, gt, valid)
    assert "Root (m)" not in scores and scores["MPJPE-14"][1] == 5
    lsp = gt[:, [8, 5, 2, 1, 4, 7, 21, 19, 17, 16, 18, 20, 12, 15]] - 0.5 * (gt[:, 1:2] + gt[:, 2:3])
    expected = np.linalg.norm(lsp[valid], axis=-1).mean()
    assert scores["MPJPE-14"][0] == pytest.approx(1000 * expected)
    rows = {"s": {"ARTS": {"MPJPE-14": 60.0, "PA-MPJPE-14": 40.0, "Accel": 3.0, "_frames": 120.0},
                  MEDIAPIPE_ROW: {"MPJPE-14": 90.0, "PA-MPJPE-14": 70.0, "Accel": 12.0, "_frames": 120.0}}}
    card = model_card_evaluation(rows, "ARTS")
    assert card["s"]["arts"] == {"mpjpe14_mm": 60.0, "pa_mpjpe14_mm": 40.0, "accel_mm_per_frame2": 3.0, "frames": 120}
    assert card["s"]["mediapipe_world"]["mpjpe14_mm"] == 90.0


def test_per_frame_joints_of_a_clip_survive_an_npz(tmp_path):
    rng = np.random.default_rng(4)
    truth, arts = rng.normal(size=(5, 24, 3)), rng.normal(size=(5, 24, 3))
    world = rng.normal(size=(5, 33, 3))
    scored = np.array([True, False, True, True, True])
    arrays = clip_joints("walk_1", {"shipped": arts}, world, truth, scored)
    np.savez_compressed(tmp_path / "joints.npz", **arrays)
    with np.load(tmp_path / "joints.npz") as data:
        assert sorted(data.files) == sorted(["walk_1/truth", "walk_1/scored", "walk_1/shipped",
                                             f"walk_1/{MEDIAPIPE_ROW}"])
        assert np.allclose(data["walk_1/shipped"], arts, atol=1e-6) and data["walk_1/scored"].tolist() == scored.tolist()
        assert data[f"walk_1/{MEDIAPIPE_ROW}"].shape == (5, 24, 3)
        # MediaPipe's row is the skeleton its scores are made from (baseline_scores): the same MPJPE-14.
        mp_mpjpe = metrics.mpjpe14(data[f"walk_1/{MEDIAPIPE_ROW}"][scored].astype(np.float64), truth[scored])
        assert 1000 * mp_mpjpe == pytest.approx(baseline_scores(world, truth, scored)["MPJPE-14"][0], rel=1e-5)


def test_each_model_keeps_its_own_per_clip_rows():
    scores = {"new": {"a": {"MPJPE-24": (10.0, 1)}, "b": {"MPJPE-24": (20.0, 1)}},
              "old": {"a": {"MPJPE-24": (30.0, 1)}, "b": {"MPJPE-24": (50.0, 1)}}}
    rows = table_rows(scores, per_clip=True)
    assert [name.strip() for name in rows] == ["new", "new: a", "new: b", "old", "old: a", "old: b"]
    assert rows["  new: a"]["MPJPE-24"] == 10.0 and rows["  old: a"]["MPJPE-24"] == 30.0
    assert rows["old"]["MPJPE-24"] == pytest.approx(40.0)
    assert list(table_rows(scores, per_clip=False)) == ["new", "old"]


def _frontal_landmarks_2d() -> np.ndarray:
    """A person facing the camera (their left on the image's right), torso 100 px, one frame."""
    clean = np.zeros((1, 33, 2))
    clean[0, :] = (100.0, 150.0)
    clean[0, 11], clean[0, 12] = (120.0, 100.0), (80.0, 100.0)  # shoulders
    clean[0, 23], clean[0, 24] = (110.0, 200.0), (90.0, 200.0)  # hips
    clean[0, 25], clean[0, 26] = (110.0, 300.0), (90.0, 300.0)  # knees straight below the hips
    return clean


def test_landmark_offsets_2d_in_the_body_frame():
    clean = _frontal_landmarks_2d()
    detected = clean.copy()
    detected[0, 23, 0] -= 5.0  # both hips 5 px towards the midline
    detected[0, 24, 0] += 5.0
    detected[0, [11, 12], 1] -= 10.0  # shoulders 10 px higher
    detected[0, [25, 26], 1] += 20.0  # knees 20 px further down the thigh
    comps = offsets_2d(detected, clean)
    mask = np.ones((1, 33), bool)
    summary = summarise_offsets(comps, mask)
    assert summary["hips"]["out"] == pytest.approx(-5.0) and summary["hips"]["up"] == pytest.approx(0.0)
    assert summary["hips"]["dist_px"] == pytest.approx(5.0) and summary["hips"]["dist"] == pytest.approx(5.0)
    assert summary["shoulders"]["up"] == pytest.approx(10.0) and summary["shoulders"]["out"] == pytest.approx(0.0)
    assert summary["knees"]["limb"] == pytest.approx(20.0) and summary["knees"]["up"] == pytest.approx(-20.0)
    assert np.isnan(summary["hips"]["limb"])  # no parent
    assert summary["nose"]["dist_px"] == 0.0 and summary["hips"]["n"] == 2
    mask[0, 23] = False
    assert summarise_offsets(comps, mask)["hips"]["n"] == 1
    assert set(summary) == set(LANDMARK_GROUPS)
    # In profile (no width between the sides) left and right cannot be told apart: no `out` component.
    side_on = clean.copy()
    side_on[0, :, 0] = 100.0
    assert np.isnan(offsets_2d(side_on + 1.0, side_on)["out"]).all()


def test_landmark_offsets_3d_are_hip_centred_and_body_aligned():
    clean = np.zeros((1, 33, 3))  # camera axes: x right, y down, z forward; the person faces the camera (-z)
    clean[0, 11], clean[0, 12] = (0.2, -0.5, 0.0), (-0.2, -0.5, 0.0)
    clean[0, 23], clean[0, 24] = (0.1, 0.0, 0.0), (-0.1, 0.0, 0.0)
    detected = clean + np.array([0.3, 0.2, -1.0])  # another origin: removed by the hip re-centring
    detected[0, 23, 0] -= 0.02  # the left hip 2 cm inwards, the right hip too: hip midpoint unchanged
    detected[0, 24, 0] += 0.02
    detected[0, 0, 2] -= 0.05  # the nose 5 cm nearer the camera: forward for a person facing it
    summary = summarise_offsets(offsets_3d(detected, clean), np.ones((1, 33), bool))
    assert summary["hips"]["out_mm"] == pytest.approx(-20.0) and summary["hips"]["dist_mm"] == pytest.approx(20.0)
    assert summary["nose"]["fwd_mm"] == pytest.approx(50.0) and summary["shoulders"]["dist_mm"] == pytest.approx(0.0)
    assert torso_scale(detected, clean) == pytest.approx([1.0])
    assert torso_scale(2.0 * clean, clean) == pytest.approx([2.0])


def test_checkpoint_rows_with_and_without_flip_averaging():
    # the bridge's own default window stride and limb re-aim unless told otherwise
    r = LIMB_REAIM_STRENGTH
    assert parse_checkpoints([]) == {"arts_default (shipped)": (None, True, 2, r)}
    assert parse_checkpoints(["new=a.pt", "b.pt"], "off") == {"new": ("a.pt", False, 2, r), "b": ("b.pt", False, 2, r)}
    assert parse_checkpoints(["new=a.pt"], "both") == {"new": ("a.pt", False, 2, r), "new +flip": ("a.pt", True, 2, r)}
    assert parse_checkpoints(["new=a.pt"], "on", (1, 3)) == {"new stride 1": ("a.pt", True, 1, r),
                                                             "new stride 3": ("a.pt", True, 3, r)}
    assert parse_checkpoints(["new=a.pt"], "on", (2,), (0.35, 0.0)) == {"new reaim 0.35": ("a.pt", True, 2, 0.35),
                                                                        "new reaim 0": ("a.pt", True, 2, 0.0)}


def test_a_committed_render_is_reused_only_while_its_ground_truth_rebuilds(tmp_path, monkeypatch):
    import json

    import scripts.render_test_clip as render_test_clip
    from bridge.body_model import load_body_model_arrays
    from scripts.eval_rendered import render_spec, store_renders

    body = load_body_model_arrays()
    spec = select_clips(1, 0, [], 30, (320, 240))[0]
    renders = []

    def fake_render(out_dir, name, motion, betas, **placement):  # Blender's part: the video
        renders.append(name)
        render_test_clip.save_truth(Path(out_dir) / f"{name}.npz", body,
                                    render_test_clip.ground_truth(body, motion, betas, **placement))
        (Path(out_dir) / f"{name}.mp4").write_bytes(b"video " + name.encode())

    monkeypatch.setattr(render_test_clip, "render_clip", fake_render)
    stored, first, second, third = (tmp_path / d for d in ("stored", "first", "second", "third"))
    for folder in (first, second, third):
        folder.mkdir()
    assert render_spec(spec, first, body, None, stored)[2] == "rendered"
    assert render_spec(spec, first, body, None, stored)[2] == "cached"
    store_renders([spec.name], first, stored)

    mp4, npz, source = render_spec(spec, second, body, None, stored)
    assert source == "stored" and renders == [spec.name]
    assert mp4.read_bytes() == (first / f"{spec.name}.mp4").read_bytes()
    with np.load(npz) as got, np.load(first / f"{spec.name}.npz") as want:
        assert sorted(got.files) == sorted(want.files)
        for key in want.files:
            np.testing.assert_array_equal(got[key], want[key])

    index = json.loads((stored / "index.json").read_text())
    index["truth_check"][spec.name][0][0][0] += 0.005  # the motion no longer rebuilds as recorded
    (stored / "index.json").write_text(json.dumps(index))
    said = []
    assert render_spec(spec, third, body, None, stored, said.append)[2] == "rendered"
    assert renders == [spec.name] * 2 and "no longer matches" in said[0]


def test_tracking_time_is_counted_once_per_clip_apart_from_the_bridge(monkeypatch, tmp_path):
    from types import SimpleNamespace

    import scripts.eval_rendered as eval_rendered

    clock = iter([0.0, 2.5])  # one pass of 2.5 s; the cached call reads no clock (a third read would raise)
    calls = []
    monkeypatch.setattr(eval_rendered, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    monkeypatch.setattr(eval_rendered, "track_person_parallel",
                        lambda info, start, end, workers, **kw: calls.append(info.path) or [f"track of {info.path}"])
    track_once = eval_rendered.TrackOnce()
    info = SimpleNamespace(path=str(tmp_path / "clip.mp4"))
    first, second = track_once(info), track_once(info)
    assert first == second == [f"track of {info.path}"]
    assert len(calls) == 1 and track_once.seconds == 2.5
    # Each run gets its own copy to process in place; the calibration reads the last one handed out.
    assert first is not second and track_once.of(tmp_path / "clip.mp4") is second
