"""The CMU exp-map and DeepMimic motion formats: parsing, forward kinematics, naming, the cache, retargeting."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bridge.body_model import load_body_model_arrays, shaped_rest
from bridge.geometry import rotations
from scripts.synth import deepmimic, expmap
from scripts.synth.bvh import read_bvh
from scripts.synth.motion import leg_length
from scripts.synth.motion import MotionClip, resample
from scripts.synth.motion_formats import read_skeleton_motion
from scripts.synth.retarget import (
    RetargetError, clip_identity, find_motion_files, load_retargeted, retarget_bvh, validate_retarget)

LIMBS = [4, 5, 7, 8, 10, 11, 15, 16, 17, 18, 19, 20, 21, 22, 23]  # joints whose bones hang from one parent


@pytest.fixture(scope="module")
def rest_joints():
    return shaped_rest(load_body_model_arrays(), None)[1]


def _body_frame(clip: MotionClip, vectors: np.ndarray) -> np.ndarray:
    """World vectors (F, 3) in the SMPL pelvis's own axes (+X its left, +Z its front)."""
    pelvis = rotations.axis_angle_to_matrix(clip.pose_aa[:, 0].astype(np.float64))
    return np.einsum("fba,fb->fa", pelvis, vectors)


# --- CMU exp-map ---------------------------------------------------------------------------------------------

def _expmap_offsets() -> np.ndarray:
    """A hand-made 38-joint skeleton in CMU units, the body's left at +x, legs straight, toes along +z."""
    offsets = np.zeros((38, 3))
    for sign, first in ((1.0, 1), (-1.0, 7)):  # leg: hipjoint, hip, knee, ankle, ball, toe tip
        offsets[first + 1:first + 6] = [[sign * 1.6, -1.8, 0.6], [0, -7.5, 0], [0, -7.2, 0], [0, -0.6, 2.2],
                                        [0, 0, 1.1]]
    offsets[[14, 15, 17, 18, 19]] = [[0, 2.05, 0], [0, 2.06, 0], [0, 1.57, 0], [0, 1.56, 0], [0, 1.63, 0]]
    for sign, first in ((1.0, 20), (-1.0, 29)):  # arm: collar, shoulder, elbow, wrist, hand, knuckles, ...
        offsets[first + 1:first + 4] = [[sign * 3.5, 0.9, 0], [sign * 4.9, 0, 0], [sign * 3.4, 0, 0]]
        offsets[first + 5:first + 7] = [[sign * 0.66, 0, 0], [sign * 0.53, 0, 0]]
        offsets[first + 8] = [sign * 0.54, 0, 0.54]
    return offsets


def _write_expmap(root: Path, rows: np.ndarray, offsets: np.ndarray | None = None,
                  name: str = "train/walking/walking_6") -> Path:
    """skeleton.json and one motion file in ../shared/motion's layout; returns the motion file's path."""
    skeleton = {"parents": list(expmap.PARENTS),
                "offsets_cmu_units": (_expmap_offsets() if offsets is None else offsets).tolist(),
                "position_columns_1based": [[1, 2, 3]] + [[]] * 37,
                "expmap_columns_0based": [[3 + 3 * j, 4 + 3 * j, 5 + 3 * j] for j in range(38)]}
    root.mkdir(parents=True, exist_ok=True)
    (root / "skeleton.json").write_text(json.dumps(skeleton))
    path = root / f"{name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(",".join(f"{v:.17g}" for v in row) for row in rows) + "\n")
    return path


def _readme_forward_kinematics(offsets: np.ndarray, row: np.ndarray) -> np.ndarray:
    """../shared/motion/README.md's recipe, with row vectors (root position columns in file order)."""
    def exp_map(r: np.ndarray) -> np.ndarray:
        angle = np.linalg.norm(r)
        if angle < 1e-12:
            return np.eye(3)
        k = np.array([[0, -r[2], r[1]], [r[2], 0, -r[0]], [-r[1], r[0], 0]]) / angle
        return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k

    points, frames = np.zeros((38, 3)), [None] * 38
    for j, parent in enumerate(expmap.PARENTS):
        rotation = exp_map(row[3 + 3 * j:6 + 3 * j])
        if parent < 0:
            points[j], frames[j] = offsets[j] + row[:3], rotation
        else:
            points[j] = offsets[j] @ frames[parent] + points[parent]
            frames[j] = rotation @ frames[parent]
    return points


