"""Rendered training clips with MediaPipe's own landmarks: the look sampler, dressing, staging, and one clip
made end to end (Blender render + the bridge's detection) that agrees with the synthetic landmarks and is
skipped when the run is repeated."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from bridge import camera as bridge_camera
from bridge import tracking
from bridge.body_model import shaped_rest
from bridge.models.inputs import normalized_world
from scripts.synth import appearance as looks
from scripts.synth.appearance import CameraPlan, sample_appearance
from scripts.synth.clip_file import check_clip, load_clip
from scripts.synth.dress import LOWER, REGIONS, SKIN, TOP, dress
from scripts.synth.generate import CROUCH_SEED0, EXERCISE_SEED0, FLOOR_SEED0, SEATED_SEED0, split_of
from scripts.synth.staging import NEAREST_M, layout_set, path_extent, place_camera
from scripts.synth.textures import PATTERN_KINDS, Pattern, pattern_image

#: A level camera (at hip height, so it barely pitches) in front of the person, filling 60 % of the frame:
#: MediaPipe's world skeleton leans the way the camera pitches by less than the truth does (it keeps people
#: nearer upright), so a pitched camera would add a tilt to the comparison below.
EYE_LEVEL = CameraPlan(image_size=(320, 240), fov_deg=55.0, height_m=0.85, fill=0.6, azimuth_deg=10.0, aim=0.5,
                       pitch_jitter_deg=0.0, roll_deg=0.0, follow=False, crop="none", crop_amount=0.0,
                       video_quality="HIGH", antialias=True)


def test_appearance_is_deterministic_and_within_its_ranges():
    draws = [sample_appearance(np.random.default_rng([7, k])) for k in range(300)]
    assert draws[3].to_json() == sample_appearance(np.random.default_rng([7, 3])).to_json()
    assert len({a.to_json() for a in draws}) == len(draws)
    sizes = {size for size, _ in looks.FRAME_SIZES}
    for a in draws:
        cam = a.camera
        assert cam.image_size in sizes and looks.FOV_RANGE_DEG[0] <= cam.fov_deg <= looks.FOV_RANGE_DEG[1]
        assert looks.CAMERA_HEIGHT_RANGE_M[0] <= cam.height_m <= looks.CAMERA_HEIGHT_RANGE_M[1]
        assert 0.2 <= cam.fill <= 1.1 and abs(cam.roll_deg) <= looks.MAX_ROLL_DEG
        assert cam.crop in ("none", "feet", "side") and (cam.crop == "none" or cam.fill >= 0.6)
        assert a.outfit.lower in ("trousers", "shorts", "skirt") and a.backdrop.kind in looks.SET_KINDS
        assert a.lighting.studio_light in looks.STUDIO_LIGHTS and cam.video_quality in looks.VIDEO_QUALITIES
        skin = np.asarray(a.outfit.skin.colours[0])
        assert np.all(skin <= 1.0) and 0.1 < skin.mean() < 0.95 and skin[0] >= skin[2]  # warm, light to dark
        for pattern in (a.outfit.top, a.outfit.bottom, a.backdrop.floor, *a.backdrop.walls):
            assert pattern.kind in PATTERN_KINDS and pattern.period_m > 0
            assert all(0.0 <= c <= 1.0 for colour in pattern.colours for c in colour)
        json.loads(a.to_json())
    shares = lambda values: {v: values.count(v) / len(values) for v in set(values)}  # noqa: E731
    assert 0.05 < shares([a.camera.crop for a in draws])["feet"] < 0.2
    assert 0.05 < np.mean([a.camera.fill < 0.35 for a in draws]) < 0.3  # far, small people
    assert 0.25 < np.mean([a.camera.follow for a in draws]) < 0.5  # 30 % plus every cropped shot
    assert set(shares([a.outfit.lower for a in draws])) == {"trousers", "shorts", "skirt"}
    assert np.ptp([a.outfit.skin.colours[0][0] for a in draws]) > 0.5  # the whole range of skin tones


@pytest.mark.parametrize("kind", PATTERN_KINDS)
def test_textures_tile_without_a_seam(kind):
    pattern = Pattern(kind, ((0.9, 0.1, 0.1), (0.1, 0.2, 0.8), (0.9, 0.9, 0.2)), frequency=3, direction=2, seed=4,
                      grain=0.05)
    image = pattern_image(pattern, 64)
    assert image.shape == (64, 64, 4) and image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1
    np.testing.assert_array_equal(image, pattern_image(pattern, 64))
    # Across the wrap (both ways) the image changes no more than between some neighbouring columns (rows) inside.
    for tile in (image[..., :3], image[..., :3].transpose(1, 0, 2)):
        inner = np.abs(np.diff(tile, axis=1)).mean(axis=(0, 2))
        assert np.abs(tile[:, 0] - tile[:, -1]).mean() <= 1.1 * inner.max() + 1e-6  # 1.1: the grain


def test_dress_assigns_garments_and_keeps_the_joints(free_body):
    rng = np.random.default_rng(0)
    outfit = dataclasses.replace(sample_appearance(rng).outfit, lower="skirt", lower_reach=0.5, sleeve_reach=1.0)
    dressed = dress(free_body, outfit)
    faces = len(free_body.faces)
    assert len(dressed.arrays.faces) > faces and len(dressed.face_region) == len(dressed.arrays.faces)
    assert set(np.unique(dressed.face_region)) <= set(range(len(REGIONS)))
    assert np.all(dressed.face_region[faces:] == LOWER) and np.isfinite(dressed.loop_uv).all()
    betas = rng.standard_normal(10)
    np.testing.assert_allclose(shaped_rest(dressed.arrays, betas)[1], shaped_rest(free_body, betas)[1], atol=1e-6)
    # Long sleeves cover the forearm; hands stay skin.
    dominant = np.asarray(free_body.weights).argmax(axis=1)[np.asarray(free_body.faces)[:, 0]]
    region = dressed.face_region[:faces]
    assert np.mean(region[dominant == 18] == TOP) > 0.8 and np.mean(region[dominant == 22] == SKIN) > 0.8


def _standing(frames: int = 10) -> np.ndarray:
    return np.tile([0.3, 0.95, -0.2], (frames, 1))


def test_camera_frames_the_person_as_planned():
    pelvis, height = _standing(), 1.7
    for fill in (0.2, 0.5, 0.9):
        plan = dataclasses.replace(EYE_LEVEL, image_size=(640, 480), fill=fill)
        cam = place_camera(plan, pelvis, facing_rad=0.4, person_height_m=height)
        head_feet = np.array([[[0.3, height, -0.2], [0.3, 0.0, -0.2]]] * len(pelvis))
        uv = cam.project(cam.world_to_camera(head_feet))
        assert abs(float(uv[0, 1, 1] - uv[0, 0, 1]) / 480 - fill) < 0.1 * fill
        assert abs(uv[0, :, 0].mean() - 320) < 20  # looked at, not beside
    feet = place_camera(dataclasses.replace(EYE_LEVEL, crop="feet", crop_amount=0.2, fill=0.8), pelvis, 0.0, height)
    ankle = feet.project(feet.world_to_camera(np.array([[[0.3, 0.1, -0.2]]] * len(pelvis))))
    assert ankle[0, 0, 1] > 240  # below the bottom edge
    side = place_camera(dataclasses.replace(EYE_LEVEL, crop="side", crop_amount=0.1, fill=0.8), pelvis, 0.0, height)
    hand = side.project(side.world_to_camera(np.array([[[0.3 + 0.8, 1.4, -0.2], [0.3 - 0.8, 1.4, -0.2]]] * 10)))
    assert (hand[0, :, 0] < 0).any() or (hand[0, :, 0] > 320).any()  # one outstretched hand is out of frame
    walk = np.linspace([0.0, 0.95, -3.0], [0.0, 0.95, 3.0], 60)
    cam = place_camera(dataclasses.replace(EYE_LEVEL, fill=1.0, azimuth_deg=0.0), walk, math.pi / 2, height)
    nearest = np.linalg.norm(walk[:, [0, 2]] - cam.position_m[0, [0, 2]], axis=1).min()
    assert nearest >= NEAREST_M - 1e-6


def test_set_stands_around_the_path_not_on_it():
    rng = np.random.default_rng(3)
    pelvis = np.linspace([0.0, 0.95, -1.0], [0.5, 0.95, 1.0], 30)
    centre, radius = path_extent(pelvis)
    for _ in range(20):
        look = sample_appearance(rng)
        cam = place_camera(look.camera, pelvis, 0.0, 1.7)
        pieces = layout_set(look.backdrop, cam, pelvis)
        assert pieces[0].name == "floor"
        for piece in pieces:
            assert np.isfinite(piece.vertices).all() and len(piece.loop_uv) == sum(map(len, piece.polygons))
            if piece.name.startswith("prop"):
                gap = np.linalg.norm(piece.vertices[:, [0, 2]] - centre, axis=1).min()
                assert gap > radius + 0.3  # never on the person's path


def test_detected_landmarks_are_filled_like_the_simulated_ones():
    from scripts.synth.detected_clips import detected_landmarks

    frames = 6
    image = np.random.default_rng(0).random((frames, 33, 4)).astype(np.float32)
    world = np.random.default_rng(1).random((frames, 33, 3)).astype(np.float32)
    valid = np.array([True, False, False, True, True, False])
    image[~valid], world[~valid] = 0, 0
    track = tracking.TrackedClip(np.arange(frames), image, world, valid)
    mp_image, mp_world = detected_landmarks(track)
    np.testing.assert_allclose(mp_image[1, :, :2], image[0, :, :2] + (image[3, :, :2] - image[0, :, :2]) / 3,
                               rtol=1e-5)
    assert np.all(mp_image[~valid, :, 2:] == 0) and np.all(mp_image[valid, :, 2:] == image[valid, :, 2:])
    np.testing.assert_allclose(0.5 * (mp_world[:, 23] + mp_world[:, 24]), 0.0, atol=1e-6)
    nobody = tracking.TrackedClip(np.arange(frames), image * 0, world * 0, np.zeros(frames, bool))
    assert not any(a.any() for a in detected_landmarks(nobody))


def _blank_clip(frames: int) -> dict[str, np.ndarray]:
    """A clip file's arrays, all zeros (no person found)."""
    from scripts.synth import clip_file

    arrays = {name: np.zeros(tuple(frames if s == "F" else s for s in shape),
                             {"f": np.float32, "b": bool, "i": np.int64}.get(kind, None))
              for name, (kind, shape) in clip_file.CLIP_ARRAYS.items() if kind != "U"}
    arrays.update({name: np.array(clip_file.CLIP_FORMAT if name == "format" else "x")
                   for name, (kind, _) in clip_file.CLIP_ARRAYS.items() if kind == "U"})
    return arrays


