"""Retargeting mocap onto SMPL by joint positions, AMASS-style files, resampling and the cache."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.geometry import rotations
from scripts.synth.bvh import read_bvh
from scripts.synth.motion import MotionClip, leg_length, resample
from scripts.synth.retarget import (
    RetargetError, clip_identity, load_amass, load_retargeted, retarget_bvh, up_alignment, validate_retarget)


@pytest.fixture(scope="module")
def rest_joints():
    return shaped_rest(load_body_model_arrays(), None)[1]


def test_iclone_clip_matches_its_joint_positions(motion_dir, rest_joints):
    motion = read_bvh(motion_dir / "cmu_iclone" / "007" / "007_02.bvh")
    result = retarget_bvh(motion, rest_joints, "cmu:007_02", "cmu:007")
    assert result.rig.name == "cc_base"
    assert result.clip.num_frames == motion.num_frames - 1  # the calibration frame is dropped
    report = validate_retarget(result, rest_joints)
    # Bones hanging from single-child joints follow their targets exactly; only the children of the
    # pelvis and spine3 carry the rigs' different proportions and the pelvis's own orientation.
    single_child = [4, 5, 7, 8, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23]
    assert report.bone_mm[single_child].max() < 2.0
    assert report.bone_mm.mean() < 8.0
    assert report.bone_mm.max() < 70.0
    assert report.chain_mm.mean() < 60.0
    # Limb bones keep the source's roll (the rest frames are right and the twist solve has settled).
    limbs = [1, 2, 4, 5, 13, 14, 16, 17, 18, 19, 20, 21]
    assert np.nanmax(report.twist_deg[limbs]) < 12.0
    assert np.nanmax(report.twist_deg[[0, 10, 11, 15, 22, 23]]) < 0.1  # root and leaves: whole rotations


def test_iclone_rest_frames_match_the_calibration_t_pose(motion_dir):
    """Each CC_Base bone's rest frame is its orientation in a T-pose facing +Z (the 007 files open on one)."""
    from scripts.synth.retarget import CC_BASE
    motion = read_bvh(motion_dir / "cmu_iclone" / "007" / "007_04.bvh")
    _, global_rot = motion.forward_kinematics()
    for bone, frame in CC_BASE.rest_frames.items():
        relative = global_rot[0, motion.index(bone)].T @ frame
        angle = np.degrees(np.linalg.norm(rotations.matrix_to_axis_angle(relative)))
        assert angle < 17.0, bone


def test_original_cmu_skeleton_matches_too(motion_dir, rest_joints):
    motion = read_bvh(motion_dir / "cmu_original" / "01_01.bvh")
    motion.motion = motion.motion[:600]
    result = retarget_bvh(motion, rest_joints, "cmu:001_01", "cmu:001")
    assert result.rig.name == "cmu"
    report = validate_retarget(result, rest_joints)
    assert report.bone_mm[[4, 5, 7, 8, 16, 17, 18, 19, 20, 21]].max() < 2.0
    assert report.bone_mm.mean() < 8.0 and report.chain_mm.mean() < 40.0
    assert np.nanmax(report.twist_deg[[1, 2, 4, 5, 16, 17, 18, 19, 20, 21]]) < 12.0


def _hinge_spread_deg(pose_aa: np.ndarray, joint: int) -> float:
    """Median angle between a joint's bent rotation axes and their principal axis: a few degrees for an elbow
    whose arm bones carry the right roll, tens of degrees when a rest frame is wrong."""
    aa = pose_aa[:, joint].astype(np.float64)
    angle = np.linalg.norm(aa, axis=1)
    axes = aa[angle > np.radians(20)] / angle[angle > np.radians(20), None]
    principal = np.linalg.svd(axes, full_matrices=False)[2][0]
    return float(np.degrees(np.median(np.arccos(np.clip(np.abs(axes @ principal), 0.0, 1.0)))))


