"""Temporal smoothing of animation curves: One-Euro and Savitzky-Golay, for rotations and positions.

Pure numpy, shared by the bridge (optional filtering of a processed clip) and the add-on ("re-apply
smoothing" on edited keys), with the same presets in both UIs. Rotations are filtered as unit quaternions:
signs are made continuous over time first (q and -q are the same rotation, and a filter averaging
across a flip would pass through zero), the four components are filtered, and the result renormalised.
Axis-angle vectors are never averaged directly: they jump by 2*pi at the wrap-around.

Time runs along axis 0 of every array; fps converts the filters' time constants (Hz, seconds) to frames.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .geometry import rotations

METHODS: tuple[str, ...] = ("none", "one_euro", "savgol")


@dataclass(frozen=True)
class SmoothingParams:
    """One filter and its parameters.

    one_euro (Casiez et al. 2012): min_cutoff_hz (lower = smoother at rest), beta (higher = less lag in fast
    motion; per unit of signal speed: rotations are unit-quaternion components, positions metres), d_cutoff_hz.
    savgol: window_s (seconds, rounded to an odd frame count) and polyorder (kept below the window length).
    """

    method: str = "none"
    min_cutoff_hz: float = 1.0
    beta: float = 0.0
    d_cutoff_hz: float = 1.0
    window_s: float = 0.25
    polyorder: int = 2

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown smoothing method {self.method!r}; choose one of {', '.join(METHODS)}")
        for name in ("min_cutoff_hz", "d_cutoff_hz", "window_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"smoothing parameter {name} must be a positive number, got {value!r}")
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"smoothing parameter beta must be >= 0, got {self.beta!r}")
        if not (isinstance(self.polyorder, int) and 0 <= self.polyorder <= 5):
            raise ValueError(f"smoothing parameter polyorder must be an integer from 0 to 5, got {self.polyorder!r}")

    def describe(self) -> str:
        """Text stored in results files ("" for none) so a reader knows how keys were filtered."""
        if self.method == "one_euro":
            return f"one_euro(min_cutoff_hz={self.min_cutoff_hz:g}, beta={self.beta:g}, d_cutoff_hz={self.d_cutoff_hz:g})"
        if self.method == "savgol":
            return f"savgol(window_s={self.window_s:g}, polyorder={self.polyorder})"
        return ""

    def to_dict(self) -> dict:
        return asdict(self)


#: Presets shared by the add-on's UI and the CLI. Offline clips get Savitzky-Golay: zero lag, keeps peaks.
PRESETS: dict[str, SmoothingParams] = {
    "none": SmoothingParams("none"),
    "light": SmoothingParams("savgol", window_s=0.15, polyorder=2),
    "medium": SmoothingParams("savgol", window_s=0.3, polyorder=2),
    "strong": SmoothingParams("savgol", window_s=0.5, polyorder=2),
}


def params_from_request(value: str | dict | SmoothingParams | None) -> SmoothingParams:
    """A preset name, a dict of SmoothingParams fields, or None -> SmoothingParams (ValueError if invalid)."""
    if value is None:
        return PRESETS["none"]
    if isinstance(value, SmoothingParams):
        return value
    if isinstance(value, str):
        if value not in PRESETS:
            raise ValueError(f"unknown smoothing preset {value!r}; choose one of {', '.join(PRESETS)}")
        return PRESETS[value]
    if isinstance(value, dict):
        known = set(SmoothingParams.__dataclass_fields__)
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown smoothing parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return SmoothingParams(**value)
    raise ValueError(f"smoothing must be a preset name or a dict of parameters, got {type(value).__name__}")


# ---------------------------------------------------------------------------------------------------------
# Filters on plain arrays (time on axis 0).

def _alpha(cutoff_hz: np.ndarray | float, fps: float) -> np.ndarray | float:
    """Smoothing factor of a first-order low-pass with the given cutoff, sampled at fps."""
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau * fps)


def one_euro(signal: np.ndarray, fps: float, min_cutoff_hz: float, beta: float, d_cutoff_hz: float) -> np.ndarray:
    """One-Euro filter along axis 0, every other element an independent channel. (F, ...) -> (F, ...)."""
    x = np.asarray(signal, dtype=np.float64)
    out = np.empty_like(x)
    if len(x) == 0:
        return out
    a_d = _alpha(d_cutoff_hz, fps)
    out[0] = x[0]
    deriv = np.zeros_like(x[0])
    for k in range(1, len(x)):
        deriv = a_d * (x[k] - x[k - 1]) * fps + (1.0 - a_d) * deriv
        a = _alpha(min_cutoff_hz + beta * np.abs(deriv), fps)
        out[k] = a * x[k] + (1.0 - a) * out[k - 1]
    return out


def savgol_window_frames(window_s: float, fps: float, polyorder: int) -> int:
    """An odd frame count for a window in seconds, at least polyorder + 2 (else the fit interpolates)."""
    frames = int(round(window_s * fps))
    frames = max(frames, polyorder + 2)
    return frames if frames % 2 == 1 else frames + 1


def _savgol_fit_matrix(window: int, polyorder: int) -> np.ndarray:
    """(window, window) matrix H: H @ samples = least-squares polynomial evaluated at every window offset."""
    offsets = np.arange(window, dtype=np.float64) - window // 2
    vander = offsets[:, None] ** np.arange(polyorder + 1)[None, :]
    return vander @ np.linalg.pinv(vander)


def savgol(signal: np.ndarray, window: int, polyorder: int) -> np.ndarray:
    """Savitzky-Golay smoothing along axis 0 (window odd, frames). Ends use the first/last window's polynomial
    (no padding), so polynomials up to `polyorder` -- a constant signal included -- pass through unchanged."""
    x = np.asarray(signal, dtype=np.float64)
    frames = len(x)
    if window % 2 == 0 or window <= polyorder:
        raise ValueError(f"Savitzky-Golay needs an odd window longer than polyorder, got {window}, {polyorder}")
    if frames < window:  # shrink to the clip: largest odd window that fits, order capped below it
        window = frames if frames % 2 == 1 else frames - 1
        polyorder = min(polyorder, window - 1)
        if window < 3:
            return x.copy()
    fit = _savgol_fit_matrix(window, polyorder)
    half = window // 2
    flat = x.reshape(frames, -1)
    out = np.empty_like(flat)
    # Interior: one correlation with the centre row, vectorised over frames via a strided view.
    view = np.lib.stride_tricks.sliding_window_view(flat, window, axis=0)  # (frames - window + 1, C, window)
    out[half:frames - half] = view @ fit[half]
    out[:half] = fit[:half] @ flat[:window]
    out[frames - half:] = fit[half + 1:] @ flat[frames - window:]
    return out.reshape(x.shape)


def smooth_array(signal: np.ndarray, fps: float, params: SmoothingParams) -> np.ndarray:
    """Filter any (F, ...) curve (positions in metres, scalars) with `params`; a copy is returned."""
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    x = np.asarray(signal, dtype=np.float64)
    if params.method == "none" or len(x) < 2:
        return x.copy()
    if params.method == "one_euro":
        return one_euro(x, fps, params.min_cutoff_hz, params.beta, params.d_cutoff_hz)
    return savgol(x, savgol_window_frames(params.window_s, fps, params.polyorder), params.polyorder)


# ---------------------------------------------------------------------------------------------------------
# Rotations.

def smooth_quaternions(quats: np.ndarray, fps: float, params: SmoothingParams) -> np.ndarray:
    """(F, ..., 4) unit quaternions (w, x, y, z) -> filtered unit quaternions, sign-continuous over time."""
    q = rotations.quaternion_continuity(np.asarray(quats, dtype=np.float64))
    filtered = smooth_array(q, fps, params)
    norm = np.linalg.norm(filtered, axis=-1, keepdims=True)
    # A filtered quaternion can only shrink towards zero where input signs disagree; continuity prevents it,
    # and the fallback keeps the input rotation rather than dividing by ~0.
    return np.where(norm > 1e-8, filtered / np.maximum(norm, 1e-12), q)


def smooth_pose_aa(pose_aa: np.ndarray, fps: float, params: SmoothingParams) -> np.ndarray:
    """(F, J, 3) axis-angle rotations (radians) -> filtered (F, J, 3), via sign-continuous quaternions."""
    pose = np.asarray(pose_aa, dtype=np.float64)
    if params.method == "none":
        return pose.copy()
    quats = rotations.axis_angle_to_quaternion(pose)
    return rotations.quaternion_to_axis_angle(smooth_quaternions(quats, fps, params))
