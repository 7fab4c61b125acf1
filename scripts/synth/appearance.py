"""A seeded random look for a rendered training clip: the person's skin, hair and clothes, the set around
them, the light and how the camera frames them.

Why: MediaPipe run on renders of one plain look (render_test_clip.py: blue shirt, dark trousers, grey floor)
behaves unlike MediaPipe on real people, who wear patterns, stand in front of clutter and are filmed from
odd heights, partly out of frame or far away. Sampling all of that gives training clips whose landmark
errors come from the real detector in varied conditions. Everything here is a few numbers (kept in the clip
file as JSON, `Appearance.to_json`); geometry that depends on the motion (where the camera stands, where the
walls go) is worked out from these numbers in staging.py, and the images in textures.py. Colours are sRGB
in [0, 1]. numpy only.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass

import numpy as np

from .textures import RGB, Pattern, plain

#: (width, height) px drawn, with their weights: landscape 4:3 and 16:9 (960x540 stands for 1280x720: MediaPipe
#: sees both at the same detail and it renders faster) and portrait phone video.
FRAME_SIZES: tuple[tuple[tuple[int, int], float], ...] = (
    ((640, 480), 0.25), ((960, 540), 0.3), ((1280, 720), 0.1), ((540, 960), 0.2), ((480, 640), 0.1),
    ((720, 1280), 0.05))
#: Field of view across the frame's long side, degrees (the horizontal one in landscape; a phone turned to
#: portrait keeps its lens, so its long side is then the vertical one).
FOV_RANGE_DEG = (35.0, 75.0)
CAMERA_HEIGHT_RANGE_M = (0.5, 2.5)
#: Person height / frame height: far people, ordinary framings, close framings that cut the head or feet,
#: and deliberate partial crops (a nearish person with the frame's bottom edge across the legs, or a side
#: edge beside the body, cutting an arm reaching out). Far people start at 0.2: MediaPipe's detector sees the
#: frame shrunk to 224 px across its long side and found nobody in any frame at 0.15 (640x480) or 0.28
#: (960x540), so smaller people only cost render time.
FILL_RANGES: dict[str, tuple[float, float]] = {"far": (0.2, 0.35), "normal": (0.35, 0.9), "close": (0.9, 1.1),
                                               "cropped": (0.6, 1.1)}
FRAMING_SHARES: dict[str, float] = {"far": 0.15, "normal": 0.55, "close": 0.15, "cropped": 0.15}
CROP_SHARES: dict[str, float] = {"feet": 0.6, "side": 0.4}
MAX_ROLL_DEG = 8.0
FOLLOW_SHARE = 0.3
#: Workbench's studio lights (bundled with Blender).
STUDIO_LIGHTS = ("Default", "basic.sl", "outdoor.sl", "paint.sl", "rim.sl", "studio.sl")
#: Blender's H.264 quality presets, best to worst: compression artefacts vary as in real uploads.
VIDEO_QUALITIES = ("HIGH", "MEDIUM", "LOW")
#: Share of clips rendered with smoothed edges (render_scene: the compositor's SMAA) and with cast shadows:
#: shadows about double the render time on two CPU cores (software OpenGL), so both are drawn, not always on.
ANTIALIAS_SHARE = 0.5
SHADOW_SHARE = 0.3
#: Skin tones from very light to very dark (sRGB), interpolated along the list.
SKIN_TONES: tuple[RGB, ...] = ((0.97, 0.85, 0.76), (0.90, 0.72, 0.60), (0.80, 0.60, 0.46), (0.66, 0.46, 0.32),
                               (0.48, 0.32, 0.21), (0.32, 0.20, 0.13), (0.20, 0.13, 0.09))
HAIR_COLOURS: tuple[RGB, ...] = ((0.05, 0.04, 0.035), (0.17, 0.10, 0.06), (0.35, 0.23, 0.13), (0.72, 0.58, 0.36),
                                 (0.50, 0.22, 0.10), (0.62, 0.62, 0.60), (0.90, 0.88, 0.84))
#: Everyday garment colours: black, white, greys, navy, denim, khaki, brown, olive, burgundy.
NEUTRALS: tuple[RGB, ...] = ((0.05, 0.05, 0.06), (0.93, 0.93, 0.92), (0.45, 0.45, 0.47), (0.70, 0.70, 0.70),
                             (0.12, 0.15, 0.30), (0.25, 0.35, 0.55), (0.72, 0.65, 0.48), (0.40, 0.28, 0.18),
                             (0.33, 0.36, 0.20), (0.45, 0.10, 0.14))
SET_KINDS = ("studio", "room", "outdoor")
SET_SHARES = (0.2, 0.5, 0.3)


@dataclass(frozen=True)
class Outfit:
    """The person. Reaches are fractions of a limb from its root joint: sleeves from the shoulder to the
    wrist (below 0: sleeveless, 1: long), the lower garment from the hip to the ankle. `lower` is
    'trousers', 'shorts' or 'skirt' (a skirt is extra geometry hanging from the hips, dress.py). `face`: painted
    eyes, brows and lips (face_paint.py), or none (bare skin, as every clip rendered before they existed)."""

    skin: Pattern
    hair: Pattern
    bald: bool
    top: Pattern
    sleeve_reach: float
    lower: str
    lower_reach: float
    bottom: Pattern  # the lower garment's pattern
    shoes: Pattern
    shoe_height_m: float  # how far above the ankle joint the shoe reaches
    waist_m: float  # where the top meets the lower garment, metres above the pelvis joint at rest
    face: Pattern | None = None


@dataclass(frozen=True)
class Prop:
    """A box or cylinder standing on the floor. bearing_deg: where it stands seen from the person, 0 straight
    behind them (away from the camera), ±90 beside them, 180 between them and the camera; gap_m: clear
    floor between the person's path and the prop."""

    shape: str
    size_m: tuple[float, float, float]  # width, depth, height (cylinders: diameter, diameter, height)
    pattern: Pattern
    bearing_deg: float
    gap_m: float
    yaw_deg: float


