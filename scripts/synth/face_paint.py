"""Painted facial features (eyes, brows, nostrils, lips) for the rendered body's face.

Why: the body model's head is bare skin, so MediaPipe sees a face without eyes, brows or a mouth in every
render, while a user's video shows a real one. Its face landmarks (nose, eyes, ears, mouth) are what says
which way the head turns, and a network trained only on faceless renders never sees how those points
behave on a face. The features are painted on a texture laid flat over the front of the head (dress.py
maps the head's rest-pose vertices onto it by the body's own eye and mouth landmarks), in a layout of
metres around the eyes' midpoint on an average face; a seed varies their sizes, shapes and colours. numpy
only.
"""
from __future__ import annotations

import numpy as np

from .textures import RGB, Pattern, periodic_noise

#: The pattern kind of a painted face (not one of textures.PATTERN_KINDS: it does not tile).
FACE_KIND = "face"
#: Width and height (m) of the face texture, centred across on the eyes' midpoint.
FACE_TILE_M = 0.18
#: Where the eyes' midpoint lies up the texture (fraction of its height): room for the brows above and the
#: mouth below.
EYE_V = 0.6
#: The layout's average face: half the distance between the eyes' centres, and the drop from eyes to mouth (m).
EYE_HALF_SPACING_M = 0.03
EYE_TO_MOUTH_M = 0.072
FACE_PX = 256
#: Iris colours (sRGB): dark brown, brown, hazel, green, blue, grey.
IRIS_COLOURS: tuple[RGB, ...] = ((0.16, 0.09, 0.05), (0.30, 0.18, 0.09), (0.42, 0.33, 0.16), (0.30, 0.38, 0.22),
                                 (0.28, 0.42, 0.58), (0.45, 0.48, 0.50))


def sample_face(rng: np.random.Generator, skin: Pattern, hair: RGB, bald: bool) -> Pattern:
    """A face for this skin and hair: colours (skin, brows, iris, lips), the skin's grain, and a seed for the
    features' shapes."""
    skin_rgb = np.asarray(skin.colours[0], np.float64)
    brow = np.asarray(hair if not bald and np.mean(hair) < 0.5 else (0.12, 0.08, 0.05), np.float64)
    brow = np.minimum(brow, 0.8 * skin_rgb)  # brows darker than the skin, whatever the hair
    iris = IRIS_COLOURS[rng.integers(len(IRIS_COLOURS))] if np.mean(skin_rgb) > 0.55 else IRIS_COLOURS[
        rng.integers(2)]
    redness = rng.uniform(0.15, 0.5)
    lips = skin_rgb * rng.uniform(0.7, 0.9) * (1 - redness) + redness * np.array([0.62, 0.22, 0.25]) * np.mean(
        skin_rgb) / 0.6
    colours = tuple(tuple(round(float(c), 4) for c in np.clip(rgb, 0, 1)) for rgb in (skin_rgb, brow, iris, lips))
    return Pattern(FACE_KIND, colours, period_m=FACE_TILE_M, seed=int(rng.integers(2**31)), grain=skin.grain)


def face_uv(points: np.ndarray, eyes: np.ndarray, mouth: np.ndarray) -> np.ndarray:
    """(..., 2) texture coordinates of rest-pose points (..., 3) (+Z forward, Y up): a flat projection along
    Z, scaled so that this body's eye centres (2, 3) and mouth corners (2, 3) land where the layout has them."""
    middle = eyes.mean(axis=0)
    across = EYE_HALF_SPACING_M / max(abs(eyes[0, 0] - eyes[1, 0]) / 2.0, 1e-6)
    down = EYE_TO_MOUTH_M / max(middle[1] - mouth[:, 1].mean(), 1e-6)
    u = 0.5 + (points[..., 0] - middle[0]) * across / FACE_TILE_M
    v = EYE_V + (points[..., 1] - middle[1]) * down / FACE_TILE_M
    return np.stack([u, v], axis=-1)


