"""eval_simulated_bridge: the bridge after detection on stored tracks, scored against the clips' exact joints."""
from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from bridge import pipeline
from scripts.eval_simulated_bridge import (SLOW_ERROR_FRAMES, choose_clips, main, parse_variant,
                                           simulated_track, substituted_inputs)
from scripts.synth.clip_file import load_clip
from scripts.synth.generate import GenerateConfig, generate


@pytest.fixture(scope="module")
def clips_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("simulated")
    generate(out, None, GenerateConfig(clip_frames=40, procedural=20, seed=1), log=lambda _: None)
    return out


def test_variants_are_named_json_options():
    assert parse_variant('re-aim off={"limb_reaim": 0}') == ("re-aim off", {"limb_reaim": 0})
    for bad in ("no-equals", '={"limb_reaim": 0}', "x={not json}", "x=[1]"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_variant(bad)


def test_clips_are_drawn_from_one_split_the_same_way_each_time(clips_dir):
    unseen = sorted(clips_dir.glob("unseen-*.npz"))
    assert len(unseen) >= 3
    chosen = choose_clips(clips_dir, "unseen", 2, seed=3)
    assert len(chosen) == 2 and set(chosen) <= set(unseen)
    assert chosen == choose_clips(clips_dir, "unseen", 2, seed=3)
    assert choose_clips(clips_dir, "unseen", 1000, seed=3) == unseen
    with pytest.raises(SystemExit, match="no 'nothing' clips"):
        choose_clips(clips_dir, "nothing", 1, seed=0)


def test_the_stored_track_has_nothing_where_the_detector_found_nobody(clips_dir):
    clip = load_clip(next(clips_dir.glob("test-*.npz")))
    clip["valid"][:3] = False
    track = simulated_track(clip)
    assert np.all(track.image_landmarks[:3] == 0) and np.all(track.world_landmarks[:3] == 0)
    found = clip["valid"]
    np.testing.assert_array_equal(track.valid, found)
    np.testing.assert_array_equal(track.image_landmarks[found], clip["mp_image"][found])
    assert np.all(track.image_landmarks[~found] == 0)  # the detector model's misses too, as the tracker leaves them


def test_every_variant_runs_the_bridge_on_the_stored_track(clips_dir):
    tables = main(["--data", str(clips_dir), "--clips", "1", "--variant", 'off={"limb_reaim": 0}',
                   "--variant", 'on={"limb_reaim": 0.5}', "--per-clip"])
    assert set(tables) == {"test", "unseen"}
    for rows in tables.values():
        off, on = rows["off"], rows["on"]
        (clip_row,) = [row for name, row in rows.items() if name.startswith("  off: ")]  # --per-clip, one clip
        assert clip_row["MPJPE-14"] == off["MPJPE-14"]
        assert 0.0 < off["MPJPE-14"] < 400.0 and math.isfinite(off["Accel"])
        assert off["Det %"] == on["Det %"] > 50.0  # the stored track, not a detector on the black video
        assert on["MPJPE-14"] != off["MPJPE-14"]  # the option reached the bridge
        assert off["Depth-14"] <= off["MPJPE-14"] and off["Plane-14"] <= off["MPJPE-14"]
        baseline = rows["MediaPipe world landmarks"]  # the detector's own skeleton on the same frames
        assert 0.0 < baseline["MPJPE-14"] < 400.0 and baseline["Det %"] == off["Det %"]


def test_a_variant_can_replace_the_lens_and_the_foot_lock(clips_dir):
    """`"focal_px": null` gives the bridge its default field of view, as a user's video of unknown lens does (the
    root's distance follows the assumed lens); `"foot_lock": 1` turns on what is off for scoring."""
    rows = main(["--data", str(clips_dir), "--splits", "test", "--clips", "1", "--variant", "own lens={}",
                 "--variant", 'default lens={"focal_px": null}', "--variant", 'locked={"foot_lock": 1.0}'])["test"]
    assert rows["default lens"]["Det %"] == rows["own lens"]["Det %"] == rows["locked"]["Det %"]
    assert rows["default lens"]["Root (m)"] != rows["own lens"]["Root (m)"]
    assert rows["locked"]["MPJPE-14"] != rows["own lens"]["MPJPE-14"]


def test_clips_a_compared_network_trained_on_are_never_drawn(clips_dir):
    from scripts.synth.trained_clips import clip_id

    unseen = sorted(clips_dir.glob("unseen-*.npz"))
    trained = {clip_id(unseen[0]), clip_id(unseen[2])}
    chosen = choose_clips(clips_dir, "unseen", 1000, seed=3, leave_out=trained)
    assert chosen == [f for k, f in enumerate(unseen) if k not in (0, 2)]
    with pytest.raises(SystemExit, match="trained on by a compared network"):
        choose_clips(clips_dir, "unseen", 1, seed=0, leave_out={clip_id(f) for f in unseen})


def test_several_folders_are_drawn_each_and_pooled_by_frames(clips_dir, tmp_path):
    import shutil

    unseen = sorted(clips_dir.glob("unseen-*.npz"))
    first, second = tmp_path / "seed_a", tmp_path / "seed_b"
    for folder, files in ((first, unseen[:2]), (second, unseen[2:4])):
        folder.mkdir()
        for path in files:
            shutil.copy(path, folder / path.name)
    rows = main(["--data", str(first), str(second), "--splits", "unseen", "--clips", "1",
                 "--variant", 'off={"limb_reaim": 0}', "--per-clip"])["unseen"]
    clip_rows = {name.split(": ", 1)[1]: row for name, row in rows.items() if name.startswith("  off: ")}
    assert sorted(key.partition("/")[0] for key in clip_rows) == ["seed_a", "seed_b"]  # one clip drawn from each
    for folder in ("seed_a", "seed_b"):
        (own,) = [row for key, row in clip_rows.items() if key.startswith(folder + "/")]
        assert rows[f"  off [{folder}]"]["MPJPE-14"] == own["MPJPE-14"]
    a, b = clip_rows.values()  # equal-length clips: frames found are proportional to Det %
    pooled = (a["MPJPE-14"] * a["Det %"] + b["MPJPE-14"] * b["Det %"]) / (a["Det %"] + b["Det %"])
    assert rows["off"]["MPJPE-14"] == pytest.approx(pooled)
    assert rows["  MediaPipe world landmarks [seed_b]"]["Det %"] == b["Det %"]
    with pytest.raises(SystemExit):
        main(["--data", str(first), str(tmp_path / "x" / "seed_a"), "--splits", "unseen"])  # names must differ


def test_noise_free_landmarks_stand_in_for_the_detectors_in_parts(clips_dir):
    """--inputs: the image landmarks without error (visibilities kept), the world ones too, or the image error
    split into its slow part (a moving mean) and the rest, which add back up to the whole."""
    clip = load_clip(sorted(clips_dir.glob("test-*.npz"))[0])
    assert substituted_inputs(clip, "detected") is clip
    clean_2d = substituted_inputs(clip, "clean-2d")
    np.testing.assert_array_equal(clean_2d["mp_image"][..., :2], clip["mp_image_clean"])
    np.testing.assert_array_equal(clean_2d["mp_image"][..., 2:], clip["mp_image"][..., 2:])
    assert clean_2d["mp_world"] is clip["mp_world"]
    np.testing.assert_array_equal(substituted_inputs(clip, "clean")["mp_world"], clip["mp_world_clean"])
    error = clip["mp_image"][..., :2] - clip["mp_image_clean"]
    slow = substituted_inputs(clip, "2d-slow-error")["mp_image"][..., :2] - clip["mp_image_clean"]
    fast = substituted_inputs(clip, "2d-fast-error")["mp_image"][..., :2] - clip["mp_image_clean"]
    np.testing.assert_allclose(slow + fast, error, atol=1e-3)
    middle = len(error) // 2
    np.testing.assert_allclose(slow[middle], error[middle - SLOW_ERROR_FRAMES // 2:middle + SLOW_ERROR_FRAMES // 2 + 1]
                               .mean(axis=0), atol=1e-3)
    with pytest.raises(ValueError, match="inputs must be one of"):
        substituted_inputs(clip, "perfect")
    tables = main(["--data", str(clips_dir), "--clips", "1", "--splits", "test", "--variant", "a={}",
                   "--inputs", "clean"])
    detected = main(["--data", str(clips_dir), "--clips", "1", "--splits", "test", "--variant", "a={}"])
    assert tables["test"]["a"]["MPJPE-14"] < detected["test"]["a"]["MPJPE-14"]


def test_the_stored_track_is_taken_as_final(clips_dir, monkeypatch):
    """Nothing can be found in the black stand-in video, so the bridge is not asked to look again there."""
    def refuse(*args, **kwargs):
        raise AssertionError("looked again over the stand-in video")

    monkeypatch.setattr(pipeline, "_look_again", refuse)
    tables = main(["--data", str(clips_dir), "--clips", "1", "--splits", "test", "--variant", "a={}"])
    assert tables["test"]["a"]["Det %"] > 50.0


def test_per_frame_joints_go_to_an_npz_that_error_anatomy_reads_as_one_set(clips_dir, tmp_path, capsys):
    from scripts import error_anatomy

    joints_file = tmp_path / "choosing.npz"
    rows = main(["--data", str(clips_dir), "--splits", "unseen", "--clips", "2",
                 "--variant", 'off={"limb_reaim": 0}', "--joints", str(joints_file)])["unseen"]
    with np.load(joints_file) as data:
        joints = {key: data[key] for key in data.files}
    sets = error_anatomy.joint_sets(joints, None, "choosing")
    (names, row_names), = sets.values()
    assert len(names) == 2 and all(name.startswith("unseen/") for name in names)
    assert sorted(row_names) == sorted(["off", "MediaPipe world landmarks"])
    clips = [error_anatomy.clip_rows(joints, name) for name in names]
    anatomy = error_anatomy.set_anatomy(clips, "off", error_anatomy.default_sole_heights())
    assert anatomy["mpjpe14"] == pytest.approx(rows["off"]["MPJPE-14"], abs=0.05)  # the table's frames and joints
    error_anatomy.main(["--joints", str(joints_file)])
    assert "### choosing, off: MPJPE-14" in capsys.readouterr().out