@dataclass(frozen=True)
class Backdrop:
    """The set: 'studio' (a seamless backdrop), 'room' (floor, back and side walls, furniture-like props) or
    'outdoor' (ground, a distant skyline band, street-like props), and the background colour (sky, ceiling)."""

    kind: str
    floor: Pattern
    walls: tuple[Pattern, ...]  # studio and outdoor: one; room: back, left, right
    wall_gap_m: float  # from the far edge of the person's path to the back wall (outdoor: the skyline)
    width_m: float  # room width (at least what the camera sees)
    wall_height_m: float
    sky: RGB
    props: tuple[Prop, ...]


@dataclass(frozen=True)
class Lighting:
    """Workbench lighting: a studio light turned about the vertical, exposure (stops), a cast shadow,
    cavity (darkened creases) and specular highlights."""

    studio_light: str
    rotate_deg: float
    exposure: float
    shadows: bool
    shadow_intensity: float
    light_direction: tuple[float, float, float]
    cavity: bool
    specular: bool


@dataclass(frozen=True)
class CameraPlan:
    """How the camera frames the person (staging.place_camera turns it into a camera for a motion).

    fill: the standing person's height / frame height; azimuth_deg: camera direction from the person
    relative to the way they face mid-clip (0: in front); aim: the height looked at, as a fraction of the
    person's height; crop 'feet' puts the frame's bottom edge at `crop_amount` x height above the ground,
    'side' a side edge `crop_amount` metres beside the pelvis (sign: which side); follow: pan with the person;
    video_quality: Blender's H.264 preset; antialias: edges smoothed (render_scene)."""

    image_size: tuple[int, int]
    fov_deg: float
    height_m: float
    fill: float
    azimuth_deg: float
    aim: float
    pitch_jitter_deg: float
    roll_deg: float
    follow: bool
    crop: str
    crop_amount: float
    video_quality: str
    antialias: bool


@dataclass(frozen=True)
class Appearance:
    """Everything about a clip's look that is drawn independently of its motion."""

    outfit: Outfit
    backdrop: Backdrop
    lighting: Lighting
    camera: CameraPlan

    def to_json(self) -> str:
        """The parameters as JSON (kept in the clip file for later analysis)."""
        return json.dumps(asdict(self), sort_keys=True)


# ---------------------------------------------------------------------------------------------------------
# Colours and patterns.

def _jitter(rng: np.random.Generator, colour: RGB, amount: float) -> RGB:
    return tuple(float(c) for c in np.clip(np.asarray(colour) * rng.uniform(1 - amount, 1 + amount, 3), 0, 1))


def _lerp_palette(palette: tuple[RGB, ...], t: float) -> RGB:
    """A colour a fraction t in [0, 1] along a list of colours."""
    x = t * (len(palette) - 1)
    i = min(int(x), len(palette) - 2)
    a, b = np.asarray(palette[i]), np.asarray(palette[i + 1])
    return tuple(float(c) for c in a + (x - i) * (b - a))