def test_expmap_forward_kinematics_matches_the_readme_recipe(tmp_path):
    rng = np.random.default_rng(3)
    rows = np.zeros((3, 117))
    rows[:, :3] = [1.0, 17.0, 3.0]  # x, y, z in file order
    rows[1, 3 + 3 * 2] = np.pi / 2  # left hip: +90 degrees about x raises the thigh forward
    rows[1, 3 + 3 * 9] = -np.pi / 2  # right knee: the shin swings back, a knee bend
    rows[2, 3:] = rng.normal(0.0, 0.6, 114)
    path = _write_expmap(tmp_path / "cmu_actions_expmap", rows)
    motion = expmap.read_expmap(path, expmap.read_skeleton(path.parents[2] / "skeleton.json"))
    assert motion.fps == pytest.approx(120.0) and motion.num_frames == 3
    positions, _ = motion.forward_kinematics()
    index = expmap.JOINT_NAMES.index
    np.testing.assert_allclose(positions[1, 0], [1.0, 17.0, 3.0])
    np.testing.assert_allclose(positions[1, index("l_knee")] - positions[1, index("l_hip")], [0, 0, 7.5], atol=1e-12)
    np.testing.assert_allclose(positions[1, index("r_ankle")] - positions[1, index("r_knee")], [0, 0, -7.2],
                               atol=1e-12)
    for frame in range(3):
        np.testing.assert_allclose(positions[frame], _readme_forward_kinematics(_expmap_offsets(), rows[frame]),
                                   atol=1e-9)


def _expmap_walk(frames: int, speed_m_s: float) -> np.ndarray:
    """An opening T-pose frame, then standing with the left elbow bent 90 degrees (forearm ahead), walking
    along +z at speed_m_s (120 fps, CMU units)."""
    rows = np.zeros((frames, 117))
    rows[:, 1] = 16.0
    rows[0, 3 + 3 * 21:6 + 3 * 21] = [0.0, 0.0, 0.5]  # the calibration frame differs; it is dropped
    rows[1:, 2] = speed_m_s / 120.0 / expmap.UNITS_TO_M * np.arange(frames - 1)
    rows[1:, 3 + 3 * 22 + 1] = np.pi / 2  # left elbow: the forearm (+x) turns to +z
    return rows


def test_expmap_retargets_left_as_left_at_120_fps_in_metres(tmp_path, rest_joints):
    path = _write_expmap(tmp_path / "cmu_actions_expmap", _expmap_walk(121, 1.2))
    motion, rig = read_skeleton_motion(path)
    assert rig is expmap.EXPMAP_CMU
    result = retarget_bvh(motion, rest_joints, *clip_identity(path), rig)
    assert result.clip.num_frames == 120  # the opening T-pose is dropped
    report = validate_retarget(result, rest_joints)
    assert report.bone_mm[LIMBS].max() < 1.0
    targets, clip = result.target_joints_m, result.clip
    np.testing.assert_allclose(np.linalg.norm(targets[:, 4] - targets[:, 1], axis=1), 7.5 * 0.056444, atol=1e-9)
    np.testing.assert_allclose(clip.pose_aa[:, 0], 0.0, atol=1e-6)  # facing +Z, as the source faces +z
    assert (_body_frame(clip, targets[:, 1] - targets[:, 2])[:, 0] > 0.15).all()  # the left hip on the left
    assert (_body_frame(clip, targets[:, 20] - targets[:, 18])[:, 2] > 0.15).all()  # left forearm ahead
    assert np.degrees(np.linalg.norm(clip.pose_aa[:, 18], axis=-1)).min() > 80.0  # SMPL's left elbow bends

    loaded = load_retargeted(path, rest_joints, None)
    assert (loaded.source, loaded.group) == ("expmap:train/walking/walking_6",) * 2  # not a known CMU trial
    assert loaded.fps == 30.0 and loaded.num_frames == 30  # 119 intervals at 120 fps = 0.99 s
    speed = np.linalg.norm(np.diff(loaded.root_pos_m, axis=0), axis=1) * loaded.fps
    np.testing.assert_allclose(speed, 1.2 * leg_length(rest_joints) / leg_length(targets), rtol=1e-4)  # leg ratio