def test_clip_file_takes_a_landmark_source():
    arrays = _blank_clip(2)
    check_clip(arrays)
    check_clip({**arrays, "landmark_source": np.array("mediapipe"), "appearance": np.array("{}")})
    with pytest.raises(ValueError, match="landmark_source"):
        check_clip({**arrays, "landmark_source": np.array("guessed")})


def test_a_killed_run_resumes_and_clips_without_a_person_go_aside(tmp_path, monkeypatch):
    from scripts.synth import detected_clips

    made: list[int] = []

    def fake_make_clip(plan, motion, body, video_path):
        if plan.index == 2 and 2 not in made:
            made.append(2)
            raise KeyboardInterrupt  # killed while making clip 2
        made.append(plan.index)
        arrays = _blank_clip(plan.frames)
        arrays["valid"][:] = plan.index != 1  # nobody found in clip 1
        return arrays, {"build_s": 0.1, "render_s": 1.0, "detect_s": 0.2}

    monkeypatch.setattr(detected_clips, "make_clip", fake_make_clip)
    config = detected_clips.RunConfig(clips=4, seconds=1.0, seed=2)
    with pytest.raises(KeyboardInterrupt):
        detected_clips.run(tmp_path, None, config, log=lambda _: None)
    index = json.loads((tmp_path / "index.json").read_text())
    assert [e["index"] for e in index["clips_index"]] == [0, 1]  # written as each clip finished
    assert index["clips_index"][1]["file"].startswith(detected_clips.NOBODY_DIR + "/")
    summary = detected_clips.run(tmp_path, None, config, log=lambda _: None)
    assert made == [0, 1, 2, 2, 3] and summary["clips"] == 4 and summary["nobody_clips"] == 1
    assert len(list(tmp_path.glob("*.npz"))) == 3 and len(list(tmp_path.glob("nobody/*.npz"))) == 1
    plans = [detected_clips.plan_clip(k, config, []) for k in range(4)]
    assert plans[3] == detected_clips.plan_clip(3, config, [])  # the same clip whenever it is made
    assert all(split_of(p.source, p.group) == "train" and p.source.startswith("procedural:") for p in plans)