def garment_colour(rng: np.random.Generator) -> RGB:
    """Half everyday neutrals, half any hue of moderate to strong saturation."""
    if rng.random() < 0.5:
        return _jitter(rng, NEUTRALS[rng.integers(len(NEUTRALS))], 0.12)
    return hsv_to_rgb(rng.random(), rng.uniform(0.3, 0.9), rng.uniform(0.2, 0.95))


def hsv_to_rgb(h: float, s: float, v: float) -> RGB:
    """Hue, saturation, value in [0, 1] -> sRGB."""
    k = (np.array([5.0, 3.0, 1.0]) + 6.0 * h) % 6.0
    rgb = v - v * s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return tuple(float(c) for c in rgb)


def sample_pattern(rng: np.random.Generator, period_range_m: tuple[float, float],
                   kinds: tuple[str, ...] = ("plain", "stripes", "checks", "noise", "blobs"),
                   weights: tuple[float, ...] = (0.4, 0.17, 0.13, 0.15, 0.15),
                   colour=garment_colour) -> Pattern:
    """A random pattern of one of `kinds`, 2-3 colours drawn by `colour(rng)`, a tile of period_range_m."""
    kind = str(rng.choice(kinds, p=np.asarray(weights) / np.sum(weights)))
    count = 1 if kind == "plain" else int(rng.integers(2, 4))
    colours = tuple(colour(rng) for _ in range(count))
    return Pattern(kind=kind, colours=colours, period_m=round(float(rng.uniform(*period_range_m)), 3),
                   frequency=int(rng.integers(1, 7)) if kind != "noise" else int(rng.integers(2, 8)),
                   direction=int(rng.integers(3)), seed=int(rng.integers(2**31)),
                   grain=round(float(rng.uniform(0.0, 0.08)), 3) if rng.random() < 0.6 else 0.0)


# ---------------------------------------------------------------------------------------------------------
# The parts.

def sample_outfit(rng: np.random.Generator) -> Outfit:
    """Skin tone over the whole realistic range, hair, a top with some sleeve length, trousers, shorts or a
    skirt, shoes."""
    skin = _jitter(rng, _lerp_palette(SKIN_TONES, rng.random()), 0.05)
    hair = _jitter(rng, HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))], 0.1) if rng.random() < 0.9 \
        else garment_colour(rng)  # a hat
    sleeves = str(rng.choice(["none", "short", "mid", "long"], p=[0.12, 0.4, 0.08, 0.4]))
    sleeve_reach = {"none": rng.uniform(-0.25, -0.1), "short": rng.uniform(0.15, 0.5), "mid": rng.uniform(0.55, 0.8),
                    "long": rng.uniform(0.93, 1.02)}[sleeves]
    lower = str(rng.choice(["trousers", "shorts", "skirt"], p=[0.6, 0.22, 0.18]))
    lower_reach = {"trousers": rng.uniform(0.92, 1.02), "shorts": rng.uniform(0.25, 0.6),
                   "skirt": rng.uniform(0.3, 0.6)}[lower]
    return Outfit(
        skin=Pattern("plain", (skin,), grain=round(float(rng.uniform(0.0, 0.05)), 3)),
        hair=Pattern("noise", (hair, _jitter(rng, hair, 0.2)), period_m=0.1, frequency=12,
                     seed=int(rng.integers(2**31))),
        bald=bool(rng.random() < 0.08),
        top=sample_pattern(rng, (0.12, 0.5)), sleeve_reach=round(float(sleeve_reach), 3),
        lower=lower, lower_reach=round(float(lower_reach), 3), bottom=sample_pattern(rng, (0.15, 0.5)),
        shoes=plain(garment_colour(rng)) if rng.random() < 0.8 else sample_pattern(rng, (0.05, 0.15)),
        shoe_height_m=round(float(rng.uniform(0.0, 0.12)), 3), waist_m=round(float(rng.uniform(-0.04, 0.1)), 3))


def _floor_colour(rng: np.random.Generator) -> RGB:
    """Wood, stone, concrete, carpet and asphalt tones: mostly muted."""
    return hsv_to_rgb(rng.uniform(0.02, 0.15) if rng.random() < 0.7 else rng.random(), rng.uniform(0.0, 0.5),
                      rng.uniform(0.15, 0.85))


