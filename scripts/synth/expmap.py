"""CMU motion as exponential maps (`<action>_N.txt` + `skeleton.json`), read as a skeleton motion.

Format (../shared/motion/README.md, checked against the files): one frame per line, 117 comma-separated
numbers: the root position (CMU units) and 38 exponential maps r = θ·axis. `skeleton.json` gives the 38
parents, rest offsets and the columns. Forward kinematics with row vectors: E(r) = I + sin θ K +
(1 − cos θ) K²; p = offset · R_parent + p_parent, R = E(r) · R_parent. With column vectors, as BvhMotion
uses, a joint's local rotation is therefore E(r)ᵀ = E(−r). Two of the README's statements do not hold for
these files (measured on all 38; `tests/test_synth_formats.py` keeps them checked):
- the root position columns are x, y, z in file order, not reversed: read in order, the supporting foot
  stands still (median stance-foot speed 0.035 units/frame on train/walking_1 against 0.47 reversed);
- the points need no y/z swap: y is already up (head above the feet along +y in every file) and a swap
  is a reflection, which would turn every left joint into the body's right.
The body frame is then SMPL's: +x left (CMU's convention: the left hip's offset is +x, as LeftUpLeg's in
cmu_original/01_01.bvh), +y up, +z forward (the toes' offsets point +z).

Frame rate: 120 fps, CMU's capture rate, measured from the gait: at 120 fps the six walks take strides of
1.08-1.20 s (100-112 steps/min) at 0.9-1.4 m/s and the six runs 0.71-0.77 s (157-169 steps/min) at
2.7-3.5 m/s; at 60 fps the walks would be 50-56 steps/min. train/basketball_1 (722 frames) is CMU trial
06_02 (361 frames at 60 fps in cmu_iclone/006): at 120 fps the two line up frame for frame.
Every file opens on the same synthetic T-pose (legs straightened by ±21°, arms lowered 8°, the root where
the next frame has it), so the first frame is dropped like the BVH exports' calibration frames.

Joint names (the file has none), identified from the tree and the rest offsets: the root's three
zero-offset children start the left leg (1), right leg (7) and spine (13); the leg chains run down (−y)
and end in a foot bone pointing +z; the spine chain runs up and branches at joint 15 into the neck chain
(16-19) and the two arm chains (20-28, 29-37), which run along ±x. Bone lengths in metres: pelvis → hip
0.14, thigh 0.43, shin 0.41, ankle → ball 0.13, toes 0.06; spine 0.12 + 0.12; neck 0.09 + 0.09, head
0.09; clavicle 0.21, upper arm 0.28, forearm 0.19, hand 0.04, fingers 0.03, thumb 0.04. It is the tree of
the cgspeed CMU BVH (cmu_original/01_01.bvh: Hips, LHipJoint, LeftUpLeg, ...) with each End Site as a
joint, zero-length bones in the same places.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bridge.geometry import rotations

from .matrix_motion import MatrixMotion
from .retarget import JointSource, RetargetError, RigMap, joint_at

SKELETON_FILE = "skeleton.json"
#: CMU's capture rate, confirmed by the gait periods and by trial 06_02 (module docstring).
EXPMAP_FPS = 120.0
#: Metres per CMU unit (README; the same 0.0254 / 0.45 as the CMU BVH).
UNITS_TO_M = 0.056444


def _side(s: str) -> tuple[str, ...]:
    return tuple(f"{s}_{n}" for n in ("collar", "shoulder", "elbow", "wrist", "hand", "knuckles", "finger_tip",
                                      "thumb", "thumb_tip"))


def _leg(s: str) -> tuple[str, ...]:
    return tuple(f"{s}_{n}" for n in ("hipjoint", "hip", "knee", "ankle", "ball", "toe_tip"))


#: Index -> name (module docstring). "hipjoint", "neck_base", "collar", "hand" and "thumb" are zero-length
#: joints at their parent (CMU's lhipjoint, Neck, LeftShoulder, LeftFingerBase, LThumb): their rotations
#: turn the bone to their child. Every other joint sits at the end of the bone its parent turns.
JOINT_NAMES: tuple[str, ...] = (
    ("root",) + _leg("l") + _leg("r")
    + ("lower_back", "spine", "chest", "neck_base", "neck", "head", "head_top")
    + _side("l") + _side("r"))
PARENTS: tuple[int, ...] = (
    -1, 0, 1, 2, 3, 4, 5, 0, 7, 8, 9, 10, 11, 0, 13, 14, 15, 16, 17, 18,
    15, 20, 21, 22, 23, 24, 25, 23, 27, 15, 29, 30, 31, 32, 33, 34, 32, 36)

#: Files that are CMU trials also in cmu_iclone or cmu_deepmimic (path below the skeleton file -> SS_TT), so
#: they join that subject's group and a held-out subject stays out of training in every folder (walking_4 and
#: walking_5 are subject 07). Found by retargeting every file, resampling to 30 fps and sliding each exp-map
#: file's hip and knee angles along every other trial: these agree within 0.6-2.2 degrees (mean absolute,
#: over 90-100 % of the shorter file), the next-best other trial 3.4-16.6 degrees off (walking_5: 2.2, subject
#: 07's other walk). The other 19 files match no trial there closer than 3.9 degrees: their own group each.
CMU_TRIALS: dict[str, str] = {
    "test/basketball/basketball_1": "06_07", "test/jumping/jumping_1": "49_02", "test/running/running_1": "16_35",
    "test/soccer/soccer_1": "11_01",
    **{f"train/basketball/basketball_{n}": f"06_0{n + 1}" for n in range(1, 6)},
    "train/jumping/jumping_1": "13_11", "train/jumping/jumping_3": "13_19", "train/jumping/jumping_5": "13_39",
    "train/soccer/soccer_4": "10_05", "train/soccer/soccer_5": "10_06",
    "train/walking/walking_1": "02_01", "train/walking/walking_2": "05_01", "train/walking/walking_3": "06_01",
    "train/walking/walking_4": "07_01", "train/walking/walking_5": "07_02",
}


@dataclass(frozen=True)
class ExpmapSkeleton:
    """The numbers of `skeleton.json`: rest offsets (38, 3) in CMU units and where each value sits in a row."""

    offsets: np.ndarray
    root_position_columns: tuple[int, int, int]  # 0-based, x, y, z
    rotation_columns: np.ndarray  # (38, 3) 0-based

    @property
    def row_width(self) -> int:
        return int(max(max(self.root_position_columns), self.rotation_columns.max())) + 1


def read_skeleton(path: str | Path) -> ExpmapSkeleton:
    """Read and check `skeleton.json` (it must describe this 38-joint tree)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        parents = tuple(int(p) for p in data["parents"])
        offsets = np.asarray(data["offsets_cmu_units"], dtype=np.float64)
        position = [int(c) - 1 for c in data["position_columns_1based"][0]]
        columns = np.asarray(data["expmap_columns_0based"], dtype=np.int64)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise RetargetError(f"{path}: not an exp-map skeleton file: {exc}") from exc
    if parents != PARENTS:
        raise RetargetError(f"{path}: parents {parents} are not the 38-joint CMU exp-map tree {PARENTS}")
    if offsets.shape != (38, 3) or columns.shape != (38, 3) or len(position) != 3 or min(position) < 0:
        raise RetargetError(f"{path}: needs 38 x 3 offsets and exp-map columns and 3 root position columns, got "
                            f"{offsets.shape}, {columns.shape}, {len(position)}")
    return ExpmapSkeleton(offsets, (position[0], position[1], position[2]), columns)