@pytest.mark.blender
def test_one_rendered_clip_end_to_end_and_resumed(tmp_path, monkeypatch):
    from scripts.synth import detected_clips
    from scripts.synth.dataset import SyntheticWindows

    def eye_level_look(rng):
        return dataclasses.replace(sample_appearance(rng), camera=EYE_LEVEL)

    monkeypatch.setattr(detected_clips, "sample_appearance", eye_level_look)
    config = detected_clips.RunConfig(clips=1, seconds=1.5, seed=3, size=(320, 240))
    log: list[str] = []
    summary = detected_clips.run(tmp_path, None, config, log=log.append)
    assert summary["clips"] == 1 and summary["frames"] == 45
    entry = summary["clips_index"][0]
    path = tmp_path / entry["file"]
    clip = load_clip(path)
    assert str(clip["landmark_source"]) == "mediapipe" and str(clip["split"]) == "train"
    assert json.loads(str(clip["appearance"]))["camera"]["image_size"] == [320, 240]
    assert tuple(clip["image_size"]) == (320, 240)
    assert float(clip["focal_px"]) == pytest.approx(bridge_camera.focal_from_fov(320, 55.0), rel=1e-5)
    assert not (tmp_path / "videos").exists()  # the mp4 goes once detected
    valid = clip["valid"]
    assert valid.mean() > 0.9
    # MediaPipe's image landmarks lie where the synthetic model puts them (body points, a few % of its size).
    body = list(range(11, 33))
    clean = clip["mp_image_clean"][valid][:, body]
    size = np.ptp(clean, axis=1).max(axis=-1)[:, None]
    error_2d = np.linalg.norm(clip["mp_image"][valid][:, body, :2] - clean, axis=-1) / size
    assert np.median(error_2d) < 0.05
    # Its world landmarks too, in the same axes: hip-centred and at the true torso length (the network reads
    # them divided by the torso length; MediaPipe gives every body about an average adult's size), they are
    # within 10 cm, and every axis agrees (one swapped or flipped would be tens of cm off and anti-correlated).
    clean_3d = clip["mp_world_clean"][valid]
    scaled = normalized_world(clip["mp_world"][valid])[0] * normalized_world(clean_3d)[1][:, None, None]
    scaled, clean_3d = scaled[:, body], clean_3d[:, body]
    assert np.median(np.linalg.norm(scaled - clean_3d, axis=-1)) < 0.10
    for axis in range(3):
        assert np.corrcoef(scaled[..., axis].ravel(), clean_3d[..., axis].ravel())[0, 1] > 0.8
    assert len(SyntheticWindows(tmp_path, window=16, split="train")) > 0

    mtime = path.stat().st_mtime_ns
    again = detected_clips.run(tmp_path, None, config, log=log.append)
    assert again["clips"] == 1 and path.stat().st_mtime_ns == mtime
    assert "1 of 1 clips already" in log[-1]
    with pytest.raises(ValueError, match="another --out"):
        detected_clips.run(tmp_path, None, dataclasses.replace(config, seed=4), log=log.append)


