"""The detection archive: MediaPipe's landmarks kept without the motion, and clips rebuilt from them that equal
the clips detected_clips.py wrote, or are refused when their ground truth no longer rebuilds."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bridge import tracking
from scripts.synth import detected_clips, detection_archive, rebuild_folders
from scripts.synth.clip_file import load_clip


def _fake_detection(staged, look, fps, video_path):
    """Stands in for Blender and MediaPipe: landmarks from the staged truth (perturbed, one frame missed)."""
    from scripts.eval_rendered import synthetic_landmarks
    from bridge.body_model import load_body_model_arrays

    px, world = synthetic_landmarks(staged.truth, load_body_model_arrays())
    frames = len(px)
    rng = np.random.default_rng(frames)
    image = np.concatenate([px + rng.normal(0, 3, px.shape), rng.random((frames, 33, 2))], -1)
    valid = np.ones(frames, bool)
    valid[1] = False
    image[~valid], world[~valid] = 0, 0
    return tracking.TrackedClip(np.arange(frames), image, world + rng.normal(0, 0.02, world.shape), valid), 1.0, 0.5


@pytest.fixture()
def made(tmp_path, monkeypatch):
    """Three procedural clips made by detected_clips.run with the fake detection."""
    monkeypatch.setattr(detected_clips, "render_and_detect", _fake_detection)
    config = detected_clips.RunConfig(clips=3, seconds=0.6, seed=5)
    clips_dir = tmp_path / "clips"
    detected_clips.run(clips_dir, None, config, log=lambda _: None)
    return clips_dir, config


def test_restored_clips_equal_the_detected_ones(made, tmp_path):
    clips_dir, config = made
    archive = tmp_path / "archive"
    assert detection_archive.save(clips_dir, archive, log=lambda _: None) == 3
    assert detection_archive.save(clips_dir, archive, log=lambda _: None) == 0  # nothing new
    out = tmp_path / "restored"
    result = detection_archive.restore(archive, out, None, log=lambda _: None)
    assert result == {"restored": 3, "present": 0, "mismatched": []}
    index = json.loads((clips_dir / "index.json").read_text())
    assert json.loads((out / "index.json").read_text())["clips_index"] == index["clips_index"]
    for entry in index["clips_index"]:
        original, rebuilt = load_clip(clips_dir / entry["file"]), load_clip(out / entry["file"])
        assert set(original) == set(rebuilt)
        for name in original:
            if name == "mp_world":  # float16 in the archive
                np.testing.assert_allclose(rebuilt[name], original[name], atol=5e-4)
            elif name == "mp_image":  # confidences in steps of 1/255
                np.testing.assert_array_equal(rebuilt[name][..., :2], original[name][..., :2])
                np.testing.assert_allclose(rebuilt[name][..., 2:], original[name][..., 2:], atol=0.5 / 255 + 1e-7)
            else:
                np.testing.assert_array_equal(rebuilt[name], original[name], err_msg=name)
    # The restored folder is one detected_clips.py resumes: nothing is made again, and more clips follow on.
    again = detected_clips.run(out, None, config, log=lambda _: None)
    assert again["clips"] == 3
    assert detection_archive.restore(archive, out, None, log=lambda _: None)["present"] == 3


def test_a_range_of_plans_restores_only_those(made, tmp_path):
    """The model card's subsets (seed-7 plans 160 on, seed-8 tumbled plans 0-43, ...) come from one command."""
    clips_dir, _ = made
    archive = tmp_path / "archive"
    detection_archive.save(clips_dir, archive, log=lambda _: None)
    out = tmp_path / "subset"
    result = detection_archive.restore(archive, out, None, log=lambda _: None,
                                       plans=detection_archive.plan_range("1:"))
    assert result == {"restored": 2, "present": 0, "mismatched": []}
    assert [e["index"] for e in json.loads((out / "index.json").read_text())["clips_index"]] == [1, 2]
    assert len(list(out.glob("*.npz"))) == 2
    assert list(detection_archive.plan_range(":2")) == [0, 1]
    with pytest.raises(SystemExit):
        detection_archive.main(["restore", "--archive", str(archive), "--out", str(out), "--plans", "160"])


def test_a_file_name_pattern_restores_only_the_clips_it_fits(made, tmp_path):
    """A subset by kind (the limit clips of a run that rendered mocap too) is a folder of its own; with --plans,
    a clip must fit both."""
    clips_dir, _ = made
    archive = tmp_path / "archive"
    detection_archive.save(clips_dir, archive, log=lambda _: None)
    out = tmp_path / "subset"
    assert detection_archive.main(["restore", "--archive", str(archive), "--out", str(out), "--plans", ":2",
                                   "--match", "train-00000[12]-*"]) == 0
    assert [e["index"] for e in json.loads((out / "index.json").read_text())["clips_index"]] == [1]
    assert [p.name[:12] for p in out.glob("*.npz")] == ["train-000001"]


def test_a_run_can_archive_each_clip_as_it_finishes(tmp_path, monkeypatch):
    monkeypatch.setattr(detected_clips, "render_and_detect", _fake_detection)
    config = detected_clips.RunConfig(clips=2, seconds=0.6, seed=5)
    archive = tmp_path / "archive"
    detected_clips.run(tmp_path / "clips", None, config, log=lambda _: None, archive_dir=archive)
    index = detection_archive.read_index(archive)
    assert [e["index"] for e in index["clips_index"]] == [0, 1]
    assert index["defining"] == json.loads((tmp_path / "clips" / "index.json").read_text())["defining"]