def _wall_colour(rng: np.random.Generator) -> RGB:
    """Mostly pale paints, sometimes any colour."""
    if rng.random() < 0.6:
        return hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.25), rng.uniform(0.6, 0.97))
    return garment_colour(rng)


def sample_backdrop(rng: np.random.Generator) -> Backdrop:
    """A studio backdrop, a room with furniture-like props, or an outdoor ground with a skyline and props."""
    kind = str(rng.choice(SET_KINDS, p=SET_SHARES))
    floor_kinds = ("plain", "stripes", "checks", "noise")
    floor = sample_pattern(rng, (0.3, 2.0), floor_kinds, (0.25, 0.25, 0.25, 0.25), _floor_colour)
    if kind == "studio":
        colour = _wall_colour(rng)
        backdrop = sample_pattern(rng, (0.5, 2.0), ("plain", "noise"), (0.6, 0.4), lambda r: _jitter(r, colour, 0.15))
        return Backdrop(kind, backdrop, (backdrop,), round(float(rng.uniform(0.5, 3.0)), 3), 0.0,
                        round(float(rng.uniform(3.0, 5.0)), 3), _wall_colour(rng), _props(rng, 0))
    if kind == "room":
        walls = sample_pattern(rng, (0.3, 1.5), ("plain", "stripes", "noise", "blobs"), (0.5, 0.2, 0.15, 0.15),
                               _wall_colour)
        sides = tuple(walls if rng.random() < 0.7 else sample_pattern(rng, (0.3, 1.5), colour=_wall_colour)
                      for _ in range(2))
        return Backdrop(kind, floor, (walls, *sides), round(float(rng.uniform(0.5, 4.0)), 3),
                        round(float(rng.uniform(4.0, 12.0)), 3), round(float(rng.uniform(2.4, 4.0)), 3),
                        _wall_colour(rng), _props(rng, int(rng.integers(0, 9))))
    sky = hsv_to_rgb(rng.uniform(0.52, 0.65), rng.uniform(0.0, 0.6), rng.uniform(0.6, 1.0))
    skyline = sample_pattern(rng, (2.0, 8.0), ("noise", "blobs", "stripes"), (0.5, 0.3, 0.2), garment_colour)
    ground = sample_pattern(rng, (0.5, 3.0), ("noise", "checks", "plain"), (0.6, 0.2, 0.2), _floor_colour)
    return Backdrop(kind, ground, (skyline,), round(float(rng.uniform(8.0, 40.0)), 3), 0.0,
                    round(float(rng.uniform(3.0, 15.0)), 3), sky, _props(rng, int(rng.integers(0, 7))))


def _props(rng: np.random.Generator, count: int) -> tuple[Prop, ...]:
    """Boxes and cylinders of random sizes and colours, mostly behind or beside the person; one in eight
    stands in front of them, low, hiding part of the legs."""
    props = []
    for _ in range(count):
        in_front = rng.random() < 0.125
        shape = "box" if rng.random() < 0.65 else "cylinder"
        scale = 0.5 if in_front else 1.0  # in front: small, it hides part of the legs, not the person
        width = rng.uniform(0.2, 1.6) * scale
        depth = rng.uniform(0.2, 1.2) * scale if shape == "box" else width
        height = rng.uniform(0.3, 0.8) if in_front else rng.uniform(0.2, 2.2)
        props.append(Prop(shape, (round(float(width), 3), round(float(depth), 3), round(float(height), 3)),
                          sample_pattern(rng, (0.2, 1.0)),
                          round(float(rng.uniform(150.0, 210.0) if in_front else rng.uniform(-110.0, 110.0)), 2),
                          round(float(rng.uniform(0.4, 1.2) if in_front else rng.uniform(0.3, 4.0)), 3),
                          round(float(rng.uniform(0.0, 360.0)), 2)))
    return tuple(props)


def sample_lighting(rng: np.random.Generator) -> Lighting:
    """Any studio light turned any way, exposure -0.5 to +0.8 stops (the studio lights leave much of a scene
    dim), shadows in SHADOW_SHARE of the clips."""
    elevation, azimuth = rng.uniform(0.3, 1.3), rng.uniform(0.0, 2 * np.pi)
    direction = (np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation))
    return Lighting(studio_light=str(rng.choice(STUDIO_LIGHTS)), rotate_deg=round(float(rng.uniform(-180, 180)), 2),
                    exposure=round(float(rng.uniform(-0.5, 0.8)), 3), shadows=bool(rng.random() < SHADOW_SHARE),
                    shadow_intensity=round(float(rng.uniform(0.3, 0.8)), 3),
                    light_direction=tuple(round(float(c), 4) for c in direction), cavity=bool(rng.random() < 0.3),
                    specular=bool(rng.random() < 0.5))


