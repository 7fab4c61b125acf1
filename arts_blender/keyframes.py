"""Keyframe data with no bpy: resampling to another frame rate, keyframe reduction, F-curve channel layout.

The bpy half (`keyframe_writer.py`) only copies the arrays built here into F-curves in bulk, so every
decision about which keys exist and where is testable outside Blender.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bridge_locator import import_bridge

_rotations = import_bridge("geometry.rotations")

#: Custom properties on the armature object, keyed per frame so animators can spot weak frames.
CONFIDENCE_PROPERTY = "arts_confidence"
DETECTED_PROPERTY = "arts_detected"
#: The bridge's foot contacts (results `contacts` columns, 0..1), keyed per frame too: retargeting keeps the
#: feet planted where they say so, and an animator can see and edit them in the graph editor.
CONTACT_PROPERTIES = ("arts_contact_left_heel", "arts_contact_left_toe", "arts_contact_right_heel",
                      "arts_contact_right_toe")


@dataclass
class Channel:
    """One F-curve: `data_path`[`index`] keyed at `frames` (K,) with `values` (K,), in action group `group`."""

    data_path: str
    index: int
    group: str
    frames: np.ndarray
    values: np.ndarray


def resample_times(num_frames: int, src_fps: float, dst_fps: float) -> np.ndarray:
    """Source-frame positions (K,) of the frames of a `dst_fps` timeline spanning the same duration."""
    duration_s = (num_frames - 1) / src_fps
    count = int(np.floor(duration_s * dst_fps + 1e-6)) + 1
    return np.arange(count) * (src_fps / dst_fps)


def resample_linear(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of per-frame values (F, ...) at fractional frame positions (K,)."""
    values = np.asarray(values, dtype=np.float64)
    i0 = np.clip(np.floor(positions).astype(np.int64), 0, len(values) - 1)
    i1 = np.minimum(i0 + 1, len(values) - 1)
    t = (positions - i0).reshape(-1, *([1] * (values.ndim - 1)))
    return values[i0] * (1.0 - t) + values[i1] * t


def resample_quaternions(quats: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Slerp of per-frame quaternions (F, ..., 4) at fractional frame positions (K,); sign-continuous."""
    quats = np.asarray(quats, dtype=np.float64)
    i0 = np.clip(np.floor(positions).astype(np.int64), 0, len(quats) - 1)
    i1 = np.minimum(i0 + 1, len(quats) - 1)
    t = np.broadcast_to((positions - i0).reshape(-1, *([1] * (quats.ndim - 2))), quats[i0].shape[:-1])
    return _rotations.quaternion_continuity(_rotations.quaternion_slerp(quats[i0], quats[i1], t))


def _segment_error(values: np.ndarray, start: int, end: int, quaternion: bool) -> np.ndarray:
    """Error of the frames strictly between start and end when only those two keys are kept (linear keys)."""
    t = (np.arange(start + 1, end) - start) / (end - start)
    approx = values[start] * (1.0 - t[:, None]) + values[end] * t[:, None]
    inner = values[start + 1:end]
    if quaternion:
        # Blender normalises the linearly interpolated quaternion: error = angle between the two rotations.
        approx = approx / np.linalg.norm(approx, axis=-1, keepdims=True)
        dot = np.abs(np.sum(approx * inner, axis=-1)).clip(max=1.0)
        return 2.0 * np.arccos(dot)
    return np.max(np.abs(approx - inner), axis=-1)


def reduce_keys(values: np.ndarray, tolerance: float, quaternion: bool = False) -> np.ndarray:
    """Indices of the keys to keep so linear interpolation between them stays within `tolerance`.

    values: (F, C) keyed together (one bone's 4 quaternion components, or a location's 3 axes);
    tolerance: radians when `quaternion` (angle between rotations) else the channel's unit (metres).
    Ramer-Douglas-Peucker: keep the worst frame of a segment and split there until every segment fits.
    The first and last frames are always kept. tolerance <= 0 keeps every frame.
    """
    values = np.asarray(values, dtype=np.float64)
    count = len(values)
    if tolerance <= 0 or count <= 2:
        return np.arange(count)
    keep = np.zeros(count, dtype=bool)
    keep[[0, count - 1]] = True
    stack = [(0, count - 1)]
    while stack:
        start, end = stack.pop()
        if end - start < 2:
            continue
        err = _segment_error(values, start, end, quaternion)
        worst = int(np.argmax(err))
        if err[worst] > tolerance:
            split = start + 1 + worst
            keep[split] = True
            stack.append((start, split))
            stack.append((split, end))
    return np.flatnonzero(keep)


def pose_channels(bone_names: list[str] | tuple[str, ...], quats: np.ndarray, pelvis_loc: np.ndarray,
                  frame_start: int, rotation_tolerance_rad: float = 0.0,
                  location_tolerance_m: float = 0.0) -> list[Channel]:
    """F-curve channels for every bone's rotation and the pelvis location, optionally reduced.

    quats: (F, 24, 4) w, x, y, z in bone rest frames; pelvis_loc: (F, 3) metres; keys land on frames
    frame_start .. frame_start + F - 1. Tolerances of 0 keep every frame.
    """
    frames = frame_start + np.arange(len(quats), dtype=np.float64)
    channels: list[Channel] = []
    for j, name in enumerate(bone_names):
        keep = reduce_keys(quats[:, j], rotation_tolerance_rad, quaternion=True)
        path = f'pose.bones["{name}"].rotation_quaternion'
        channels += [Channel(path, c, name, frames[keep], quats[keep, j, c]) for c in range(4)]
    keep = reduce_keys(pelvis_loc, location_tolerance_m)
    path = f'pose.bones["{bone_names[0]}"].location'
    channels += [Channel(path, c, bone_names[0], frames[keep], pelvis_loc[keep, c]) for c in range(3)]
    return channels


def property_channels(confidence: np.ndarray, detected: np.ndarray, frame_start: int,
                      contacts: np.ndarray | None = None) -> list[Channel]:
    """Per-frame detection confidence (0..1), detected flag (0/1) and, when given, the four foot contacts
    (K, 4) as custom-property channels."""
    frames = frame_start + np.arange(len(confidence), dtype=np.float64)
    out = [Channel(f'["{CONFIDENCE_PROPERTY}"]', 0, "ARTS detection", frames, np.asarray(confidence, np.float64)),
           Channel(f'["{DETECTED_PROPERTY}"]', 0, "ARTS detection", frames, np.asarray(detected, np.float64))]
    if contacts is not None:
        out += [Channel(f'["{name}"]', 0, "ARTS contacts", frames, np.asarray(contacts[:, k], np.float64))
                for k, name in enumerate(CONTACT_PROPERTIES)]
    return out


def sample_keys(frames: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Values of a LINEAR F-curve with keys (frames (K,), values (K,)) at frames `grid` (N,), held at the ends."""
    return np.interp(grid, frames, values)


def splice_keys(frames: np.ndarray, values: np.ndarray, grid: np.ndarray,
                new_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys outside [grid[0], grid[-1]] kept as they are, the inside replaced by one key per grid frame."""
    outside = (frames < grid[0]) | (frames > grid[-1])
    merged_frames = np.concatenate([frames[outside], grid])
    merged_values = np.concatenate([values[outside], new_values])
    order = np.argsort(merged_frames, kind="stable")
    return merged_frames[order], merged_values[order]