def test_malformed_expmap_files_name_the_file(tmp_path, rest_joints):
    rows = _expmap_walk(5, 1.0)
    path = _write_expmap(tmp_path / "a", rows)
    text = path.read_text()
    path.write_text(text + "1,2,3\n")
    with pytest.raises(RetargetError, match=r"walking_6\.txt: not an exp-map motion file: .* at row 6"):
        load_retargeted(path, rest_joints, None)
    path.write_text(text + "x" + ",0" * 116 + "\n")
    with pytest.raises(RetargetError, match=r"walking_6\.txt: not an exp-map motion file"):
        load_retargeted(path, rest_joints, None)
    path.write_text("\n".join(",".join(["0"] * 116) for _ in range(4)))
    with pytest.raises(RetargetError, match=r"walking_6\.txt: needs rows of 117 finite numbers, got shape \(4, 116\)"):
        load_retargeted(path, rest_joints, None)
    (tmp_path / "a" / "skeleton.json").write_text(json.dumps({"parents": [-1] + [0] * 37}))
    with pytest.raises(RetargetError, match=r"skeleton\.json: not an exp-map skeleton file"):
        load_retargeted(path, rest_joints, None)
    path = _write_expmap(tmp_path / "b", rows)
    skeleton = json.loads((tmp_path / "b" / "skeleton.json").read_text())
    skeleton["parents"][3] = 0
    (tmp_path / "b" / "skeleton.json").write_text(json.dumps(skeleton))
    with pytest.raises(RetargetError, match="not the 38-joint CMU exp-map tree"):
        load_retargeted(path, rest_joints, None)


# --- DeepMimic -------------------------------------------------------------------------------------------------

#: A hand-made humanoid in DeepMimic's layout (round numbers): facing +x, y up, its right side +z.
_HUMANOID = (("root", "none", -1, (0, 0, 0)), ("chest", "spherical", 0, (0, 0.24, 0)),
             ("neck", "spherical", 1, (0, 0.22, 0)), ("right_hip", "spherical", 0, (0, 0, 0.09)),
             ("right_knee", "revolute", 3, (0, -0.42, 0)), ("right_ankle", "spherical", 4, (0, -0.41, 0)),
             ("right_shoulder", "spherical", 1, (0, 0.24, 0.18)), ("right_elbow", "revolute", 6, (0, -0.27, 0)),
             ("right_wrist", "fixed", 7, (0, -0.26, 0)), ("left_hip", "spherical", 0, (0, 0, -0.09)),
             ("left_knee", "revolute", 9, (0, -0.42, 0)), ("left_ankle", "spherical", 10, (0, -0.41, 0)),
             ("left_shoulder", "spherical", 1, (0, 0.24, -0.18)), ("left_elbow", "revolute", 12, (0, -0.27, 0)),
             ("left_wrist", "fixed", 13, (0, -0.26, 0)))


def _deepmimic_frames(frames: int, speed_m_s: float = 0.0, fps: float = 30.0, **angles: float) -> np.ndarray:
    """Standing facing +x, moving along +x; `angles` sets revolute joints (e.g. left_knee=-1.0), radians."""
    values = np.zeros((frames, 44))
    values[:, 0] = 1.0 / fps
    values[-1, 0] = 0.0  # DeepMimic's last frame has no duration
    values[:, 1] = speed_m_s / fps * np.arange(frames)
    values[:, 2] = 0.85
    for column in (4, 8, 12, 16, 21, 25, 30, 35, 39):  # identity quaternions (w first)
        values[:, column] = 1.0
    layout = {"right_knee": 20, "right_elbow": 29, "left_knee": 34, "left_elbow": 43}
    for joint, angle in angles.items():
        values[:, layout[joint]] = angle
    return values