def sample_camera_plan(rng: np.random.Generator) -> CameraPlan:
    """Frame size, lens, height, framing (far, normal, close, cropped), pan, roll, video quality. A cropped
    shot always pans with the person (a close, hand-held shot): a fixed camera would lose the crop as soon
    as the person moves."""
    sizes, weights = zip(*FRAME_SIZES)
    size = sizes[rng.choice(len(sizes), p=np.asarray(weights) / np.sum(weights))]
    framing = str(rng.choice(list(FRAMING_SHARES), p=list(FRAMING_SHARES.values())))
    crop = str(rng.choice(list(CROP_SHARES), p=list(CROP_SHARES.values()))) if framing == "cropped" else "none"
    amount = {"none": 0.0, "feet": rng.uniform(0.05, 0.35),
              "side": rng.choice([-1.0, 1.0]) * rng.uniform(0.0, 0.25)}[crop]
    front = rng.random() < 0.65
    return CameraPlan(
        image_size=(int(size[0]), int(size[1])), fov_deg=round(float(rng.uniform(*FOV_RANGE_DEG)), 3),
        height_m=round(float(rng.uniform(*CAMERA_HEIGHT_RANGE_M)), 3),
        fill=round(float(rng.uniform(*FILL_RANGES[framing])), 4),
        azimuth_deg=round(float(np.clip(rng.normal(0.0, 35.0), -90, 90) if front else rng.uniform(-180, 180)), 2),
        aim=round(float(rng.uniform(0.4, 0.65)), 3), pitch_jitter_deg=round(float(rng.normal(0.0, 3.0)), 3),
        roll_deg=round(float(np.clip(rng.normal(0.0, 3.0), -MAX_ROLL_DEG, MAX_ROLL_DEG)), 3),
        follow=bool(rng.random() < FOLLOW_SHARE) or crop != "none", crop=crop, crop_amount=round(float(amount), 4),
        video_quality=str(rng.choice(VIDEO_QUALITIES, p=[0.5, 0.3, 0.2])),
        antialias=bool(rng.random() < ANTIALIAS_SHARE))


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """A whole random look (person, set, light, camera plan)."""
    return Appearance(sample_outfit(rng), sample_backdrop(rng), sample_lighting(rng), sample_camera_plan(rng))


def plain_appearance(camera: CameraPlan) -> Appearance:
    """render_test_clip.py's one look (blue shirt with short sleeves, dark trousers, grey floor, pale
    background, the default studio light with shadows, smoothed edges) with a given camera plan: the baseline that
    the random looks are compared against."""
    from scripts.render_test_clip import BACKGROUND_RGB, FLOOR_RGBA, SHIRT_RGBA, SKIN_RGBA, TROUSERS_RGBA

    srgb = lambda linear: tuple(float(c) for c in linear_to_srgb(np.asarray(linear[:3])))  # noqa: E731
    skin = plain(srgb(SKIN_RGBA))
    # Its shirt covers the upper arms (to the elbow, about half way to the wrist), its trousers reach the
    # ankles, and head and feet are skin.
    outfit = Outfit(skin=skin, hair=skin, bald=True, top=plain(srgb(SHIRT_RGBA)), sleeve_reach=0.5,
                    lower="trousers", lower_reach=1.0, bottom=plain(srgb(TROUSERS_RGBA)), shoes=skin,
                    shoe_height_m=0.0, waist_m=0.05)
    floor = plain(srgb(FLOOR_RGBA))
    backdrop = Backdrop("studio", floor, (), 0.0, 0.0, 0.0, srgb(BACKGROUND_RGB), ())
    lighting = Lighting("Default", 0.0, 0.0, True, 0.5, (0.57735, 0.57735, 0.57735), False, True)  # Blender's defaults
    return Appearance(outfit, backdrop, lighting, dataclasses.replace(camera, antialias=True))


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Scene-linear -> sRGB-encoded values (Blender's material colours are linear, images sRGB)."""
    x = np.clip(np.asarray(linear, np.float64), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded -> scene-linear values."""
    x = np.clip(np.asarray(srgb, np.float64), 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