def test_cmu_3ds_max_release_hangs_its_arms_yet_retargets_like_the_original(motion_dir, rest_joints):
    """Subject 131 comes in cgspeed's 3ds Max release (other joint names, arms down in the zero pose): its
    elbows bend about one axis, as the original release's do, only when the arm rest frames are turned."""
    from dataclasses import replace

    from scripts.synth.retarget import CMU_MAX, read_motion_bvh
    motion = read_motion_bvh(motion_dir / "cmu_original" / "131_02.bvh")
    assert motion.fps == pytest.approx(120.0, rel=1e-3)
    motion.motion = motion.motion[:600]
    result = retarget_bvh(motion, rest_joints, "cmu:131_02", "cmu:131")
    assert result.rig is CMU_MAX
    report = validate_retarget(result, rest_joints)
    assert report.bone_mm[[4, 5, 7, 8, 18, 19, 20, 21]].max() < 0.1
    assert report.bone_mm[[16, 17]].max() < 3.0  # the shoulders hang from collars placed on the chest
    assert report.bone_mm.mean() < 8.0 and report.chain_mm.mean() < 40.0
    assert np.nanmax(report.twist_deg[[1, 2, 4, 5, 16, 17, 18, 19, 20, 21]]) < 12.0
    assert max(_hinge_spread_deg(result.clip.pose_aa, j) for j in (18, 19)) < 5.0
    unturned = retarget_bvh(motion, rest_joints, "cmu:131_02", "cmu:131", replace(CMU_MAX, rest_frames={}))
    assert min(_hinge_spread_deg(unturned.clip.pose_aa, j) for j in (18, 19)) > 10.0
    assert 0.75 < leg_length(result.target_joints_m) < 0.9  # metres: the CMU units (subject 01's legs: 0.83)


def test_two_conversions_of_one_trial_give_the_same_smpl_motion(motion_dir, rest_joints):
    """CMU trial 01_01 as the original skeleton (120 fps) and as the iClone rig (60 fps): different bone
    axes, rest poses and proportions, the same motion."""
    original = read_bvh(motion_dir / "cmu_original" / "01_01.bvh")
    original.motion = original.motion[:1201]  # 10 s
    iclone = read_bvh(motion_dir / "cmu_iclone" / "001" / "001_01.bvh")
    iclone.motion = iclone.motion[:601]
    a = resample(retarget_bvh(original, rest_joints, "a", "g").clip, 30.0)
    b = resample(retarget_bvh(iclone, rest_joints, "b", "g").clip, 30.0)
    n = min(a.num_frames, b.num_frames) - 2
    # The two exports differ by a frame at most; take the better alignment.
    diffs = []
    for lag in (0, 1, 2):
        ra = rotations.axis_angle_to_matrix(a.pose_aa[lag:lag + n].astype(np.float64))
        rb = rotations.axis_angle_to_matrix(b.pose_aa[:n].astype(np.float64))
        rel = rotations.matrix_to_axis_angle(np.swapaxes(ra, -1, -2) @ rb)
        diffs.append(np.degrees(np.linalg.norm(rel, axis=-1)))
    diff = min(diffs, key=lambda d: np.median(d))
    median = np.median(diff, axis=0)
    assert median[0] < 5.0  # pelvis orientation (both from the rigs' hip bones)
    assert median[[1, 2, 4, 5, 18, 19]].max() < 10.0  # hips, knees, elbows
    assert median[[3, 6, 9, 16, 17]].max() < 15.0  # spine, shoulders
    assert np.median(diff) < 12.0


def test_resample_to_30_fps(rest_joints):
    frames = 121
    t = np.arange(frames) / 120.0
    pose = np.zeros((frames, 24, 3), np.float32)
    pose[:, 4, 0] = np.sin(2 * np.pi * t)  # knee flexion, 1 Hz
    root = np.stack([t, np.ones(frames), np.zeros(frames)], axis=1).astype(np.float32)
    out = resample(MotionClip(pose, root, 120.0, "s", "g"), 30.0)
    assert out.num_frames == 31 and out.fps == 30.0
    expected = np.sin(2 * np.pi * np.arange(31) / 30.0)
    np.testing.assert_allclose(out.pose_aa[:, 4, 0], expected, atol=1e-5)
    np.testing.assert_allclose(out.root_pos_m[:, 0], np.arange(31) / 30.0, atol=1e-6)