def test_tumbled_clips_turn_and_rest_on_the_floor(free_body):
    from scripts.synth import detected_clips

    plain = detected_clips.RunConfig(clips=1, seconds=1.0, seed=4)
    tumbling = dataclasses.replace(plain, tumble_share=1.0)
    before, after = detected_clips.plan_clip(0, plain, []), detected_clips.plan_clip(0, tumbling, [])
    assert before.tumble_seed is None and after.tumble_seed is not None
    assert dataclasses.replace(after, tumble_seed=None) == before  # the rest of the plan is unchanged
    assert after.clip_id == before.clip_id + "~tumble"
    rest = shaped_rest(free_body, None)[1]
    upright = detected_clips.stage_clip(before, detected_clips.plan_motion(before, {}, rest), free_body)
    staged = detected_clips.stage_clip(after, detected_clips.plan_motion(after, {}, rest), free_body)
    np.testing.assert_allclose(staged.verts_world[:, :, 1].min(axis=1), 0.0, atol=1e-6)
    assert not np.allclose(staged.truth["pose_aa"][:, 0], upright.truth["pose_aa"][:, 0], atol=0.1)
    np.testing.assert_array_equal(staged.truth["pose_aa"][:, 1:], upright.truth["pose_aa"][:, 1:])
    assert detected_clips.defining_settings(tumbling, free_body)["tumble_share"] == 1.0
    assert "tumble_share" not in detected_clips.defining_settings(plain, free_body)
    rebuilt = detected_clips.config_of(detected_clips.defining_settings(tumbling, free_body))
    assert rebuilt == dataclasses.replace(tumbling, clips=rebuilt.clips)  # the count is not a defining setting