def face_image(pattern: Pattern, size_px: int = FACE_PX) -> np.ndarray:
    """The face texture as (size_px, size_px, 4) float32 sRGB RGBA in [0, 1]; u along columns, v along rows
    (up the face). The border is plain skin, so the painted patch meets the rest of the skin without an edge."""
    skin, brow, iris, lips = (np.asarray(c, np.float64) for c in pattern.colours)
    rng = np.random.default_rng(pattern.seed)
    centres = (np.arange(size_px) + 0.5) / size_px
    u, v = np.meshgrid(centres, centres)
    x, y = (u - 0.5) * FACE_TILE_M, (v - EYE_V) * FACE_TILE_M  # metres from the eyes' midpoint
    pixel = FACE_TILE_M / size_px
    rgb = np.broadcast_to(skin, u.shape + (3,)).copy()

    def paint(coverage: np.ndarray, colour: np.ndarray) -> None:
        rgb[:] = rgb * (1.0 - coverage[..., None]) + coverage[..., None] * colour

    def inside(distance: np.ndarray) -> np.ndarray:
        """Coverage of a shape from a signed distance (m, negative inside), soft over one pixel."""
        return np.clip(0.5 - distance / pixel, 0.0, 1.0)

    eye_w, eye_h = rng.uniform(0.024, 0.031), rng.uniform(0.008, 0.012)
    spacing = EYE_HALF_SPACING_M  # where the body's eye landmarks are (face_uv)
    gaze = np.clip(rng.normal(0.0, 0.0015, 2), -0.002, 0.002)
    brow_gap, brow_thick, arch = rng.uniform(0.011, 0.017), rng.uniform(0.003, 0.006), rng.uniform(0.0, 0.004)
    mouth_w, lip_h = rng.uniform(0.040, 0.052), rng.uniform(0.008, 0.014)
    sclera = np.array([0.92, 0.9, 0.86]) * min(1.0, 0.6 + np.mean(skin))
    iris_r = 0.45 * eye_h + 0.0015
    for side in (-1.0, 1.0):
        ex = x - side * spacing
        almond = np.hypot(ex / (eye_w / 2), y / (eye_h / 2)) - 1.0  # < 0 inside the eye opening
        opening = inside(almond * eye_h / 2)
        paint(opening, sclera)
        from_pupil = np.hypot(ex - gaze[0], y - gaze[1])
        paint(opening * inside(from_pupil - iris_r), iris)
        paint(opening * inside(from_pupil - 0.4 * iris_r), np.zeros(3))
        paint(inside(np.abs(almond * eye_h / 2) - 0.0008) * (y > 0), 0.4 * brow)  # lashes along the upper lid
        # Nostril: a small dark oval either side of the nose tip.
        paint(0.8 * inside(np.hypot((x - side * 0.0085) / 0.0032, (y + 0.046) / 0.0019) - 1.0), 0.45 * skin)
    # Brows: an arched band above each eye, thicker towards the nose (clear of the eyes and nostrils).
    along = (np.abs(x) - spacing - 0.002) / 0.02  # -1 at the inner end, 1 at the outer end
    centre_y = eye_h / 2 + brow_gap + arch * (1.0 - along ** 2)
    half_thick = brow_thick / 2 * (1.15 - 0.3 * along)
    paint(inside(np.abs(y - centre_y) - half_thick) * inside(np.abs(along) - 1.0), brow)
    # Lips: an upper and a lower lip meeting on a dark line at the mouth.
    mouth_y = -EYE_TO_MOUTH_M
    lip_shape = np.hypot(x / (mouth_w / 2), (y - mouth_y) / (lip_h / 2)) - 1.0
    paint(inside(lip_shape * lip_h / 2), lips)
    paint(inside(np.abs(y - mouth_y) - 0.0007) * inside(np.abs(x) - mouth_w / 2 * 0.95), 0.35 * lips)
    if pattern.grain > 0:
        rgb *= 1.0 + pattern.grain * periodic_noise(rng, size_px, size_px // 4)[..., None]
    return np.concatenate([np.clip(rgb, 0.0, 1.0), np.ones(u.shape + (1,))], axis=-1).astype(np.float32)
