"""Dress the body model for rendering: which garment each face belongs to, texture coordinates, a skirt.

Why from the skinning weights: the body model has no garment labels, but each vertex's dominant joint says
which body part it is (render_test_clip.py dresses its one look the same way), and the rest pose (a T-pose,
+Z forward, Y up, pelvis at the origin) says how far along a limb it lies, so sleeves and trouser legs can
end anywhere along the arm or leg. Texture coordinates wrap each part (trunk, each leg, each arm) as a
cylinder around its own axis, a whole number of tiles around, so tileable patterns meet without a seam.
A skirt is extra geometry: rings hanging from the hips, skinned to the pelvis and the thighs, appended to
the body model's arrays so the same skinning poses it. A painted face (face_paint.py) is the skin in front of
the ears below the hairline, its texture laid flat over it from the front. numpy only.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from bridge.body_model import BodyModelArrays, shaped_rest
from bridge.keypoints import MEDIAPIPE_LANDMARK_NAMES

from .appearance import Outfit
from .face_paint import face_uv
from .landmarks import landmark_vertex_ids
from .textures import Pattern

#: Material slots of the dressed body, in this order ("face": the painted face, when the outfit has one).
REGIONS = ("skin", "hair", "top", "lower", "shoes", "face")
SKIN, HAIR, TOP, LOWER, SHOES, FACE = range(len(REGIONS))
#: The painted face starts this far in front of the ears (m, rest pose), so it never wraps round the head.
FACE_FRONT_OF_EARS_M = 0.03
_TRUNK_JOINTS = (0, 3, 6, 9, 12, 13, 14, 15)
_LEFT_LEG, _RIGHT_LEG = (1, 4, 7, 10), (2, 5, 8, 11)
_LEFT_ARM, _RIGHT_ARM = (16, 18, 20, 22), (17, 19, 21, 23)
#: Nominal radius (m) of each part's cylinder: how wide one trip around it is in texture tiles.
_PART_RADIUS_M = {"trunk": 0.15, "left_leg": 0.08, "right_leg": 0.08, "left_arm": 0.05, "right_arm": 0.05}
SKIRT_RINGS, SKIRT_SEGMENTS = 8, 40
SKIRT_MARGIN_M = 0.02  # clearance from the body
SKIRT_FLARE_M = 0.05  # extra width at the hem
#: At the hem, this much of a skirt vertex's weight moves with the thigh on its side (the rest: the pelvis);
#: at 0.6 and more the hem ballooned into a bell whenever the legs spread.
SKIRT_THIGH_WEIGHT = 0.4


@dataclass
class DressedBody:
    """The body model with any garment geometry appended (`arrays`: same joints and landmark vertex ids;
    pose it with render_test_clip.skin_vertices), each mesh face's region (REGIONS index, (N_faces,)), and
    per-corner texture coordinates in tiles of that region's pattern, (N_faces, 3, 2) (the painted face's:
    in its one texture)."""

    arrays: BodyModelArrays
    face_region: np.ndarray
    loop_uv: np.ndarray
    patterns: tuple[Pattern, ...]  # one per REGIONS entry


def dress(body: BodyModelArrays, outfit: Outfit) -> DressedBody:
    """Assign garments to the body's faces, add a skirt when the outfit has one, and lay out the textures."""
    vertices, joints = (np.asarray(a, np.float64) for a in shaped_rest(body, None))
    dominant = np.asarray(body.weights).argmax(axis=1)
    region = vertex_regions(vertices, joints, dominant, outfit)
    face_points = _face_points(body, vertices) if outfit.face is not None else None
    if face_points is not None:
        region[(region == SKIN) & _painted_face(vertices, dominant, face_points)] = FACE
    part = _vertex_parts(dominant)
    arrays, faces = body, np.asarray(body.faces)
    if outfit.lower == "skirt":
        arrays, skirt_faces = add_skirt(body, vertices, joints, dominant, outfit.lower_reach)
        faces = np.concatenate([faces, skirt_faces])
        extra = len(arrays.v_template) - len(vertices)
        region = np.concatenate([region, np.full(extra, LOWER)])
        part = np.concatenate([part, np.zeros(extra, np.int64)])
        vertices = np.asarray(arrays.v_template, np.float64)
    corner_region = region[faces]
    face_region = np.where(corner_region[:, 1] == corner_region[:, 2], corner_region[:, 1], corner_region[:, 0])
    patterns = (outfit.skin, outfit.hair, outfit.top, outfit.bottom, outfit.shoes, outfit.face or outfit.skin)
    periods = np.array([p.period_m for p in patterns])[face_region]
    loop_uv = cylinder_uv(vertices, joints, part, faces, periods)
    if face_points is not None:
        painted = face_region == FACE
        loop_uv[painted] = face_uv(vertices[faces[painted]], *face_points[:2])
    return DressedBody(arrays, face_region.astype(np.int64), loop_uv, patterns)