def test_floor_clips_lie_on_the_floor_before_a_camera_aimed_low(free_body):
    """A floor-work plan: the body's lowest vertex on the floor in every frame, most of the body inside the
    frame, and its camera plan aimed at half the height with no bottom-edge crop."""
    from scripts.synth import detected_clips

    config = detected_clips.RunConfig(clips=1, seconds=1.0, seed=3, floor_share=1.0)
    rest = shaped_rest(free_body, None)[1]
    for index in range(3):
        plan = detected_clips.plan_clip(index, config, [])
        assert plan.source.startswith("procedural:floor:") and detected_clips.body_grounded(plan)
        camera = plan.appearance.camera
        assert camera.crop != "feet" and camera.aim <= 0.65 * detected_clips.FLOOR_AIM_SCALE + 1e-9
        staged = detected_clips.stage_clip(plan, detected_clips.plan_motion(plan, {}, rest), free_body)
        np.testing.assert_allclose(staged.verts_world[:, :, 1].min(axis=1), 0.0, atol=1e-6)
        joints = staged.truth["joints_3d"].astype(np.float64)
        pixels = staged.cam.project(joints)
        inside = ((pixels >= 0) & (pixels <= staged.truth["image_size"])).all(axis=-1) & (joints[..., 2] > 0)
        assert inside.mean() > 0.6


def _trial(source: str, frames: int, seed: int, upside_down: bool = False) -> "MotionClip":
    from scripts.synth.motion import MotionClip

    pose = np.random.default_rng(seed).normal(scale=0.2, size=(frames, 24, 3)).astype(np.float32)
    pose[:, 0] = (np.pi, 0.0, 0.0) if upside_down else 0.0
    return MotionClip(pose, np.zeros((frames, 3), np.float32), 30.0, source, source)


def test_spliced_clips_take_the_upper_body_of_another_upright_trial(free_body):
    """--splice-share: a mocap clip keeps its legs, root and path and takes the spine, arms and head of a piece
    of another upright trial; the rest of every plan stays what it was without splices, and a folder's
    settings rebuild the same plans."""
    from scripts.synth import detected_clips
    from scripts.synth.motion_mix import LOWER_BODY_JOINTS

    mocap = [_trial("cmu:a", 60, 0), _trial("cmu:b", 45, 1), _trial("cmu:flip", 60, 2, upside_down=True)]
    plain = detected_clips.RunConfig(clips=1, seconds=1.0, seed=5)
    splicing = dataclasses.replace(plain, splice_share=1.0)
    before = [detected_clips.plan_clip(k, plain, mocap) for k in range(12)]
    after = [detected_clips.plan_clip(k, splicing, mocap) for k in range(12)]
    assert [dataclasses.replace(p, splice=None) for p in after] == before
    spliced_plans = [p for p in after if p.splice is not None]
    assert spliced_plans and all(p.source in ("cmu:a", "cmu:b") for p in spliced_plans)
    # Never from itself, never from (or onto) a trial upside down, never onto procedural motion.
    assert all(p.splice[0] in ("cmu:a", "cmu:b") and p.splice[0] != p.source for p in spliced_plans)
    assert all(p.splice is None for p in after if p.source.startswith("procedural:") or p.source == "cmu:flip")
    plan = spliced_plans[0]
    assert plan.clip_id == before[plan.index].clip_id + "~splice"
    by_source = {m.source: m for m in mocap}
    motion = detected_clips.plan_motion(plan, by_source, shaped_rest(free_body, None)[1])
    legs = by_source[plan.source].slice(plan.start, plan.start + plan.frames)
    donor = by_source[plan.splice[0]].slice(plan.splice[1], plan.splice[1] + plan.frames)
    lower = list(LOWER_BODY_JOINTS)
    upper = [j for j in range(24) if j not in lower]
    assert motion.num_frames == plan.frames and motion.source == plan.source
    np.testing.assert_array_equal(motion.pose_aa[:, lower], legs.pose_aa[:, lower])
    np.testing.assert_array_equal(motion.pose_aa[:, upper], donor.pose_aa[:, upper])
    np.testing.assert_array_equal(motion.root_pos_m, legs.root_pos_m)
    defining = detected_clips.defining_settings(splicing, free_body)
    assert defining["splice_share"] == 1.0 and "splice_share" not in detected_clips.defining_settings(plain, free_body)
    rebuilt = detected_clips.config_of(defining)
    assert rebuilt == dataclasses.replace(splicing, clips=rebuilt.clips)


