"""Where the camera, the walls and the props go for one clip: an Appearance's plans applied to a motion.

Why apart from appearance.py: the look is drawn before the motion is known, but where the camera must stand
to frame the person (and where walls can stand without cutting through them) depends on where the person
goes. World space is the motion's: Y up, metres, the floor at `ground_y`; cameras are scripts.synth.camera
`Camera`s (OpenCV axes, per-frame extrinsics). Set pieces are plain meshes in world space with per-corner
texture coordinates in tiles, ready for any renderer. numpy only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bridge import camera as bridge_camera
from bridge.geometry import rotations

from .appearance import Backdrop, CameraPlan, Prop
from .camera import Camera, look_at, moving_average
from .textures import Pattern

#: No pelvis position comes nearer the camera than this, horizontally (m).
NEAREST_M = 1.2
#: Clear floor between the person's path and a prop, on top of the prop's own gap (their limbs reach out).
BODY_MARGIN_M = 0.4
CYLINDER_SEGMENTS = 16


@dataclass(frozen=True)
class SetPiece:
    """One mesh of the set: vertices (N, 3) world metres (Y up), polygons as vertex-index tuples, loop_uv
    (L, 2) texture coordinates in tiles for every polygon corner in order (L = total corners)."""

    name: str
    vertices: np.ndarray
    polygons: tuple[tuple[int, ...], ...]
    loop_uv: np.ndarray
    pattern: Pattern


def facing_yaw(root_rotmats: np.ndarray) -> float:
    """Heading (radians about +Y, 0 = +Z) the body faces at the middle of the clip; root_rotmats (F, 3, 3)
    are the pelvis's world rotations (the body's front is its +Z)."""
    forward = np.asarray(root_rotmats)[len(root_rotmats) // 2] @ np.array([0.0, 0.0, 1.0])
    return math.atan2(forward[0], forward[2])


def path_extent(pelvis_world: np.ndarray) -> tuple[np.ndarray, float]:
    """(centre (2,) x, z of the pelvis path's bounding box, radius: the farthest pelvis position from it)."""
    xz = np.asarray(pelvis_world, np.float64)[:, [0, 2]]
    centre = 0.5 * (xz.min(axis=0) + xz.max(axis=0))
    return centre, float(np.linalg.norm(xz - centre, axis=1).max())


def place_camera(plan: CameraPlan, pelvis_world: np.ndarray, facing_rad: float, person_height_m: float,
                 ground_y: float = 0.0) -> Camera:
    """The camera for a clip whose pelvis follows `pelvis_world` (F, 3).

    It stands at the plan's height, in the plan's direction from the path's centre, far enough for the
    standing person to fill `plan.fill` of the frame height, but never nearer than NEAREST_M to any pelvis
    position, and (when it does not pan) far enough for the whole path to fit the frame width. It looks at
    the plan's aim height over the path's centre (or, panning, over the smoothed pelvis), with the partial
    crop turned in, pitch jitter and roll."""
    width, height = plan.image_size
    focal = bridge_camera.focal_for_frame((width, height), plan.fov_deg)
    half_h, half_v = math.atan(width / 2 / focal), math.atan(height / 2 / focal)
    pelvis = np.asarray(pelvis_world, np.float64)
    frames = len(pelvis)
    centre, radius = path_extent(pelvis)
    distance = max(focal * person_height_m / (plan.fill * height), NEAREST_M + radius)
    if not plan.follow:
        distance = max(distance, 0.9 * 2.0 * radius * focal / width)
    yaw = facing_rad + math.radians(plan.azimuth_deg)
    position = np.array([centre[0] + distance * math.sin(yaw), ground_y + plan.height_m,
                         centre[1] + distance * math.cos(yaw)])
    if plan.follow:
        target_xz = moving_average(pelvis[:, [0, 2]], max(1, frames // 8))
    else:
        target_xz = np.tile(centre, (frames, 1))
    offset = target_xz - position[[0, 2]]
    reach = np.maximum(np.linalg.norm(offset, axis=1), 0.3)  # horizontal distance to what is looked at
    heading = np.arctan2(offset[:, 0], offset[:, 1])
    if plan.crop == "feet":  # bottom edge at crop_amount x height above the floor
        pitch = np.arctan2(ground_y + plan.crop_amount * person_height_m - position[1], reach) + half_v
    else:
        pitch = np.arctan2(ground_y + plan.aim * person_height_m - position[1], reach)
    if plan.crop == "side":  # a side edge |crop_amount| m beside the pelvis
        heading = heading + np.sign(plan.crop_amount) * (half_h - np.arctan(abs(plan.crop_amount) / reach))
    pitch = pitch + math.radians(plan.pitch_jitter_deg)
    forward = np.stack([np.cos(pitch) * np.sin(heading), np.sin(pitch), np.cos(pitch) * np.cos(heading)], axis=1)
    positions = np.tile(position, (frames, 1))
    rotation = look_at(positions, positions + forward, roll_rad=math.radians(plan.roll_deg))
    return Camera(rotation, positions, float(focal), (int(width), int(height)))


# ---------------------------------------------------------------------------------------------------------
# The set.

def layout_set(backdrop: Backdrop, cam: Camera, pelvis_world: np.ndarray, ground_y: float = 0.0) -> list[SetPiece]:
    """The floor, walls (or skyline) and props around the person's path, seen from `cam`.

    The back wall stands `wall_gap_m` behind the path, square to the camera's line of sight, wide enough to
    fill the view at any pan; a room adds side walls reaching past the camera (the camera side stays open).
    Props stand at their bearing from the path's centre, clear of the path and of the camera."""
    centre, radius = path_extent(pelvis_world)
    cam_xz = cam.position_m[:, [0, 2]].mean(axis=0)
    ahead = centre - cam_xz
    cam_distance = float(np.linalg.norm(ahead))
    ahead = ahead / max(cam_distance, 1e-9)
    side = np.array([ahead[1], -ahead[0]])
    long_half_fov = math.atan(max(cam.image_size) / 2 / cam.focal_px)
    back = radius + backdrop.wall_gap_m
    view_width = 2.0 * (cam_distance + back) * math.tan(long_half_fov) * 1.4 + 2.0 * radius
    width = max(backdrop.width_m, view_width)
    wall_height = backdrop.wall_height_m
    if backdrop.kind != "outdoor":  # indoors the walls reach the top of the view (no sky over a room)
        wall_height = max(wall_height, _view_top(cam, cam_distance + back) - ground_y + 0.5)
    floor_half = max(cam_distance, back) + 10.0
    to_world = lambda a, s: centre + a * ahead + s * side  # noqa: E731  (along, across) -> world x, z
    pieces = [_floor(to_world(0.0, 0.0), floor_half, ground_y, backdrop.floor)]
    if backdrop.walls:
        pieces.append(_wall("back_wall", to_world(back, -width / 2), to_world(back, width / 2), ground_y,
                            wall_height, backdrop.walls[0]))
    if backdrop.kind == "room":
        near = -(cam_distance + 3.0)
        pieces.append(_wall("left_wall", to_world(near, -width / 2), to_world(back, -width / 2), ground_y,
                            wall_height, backdrop.walls[1]))
        pieces.append(_wall("right_wall", to_world(back, width / 2), to_world(near, width / 2), ground_y,
                            wall_height, backdrop.walls[2]))
    for k, prop in enumerate(backdrop.props):
        where = _prop_position(prop, radius, cam_distance)
        if where is None:
            continue
        bearing = math.radians(prop.bearing_deg)
        direction = math.cos(bearing) * ahead + math.sin(bearing) * side
        xz = centre + where * direction
        if backdrop.kind == "room" and abs(float(np.dot(xz - centre, side))) > width / 2:
            continue
        pieces.append(_prop(f"prop{k}", prop, xz, ground_y))
    return pieces


def _view_top(cam: Camera, distance_m: float) -> float:
    """World height of the highest point the camera sees at a horizontal distance (any frame, any corner)."""
    pitch = np.arcsin(np.clip(cam.rotation[:, 2, 1], -1.0, 1.0)).max()  # camera +Z is the viewing axis; world Y up
    half_diagonal = math.atan(math.hypot(*cam.image_size) / 2 / cam.focal_px)
    angle = min(float(pitch) + half_diagonal, math.radians(80.0))
    return float(cam.position_m[:, 1].max()) + distance_m * math.tan(angle)


def _prop_position(prop: Prop, path_radius: float, cam_distance: float) -> float | None:
    """Distance of a prop's centre from the path's centre, or None when it would stand on the camera."""
    footprint = 0.5 * math.hypot(prop.size_m[0], prop.size_m[1])
    distance = path_radius + BODY_MARGIN_M + prop.gap_m + footprint
    in_front = math.cos(math.radians(prop.bearing_deg)) < 0
    if in_front and distance + footprint + 0.5 > cam_distance:
        return None
    return distance


def _floor(centre_xz: np.ndarray, half: float, ground_y: float, pattern: Pattern) -> SetPiece:
    x, z = centre_xz
    corners = np.array([[x - half, ground_y, z - half], [x + half, ground_y, z - half],
                        [x + half, ground_y, z + half], [x - half, ground_y, z + half]])
    return SetPiece("floor", corners, ((0, 3, 2, 1),), corners[[0, 3, 2, 1]][:, [0, 2]] / pattern.period_m, pattern)


def _wall(name: str, a_xz: np.ndarray, b_xz: np.ndarray, ground_y: float, height_m: float,
          pattern: Pattern) -> SetPiece:
    """A vertical rectangle from a to b (x, z), floor to height_m."""
    length = float(np.linalg.norm(b_xz - a_xz))
    corners = np.array([[a_xz[0], ground_y, a_xz[1]], [b_xz[0], ground_y, b_xz[1]],
                        [b_xz[0], ground_y + height_m, b_xz[1]], [a_xz[0], ground_y + height_m, a_xz[1]]])
    uv = np.array([[0.0, 0.0], [length, 0.0], [length, height_m], [0.0, height_m]]) / pattern.period_m
    return SetPiece(name, corners, ((0, 1, 2, 3),), uv, pattern)


def _prop(name: str, prop: Prop, xz: np.ndarray, ground_y: float) -> SetPiece:
    """A box or an upright cylinder standing on the floor at xz, turned by its yaw."""
    width, depth, height = prop.size_m
    period = prop.pattern.period_m
    if prop.shape == "box":
        x, z = np.array([-1, 1, 1, -1]) * width / 2, np.array([-1, -1, 1, 1]) * depth / 2
        ring = np.stack([x, np.zeros(4), z], axis=1)
        sides = [(i, (i + 1) % 4) for i in range(4)]
    else:
        angles = np.linspace(0, 2 * np.pi, CYLINDER_SEGMENTS, endpoint=False)
        ring = np.stack([np.cos(angles) * width / 2, np.zeros_like(angles), np.sin(angles) * width / 2], axis=1)
        sides = [(i, (i + 1) % CYLINDER_SEGMENTS) for i in range(CYLINDER_SEGMENTS)]
    n = len(ring)
    local = np.concatenate([ring, ring + [0.0, height, 0.0]])
    turn = rotations.axis_angle_to_matrix(np.array([0.0, math.radians(prop.yaw_deg), 0.0]))
    vertices = local @ turn.T + np.array([xz[0], ground_y, xz[1]])
    polygons, uv = [], []
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(np.vstack([ring, ring[:1]]), axis=0), axis=1))])
    for i, j in sides:
        polygons.append((i, j, n + j, n + i))
        uv += [[along[i], 0.0], [along[i + 1], 0.0], [along[i + 1], height], [along[i], height]]
    polygons.append(tuple(range(n, 2 * n)))  # the top
    uv += ring[:, [0, 2]].tolist()
    return SetPiece(name, vertices, tuple(polygons), np.asarray(uv) / period, prop.pattern)
