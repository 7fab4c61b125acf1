"""Small tileable texture images for clothing, floors and walls of the rendered training scenes.

Why tileable: the renderer wraps a texture around a limb a whole number of times and repeats it over floors
and walls, so every pattern is periodic over its square tile (stripes and checks at integer frequencies,
noise low-pass filtered on the torus, prints placed with wrap-around). A `Pattern` is a few numbers (kept in
the clip file as JSON) and the image is made from it on demand, the same every time. numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RGB = tuple[float, float, float]
#: What a pattern can be: one colour; stripes; checks (or plaid); camouflage-like noise; printed blobs.
PATTERN_KINDS = ("plain", "stripes", "checks", "noise", "blobs")
TILE_PX = 128


@dataclass(frozen=True)
class Pattern:
    """A texture: `kind` (PATTERN_KINDS), sRGB `colours` in [0, 1] (the first is the ground colour), the
    size of one tile in the world (`period_m`, metres), `frequency` (stripes or checks per tile, or noise
    blobs across it), `direction` (stripes: 0 along u, 1 along v, 2 diagonal; checks: 0 checkerboard, 1
    plaid), `seed` (noise and prints) and `grain` (amplitude of a fine fabric-like noise on top)."""

    kind: str
    colours: tuple[RGB, ...]
    period_m: float = 0.3
    frequency: int = 4
    direction: int = 0
    seed: int = 0
    grain: float = 0.0

    @property
    def is_flat(self) -> bool:
        """One colour and no grain: a material colour is enough, no image needed."""
        return self.kind == "plain" and self.grain <= 0.0


def plain(colour: RGB) -> Pattern:
    """A single flat colour."""
    return Pattern("plain", (tuple(float(c) for c in colour),))


def pattern_image(pattern: Pattern, size_px: int | None = None) -> np.ndarray:
    """The tile as (size_px, size_px, 4) float32 sRGB RGBA in [0, 1]; u along columns, v along rows. A painted
    face (face_paint.py) is drawn at its own default size, finer than a garment's tile."""
    from .face_paint import FACE_KIND, FACE_PX, face_image

    if pattern.kind == FACE_KIND:
        return face_image(pattern, size_px or FACE_PX)
    size_px = size_px or TILE_PX
    u, v = np.meshgrid((np.arange(size_px) + 0.5) / size_px, (np.arange(size_px) + 0.5) / size_px)
    colours = np.asarray(pattern.colours, np.float64).reshape(-1, 3)
    rng = np.random.default_rng(pattern.seed)
    if pattern.kind == "plain":
        rgb = np.broadcast_to(colours[0], u.shape + (3,)).copy()
    elif pattern.kind == "stripes":
        k1, k2 = ((pattern.frequency, 0), (0, pattern.frequency), (pattern.frequency, pattern.frequency))[
            pattern.direction % 3]
        rgb = _bands(np.mod(k1 * u + k2 * v, 1.0), colours)
    elif pattern.kind == "checks":
        a, b = np.mod(pattern.frequency * u, 1.0), np.mod(pattern.frequency * v, 1.0)
        if pattern.direction % 2 == 0:
            rgb = colours[((a < 0.5) ^ (b < 0.5)).astype(int) % len(colours)]
        else:  # plaid: two banded layers seen through each other
            rgb = 0.5 * (_bands(a, colours) + _bands(b, colours[::-1]))
    elif pattern.kind == "noise":
        field = periodic_noise(rng, size_px, pattern.frequency)
        levels = np.quantile(field, np.linspace(0, 1, len(colours) + 1)[1:-1])
        rgb = colours[np.searchsorted(levels, field)]
    elif pattern.kind == "blobs":
        rgb = _prints(rng, u, v, colours, pattern.frequency)
    else:
        raise ValueError(f"unknown pattern kind {pattern.kind!r}; expected one of {PATTERN_KINDS}")
    if pattern.grain > 0:
        rgb = rgb * (1.0 + pattern.grain * periodic_noise(rng, size_px, size_px // 4)[..., None])
    rgba = np.concatenate([np.clip(rgb, 0.0, 1.0), np.ones(u.shape + (1,))], axis=-1)
    return rgba.astype(np.float32)


def periodic_noise(rng: np.random.Generator, size_px: int, features: int) -> np.ndarray:
    """(size_px, size_px) smooth noise, periodic over the tile, zero mean and unit std, with about
    `features` blobs across the tile (white noise low-pass filtered in the Fourier domain)."""
    white = rng.standard_normal((size_px, size_px))
    freq = np.fft.fftfreq(size_px) * size_px  # cycles per tile
    radius = np.hypot(*np.meshgrid(freq, freq))
    field = np.real(np.fft.ifft2(np.fft.fft2(white) * np.exp(-0.5 * (radius / max(features, 1)) ** 2)))
    return (field - field.mean()) / max(field.std(), 1e-9)


def _bands(phase: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Stripes from a phase in [0, 1): the ground colour for the first half, the others share the rest."""
    if len(colours) == 1:
        return np.broadcast_to(colours[0], phase.shape + (3,)).copy()
    index = np.where(phase < 0.5, 0, 1 + np.minimum(((phase - 0.5) * 2 * (len(colours) - 1)).astype(int),
                                                    len(colours) - 2))
    return colours[index]


def _prints(rng: np.random.Generator, u: np.ndarray, v: np.ndarray, colours: np.ndarray, count: int) -> np.ndarray:
    """Logo-like prints on the ground colour: filled ellipses, rings and bars (text-like), with wrap-around."""
    rgb = np.broadcast_to(colours[0], u.shape + (3,)).copy()
    accents = colours[1:] if len(colours) > 1 else 1.0 - colours[:1]
    for k in range(max(count, 1)):
        cu, cv = rng.random(2)
        du, dv = np.mod(u - cu + 0.5, 1.0) - 0.5, np.mod(v - cv + 0.5, 1.0) - 0.5
        ru, rv = rng.uniform(0.05, 0.22, 2)
        shape = rng.integers(3)
        if shape == 0:
            mask = (du / ru) ** 2 + (dv / rv) ** 2 < 1.0
        elif shape == 1:
            r = np.hypot(du / ru, dv / ru)
            mask = (r < 1.0) & (r > 0.6)
        else:  # a few bars, like a line of lettering
            mask = (np.abs(dv) < rv * 0.25) & (np.abs(du) < ru * 1.5) & (np.mod(du * 40.0 / ru, 4.0) < 3.0)
        rgb[mask] = accents[k % len(accents)]
    return rgb