def _moved_plans(before, after, kind: str) -> list:
    """(old, new) of the plans whose motion procedural `kind` took, each checked to be whole from frame 0, never
    spliced and of the train split; every plan is otherwise what it was without the share (floor work's camera
    plan aimed low: floor_camera)."""
    from scripts.synth.detected_clips import floor_camera

    moved = []
    for old, new in zip(before, after):
        if new.source.startswith(f"procedural:{kind}:"):
            assert new.start == 0 and new.splice is None and split_of(new.source, new.group) == "train"
            moved.append((old, new))
            new = dataclasses.replace(new, source=old.source, group=old.group, start=old.start, splice=old.splice)
            if kind == "floor":
                assert new.appearance.camera == floor_camera(old.appearance.camera)
                new = dataclasses.replace(new, appearance=old.appearance)
        assert new == old
    return moved


def _share_defines_and_rebuilds(config, without, share: str, free_body) -> None:
    """A folder's settings name `share` only when it is set, and rebuild the same run config."""
    from scripts.synth import detected_clips

    defining = detected_clips.defining_settings(config, free_body)
    assert defining[share] == getattr(config, share) and share not in detected_clips.defining_settings(without, free_body)
    rebuilt = detected_clips.config_of(defining)
    assert rebuilt == dataclasses.replace(config, clips=rebuilt.clips)


def test_limit_clips_replace_the_motion_and_keep_the_rest_of_the_plan(free_body):
    """--limits-share: that share of the plans moves over the full joint limits (procedural 'limits', a seed of
    the plan's split, whole from frame 0, never spliced); body, look, camera and tumble stay what they were
    without it, and a folder's settings rebuild the same plans."""
    from scripts.synth import detected_clips

    mocap = [_trial("cmu:a", 60, 0), _trial("cmu:b", 45, 1)]
    plain = detected_clips.RunConfig(clips=1, seconds=1.0, seed=7, splice_share=1.0, tumble_share=0.5)
    limits = dataclasses.replace(plain, limits_share=0.5)
    before = [detected_clips.plan_clip(k, plain, mocap) for k in range(24)]
    after = [detected_clips.plan_clip(k, limits, mocap) for k in range(24)]
    moved = [new for _, new in _moved_plans(before, after, "limits")]
    assert 4 <= len(moved) <= 20
    assert any(p.tumble_seed is not None for p in moved)
    motion = detected_clips.plan_motion(moved[0], {}, shaped_rest(free_body, None)[1])
    assert motion.num_frames == moved[0].frames and motion.source == moved[0].source
    test_plans = [detected_clips.plan_clip(k, dataclasses.replace(limits, split="test", limits_share=1.0), [])
                  for k in range(4)]
    assert all(split_of(p.source, p.group) == "test" for p in test_plans)
    with pytest.raises(ValueError, match="no joint-limit motion of split 'unseen'"):
        detected_clips.plan_clip(0, dataclasses.replace(limits, split="unseen", limits_share=1.0), [])
    _share_defines_and_rebuilds(limits, plain, "limits_share", free_body)