def _face_points(body: BodyModelArrays, vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rest-pose eye centres (2, 3), mouth corners (2, 3) and ears (2, 3): the body's own landmark vertices."""
    ids = landmark_vertex_ids(body)
    at = lambda *names: vertices[[ids[MEDIAPIPE_LANDMARK_NAMES.index(n)] for n in names]]  # noqa: E731
    return at("left_eye", "right_eye"), at("mouth_left", "mouth_right"), at("left_ear", "right_ear")


def _painted_face(vertices: np.ndarray, dominant: np.ndarray,
                  face_points: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """(V,) head vertices that the face texture covers: in front of the ears, inside the texture."""
    eyes, mouth, ears = face_points
    uv = face_uv(vertices, eyes, mouth)
    front = vertices[:, 2] > ears[:, 2].mean() + FACE_FRONT_OF_EARS_M
    return (dominant == 15) & front & np.all((uv >= 0.0) & (uv <= 1.0), axis=1)


def vertex_regions(vertices: np.ndarray, joints: np.ndarray, dominant: np.ndarray, outfit: Outfit) -> np.ndarray:
    """(V,) REGIONS index per rest-pose vertex (vertices (V, 3), joints (24, 3), dominant joint (V,))."""
    region = np.full(len(vertices), SKIN)
    x, y, z = vertices.T
    # Arms: how far from the shoulder towards the wrist (0 at the shoulder joint, 1 at the wrist).
    arm = np.isin(dominant, _LEFT_ARM + _RIGHT_ARM + (13, 14))
    shoulder_x, wrist_x = abs(joints[16, 0]), abs(joints[20, 0])
    along_arm = (np.abs(x) - shoulder_x) / (wrist_x - shoulder_x)
    region[arm & (along_arm <= outfit.sleeve_reach) & ~np.isin(dominant, (20, 21, 22, 23))] = TOP
    # Trunk: top above the waist, lower garment below it.
    trunk = np.isin(dominant, (0, 3, 6, 9, 13, 14))
    waist = joints[0, 1] + outfit.waist_m
    region[trunk & (y >= waist)] = TOP
    region[trunk & (y < waist)] = LOWER
    # Legs: how far from the hip towards the ankle; shoes cover the feet and up past the ankle.
    leg = np.isin(dominant, _LEFT_LEG + _RIGHT_LEG)
    hip_y, ankle_y = joints[1, 1], joints[7, 1]
    along_leg = (hip_y - y) / (hip_y - ankle_y)
    covered = outfit.lower_reach if outfit.lower != "skirt" else 0.05  # under a skirt: bare legs
    region[leg & (along_leg <= covered)] = LOWER
    region[np.isin(dominant, (7, 8, 10, 11)) & (y <= ankle_y + outfit.shoe_height_m)] = SHOES
    region[np.isin(dominant, (10, 11))] = SHOES
    # Hair: the top and back of the head, leaving the face and ears.
    head, eye_y, head_z = dominant == 15, joints[15, 1] + 0.05, joints[15, 2]
    if not outfit.bald:
        scalp = (y > eye_y + 0.04) | ((z < head_z - 0.02) & (y > joints[15, 1] - 0.03))
        region[head & scalp] = HAIR
    return region


def _vertex_parts(dominant: np.ndarray) -> np.ndarray:
    """(V,) index into _PART_RADIUS_M's keys: which cylinder a vertex's texture wraps around."""
    part = np.zeros(len(dominant), np.int64)
    for k, joints in enumerate((_LEFT_LEG, _RIGHT_LEG, _LEFT_ARM, _RIGHT_ARM), start=1):
        part[np.isin(dominant, joints)] = k
    return part


def cylinder_uv(vertices: np.ndarray, joints: np.ndarray, part: np.ndarray, faces: np.ndarray,
                periods_m: np.ndarray) -> np.ndarray:
    """(N_faces, 3, 2) texture coordinates in tiles: around each part's axis (a whole number of tiles for the
    face's pattern period) and along it (metres / period). Trunk and legs wrap about vertical axes through the
    pelvis and the hips, arms about the horizontal line through the shoulders (T-pose)."""
    x, y, z = vertices.T
    centres = {0: (joints[0, 0], joints[0, 2]), 1: (joints[1, 0], joints[1, 2]), 2: (joints[2, 0], joints[2, 2])}
    angle, along = np.zeros(len(vertices)), np.zeros(len(vertices))
    for k in (0, 1, 2):  # vertical axes: angle about +Y (0 = front), along = height
        m = part == k
        angle[m] = np.arctan2(x[m] - centres[k][0], z[m] - centres[k][1])
        along[m] = y[m]
    for k, shoulder in ((3, 16), (4, 17)):  # horizontal axes along X
        m = part == k
        angle[m] = np.arctan2(y[m] - joints[shoulder, 1], z[m] - joints[shoulder, 2])
        along[m] = x[m]
    radius = np.array(list(_PART_RADIUS_M.values()))[part]
    corner_angle = angle[faces]  # (N_faces, 3)
    # Faces across the seam (angle ±pi) take their corners to the same side of it.
    wraps = np.ptp(corner_angle, axis=1) > math.pi
    corner_angle = np.where(wraps[:, None] & (corner_angle < 0), corner_angle + 2 * math.pi, corner_angle)
    tiles_around = np.maximum(1, np.round(2 * math.pi * radius[faces[:, 0]] / periods_m))
    u = corner_angle / (2 * math.pi) * tiles_around[:, None]
    v = along[faces] / periods_m[:, None]
    return np.stack([u, v], axis=-1)


def add_skirt(body: BodyModelArrays, vertices: np.ndarray, joints: np.ndarray, dominant: np.ndarray,
              reach: float) -> tuple[BodyModelArrays, np.ndarray]:
    """The body model's arrays with a skirt appended, and the skirt's triangles (vertex ids after the body's).

    The skirt hangs from the waist (pelvis joint height) to `reach` of the way from the hips to the ankles,
    each ring just outside the body at that height (and never narrower than the ring above), flaring a
    little towards the hem. Its vertices follow the shape of the nearest body vertex (shape blend shapes
    copied), have no pose correctives, and are skinned to the pelvis and, increasingly towards the hem, to
    the thigh on their side; they add nothing to the joint regressor, so joints and landmarks are unchanged."""
    hip_y, ankle_y = joints[1, 1], joints[7, 1]
    top_y = joints[0, 1] + 0.05
    hem_y = hip_y - reach * (hip_y - ankle_y)
    heights = np.linspace(top_y, hem_y, SKIRT_RINGS)
    angles = np.linspace(-math.pi, math.pi, SKIRT_SEGMENTS, endpoint=False)
    axis = np.array([joints[0, 0], joints[0, 2]])
    lower_body = np.isin(dominant, (0, 1, 2, 3, 4, 5))
    rel = vertices[lower_body][:, [0, 2]] - axis
    vert_angle, vert_radius = np.arctan2(rel[:, 0], rel[:, 1]), np.linalg.norm(rel, axis=1)
    sector = np.round((vert_angle + math.pi) / (2 * math.pi) * SKIRT_SEGMENTS).astype(int) % SKIRT_SEGMENTS
    envelope = np.zeros((SKIRT_RINGS, SKIRT_SEGMENTS))  # the body's outline, never narrowing downwards
    for r, ring_y in enumerate(heights):
        band = np.abs(vertices[lower_body, 1] - ring_y) < 0.05
        widest = np.zeros(SKIRT_SEGMENTS)
        np.maximum.at(widest, sector[band], vert_radius[band])
        # Sectors with no vertex (between the legs) take the widest neighbour's radius.
        widest = np.maximum.reduce([np.roll(widest, s) for s in (-2, -1, 0, 1, 2)])
        envelope[r] = np.maximum(widest, envelope[r - 1] if r else 0.0)
    radius = envelope + SKIRT_MARGIN_M + SKIRT_FLARE_M * np.linspace(0.0, 1.0, SKIRT_RINGS)[:, None]
    ring_x = axis[0] + radius * np.sin(angles)
    ring_z = axis[1] + radius * np.cos(angles)
    skirt = np.stack([ring_x, np.broadcast_to(heights[:, None], ring_x.shape), ring_z], axis=-1).reshape(-1, 3)
    base = len(vertices)
    ids = np.arange(SKIRT_RINGS * SKIRT_SEGMENTS).reshape(SKIRT_RINGS, SKIRT_SEGMENTS) + base
    nxt = np.roll(ids, -1, axis=1)
    quads = np.stack([ids[:-1], nxt[:-1], nxt[1:], ids[1:]], axis=-1).reshape(-1, 4)
    faces = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    # Skinning: pelvis at the waist; towards the hem, the thigh on the vertex's side takes over.
    depth = np.repeat(np.linspace(0.0, 1.0, SKIRT_RINGS), SKIRT_SEGMENTS)
    left = 0.5 * (1.0 + np.clip((skirt[:, 0] - axis[0]) / 0.1, -1.0, 1.0))
    weights = np.zeros((len(skirt), 24))
    weights[:, 0] = 1.0 - SKIRT_THIGH_WEIGHT * depth
    weights[:, 1] = SKIRT_THIGH_WEIGHT * depth * left
    weights[:, 2] = SKIRT_THIGH_WEIGHT * depth * (1.0 - left)
    nearest = _nearest(vertices, skirt)
    shapedirs, posedirs = np.asarray(body.shapedirs), np.asarray(body.posedirs)
    f32 = lambda a: np.asarray(a, np.float32)  # noqa: E731  (the model's arrays are float32)
    arrays = dataclasses.replace(  # `vertices` is the β = 0 rest mesh, i.e. v_template
        body,
        v_template=f32(np.concatenate([vertices, skirt])),
        shapedirs=np.concatenate([shapedirs, shapedirs[nearest]]),
        posedirs=np.concatenate([posedirs, np.zeros((len(skirt),) + posedirs.shape[1:], posedirs.dtype)]),
        J_regressor=f32(np.concatenate([np.asarray(body.J_regressor), np.zeros((24, len(skirt)))], axis=1)),
        weights=f32(np.concatenate([np.asarray(body.weights), weights])),
        faces=np.concatenate([np.asarray(body.faces), faces.astype(np.asarray(body.faces).dtype)]))
    return arrays, faces


def _nearest(points: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """(Q,) index of the nearest of `points` (N, 3) to each query (Q, 3)."""
    from scipy.spatial import cKDTree

    return cKDTree(points).query(queries)[1]