def _write_deepmimic(root: Path, frames: np.ndarray, name: str = "cmu01-09/07/07_03") -> Path:
    joints = [{"ID": i, "Name": n, "Type": t, "Parent": p, "AttachX": x, "AttachY": y, "AttachZ": z,
               "AttachThetaX": 0, "AttachThetaY": 0, "AttachThetaZ": 0}
              for i, (n, t, p, (x, y, z)) in enumerate(_HUMANOID)]
    root.mkdir(parents=True, exist_ok=True)
    (root / deepmimic.CHARACTER_FILE).write_text(json.dumps({"Skeleton": {"Joints": joints}}))
    path = root / f"{name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Loop": "none", "Frames": frames.tolist()}))
    return path


def test_deepmimic_forward_kinematics_of_a_known_pose(tmp_path):
    path = _write_deepmimic(tmp_path / "cmu_deepmimic", _deepmimic_frames(3, right_knee=-np.pi / 2,
                                                                            left_elbow=np.pi / 2, fps=60.0))
    motion, rig = read_skeleton_motion(path)
    assert rig is deepmimic.DEEPMIMIC and motion.fps == pytest.approx(60.0) and motion.num_frames == 3
    positions, _ = motion.forward_kinematics()
    at = {name: positions[0, motion.index(name)] for name in motion.joint_names}
    np.testing.assert_allclose(at["right_knee"], [0, 0.85 - 0.42, 0.09], atol=1e-12)
    np.testing.assert_allclose(at["right_ankle"] - at["right_knee"], [-0.41, 0, 0], atol=1e-12)  # shin back
    np.testing.assert_allclose(at["left_wrist"] - at["left_elbow"], [0.26, 0, 0], atol=1e-12)  # forearm ahead
    np.testing.assert_allclose(at["left_ball"] - at["left_ankle"], deepmimic.ADDED_POINTS["left_ball"][1])
    np.testing.assert_allclose(at["left_hand"] - at["left_wrist"], [0.10, 0, 0], atol=1e-12)  # along the forearm


def test_deepmimic_retargets_left_as_left_with_knees_bending_back(tmp_path, rest_joints):
    frames = _deepmimic_frames(31, speed_m_s=1.0, left_knee=-np.pi / 3)
    path = _write_deepmimic(tmp_path / "cmu_deepmimic", frames)
    motion, rig = read_skeleton_motion(path)
    result = retarget_bvh(motion, rest_joints, *clip_identity(path), rig)
    assert result.clip.num_frames == 31 and result.clip.fps == pytest.approx(30.0)
    assert validate_retarget(result, rest_joints).bone_mm[LIMBS].max() < 1.0
    targets, clip = result.target_joints_m, result.clip
    np.testing.assert_allclose(clip.pose_aa[:, 0], [[0, np.pi / 2, 0]] * 31, atol=1e-6)  # SMPL's +Z turned to +x
    assert (targets[:, 1, 2] < targets[:, 2, 2] - 0.15).all()  # the humanoid's left is -z
    assert (_body_frame(clip, targets[:, 1] - targets[:, 2])[:, 0] > 0.15).all()
    # SMPL's bent knee flexes about +X (the shin swings back) 60 degrees further than the straight one, which
    # turns less than 10 degrees (the body model's rest leg is bent 5 degrees and splayed).
    left_knee, right_knee = np.degrees(clip.pose_aa[:, 4]), np.degrees(clip.pose_aa[:, 5])
    np.testing.assert_allclose(left_knee[:, 0] - right_knee[:, 0], 60.0, atol=1.0)
    assert (np.linalg.norm(right_knee, axis=1) < 10.0).all()
    np.testing.assert_allclose(targets[:, 15, 1], 0.85 + 0.24 + 0.22 + 0.09, atol=1e-9)  # metres

    loaded = load_retargeted(path, rest_joints, None)
    assert (loaded.source, loaded.group) == ("cmu:007_03(deepmimic)", "cmu:007") and loaded.num_frames == 31
    speed = np.linalg.norm(np.diff(loaded.root_pos_m, axis=0), axis=1) * loaded.fps
    np.testing.assert_allclose(speed, 1.0 * leg_length(rest_joints) / leg_length(targets), rtol=1e-4)  # leg ratio