def test_crouch_clips_take_the_plans_limits_leave(free_body):
    """--crouch-share: low-posture plans replace the motion from a stream of their own; a plan already drawn
    for --limits-share stays a joint-limit plan, and the plans neither draws are what they were without it."""
    from scripts.synth import detected_clips

    mocap = [_trial("cmu:a", 60, 0), _trial("cmu:b", 45, 1)]
    limits = detected_clips.RunConfig(clips=1, seconds=1.0, seed=7, splice_share=1.0, limits_share=0.3)
    both = dataclasses.replace(limits, crouch_share=0.5)
    before = [detected_clips.plan_clip(k, limits, mocap) for k in range(30)]
    after = [detected_clips.plan_clip(k, both, mocap) for k in range(30)]
    moved = _moved_plans(before, after, "crouch")
    assert 4 <= len(moved) <= 24
    for old, new in moved:
        assert not old.source.startswith("procedural:limits:") and int(new.source.split(":")[2]) >= CROUCH_SEED0
    crouched = moved[0][1]
    motion = detected_clips.plan_motion(crouched, {}, shaped_rest(free_body, None)[1])
    assert motion.num_frames == crouched.frames and motion.source == crouched.source
    _share_defines_and_rebuilds(both, limits, "crouch_share", free_body)


def test_acrobatic_clips_draw_only_trials_that_leave_upright(free_body):
    """--acrobatic-share: that share of the plans takes a piece of a trial that is not upright most of the
    time (never spliced); a plan drawn for a procedural kind keeps it, and the rest of every plan is what it
    was without the share."""
    from scripts.synth import detected_clips

    mocap = [_trial("cmu:a", 60, 0), _trial("cmu:b", 45, 1), _trial("cmu:flip", 60, 2, upside_down=True)]
    plain = detected_clips.RunConfig(clips=1, seconds=1.0, seed=9, splice_share=1.0, crouch_share=0.3)
    acrobatic = dataclasses.replace(plain, acrobatic_share=0.5)
    before = [detected_clips.plan_clip(k, plain, mocap) for k in range(30)]
    after = [detected_clips.plan_clip(k, acrobatic, mocap) for k in range(30)]
    moved = [(old, new) for old, new in zip(before, after) if new != old]
    assert 4 <= len(moved) <= 24
    for old, new in moved:
        assert new.source == "cmu:flip" and new.splice is None and 0 <= new.start <= 60 - new.frames
        assert not old.source.startswith("procedural:crouch:")
        assert dataclasses.replace(new, source=old.source, group=old.group, start=old.start, splice=old.splice) == old
    with pytest.raises(ValueError, match="no acrobatic trial of split 'train'"):
        detected_clips.plan_clip(0, dataclasses.replace(plain, acrobatic_share=1.0, crouch_share=0.0), mocap[:2])
    _share_defines_and_rebuilds(acrobatic, plain, "acrobatic_share", free_body)


@pytest.mark.parametrize("kind, earlier, seed0", [
    ("exercise", ("limits", "crouch"), EXERCISE_SEED0),  # fitness drills
    ("seated", ("limits", "exercise"), SEATED_SEED0),  # on a chair
    ("floor", ("limits", "exercise", "seated"), FLOOR_SEED0)])  # lying, rolling, crawling
def test_later_procedural_clips_take_the_plans_the_earlier_kinds_leave(free_body, kind, earlier, seed0):
    """--exercise-share, --seated-share and --floor-share: their plans replace the motion from a stream of their
    own, after the procedural kinds before them (a plan any of those drew stays theirs); the plans none of them
    draws are what they were without the share."""
    from scripts.synth import detected_clips

    mocap = [_trial("cmu:a", 60, 0), _trial("cmu:b", 45, 1)]
    others = detected_clips.RunConfig(clips=1, seconds=1.0, seed=7, **{f"{k}_share": 0.2 for k in earlier})
    with_kind = dataclasses.replace(others, **{f"{kind}_share": 0.5})
    before = [detected_clips.plan_clip(k, others, mocap) for k in range(40)]
    after = [detected_clips.plan_clip(k, with_kind, mocap) for k in range(40)]
    moved = _moved_plans(before, after, kind)
    assert 6 <= len(moved) <= 30
    for old, new in moved:
        assert not old.source.startswith(tuple(f"procedural:{k}:" for k in earlier))
        assert int(new.source.split(":")[2]) >= seed0
    plan = moved[0][1]
    motion = detected_clips.plan_motion(plan, {}, shaped_rest(free_body, None)[1])
    assert motion.num_frames == plan.frames and motion.source == plan.source
    _share_defines_and_rebuilds(with_kind, others, f"{kind}_share", free_body)
