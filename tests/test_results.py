"""The results file: round trip, atomic writes, validation errors that name the problem."""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from bridge import results
from bridge.results import ClipResult, ResultsError, read_results, write_results


def make_result(frames: int = 5, seed: int = 0, world: bool = True) -> ClipResult:
    """A version-2 result (with world frame and contacts), or a version-1 one with world=False."""
    rng = np.random.default_rng(seed)
    world_fields = {}
    if world:
        matrix = np.eye(4)
        matrix[:3, :3] = [[1, 0, 0], [0, 0, 1], [0, -1, 0]]
        matrix[:3, 3] = [0.0, -3.0, 1.2]
        world_fields = {"world_from_camera": matrix, "joints_world_m": rng.normal(0, 0.5, (frames, 24, 3)),
                        "contacts": rng.uniform(0, 1, (frames, 4))}
    return ClipResult(**world_fields,
        fps=30.0, frame_indices=np.arange(10, 10 + frames), pose_aa=rng.normal(0, 0.3, (frames, 24, 3)),
        betas=rng.normal(0, 1, 10), trans_m=rng.normal(0, 1, (frames, 3)) + [0, 0, 4],
        joints_3d=rng.normal(0, 0.5, (frames, 24, 3)), keypoints_2d=rng.uniform(0, 600, (frames, 33, 3)) / [1, 1, 600],
        valid=np.arange(frames) % 2 == 0, confidence=np.linspace(0, 1, frames), image_size=(640, 480),
        focal_px=615.0, model_id="arts-default/abc123", body_model_id="arts-free-body/1", source="clip.mp4")


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    original = make_result()
    path = write_results(tmp_path / "clip.npz", original)
    back = read_results(path)
    for name in ("frame_indices", "pose_aa", "betas", "trans_m", "joints_3d", "keypoints_2d", "valid", "confidence",
                 "world_from_camera", "joints_world_m", "contacts"):
        np.testing.assert_allclose(getattr(back, name), np.asarray(getattr(original, name)), rtol=1e-6, atol=1e-6)
    assert back.pose_aa.dtype == np.float32 and back.valid.dtype == np.bool_ and back.frame_indices.dtype == np.int64
    assert (back.fps, back.image_size, back.focal_px) == (30.0, (640, 480), 615.0)
    assert (back.model_id, back.body_model_id, back.source, back.smoothing) == (
        "arts-default/abc123", "arts-free-body/1", "clip.mp4", "")
    assert back.num_frames == 5


def test_written_file_is_world_readable_and_keeps_an_existing_mode(tmp_path: Path) -> None:
    path = write_results(tmp_path / "clip.npz", make_result())
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o640)
    write_results(path, make_result(seed=2))
    assert path.stat().st_mode & 0o777 == 0o640


def test_extras_round_trip(tmp_path: Path) -> None:
    original = make_result()
    original.extras["world_landmarks"] = np.ones((5, 33, 3), np.float32)
    back = read_results(write_results(tmp_path / "clip.npz", original))
    np.testing.assert_array_equal(back.extras["world_landmarks"], np.ones((5, 33, 3)))


def test_written_file_has_no_pickles(tmp_path: Path) -> None:
    path = write_results(tmp_path / "clip.npz", make_result())
    with np.load(path, allow_pickle=False) as data:  # raises if any member needed pickle
        assert str(data["schema_version"]) == results.SCHEMA_VERSION


def test_failed_write_keeps_previous_file_and_leaves_no_temp(tmp_path: Path) -> None:
    path = write_results(tmp_path / "clip.npz", make_result(seed=1))
    before = path.read_bytes()
    bad = make_result()
    bad.pose_aa = np.full((5, 24, 3), np.nan)
    with pytest.raises(ResultsError, match="NaN"):
        write_results(path, bad)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["clip.npz"]