@pytest.mark.parametrize("text, message", [
    ("not json", "not a DeepMimic motion file"),
    (json.dumps({"Frames": [[0.033] * 40] * 3}), r"needs 2 or more frames of 44 numbers, got shape \(3, 40\)"),
    (json.dumps({"Frames": _deepmimic_frames(3).tolist()[:1] + _deepmimic_frames(3, fps=60).tolist()[1:]}),
     "frame durations must be positive and equal"),
])
def test_malformed_deepmimic_files_name_the_file(tmp_path, rest_joints, text, message):
    path = _write_deepmimic(tmp_path / "cmu_deepmimic", _deepmimic_frames(3))
    path.write_text(text)
    with pytest.raises(RetargetError, match=r"07_03\.txt: " + message):
        load_retargeted(path, rest_joints, None)


# --- finding, naming, caching ----------------------------------------------------------------------------------

def test_find_motion_files_and_unique_names(tmp_path):
    for name in ("train/walking/walking_4", "test/walking/walking_4", "test/walking/walking_1"):
        _write_expmap(tmp_path / "cmu_actions_expmap", np.zeros((2, 117)), name=name)
    _write_deepmimic(tmp_path / "cmu_deepmimic", _deepmimic_frames(3))
    for name in ("cmu_iclone/007/007_03.bvh", "cmu_iclone/descriptions.csv", "cmu_original/01_01.bvh",
                 "cmu_dance_martial/salsa/01.bvh", "cmu_dance_martial/standard_skeleton.bvh", "README.md",
                 "notes.txt", "cmu_deepmimic/notes.txt", "cmu_actions_expmap/train/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    found = {p.relative_to(tmp_path).as_posix(): clip_identity(p) for p in find_motion_files(tmp_path)}
    assert found == {
        # CMU trial 07_01 (expmap.CMU_TRIALS): held out with subject 007; the others are single trials
        "cmu_actions_expmap/train/walking/walking_4.txt": ("expmap:train/walking/walking_4", "cmu:007"),
        "cmu_actions_expmap/test/walking/walking_4.txt": ("expmap:test/walking/walking_4",) * 2,
        "cmu_actions_expmap/test/walking/walking_1.txt": ("expmap:test/walking/walking_1",) * 2,
        "cmu_deepmimic/cmu01-09/07/07_03.txt": ("cmu:007_03(deepmimic)", "cmu:007"),
        "cmu_iclone/007/007_03.bvh": ("cmu:007_03", "cmu:007"),  # the same trial: another name, the same group
        "cmu_original/01_01.bvh": ("cmu:001_01(cmu_original)", "cmu:001"),
        "cmu_dance_martial/salsa/01.bvh": ("dance_martial:salsa/01",) * 2,
    }


def test_cache_key_covers_the_skeleton_file(tmp_path, rest_joints):
    path = _write_expmap(tmp_path / "cmu_actions_expmap", _expmap_walk(9, 1.0))
    cache = tmp_path / "cache"
    first = load_retargeted(path, rest_joints, cache)
    assert load_retargeted(path, rest_joints, cache).source == first.source and len(list(cache.glob("*.npz"))) == 1
    offsets = _expmap_offsets()
    offsets[[3, 9], 2] = 2.0  # thighs reaching forward: the hips flex
    skeleton = path.parents[2] / "skeleton.json"
    data = json.loads(skeleton.read_text())
    skeleton.write_text(json.dumps({**data, "offsets_cmu_units": offsets.tolist()}))
    second = load_retargeted(path, rest_joints, cache)
    assert len(list(cache.glob("*.npz"))) == 2
    assert (np.degrees(second.pose_aa[:, 1, 0] - first.pose_aa[:, 1, 0]) < -10.0).all()  # the new skeleton's


# --- the files in ../shared/motion ------------------------------------------------------------------------------

def _median_differences(a: MotionClip, b: MotionClip, legs=(1, 2, 4, 5)) -> np.ndarray:
    """Median over frames of each joint's rotation difference (degrees), at the frame lag (-2..2) where the
    hips and knees agree best (the conversions may start a frame apart)."""
    best = None
    for lag in range(-2, 3):
        count = min(a.num_frames - max(lag, 0), b.num_frames - max(-lag, 0))
        ra = rotations.axis_angle_to_matrix(a.pose_aa[max(lag, 0):max(lag, 0) + count].astype(np.float64))
        rb = rotations.axis_angle_to_matrix(b.pose_aa[max(-lag, 0):max(-lag, 0) + count].astype(np.float64))
        angle = np.degrees(np.linalg.norm(rotations.matrix_to_axis_angle(np.swapaxes(ra, -1, -2) @ rb), axis=-1))
        median = np.median(angle, axis=0)
        if best is None or median[list(legs)].mean() < best[list(legs)].mean():
            best = median
    return best


def test_expmap_trial_matches_its_iclone_conversion_at_120_fps(motion_dir, rest_joints):
    """train/basketball_1 is CMU trial 06_02 (722 frames at 120 fps = 361 at 60 in cmu_iclone): read at 120 fps
    the two conversions line up frame for frame, left on left."""
    path = motion_dir / "cmu_actions_expmap" / "train" / "basketball" / "basketball_1.txt"
    motion, rig = read_skeleton_motion(path)
    result = retarget_bvh(motion, rest_joints, "a", "a", rig)
    report = validate_retarget(result, rest_joints)
    assert report.bone_mm[LIMBS].max() < 2.0 and report.bone_mm.mean() < 5.0
    assert np.nanmax(report.twist_deg[[1, 2, 4, 5, 7, 8, 16, 17, 18, 19, 20, 21]]) < 8.0
    ours = resample(result.clip, 30.0)
    iclone = resample(retarget_bvh(read_bvh(motion_dir / "cmu_iclone" / "006" / "006_02.bvh"), rest_joints, "b",
                                   "b").clip, 30.0)
    assert abs(ours.num_frames - iclone.num_frames) <= 2
    median = _median_differences(ours, iclone)
    assert median[0] < 5.0 and median[[1, 2, 4, 5, 18, 19]].max() < 8.0  # pelvis; hips, knees, elbows
    assert median[[7, 8]].max() < 15.0  # ankles (with the leg rest frames; 21 degrees without)


def test_expmap_walks_of_subject_007_are_grouped_with_it(motion_dir, rest_joints):
    """train/walking_4 is CMU trial 07_01 (cmu_iclone/007): it must be held out with subject 007."""
    path = motion_dir / "cmu_actions_expmap" / "train" / "walking" / "walking_4.txt"
    assert clip_identity(path) == ("expmap:train/walking/walking_4", "cmu:007")
    motion, rig = read_skeleton_motion(path)
    ours = resample(retarget_bvh(motion, rest_joints, "a", "a", rig).clip, 30.0)
    iclone = resample(retarget_bvh(read_bvh(motion_dir / "cmu_iclone" / "007" / "007_01.bvh"), rest_joints, "b",
                                   "b").clip, 30.0)
    assert _median_differences(ours, iclone)[[1, 2, 4, 5]].max() < 5.0


def test_deepmimic_trial_matches_its_iclone_conversion(motion_dir, rest_joints):
    motion, rig = read_skeleton_motion(motion_dir / "cmu_deepmimic" / "cmu01-09" / "07" / "07_03.txt")
    result = retarget_bvh(motion, rest_joints, "a", "a", rig)
    report = validate_retarget(result, rest_joints)
    assert report.bone_mm[LIMBS].max() < 1.0 and np.nanmax(report.twist_deg) < 10.0
    iclone = resample(retarget_bvh(read_bvh(motion_dir / "cmu_iclone" / "007" / "007_03.bvh"), rest_joints, "b",
                                   "b").clip, 30.0)
    median = _median_differences(result.clip, iclone)
    assert median[[1, 2, 4, 5]].max() < 4.0  # hips and knees: the knee hinge turns the right way


def test_expmap_file_facts(motion_dir):
    """What the module docstring says of the files: one skeleton, a shared opening T-pose, y up, and root
    position columns in file order (read reversed, the supporting foot would slide)."""
    folder = motion_dir / "cmu_actions_expmap"
    skeleton = expmap.read_skeleton(folder / "skeleton.json")
    walk = np.loadtxt(folder / "train" / "walking" / "walking_1.txt", delimiter=",")
    run = np.loadtxt(folder / "test" / "running" / "running_1.txt", delimiter=",")
    np.testing.assert_array_equal(walk[0, 3:], run[0, 3:])
    positions, _ = expmap.read_expmap(folder / "train" / "walking" / "walking_1.txt", skeleton).forward_kinematics()
    index = expmap.JOINT_NAMES.index
    assert (positions[:, index("head"), 1] > positions[:, [index("l_ankle"), index("r_ankle")], 1].max(1) + 12).all()
    relative = positions - positions[:, :1]
    slides = []
    for root in (walk[:, :3], walk[:, 2::-1]):
        feet = relative[:, [index("l_ankle"), index("r_ankle")]] + root[:, None]
        lower = np.argmin(feet[:-1, :, 1], axis=1)
        slides.append(np.median(np.linalg.norm(np.diff(feet, axis=0), axis=-1)[np.arange(len(lower)), lower]))
    assert slides[0] < 0.2 * slides[1]


def test_real_walks_runs_and_jumps(motion_dir, rest_joints):
    def clip(relative: str) -> tuple[MotionClip, np.ndarray]:
        motion, rig = read_skeleton_motion(motion_dir / relative)
        result = retarget_bvh(motion, rest_joints, "x", "x", rig)
        return resample(result.clip, 30.0), result.target_joints_m

    def speed(motion: MotionClip) -> float:
        return float(np.median(np.linalg.norm(np.diff(motion.root_pos_m[:, [0, 2]], axis=0), axis=1)) * 30.0)

    walk, targets = clip("cmu_actions_expmap/train/walking/walking_1.txt")
    run, _ = clip("cmu_actions_expmap/train/running/running_1.txt")
    assert 0.8 < speed(walk) < 2.0 and speed(run) > 2.0 * speed(walk)
    assert (targets[:, 15, 1] > targets[:, [10, 11], 1].max(axis=1) + 1.0).all()  # head well above the toes
    dm_walk, _ = clip("cmu_deepmimic/cmu01-09/02/02_01.txt")
    dm_run, _ = clip("cmu_deepmimic/cmu01-09/09/09_02.txt")
    assert 0.8 < speed(dm_walk) < 2.0 and speed(dm_run) > 2.0 * speed(dm_walk)
    _, jump = clip("cmu_deepmimic/cmu01-09/02/02_04.txt")  # "jump, balance"
    feet = jump[:, [7, 8, 10, 11], 1].min(axis=1)
    assert feet.max() - np.percentile(feet, 5) > 0.25  # both feet leave the ground


def test_both_dancers_of_a_salsa_take_share_a_group():
    from scripts.synth.retarget import clip_identity

    first = clip_identity(Path("motion/cmu_dance_martial/salsa/03.bvh"))
    partner = clip_identity(Path("motion/cmu_dance_martial/salsa/18.bvh"))
    assert first == ("dance_martial:salsa/03", "dance_martial:salsa/03")
    assert partner == ("dance_martial:salsa/18", "dance_martial:salsa/03")
    assert clip_identity(Path("motion/cmu_dance_martial/indian/14.bvh"))[1] == "dance_martial:indian/14"
