"""The results file: one processed clip as a versioned `.npz`, the contract between bridge and add-on.

numpy only (no torch, no bpy) so both halves read and write it with the same code. Files are written
atomically (temp file in the same folder, then `os.replace`) so a crash or a cancel never leaves a half
file where an animator's previous results were, and read with `allow_pickle=False` so a results file can
never execute code. The schema is documented in addon_manifest/results.schema.md.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from .preflight import remove_stale_temp_files

SCHEMA_VERSION = "arts-results/2"
#: Older versions this reader still reads (version 1: camera space only, no world frame or contacts).
READABLE_VERSIONS = ("arts-results/1", SCHEMA_VERSION)
COORDINATE_SYSTEM = "opencv-camera"  # x right, y down, z forward (metres)


class ResultsError(ValueError):
    """A results file is missing, unreadable or does not follow the schema."""


@dataclass
class ClipResult:
    """A processed clip. F = number of frames; all arrays are per frame unless noted."""

    fps: float
    frame_indices: np.ndarray  # (F,) int64 source-video frame numbers
    pose_aa: np.ndarray  # (F, 24, 3) SMPL local axis-angle, radians; joint 0 = global orientation, camera space
    betas: np.ndarray  # (10,) clip-level SMPL shape
    trans_m: np.ndarray  # (F, 3) SMPL `transl`, camera space, metres
    joints_3d: np.ndarray  # (F, 24, 3) posed joints, camera space, translation included, metres
    keypoints_2d: np.ndarray  # (F, 33, 3) MediaPipe image landmarks: x_px, y_px, confidence
    valid: np.ndarray  # (F,) bool: a person was detected (False: filled by interpolation)
    confidence: np.ndarray  # (F,) float in [0, 1]
    image_size: tuple[int, int]  # (width, height) px
    focal_px: float
    model_id: str
    body_model_id: str
    source: str = ""
    smoothing: str = ""
    #: Version 2 (None in version 1 files): (4, 4) rigid camera -> world transform (world: Z up, metres,
    #: floor at z = 0, the person starting at the origin facing -Y; bridge/ground.py), the posed joints in
    #: that frame (F, 24, 3), and foot contact probabilities (F, 4: left heel, left toe, right heel, right
    #: toe; bridge/contacts.py).
    world_from_camera: np.ndarray | None = None
    joints_world_m: np.ndarray | None = None
    contacts: np.ndarray | None = None
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # optional arrays, stored with an "extra_" prefix

    @property
    def num_frames(self) -> int:
        return int(self.pose_aa.shape[0])


# name -> (dtype, shape with "F" for the frame count)
_ARRAYS: dict[str, tuple[type, tuple]] = {
    "frame_indices": (np.int64, ("F",)),
    "pose_aa": (np.float32, ("F", 24, 3)),
    "betas": (np.float32, (10,)),
    "trans_m": (np.float32, ("F", 3)),
    "joints_3d": (np.float32, ("F", 24, 3)),
    "keypoints_2d": (np.float32, ("F", 33, 3)),
    "valid": (np.bool_, ("F",)),
    "confidence": (np.float32, ("F",)),
}
_STRINGS = ("model_id", "body_model_id", "source", "smoothing")
#: Version-2 arrays: all three or none (a version-1 result).
_WORLD_ARRAYS: dict[str, tuple[type, tuple]] = {
    "world_from_camera": (np.float64, (4, 4)),
    "joints_world_m": (np.float32, ("F", 24, 3)),
    "contacts": (np.float32, ("F", 4)),
}
_EXTRA_PREFIX = "extra_"
_NEW_FILE_MODE = 0o644


def _check_shape(name: str, arr: np.ndarray, shape: tuple, frames: int) -> None:
    expected = tuple(frames if s == "F" else s for s in shape)
    if arr.shape != expected:
        raise ResultsError(f"results field '{name}' has shape {arr.shape}, expected {expected}")


def validate(result: ClipResult) -> ClipResult:
    """Coerce dtypes and check shapes and values; returns a result with canonical dtypes."""
    frames = int(np.asarray(result.pose_aa).shape[0]) if np.ndim(result.pose_aa) == 3 else -1
    if frames < 1:
        raise ResultsError(f"results field 'pose_aa' must be (F, 24, 3) with F >= 1, got shape {np.shape(result.pose_aa)}")
    coerced = {}
    for name, (dtype, shape) in _ARRAYS.items():
        arr = np.asarray(getattr(result, name))
        _check_shape(name, arr, shape, frames)
        if dtype is not np.bool_ and not np.all(np.isfinite(arr)):
            raise ResultsError(f"results field '{name}' contains NaN or infinite values")
        coerced[name] = arr.astype(dtype, copy=False)
    if np.any(np.diff(coerced["frame_indices"]) <= 0):
        raise ResultsError("results field 'frame_indices' must be strictly increasing")
    if not (np.isfinite(result.fps) and result.fps > 0):
        raise ResultsError(f"results field 'fps' must be a positive number, got {result.fps!r}")
    if not (np.isfinite(result.focal_px) and result.focal_px > 0):
        raise ResultsError(f"results field 'focal_px' must be a positive number, got {result.focal_px!r}")
    width, height = (int(v) for v in result.image_size)
    if width <= 0 or height <= 0:
        raise ResultsError(f"results field 'image_size' must be two positive integers, got {result.image_size!r}")
    conf = coerced["confidence"]
    if np.any((conf < 0) | (conf > 1)):
        raise ResultsError("results field 'confidence' must lie in [0, 1]")
    present = [name for name in _WORLD_ARRAYS if getattr(result, name) is not None]
    if present and len(present) != len(_WORLD_ARRAYS):
        missing = sorted(set(_WORLD_ARRAYS) - set(present))
        raise ResultsError(f"results fields {', '.join(_WORLD_ARRAYS)} go together; missing {', '.join(missing)}")
    world_fields = {}
    for name in present:
        dtype, shape = _WORLD_ARRAYS[name]
        arr = np.asarray(getattr(result, name))
        _check_shape(name, arr, shape, frames)
        if not np.all(np.isfinite(arr)):
            raise ResultsError(f"results field '{name}' contains NaN or infinite values")
        world_fields[name] = arr.astype(dtype, copy=False)
    if present:
        world = world_fields["world_from_camera"]
        rotation = world[:3, :3]
        if (not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-4) or np.linalg.det(rotation) < 0
                or not np.allclose(world[3], [0.0, 0.0, 0.0, 1.0])):
            raise ResultsError("results field 'world_from_camera' must be a rigid transform (rotation, translation)")
        if np.any((world_fields["contacts"] < 0) | (world_fields["contacts"] > 1)):
            raise ResultsError("results field 'contacts' must lie in [0, 1]")
    extras = {}
    for key, value in result.extras.items():
        arr = np.asarray(value)
        if arr.dtype == object:
            raise ResultsError(f"results extra '{key}' has dtype object; only plain numeric/string arrays are allowed")
        extras[key] = arr
    strings = {name: str(getattr(result, name)) for name in _STRINGS}
    return ClipResult(fps=float(result.fps), image_size=(width, height), focal_px=float(result.focal_px),
                      extras=extras, **coerced, **strings, **world_fields)


def write_results(path: str | os.PathLike, result: ClipResult) -> Path:
    """Validate and write `result` to `path` atomically; returns the path written."""
    result = validate(result)
    path = Path(path)
    if path.suffix != ".npz":
        raise ResultsError(f"results files end in .npz, got '{path.name}'")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path.parent)
    payload: dict[str, np.ndarray] = {
        "schema_version": np.array(SCHEMA_VERSION if result.world_from_camera is not None else READABLE_VERSIONS[0]),
        "coordinate_system": np.array(COORDINATE_SYSTEM),
        "fps": np.array(result.fps, dtype=np.float64),
        "focal_px": np.array(result.focal_px, dtype=np.float64),
        "image_size": np.array(result.image_size, dtype=np.int64),
    }
    payload.update({name: getattr(result, name) for name in _ARRAYS})
    payload.update({name: np.array(getattr(result, name)) for name in _STRINGS})
    payload.update({name: getattr(result, name) for name in _WORLD_ARRAYS if getattr(result, name) is not None})
    payload.update({_EXTRA_PREFIX + k: v for k, v in result.extras.items()})
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **payload)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes owner-only files; results are ordinary documents, readable like any other.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else _NEW_FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_results(path: str | os.PathLike) -> ClipResult:
    """Read and validate a results file; every failure is a ResultsError that names the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"results file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            raw = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ResultsError(f"cannot read results file {path}: {exc}") from exc
    version = str(raw.get("schema_version", ""))
    if version not in READABLE_VERSIONS:
        found = version or "none (not an ARTS results file)"
        raise ResultsError(f"{path.name}: unsupported results schema '{found}'; this version reads "
                           f"{' and '.join(READABLE_VERSIONS)}")
    if str(raw.get("coordinate_system", "")) != COORDINATE_SYSTEM:
        raise ResultsError(f"{path.name}: unsupported coordinate system '{raw.get('coordinate_system')}'")
    required = [*_ARRAYS, *_STRINGS, "fps", "focal_px", "image_size",
                *(_WORLD_ARRAYS if version == SCHEMA_VERSION else ())]
    missing = [name for name in required if name not in raw]
    if missing:
        raise ResultsError(f"{path.name}: missing field(s) {', '.join(missing)}")
    extras = {k[len(_EXTRA_PREFIX):]: v for k, v in raw.items() if k.startswith(_EXTRA_PREFIX)}
    try:
        return validate(ClipResult(
            fps=float(raw["fps"]), focal_px=float(raw["focal_px"]),
            image_size=tuple(int(v) for v in raw["image_size"]), extras=extras,
            **{name: raw.get(name) for name in _WORLD_ARRAYS},
            **{name: raw[name] for name in _ARRAYS}, **{name: str(raw[name]) for name in _STRINGS}))
    except ResultsError as exc:
        raise ResultsError(f"{path.name}: {exc}") from exc


def field_names() -> tuple[str, ...]:
    """Every field of ClipResult, for documentation and schema tests."""
    return tuple(f.name for f in fields(ClipResult))