def test_interrupted_write_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(results.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_results(tmp_path / "clip.npz", make_result())
    assert os.listdir(tmp_path) == []


def test_the_next_write_removes_stale_temp_files_but_not_fresh_ones(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".clip.k2j4.tmp.npz", tmp_path / ".other.x9q1.tmp.npz"
    stale.write_bytes(b"")  # what kill -9 during a write leaves
    fresh.write_bytes(b"")  # another job writing at this moment
    os.utime(stale, (0, 0))
    write_results(tmp_path / "clip.npz", make_result())
    assert sorted(os.listdir(tmp_path)) == [".other.x9q1.tmp.npz", "clip.npz"]


@pytest.mark.parametrize("mutate, message", [
    (lambda r: setattr(r, "pose_aa", np.zeros((5, 23, 3))), r"'pose_aa' has shape \(5, 23, 3\), expected \(5, 24, 3\)"),
    (lambda r: setattr(r, "trans_m", np.zeros((4, 3))), r"'trans_m' has shape \(4, 3\), expected \(5, 3\)"),
    (lambda r: setattr(r, "betas", np.zeros(16)), r"'betas' has shape"),
    (lambda r: setattr(r, "frame_indices", np.array([0, 1, 1, 2, 3])), "strictly increasing"),
    (lambda r: setattr(r, "fps", 0.0), "'fps' must be a positive"),
    (lambda r: setattr(r, "confidence", np.full(5, 1.5)), r"\[0, 1\]"),
    (lambda r: setattr(r, "image_size", (0, 480)), "image_size"),
    (lambda r: setattr(r, "pose_aa", np.zeros((0, 24, 3))), "F >= 1"),
])
def test_invalid_results_are_refused_with_a_clear_message(tmp_path: Path, mutate, message: str) -> None:
    result = make_result()
    mutate(result)
    with pytest.raises(ResultsError, match=message):
        write_results(tmp_path / "clip.npz", result)


def test_reading_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="not found"):
        read_results(tmp_path / "missing.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(ResultsError, match="cannot read results file"):
        read_results(corrupt)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ResultsError, match="not an ARTS results file"):
        read_results(other)


def test_version_1_files_still_read_without_a_world_frame(tmp_path: Path) -> None:
    path = write_results(tmp_path / "old.npz", make_result(world=False))
    with np.load(path) as data:
        assert str(data["schema_version"]) == "arts-results/1" and "contacts" not in data.files
    back = read_results(path)
    assert back.world_from_camera is None and back.joints_world_m is None and back.contacts is None
    partial = make_result()
    partial.contacts = None
    with pytest.raises(ResultsError, match="go together; missing contacts"):
        write_results(tmp_path / "partial.npz", partial)
    bad = make_result()
    bad.world_from_camera = np.diag([1.0, 1.0, -1.0, 1.0])  # a mirror, not a rotation
    with pytest.raises(ResultsError, match="rigid transform"):
        write_results(tmp_path / "mirror.npz", bad)


def test_reader_refuses_future_version_and_missing_fields(tmp_path: Path) -> None:
    path = write_results(tmp_path / "clip.npz", make_result())
    with np.load(path) as data:
        raw = {k: data[k] for k in data.files}
    raw["schema_version"] = np.array("arts-results/3")
    np.savez(tmp_path / "future.npz", **raw)
    with pytest.raises(ResultsError, match="unsupported results schema 'arts-results/3'"):
        read_results(tmp_path / "future.npz")
    raw["schema_version"] = np.array(results.SCHEMA_VERSION)
    del raw["betas"]
    np.savez(tmp_path / "partial.npz", **raw)
    with pytest.raises(ResultsError, match="missing field\\(s\\) betas"):
        read_results(tmp_path / "partial.npz")


def test_pickled_members_are_refused(tmp_path: Path) -> None:
    path = write_results(tmp_path / "clip.npz", make_result())
    with np.load(path) as data:
        raw = {k: data[k] for k in data.files}
    raw["source"] = np.array([{"evil": 1}], dtype=object)
    np.savez(tmp_path / "pickled.npz", **raw)
    with pytest.raises(ResultsError, match="cannot read results file"):
        read_results(tmp_path / "pickled.npz")


def test_schema_document_lists_every_field(repo_root: Path) -> None:
    doc = (repo_root / "addon_manifest" / "results.schema.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_0-9*]+)` \|", doc, flags=re.M))
    expected = {f for f in results.field_names() if f != "extras"} | {"schema_version", "coordinate_system", "extra_*"}
    assert documented == expected