def skeleton_for(path: Path) -> Path | None:
    """The skeleton file of a motion file laid out as `<folder>/{train,test}/<action>/<file>.txt`, if any."""
    if path.suffix.lower() != ".txt" or len(path.parents) < 3:
        return None
    candidate = path.parents[2] / SKELETON_FILE
    return candidate if candidate.is_file() else None


def read_expmap(path: str | Path, skeleton: ExpmapSkeleton, fps: float = EXPMAP_FPS) -> MatrixMotion:
    """An exp-map motion file as a MatrixMotion in CMU units (every frame, the opening T-pose included)."""
    path = Path(path)
    try:
        rows = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise RetargetError(f"{path}: not an exp-map motion file: {exc}") from exc
    if rows.shape[0] == 0 or rows.shape[1] != skeleton.row_width or not np.isfinite(rows).all():
        raise RetargetError(f"{path}: needs rows of {skeleton.row_width} finite numbers, got shape {rows.shape}")
    local = rotations.axis_angle_to_matrix(-rows[:, skeleton.rotation_columns])  # E(r)ᵀ (module docstring)
    return MatrixMotion(JOINT_NAMES, np.array(PARENTS), skeleton.offsets, local,
                        rows[:, list(skeleton.root_position_columns)], fps)


def _leg_rest_frames() -> dict[str, np.ndarray]:
    """The zero pose is CMU's T-pose with bone frames along the world axes, but with the legs splayed: the
    ASF gives femur, tibia, foot and toes an axis of 0 0 ±20 degrees (cmu_original/01.asf; the thigh offsets
    here point 20.0° off −y), so a leg hanging straight, as in SMPL's rest pose, has its bone frames turned
    back by 20° about z. With identity frames instead, trial 06_02 (train/basketball_1) differs from its
    iClone conversion by 19-21° at the ankles and the knees keep 5° of twist; with these, 9-10° and 0.8°."""
    frames = {}
    for side, degrees in (("l", -20.0), ("r", 20.0)):
        turn = rotations.axis_angle_to_matrix(np.array([0.0, 0.0, np.radians(degrees)]))
        frames.update({f"{side}_{bone}": turn for bone in ("hip", "knee", "ankle", "ball")})
    return frames


#: Bones above the legs keep identity rest frames (the T-pose arms and the upright neck and head of the
#: zero pose are SMPL's rest pose already).
EXPMAP_CMU = RigMap(
    name="cmu_expmap",
    joints=(
        JointSource((), "root"),
        joint_at("l_hip"), joint_at("r_hip"),
        JointSource(()),
        joint_at("l_knee"), joint_at("r_knee"),
        JointSource(()),
        joint_at("l_ankle"), joint_at("r_ankle"),
        JointSource(()),
        joint_at("l_ball"), joint_at("r_ball"),
        JointSource(()),
        JointSource((), "l_collar"), JointSource((), "r_collar"),
        joint_at("head"),
        joint_at("l_shoulder"), joint_at("r_shoulder"),
        joint_at("l_elbow"), joint_at("r_elbow"),
        joint_at("l_wrist"), joint_at("r_wrist"),
        # The knuckles of SMPL sit a hand bone beyond CMU's short hand joint, as in the CMU BVH's RigMap.
        JointSource((("l_hand", -1.0), ("l_knuckles", 2.0)), "l_hand"),
        JointSource((("r_hand", -1.0), ("r_knuckles", 2.0)), "r_hand"),
    ),
    units_to_m=UNITS_TO_M,
    rest_frames=_leg_rest_frames(),
    # As the CMU BVH's spine path: spine3 and the collars ride on the chest (listing the zero-length
    # neck_base would hand them to the neck's bone: shoulders 3-5° further from the iClone conversion).
    spine_path=("lower_back", "spine", "chest", "neck", "head"),
    skip_first_frame=True,  # the synthetic T-pose every file opens on
    feet=("l_ankle", "r_ankle"),
)
