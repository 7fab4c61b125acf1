"""Window dataset, flip, roll and landmark-hiding augmentation: window counts, random crops, involution, FK and
projection consistency."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bridge.body_model import load_body_model_arrays, shaped_rest  # noqa: E402
from bridge.geometry import kinematics, rotations  # noqa: E402
from bridge.keypoints import MEDIAPIPE_LANDMARK_NAMES  # noqa: E402
from bridge.mirror import mirror_pose_aa  # noqa: E402
from bridge.skeleton import SMPL_PARENTS  # noqa: E402
from bridge.upright import body_tilt, roll_matrix  # noqa: E402
from scripts.synth.augment import HIDE_GROUPS, flip_clip, hide_landmarks, roll_clip, scale_detector_error  # noqa: E402
from scripts.synth.clip_file import load_clip, write_clip  # noqa: E402
from scripts.synth.dataset import PER_FRAME_KEYS, SyntheticWindows  # noqa: E402
from scripts.synth.camera import project_points  # noqa: E402
from scripts.synth.generate import GenerateConfig, generate  # noqa: E402


@pytest.fixture(scope="module")
def clips_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("clips")
    generate(out, None, GenerateConfig(clip_frames=40, procedural=20, seed=1), log=lambda _: None)
    return out


def _fk(pose_aa, betas, trans, arrays):
    rest = shaped_rest(arrays, betas)[1]
    posed, _ = kinematics.forward_kinematics(rotations.axis_angle_to_matrix(pose_aa.astype(np.float64)), rest,
                                             SMPL_PARENTS)
    return posed + trans[:, None]


def test_flip_is_an_involution(clips_dir):
    clip = load_clip(next(clips_dir.glob("train-*.npz")))
    twice = flip_clip(flip_clip(clip))
    for key in PER_FRAME_KEYS + ("betas",):  # float32: x -> width - x may round by an ulp each way (1e-7 relative)
        np.testing.assert_allclose(twice[key], clip[key], rtol=1e-6, atol=1e-5, err_msg=key)


def test_flip_keeps_forward_kinematics_consistent(clips_dir):
    arrays = load_body_model_arrays()
    for path in sorted(clips_dir.glob("*.npz"))[:4]:
        flipped = flip_clip(load_clip(path))
        joints = _fk(flipped["pose_aa"], flipped["betas"], flipped["trans_m"].astype(np.float64), arrays)
        np.testing.assert_allclose(joints, flipped["joints_3d"], atol=5e-5)


def test_flip_mirrors_the_image_and_swaps_sides(clips_dir):
    clip = load_clip(next(clips_dir.glob("*.npz")))
    flipped = flip_clip(clip)
    width = clip["image_size"][0]
    left, right = MEDIAPIPE_LANDMARK_NAMES.index("left_wrist"), MEDIAPIPE_LANDMARK_NAMES.index("right_wrist")
    np.testing.assert_allclose(flipped["mp_image_clean"][:, left, 0], width - clip["mp_image_clean"][:, right, 0])
    np.testing.assert_allclose(flipped["mp_image"][:, left, 1:], clip["mp_image"][:, right, 1:])
    np.testing.assert_allclose(flipped["mp_world"][:, left], clip["mp_world"][:, right] * [-1, 1, 1])
    np.testing.assert_allclose(flipped["joints_3d"][:, 20], clip["joints_3d"][:, 21] * [-1, 1, 1])


def test_flip_pose_of_a_mirror_symmetric_rotation():
    pose = np.zeros((1, 24, 3))
    pose[0, 16] = [0.1, 0.2, -0.9]  # left shoulder down
    flipped = mirror_pose_aa(pose)
    np.testing.assert_allclose(flipped[0, 17], [0.1, -0.2, 0.9])  # right shoulder down, mirrored
    np.testing.assert_allclose(flipped[0, 16], 0.0)


def test_roll_keeps_forward_kinematics_and_projection_consistent(clips_dir):
    arrays = load_body_model_arrays()
    for path in sorted(clips_dir.glob("*.npz"))[:3]:
        clip = load_clip(path)
        rolled = roll_clip(clip, 2.4)
        joints = _fk(rolled["pose_aa"], rolled["betas"], rolled["trans_m"].astype(np.float64), arrays)
        np.testing.assert_allclose(joints, rolled["joints_3d"], atol=5e-5)
        # The clean world landmarks are hip-centred: put them back at the hips' camera-space position and
        # project them with the clip's camera; they must land on the rolled clean pixels.
        hips = 0.5 * (clip["joints_3d"][:, 1] + clip["joints_3d"][:, 2])
        offset = hips - 0.5 * (clip["mp_world_clean"][:, 23] + clip["mp_world_clean"][:, 24])
        before = project_points(clip["mp_world_clean"] + offset[:, None], float(clip["focal_px"]),
                                0.5 * clip["image_size"].astype(np.float64))
        assert np.abs(before - clip["mp_image_clean"]).max() < 1.0, "premise: world + hip offset projects to pixels"
        rolled_offset = offset @ roll_matrix(2.4).T
        after = project_points(rolled["mp_world_clean"] + rolled_offset[:, None], float(clip["focal_px"]),
                               0.5 * clip["image_size"].astype(np.float64))
        np.testing.assert_allclose(after, rolled["mp_image_clean"], atol=1.0)
        back = roll_clip(rolled, -2.4)
        for key in PER_FRAME_KEYS:
            np.testing.assert_allclose(back[key], clip[key], atol=1e-4, err_msg=key)


def test_rolled_windows_turn_the_person_in_the_image(clips_dir):
    torch.manual_seed(0)
    data = SyntheticWindows(clips_dir, window=16, split=None, random_crop=False, flip_prob=0.0, roll_prob=1.0)
    plain = SyntheticWindows(clips_dir, window=16, split=None, random_crop=False, flip_prob=0.0)
    ups = []
    for i in range(0, len(data), max(1, len(data) // 20)):
        spine = data[i]["joints_3d"][:, 12] - data[i]["joints_3d"][:, 0]  # pelvis -> neck
        ups.append(float(torch.atan2(spine[:, 0], -spine[:, 1]).mean()))
        assert torch.equal(plain[i]["pose_aa"][:, 1:], data[i]["pose_aa"][:, 1:])  # local rotations untouched
    assert np.ptp(ups) > np.pi, "rolls over the whole circle turn the neck every way in the image"


@pytest.mark.parametrize("ramp", [False, True])
def test_upright_windows_are_shown_as_the_bridge_shows_them(clips_dir, ramp):
    # Rolled every way, then brought back to within the tolerance as bridge/upright.py does at inference: the
    # body's feet-to-shoulders line never leans past it, the truth turns with the picture, the limbs do not.
    torch.manual_seed(0)
    data = SyntheticWindows(clips_dir, window=16, split=None, random_crop=False, flip_prob=0.0, roll_prob=1.0,
                            upright_tolerance_deg=20.0, upright_ramp=ramp)
    leaned = []
    for i in range(0, len(data), max(1, len(data) // 20)):
        window = data[i]
        tilt = float(np.degrees(np.abs(body_tilt(window["mp_image"].numpy()[None]))[0]))
        assert tilt <= 20.0 + 1e-3
        leaned.append(tilt)
        spine = window["joints_3d"][:, 12] - window["joints_3d"][:, 0]  # the truth's pelvis -> neck in the image
        assert float(torch.atan2(spine[:, 0], -spine[:, 1]).abs().mean()) < np.radians(60.0)
    if ramp:  # past the tolerance the lean falls back towards 0 at upside down
        assert 10.0 < max(leaned) and np.mean(leaned) < 15.0
    else:
        assert max(leaned) > 19.0, "windows rolled past the tolerance are brought to it, not further"


def test_hidden_landmarks_are_one_group_over_one_run_of_frames(clips_dir):
    clip = load_clip(next(clips_dir.glob("train-*.npz")))
    image, world = clip["mp_image"][:16], clip["mp_world"][:16]
    before = (image.copy(), world.copy())
    seen_groups = set()
    for seed in range(40):
        hidden_image, hidden_world = hide_landmarks(image, world, np.random.default_rng(seed))
        changed = np.any(hidden_image != image, axis=-1) | np.any(hidden_world != world, axis=-1)  # (T, 33)
        frames = np.flatnonzero(changed.any(axis=1))
        assert len(frames) >= 4 and np.array_equal(frames, np.arange(frames[0], frames[-1] + 1))
        group = tuple(np.flatnonzero(changed.any(axis=0)))
        assert group in HIDE_GROUPS
        seen_groups.add(group)
        hips_px = image[frames][:, [23, 24], :2].mean(axis=1)
        for j in group:
            assert np.all(hidden_image[frames, j, 2:] == 0.0)
            np.testing.assert_allclose(hidden_image[frames, j, :2], hips_px, atol=1e-4)
            np.testing.assert_allclose(hidden_world[frames, j], world[frames][:, [23, 24]].mean(axis=1), atol=1e-6)
    assert len(seen_groups) == len(HIDE_GROUPS)
    np.testing.assert_array_equal(image, before[0])  # the inputs are left as they were
    np.testing.assert_array_equal(world, before[1])


def test_detector_error_scaling_moves_only_the_found_landmarks_along_their_error(clips_dir):
    clip = load_clip(next(clips_dir.glob("train-*.npz")))
    window = {key: np.array(clip[key][:16]) for key in PER_FRAME_KEYS}
    window["valid"][[3, 9]] = False
    before = {key: value.copy() for key, value in window.items()}
    error_px = window["mp_image"][..., :2] - window["mp_image_clean"]
    error_world = window["mp_world"] - window["mp_world_clean"]
    assert np.abs(error_px[window["valid"]]).max() > 1.0  # the generator's simulated detector errs
    found = window["valid"]
    for scale in (0.0, 0.5, 1.0, 1.5):
        out = scale_detector_error(window, scale)
        np.testing.assert_allclose(out["mp_image"][found, :, :2],
                                   (window["mp_image_clean"] + scale * error_px)[found], atol=1e-3)
        np.testing.assert_allclose(out["mp_world"][found], (window["mp_world_clean"] + scale * error_world)[found],
                                   atol=1e-6)
        np.testing.assert_array_equal(out["mp_image"][~found], window["mp_image"][~found])
        np.testing.assert_array_equal(out["mp_world"][~found], window["mp_world"][~found])
        np.testing.assert_array_equal(out["mp_image"][..., 2:], window["mp_image"][..., 2:])  # visibility, presence
        assert out["mp_image"].dtype == window["mp_image"].dtype and out["mp_world"].dtype == window["mp_world"].dtype
    for key, value in before.items():  # the input is left as it was
        np.testing.assert_array_equal(window[key], value)


def test_detector_error_scaling_touches_only_the_detectors_real_output(clips_dir, tmp_path):
    """Simulated clips keep their landmarks; a detected clip's window at scale 0 reads the truth's noise-free
    landmarks (its world landmarks in camera axes, where the stored noise-free ones are)."""
    detected = tmp_path / "detected"
    detected.mkdir()
    source = sorted(clips_dir.glob("*.npz"))[0]
    write_clip(detected / source.name, {**load_clip(source), "landmark_source": np.array("mediapipe"),
                                        "appearance": np.array("{}")})
    kwargs = dict(window=16, split=None, random_crop=False, flip_prob=0.0)
    plain = SyntheticWindows([clips_dir, detected], **kwargs)
    scaled = SyntheticWindows([clips_dir, detected], error_scale=(0.0, 0.0), error_scale_prob=1.0, **kwargs)
    for item in range(len(plain)):
        a, b = plain[item], scaled[item]
        if plain.clip_folders[int(a["clip_index"])] == 0:
            np.testing.assert_array_equal(a["mp_image"].numpy(), b["mp_image"].numpy())
            np.testing.assert_array_equal(a["mp_world"].numpy(), b["mp_world"].numpy())
            continue
        found = b["valid"].numpy()
        np.testing.assert_allclose(b["mp_image"].numpy()[found, :, :2], b["mp_image_clean"].numpy()[found], atol=1e-3)
        np.testing.assert_allclose(b["mp_world"].numpy()[found], b["mp_world_clean"].numpy()[found], atol=1e-6)
        assert np.abs(a["mp_world"].numpy()[found] - a["mp_world_clean"].numpy()[found]).max() > 1e-3


def test_several_folders_form_one_dataset(clips_dir):
    one = SyntheticWindows(clips_dir, window=16, split=None, random_crop=False, flip_prob=0.0)
    two = SyntheticWindows([clips_dir, clips_dir], window=16, split=None, random_crop=False, flip_prob=0.0)
    assert len(two) == 2 * len(one) and two.clip_ids == one.clip_ids * 2


def test_folder_shares_weigh_folders_not_clips(clips_dir, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    shutil.copy(sorted(clips_dir.glob("*.npz"))[0], small)
    data = SyntheticWindows([clips_dir, small], window=16, split=None, random_crop=False, flip_prob=0.0)
    in_small = np.array([data.clip_folders[c] == 1 for c, _ in data.index])
    assert 0 < in_small.sum() < 0.5 * len(data)
    weights = data.window_weights([0.25, 0.75])
    assert weights[in_small].sum() == pytest.approx(0.75) and weights.sum() == pytest.approx(1.0)
    assert np.ptp(weights[~in_small]) == pytest.approx(0.0)  # uniform within a folder
    with pytest.raises(ValueError, match="one per folder"):
        data.window_weights([1.0])


def test_evaluation_windows_cover_every_stride(clips_dir):
    data = SyntheticWindows(clips_dir, window=16, split=None, stride=8, random_crop=False, flip_prob=0.0)
    frames = [clip["pose_aa"].shape[0] for clip in data.clips]
    assert len(data) == sum((f - 16) // 8 + 1 for f in frames)
    item = data[3]
    assert item["mp_image"].shape == (16, 33, 4) and item["mp_world"].shape == (16, 33, 3)
    assert item["pose_aa"].shape == (16, 24, 3) and item["betas"].shape == (10,) and item["valid"].dtype == torch.bool
    clip = data.clips[int(item["clip_index"])]
    start = int(item["start"])
    np.testing.assert_array_equal(item["mp_image"].numpy(), clip["mp_image"][start:start + 16])


def test_training_windows_crop_randomly_and_flip(clips_dir):
    torch.manual_seed(0)
    train = SyntheticWindows(clips_dir, window=16, split="train", flip_prob=1.0)
    test = SyntheticWindows(clips_dir, window=16, split="test", random_crop=False, flip_prob=0.0)
    assert set(train.clip_ids).isdisjoint(test.clip_ids) and len(test.clip_ids) >= 1
    starts = {int(train[0]["start"]) for _ in range(40)}
    assert len(starts) > 1 and max(starts) < train.stride
    item = train[0]
    clip = train.clips[int(item["clip_index"])]
    start = int(item["start"])
    window = {key: clip[key][start:start + 16] for key in PER_FRAME_KEYS}
    window.update(image_size=clip["image_size"])
    np.testing.assert_allclose(item["joints_3d"].numpy(), flip_clip(window)["joints_3d"])


def test_the_detectors_real_world_landmarks_are_turned_into_camera_axes(clips_dir, tmp_path):
    """world_frame "camera" turns MediaPipe's world landmarks by the ray to the hips with the clip's own focal
    length, as the bridge does for such a network; simulated clips (camera axes already) and "crop" keep them."""
    from bridge.crop_view import crop_to_camera_axes

    detected = tmp_path / "detected"
    detected.mkdir()
    source = sorted(clips_dir.glob("*.npz"))[0]
    clip = load_clip(source)
    write_clip(detected / source.name, {**clip, "landmark_source": np.array("mediapipe"), "appearance": np.array("{}")})
    stored = load_clip(detected / source.name)
    expected = crop_to_camera_axes(stored["mp_world"], stored["mp_image"], float(stored["focal_px"]),
                                   tuple(int(v) for v in stored["image_size"]))
    kwargs = dict(window=16, split=None, random_crop=False, flip_prob=0.0)
    camera_axes = SyntheticWindows([clips_dir, detected], **kwargs)
    as_given = SyntheticWindows([clips_dir, detected], world_frame="crop", **kwargs)
    last = len(camera_axes.clips) - 1  # the detected copy
    np.testing.assert_allclose(camera_axes.clips[last]["mp_world"], expected, atol=1e-6)
    np.testing.assert_array_equal(as_given.clips[last]["mp_world"], stored["mp_world"])
    assert np.abs(expected - stored["mp_world"]).max() > 1e-3
    for c in range(last):
        np.testing.assert_array_equal(camera_axes.clips[c]["mp_world"], as_given.clips[c]["mp_world"])
    with pytest.raises(ValueError, match="world_frame"):
        SyntheticWindows(clips_dir, world_frame="image")


def test_empty_folder_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="no clip files"):
        SyntheticWindows(tmp_path)