def test_clips_whose_truth_changed_are_refused(made, tmp_path):
    clips_dir, _ = made
    archive = tmp_path / "archive"
    detection_archive.save(clips_dir, archive, log=lambda _: None)
    first = sorted(archive.glob("*.npz"))[0]
    with np.load(first) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["truth_check"] = arrays["truth_check"] + np.float32(0.01)  # as if staging had moved the body 1 cm
    np.savez_compressed(first, **arrays)
    messages: list[str] = []
    result = detection_archive.restore(archive, tmp_path / "restored", None, log=messages.append)
    assert result["restored"] == 2 and [f.split("/")[-1] for f in result["mismatched"]] == [first.name]
    assert not (tmp_path / "restored" / result["mismatched"][0]).exists()
    assert "no longer rebuilds" in messages[-1]


def test_an_archive_keeps_one_setting(made, tmp_path, monkeypatch):
    clips_dir, _ = made
    archive = tmp_path / "archive"
    detection_archive.save(clips_dir, archive, log=lambda _: None)
    other = tmp_path / "other"
    monkeypatch.setattr(detected_clips, "render_and_detect", _fake_detection)
    detected_clips.run(other, None, detected_clips.RunConfig(clips=1, seconds=0.6, seed=6), log=lambda _: None)
    with pytest.raises(ValueError, match="use another archive"):
        detection_archive.save(other, archive, log=lambda _: None)
    with pytest.raises(FileNotFoundError, match="no archive"):
        detection_archive.restore(tmp_path / "missing", tmp_path / "x", None, log=lambda _: None)


def test_the_committed_archives_are_whole():
    """Every archive under scripts/synth/detections/ lists exactly its files, each readable with its shapes."""
    root = Path(detection_archive.__file__).parent / "detections"
    archives = sorted(p.parent for p in root.glob("*/index.json"))
    for archive in archives:
        index = detection_archive.read_index(archive)
        names = {Path(e["file"]).name for e in index["clips_index"]}
        assert names == {p.name for p in archive.glob("*.npz")}, archive
        assert index["clips"] == len(names) and len({e["index"] for e in index["clips_index"]}) == len(names)
        for entry in index["clips_index"]:
            with np.load(archive / Path(entry["file"]).name, allow_pickle=False) as data:
                assert str(data["format"]) == detection_archive.ARCHIVE_FORMAT
                assert json.loads(str(data["entry"])) == entry
                frames = entry["frames"]
                assert data["image_xy"].shape == (frames, 33, 2) and data["world"].shape == (frames, 33, 3)
                assert data["valid"].sum() == entry["valid_frames"] and data["truth_check"].shape == (2, 24, 3)


def test_the_card_folders_are_described_by_the_committed_archives():
    """folders.json's recorded clip counts are what its archives, plans and globs restore, so a rebuild that
    holds them rebuilt what the card's networks read."""
    content = rebuild_folders.load_folders()
    assert set(content["groups"]) >= {"mix_v45", "choosing"} and len(content["groups"]["mix_v45"]) == 27
    for name, spec in content["folders"].items():
        if "archive" in spec:
            assert rebuild_folders.archived_clips(spec) == spec["clips"], name


def test_folders_are_rebuilt_side_by_side_and_checked(made, tmp_path):
    """A generated folder and an archive subset are made by one call; one already whole is left alone; a
    folder that does not hold its recorded clips is reported, not passed."""
    clips_dir, _ = made
    archives = tmp_path / "archives"
    detection_archive.save(clips_dir, archives / "seed5", log=lambda _: None)
    folders = {"sim": {"generate": "--procedural 3 --clip-frames 32 --seed 1", "clips": 3},
               "det": {"archive": "seed5", "plans": "1:", "match": "*", "clips": 2},
               "wrong": {"archive": "seed5", "clips": 5}}
    root, motion = tmp_path / "root", tmp_path / "no_motion"
    motion.mkdir()
    results = rebuild_folders.rebuild(list(folders), folders, root, motion, jobs=2, log=lambda _: None,
                                      archives=archives)
    assert results["sim"] == results["det"] == "made" and "holds 3 clips, not the 5" in results["wrong"]
    assert sorted(p.name[:12] for p in (root / "det").glob("*.npz")) == ["train-000001", "train-000002"]
    assert rebuild_folders.rebuild(["sim", "det"], folders, root, motion, log=lambda _: None,
                                   archives=archives) == {"sim": "present", "det": "present"}


def test_side_by_side_jobs_share_the_cpus(monkeypatch):
    """Each job gets its share of the CPUs as its thread count (oversubscribed BLAS made restores 3.5x slower),
    and a count the user set is kept."""
    monkeypatch.setattr(rebuild_folders.threads, "available_cpus", lambda: 4)
    for name in rebuild_folders.threads.ENV_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert rebuild_folders.job_environment(2)["OMP_NUM_THREADS"] == "2"
    assert rebuild_folders.job_environment(8)["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    assert rebuild_folders.job_environment(2)["MKL_NUM_THREADS"] == "3"