@pytest.mark.parametrize("up", [(0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1), (1, 0, 0), (-1, 0, 0)])
def test_up_alignment_turns_any_up_axis_to_y(up):
    feet = np.zeros((2, 3))
    head = 1.7 * np.array([up, up], dtype=float) + [[0.05, 0.05, 0.05]]
    world = up_alignment(head, feet)
    np.testing.assert_allclose(world @ np.array(up, dtype=float), [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(world @ world.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(world) == pytest.approx(1.0)


def test_amass_style_npz(tmp_path, rest_joints):
    frames = 10
    poses = np.zeros((frames, 156))
    poses[:, 0] = np.pi / 2  # root: +90 degrees about x turns SMPL's Y-up body upright in a Z-up world
    poses[:, 3 * 4] = 0.7  # left knee
    poses[:, 66:] = 0.3  # hand joints of SMPL-H
    trans = np.tile([1.0, 2.0, 0.5], (frames, 1))
    path = tmp_path / "walk_poses.npz"
    np.savez(path, poses=poses, trans=trans, mocap_framerate=np.array(60.0), betas=np.zeros(16))
    clip = load_amass(path, rest_joints, "amass:walk", "amass")
    assert clip.fps == 60.0 and clip.pose_aa.shape == (frames, 24, 3)
    np.testing.assert_allclose(clip.pose_aa[:, 4], [[0.7, 0, 0]] * frames, atol=1e-6)
    np.testing.assert_allclose(clip.pose_aa[:, 22:], 0.0)  # SMPL-H fingers are not SMPL's hand joints
    np.testing.assert_allclose(clip.pose_aa[:, 0], 0.0, atol=1e-6)  # upright in the Y-up world
    expected_root = (rest_joints[0] + trans[0]) @ np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]).T
    np.testing.assert_allclose(clip.root_pos_m[0], expected_root, atol=1e-6)
    bad = tmp_path / "bad.npz"
    np.savez(bad, poses=np.zeros((3, 10)))
    with pytest.raises(RetargetError, match="not an AMASS-style npz"):
        load_amass(bad, rest_joints, "x", "x")


def test_unknown_skeleton_is_refused(tmp_path, rest_joints):
    from scripts.synth.bvh import parse_bvh
    text = ("HIERARCHY\nROOT Root\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation "
            "Yrotation\n JOINT A\n {\n  OFFSET 0 1 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n }\n}\nMOTION\n"
            "Frames: 3\nFrame Time: 0.0333\n" + "0 0 0 0 0 0 0 0 0\n" * 3)
    with pytest.raises(RetargetError, match="unknown skeleton.*supported: cc_base, cmu, cmu_max, daz"):
        retarget_bvh(parse_bvh(text), rest_joints, "odd.bvh", "odd")


def test_clip_names_and_groups(tmp_path):
    assert clip_identity(tmp_path / "007" / "007_02.bvh") == ("cmu:007_02", "cmu:007")
    assert clip_identity(tmp_path / "cmu_original" / "01_01.bvh") == ("cmu:001_01(cmu_original)", "cmu:001")
    assert clip_identity(tmp_path / "dance" / "salsa.bvh") == ("dance:salsa", "dance")


def test_cache_round_trip(tmp_path, motion_dir, rest_joints):
    source = motion_dir / "cmu_iclone" / "007" / "007_09.bvh"
    first = load_retargeted(source, rest_joints, tmp_path)
    cached = list(tmp_path.glob("*.npz"))
    assert len(cached) == 1
    second = load_retargeted(source, rest_joints, tmp_path)
    np.testing.assert_array_equal(first.pose_aa, second.pose_aa)
    assert second.fps == 30.0 and second.source == "cmu:007_09" and second.group == "cmu:007"
    frames = read_bvh(source).num_frames - 1
    assert second.num_frames == (frames - 1) // 2 + 1  # 60 -> 30 fps


def test_cache_survives_a_fresh_copy_of_the_corpus(tmp_path, motion_dir, rest_joints):
    """A corpus mounted afresh has new modification times and the same contents: the cache still answers."""
    source = tmp_path / "007" / "007_09.bvh"
    source.parent.mkdir()
    shutil.copyfile(motion_dir / "cmu_iclone" / "007" / "007_09.bvh", source)
    cache = tmp_path / "cache"
    first = load_retargeted(source, rest_joints, cache)
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    second = load_retargeted(source, rest_joints, cache)
    assert len(list(cache.glob("*.npz"))) == 1
    np.testing.assert_array_equal(first.pose_aa, second.pose_aa)
    source.write_text(source.read_text().replace("Frame Time:", "Frame Time: ", 1))  # new contents, same motion
    load_retargeted(source, rest_joints, cache)
    assert len(list(cache.glob("*.npz"))) == 2


# The Daz-friendly skeleton (cgspeed's dance and martial-arts conversions), the joints the retargeting needs:
# (name, parent, offset) from ../shared/motion/cmu_dance_martial/standard_skeleton.bvh, left side (the right
# mirrors x), centimetres; End Sites at the ball of the foot and past the middle finger and the head.
_DAZ_SPINE = (("abdomen", "hip", (0.0, 20.6881, -0.73152)), ("chest", "abdomen", (0.0, 11.7043, -0.48768)),
              ("neck", "chest", (0.0, 22.1894, -2.19456)), ("head", "neck", (-0.24384, 7.07133, 1.2192)))
_DAZ_SIDE = (("Collar", "chest", (2.68224, 19.2634, -4.8768)), ("Shldr", "Collar", (8.77824, -1.95073, 1.46304)),
             ("ForeArm", "Shldr", (28.1742, -1.7115, 0.48768)), ("Hand", "ForeArm", (22.5879, 0.773209, 7.07136)),
             ("Mid1", "Hand", (8.24714, 1.18213, 3.41376)), ("Buttock", "hip", (8.77824, 4.35084, 1.2192)),
             ("Thigh", "Buttock", (0.0, -1.70687, -2.19456)), ("Shin", "Thigh", (0.0, -36.8199, 0.73152)),
             ("Foot", "Shin", (-0.73152, -45.1104, -5.12064)))
_DAZ_ENDS = {"head": (0.0, 10.0, 0.0), "Mid1": (3.10165, -0.590103, 1.0647), "Foot": (1.1221, -3.69964, 12.103)}


def _daz_bvh_text(frames: dict[str, np.ndarray], num_frames: int, frame_time: float) -> str:
    """A Daz-friendly BVH: `frames` maps a joint to its (F, 3) channel values (root: 6), zero elsewhere."""
    joints = [("hip", "", (0.0, 0.0, 0.0))] + list(_DAZ_SPINE)
    for side, sign in (("l", 1.0), ("r", -1.0)):
        joints += [(side + name, parent if parent in ("hip", "chest") else side + parent, (sign * x, y, z))
                   for name, parent, (x, y, z) in _DAZ_SIDE]
    lines, order = ["HIERARCHY"], []

    def emit(name: str, parent: str, offset: tuple[float, ...]) -> None:
        order.append(name)
        channels = ("6 Xposition Yposition Zposition Zrotation Yrotation Xrotation" if not parent
                    else "3 Zrotation Xrotation Yrotation")
        lines.extend([("ROOT " if not parent else "JOINT ") + name, "{", "OFFSET %g %g %g" % offset,
                      "CHANNELS " + channels])
        for child in joints:
            if child[1] == name:
                emit(*child)
        end = _DAZ_ENDS.get(name) or _DAZ_ENDS.get(name[1:])
        if end is not None:
            x, y, z = end
            lines.extend(["End Site", "{", "OFFSET %g %g %g" % ((-x if name[0] == "r" else x), y, z), "}"])
        lines.append("}")

    emit(*joints[0])
    rows = np.concatenate([frames.get(n, np.zeros((num_frames, 6 if n == "hip" else 3))) for n in order], axis=1)
    lines += ["MOTION", f"Frames: {num_frames}", f"Frame Time: {frame_time}"]
    lines += [" ".join(f"{v:g}" for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def _body_frame(clip: MotionClip, vectors: np.ndarray) -> np.ndarray:
    """World vectors (F, 3) in the SMPL pelvis's own axes (+X its left, +Z its front)."""
    pelvis = rotations.axis_angle_to_matrix(clip.pose_aa[:, 0].astype(np.float64))
    return np.einsum("fba,fb->fa", pelvis, vectors)


def test_daz_skeleton_from_text_left_is_left_and_salsa_runs_at_60_fps(tmp_path, rest_joints):
    """The Daz rig without ../shared/motion: a calibration frame, then the body turned 90 degrees and walking
    forward at 0.5 m/s of real time (60 fps, though the salsa header says 120) with the left elbow bent
    so the forearm points ahead."""
    from scripts.synth.retarget import DAZ, read_motion_bvh
    frames = 13
    hip = np.zeros((frames, 6))
    hip[:, 1] = 86.0
    hip[1:, 3:6] = [0.0, 90.0, 0.0]  # Zrotation Yrotation Xrotation: face +X
    hip[1:, 0] = 50.0 / 60.0 * np.arange(frames - 1)  # cm per real frame, along +X (the body's front)
    elbow = np.zeros((frames, 3))
    elbow[1:, 2] = -90.0  # Yrotation: the left forearm turns from +X (left) to +Z (ahead)
    path = tmp_path / "cmu_dance_martial" / "salsa" / "01.bvh"
    path.parent.mkdir(parents=True)
    path.write_text(_daz_bvh_text({"hip": hip, "lForeArm": elbow}, frames, 1 / 120))
    assert read_bvh(path).fps == pytest.approx(120.0) and read_motion_bvh(path).fps == 60.0

    result = retarget_bvh(read_motion_bvh(path), rest_joints, "salsa:01", "salsa")
    assert result.rig is DAZ and result.clip.num_frames == frames - 1
    report = validate_retarget(result, rest_joints)
    assert report.bone_mm[[4, 5, 7, 8, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23]].max() < 1.0
    targets = result.target_joints_m
    motion = read_motion_bvh(path)
    positions, _ = motion.forward_kinematics()
    # Wrists on their source joints (cm -> m); the toes at the foot's End Site, turned with the body to +X.
    np.testing.assert_allclose(targets[:, 20], positions[1:, motion.index("lHand")] * 0.01, atol=1e-9)
    np.testing.assert_allclose(targets[:, 10] - targets[:, 7], [[0.12103, -0.0369964, -0.011221]] * (frames - 1),
                               atol=1e-9)
    body = result.clip
    assert (_body_frame(body, targets[:, 1] - targets[:, 2])[:, 0] > 0.15).all()  # the left hip on the left
    left_forearm = _body_frame(body, targets[:, 20] - targets[:, 18])
    right_forearm = _body_frame(body, targets[:, 21] - targets[:, 19])
    assert (left_forearm[:, 2] > 0.2).all() and (right_forearm[:, 0] < -0.2).all()
    assert np.degrees(np.linalg.norm(body.pose_aa[:, 18], axis=-1)).min() > 60.0  # SMPL's left elbow bends

    clip = load_retargeted(path, rest_joints, tmp_path / "cache")
    assert clip.fps == 30.0 and clip.num_frames == (frames - 2) // 2 + 1  # 12 frames at 60 fps = 0.2 s
    speed = np.linalg.norm(np.diff(clip.root_pos_m, axis=0), axis=1) * clip.fps
    # the pelvis travels as the source's scaled by the ratio of leg lengths (so planted feet stay planted)
    np.testing.assert_allclose(speed, 0.5 * leg_length(rest_joints) / leg_length(targets), rtol=1e-3)


def test_daz_dance_files_retarget(motion_dir, rest_joints):
    """A salsa trial (60 fps, its header says 120) and a martial-arts trial (120 fps) in the Daz rig."""
    from scripts.synth.retarget import DAZ, read_motion_bvh
    folder = motion_dir / "cmu_dance_martial"
    salsa = read_motion_bvh(folder / "salsa" / "01.bvh")
    assert salsa.fps == 60.0 and read_motion_bvh(folder / "martial" / "03.bvh").fps == pytest.approx(120.0)
    # Every trial opens on a T-pose (the calibration frame dropped), the body about 1.63 m tall.
    positions, global_rot = salsa.forward_kinematics()
    assert np.abs(salsa.motion[0, 3:6]).max() == 0.0
    left_arm = positions[0, salsa.index("lHand")] - positions[0, salsa.index("lShldr")]
    assert left_arm[0] / np.linalg.norm(left_arm) > 0.97
    foot = salsa.index("lFoot")
    ball = positions[0, foot] + global_rot[0, foot] @ salsa.end_sites[foot]
    eye_m = (positions[0, salsa.index("leftEye"), 1] - ball[1]) * DAZ.units_to_m
    assert 1.6 < eye_m / 0.936 < 1.9  # eye height is 93.6 % of stature (adult anthropometry)
    salsa.motion = salsa.motion[:301]  # 5 s
    result = retarget_bvh(salsa, rest_joints, "salsa:01", "salsa")
    assert result.rig is DAZ and result.clip.fps == 60.0
    report = validate_retarget(result, rest_joints)
    assert report.bone_mm[[4, 5, 7, 8, 10, 11, 15, 16, 17, 18, 19, 20, 21, 22, 23]].max() < 2.0
    assert report.bone_mm.mean() < 6.0 and report.chain_mm.mean() < 30.0
    assert np.nanmax(report.twist_deg[[1, 2, 4, 5, 16, 17, 18, 19, 20, 21]]) < 6.0
    targets = result.target_joints_m
    assert (targets[:, 15, 1] > targets[:, [10, 11], 1].max(axis=1) + 1.0).all()  # head well above the feet
    assert (_body_frame(result.clip, targets[:, 1] - targets[:, 2])[:, 0] > 0.15).all()
    toes_ahead = _body_frame(result.clip, targets[:, [10, 11]].mean(axis=1) - targets[:, [7, 8]].mean(axis=1))
    assert np.median(toes_ahead[:, 2]) > 0.08
    np.testing.assert_allclose(targets[:, 21], positions[1:301, salsa.index("rHand")] * 0.01, atol=1e-9)
    clip = resample(result.clip, 30.0)
    speed = np.linalg.norm(np.diff(clip.root_pos_m[:, [0, 2]], axis=0), axis=1) * clip.fps
    assert 0.1 < np.median(speed) < 1.0  # a dance's pace, not doubled


def test_fit_to_body_scales_the_pelvis_path_by_the_leg_ratio(rest_joints):
    """Legs 1.2 times as long take steps 1.2 times as long: the travel and the pelvis height over the feet
    scale with them; the same proportions leave the clip as it is."""
    from scripts.synth.motion import feet_level, fit_to_body

    frames = 10
    root = np.zeros((frames, 3))
    root[:, 0] = 0.05 * np.arange(frames)
    root[:, 1] = 1.0
    clip = MotionClip(np.zeros((frames, 24, 3), np.float32), root.astype(np.float32), 30.0, "t", "t")
    taller = rest_joints * 1.2
    fitted = fit_to_body(clip, rest_joints, taller)
    np.testing.assert_allclose(fitted.root_pos_m[:, 0] - fitted.root_pos_m[0, 0], 1.2 * root[:, 0], atol=1e-6)
    floor = feet_level(clip.pose_aa, clip.root_pos_m, rest_joints)
    np.testing.assert_allclose(fitted.root_pos_m[:, 1] - floor, 1.2 * (1.0 - floor), atol=1e-6)
    np.testing.assert_allclose(feet_level(fitted.pose_aa, fitted.root_pos_m, taller), floor, atol=1e-6)
    assert fit_to_body(clip, rest_joints, rest_joints) is clip
