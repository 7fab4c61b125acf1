"""Generated clip files: schema, camera-space consistency, landmarks in view, split by clip, determinism."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.geometry import kinematics, rotations
from bridge.skeleton import SMPL_PARENTS
from scripts.synth.clip_file import CLIP_ARRAYS, check_clip, load_clip
from scripts.synth.generate import GenerateConfig, generate, load_motions, main, motion_kind, split_of
from scripts.synth.motion_bundle import read_bundle, write_bundle

CONFIG = GenerateConfig(clip_frames=60, variants=2, procedural=10, seed=5)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, motion_dir):
    root = tmp_path_factory.mktemp("synth")
    motions = root / "motion"
    for subject, trial in (("007", "007_02"), ("002", "002_01")):
        (motions / subject).mkdir(parents=True)
        shutil.copy(motion_dir / "cmu_iclone" / subject / f"{trial}.bvh", motions / subject)
    out = root / "clips"
    summary = generate(out, motions, CONFIG, cache_dir=root / "cache", log=lambda _: None)
    return out, summary, root


def test_index_and_file_schema(dataset):
    out, summary, _ = dataset
    index = json.loads((out / "index.json").read_text())
    assert index["clips"] == summary["clips"] == len(index["clips_index"]) == len(list(out.glob("*.npz")))
    # 007_02: 81 frames at 30 fps -> one 60-frame clip (the 21-frame tail is dropped); 002_01: 85 -> 60 + 25
    # (dropped); two variants each; ten procedural clips of 60 frames.
    assert summary["clips"] == 2 + 2 + 10 and summary["frames"] == 14 * 60
    for entry in index["clips_index"]:
        clip = load_clip(out / entry["file"])
        assert str(clip["clip_id"]) == entry["clip_id"] and str(clip["split"]) == entry["split"]
        assert np.abs(clip["betas"]).max() <= 2.5
        for name, (kind, _) in CLIP_ARRAYS.items():
            if kind == "f":
                assert clip[name].dtype == np.float32, name
        assert not any(clip[name].dtype == object for name in clip)


def test_split_holds_out_whole_groups(dataset):
    out, _, _ = dataset
    index = json.loads((out / "index.json").read_text())["clips_index"]
    by_source = {}
    for entry in index:
        by_source.setdefault(entry["source"], set()).add(entry["split"])
    assert all(len(splits) == 1 for splits in by_source.values())
    assert by_source["cmu:007_02"] == {"test"} and by_source["cmu:002_01"] == {"train"}
    assert by_source["procedural:squat:9"] == {"unseen"} and by_source["procedural:idle:0"] == {"train"}
    assert split_of("cmu:007_03", "cmu:007") == "test" and split_of("cmu:007_01(deepmimic)", "cmu:007") == "test"
    assert split_of("procedural:idle:18", "procedural:18") == "train"
    assert split_of("procedural:turn:9", "procedural:9") == "test"
    assert split_of("procedural:squat:3", "procedural:3") == "unseen"  # a held-out kind, whatever the seed
    assert split_of("dance_martial:indian/04", "dance_martial:indian/04") == "unseen"
    assert split_of("cmu:090_05(deepmimic)", "cmu:090") == "unseen"
    assert split_of("expmap:test/washwindow/washwindow_1", "expmap:test/washwindow/washwindow_1") == "unseen"
    salsa = [f"dance_martial:salsa/{n:02d}" for n in range(1, 31)]
    splits = {split_of(s, s) for s in salsa}
    assert splits == {"train", "test"}  # some salsa trials are held out, most train


def test_motion_kinds():
    assert motion_kind("procedural:wave:2") == "procedural:wave"
    assert motion_kind("dance_martial:salsa/03") == "dance_martial:salsa"
    assert motion_kind("expmap:train/basketball_signal/basketball_signal_2") == "expmap:basketball_signal"
    assert motion_kind("cmu:088_06(deepmimic)") == "cmu:088" and motion_kind("cmu:001_01") == "cmu:001"


def test_camera_space_labels_are_consistent(dataset):
    """SMPL forward kinematics of (pose_aa, betas, trans_m) reproduces joints_3d exactly."""
    out, _, _ = dataset
    arrays = load_body_model_arrays()
    for path in sorted(out.glob("*.npz"))[:6]:
        clip = load_clip(path)
        rest = shaped_rest(arrays, clip["betas"])[1]
        posed, _ = kinematics.forward_kinematics(
            rotations.axis_angle_to_matrix(clip["pose_aa"].astype(np.float64)), rest, SMPL_PARENTS)
        np.testing.assert_allclose(posed + clip["trans_m"][:, None], clip["joints_3d"], atol=2e-5)


def test_landmarks_lie_on_the_projected_body(dataset):
    out, _, _ = dataset
    inside = []
    for path in sorted(out.glob("*.npz")):
        clip = load_clip(path)
        width, height = clip["image_size"]
        joints = clip["joints_3d"].astype(np.float64)
        assert (joints[..., 2] > 0.5).all()  # in front of the camera
        px = joints[..., :2] / joints[..., 2:] * clip["focal_px"] + [width / 2, height / 2]
        landmarks = clip["mp_image_clean"]
        size = np.ptp(landmarks, axis=1).max(axis=-1)[:, None]
        # Skin landmarks sit within a fraction of the body size of their joint centres.
        for landmark, joint in ((11, 16), (12, 17), (13, 18), (15, 20), (23, 1), (25, 4), (27, 7), (0, 15)):
            assert np.median(np.linalg.norm(landmarks[:, landmark] - px[:, joint], axis=-1) / size[:, 0]) < 0.1
        inside.append(((landmarks >= 0) & (landmarks < [width, height])).all(-1).mean())
        # World landmarks: hip-centred, metric (a shoulder-to-ankle span of about a metre and more).
        world = clip["mp_world_clean"]
        np.testing.assert_allclose(0.5 * (world[:, 23] + world[:, 24]), 0.0, atol=1e-5)
        assert 0.8 < np.median(np.linalg.norm(world[:, 11] - world[:, 27], axis=-1)) < 1.8
    assert np.mean(inside) > 0.9


def test_generation_is_deterministic_from_a_bundle_and_in_parallel(dataset):
    """The same files from the motion files in one process as from a motion bundle in two."""
    out, summary, root = dataset
    arrays = load_body_model_arrays()
    bundle = root / "bundle.npz"
    write_bundle(bundle, load_motions(root / "motion", shaped_rest(arrays, None)[1], root / "cache"), arrays.model_id)
    again = root / "again"
    summary_again = generate(again, None, CONFIG, motion_bundle=bundle, workers=2, log=lambda _: None)
    assert summary_again["clips_index"] == summary["clips_index"]
    for path in sorted(out.glob("*.npz")):
        a, b = load_clip(path), load_clip(again / path.name)
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    with pytest.raises(ValueError, match="not other-body"):
        read_bundle(bundle, "other-body")


def test_check_clip_reports_what_is_wrong(dataset):
    out, _, _ = dataset
    clip = load_clip(next(out.glob("*.npz")))
    clip["mp_image"] = clip["mp_image"][..., :3]
    with pytest.raises(ValueError, match="mp_image is float32"):
        check_clip(clip)
    del clip["valid"]
    with pytest.raises(ValueError, match="missing valid"):
        check_clip(clip)


def test_floor_clips_lie_in_view(tmp_path):
    """--floor draws the floor kind from its own seeds; its bodies lie (spine far from the camera's up, which
    is near the world's: the generator's cameras pitch and roll a little) and stay in the picture."""
    summary = generate(tmp_path, None, GenerateConfig(clip_frames=60, procedural=0, floor=2), log=lambda _: None)
    assert summary["clips"] == 2
    for path in sorted(tmp_path.glob("*.npz")):
        clip = load_clip(path)
        assert str(clip["source"]).startswith("procedural:floor:50000")
        spine = clip["joints_3d"][:, 12] - clip["joints_3d"][:, 0]
        lean = np.degrees(np.arccos(-spine[:, 1] / np.linalg.norm(spine, axis=1)))
        assert np.mean(lean > 45) > 0.8
        assert clip["valid"].mean() > 0.8


def test_cli_refuses_an_empty_request(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--procedural", "0"])
    assert "nothing to generate" in capsys.readouterr().err
