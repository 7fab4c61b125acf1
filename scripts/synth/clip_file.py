"""The synthetic clip file: one `.npz` per clip, pickle-free (format documented in README.md).

Kept apart from the generator so readers (the torch Dataset, training, tests) need neither the body model
nor the renderer. numpy only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

CLIP_FORMAT = "arts-synth-clip/1"

#: name -> (dtype kind, shape with "F" for frames); strings are numpy unicode scalars.
CLIP_ARRAYS: dict[str, tuple[str, tuple]] = {
    "pose_aa": ("f", ("F", 24, 3)), "betas": ("f", (10,)), "trans_m": ("f", ("F", 3)),
    "joints_3d": ("f", ("F", 24, 3)), "mp_image": ("f", ("F", 33, 4)), "mp_image_clean": ("f", ("F", 33, 2)),
    "mp_world": ("f", ("F", 33, 3)), "mp_world_clean": ("f", ("F", 33, 3)), "valid": ("b", ("F",)),
    "image_size": ("i", (2,)), "focal_px": ("f", ()), "fps": ("f", ()),
    "format": ("U", ()), "clip_id": ("U", ()), "source": ("U", ()), "split": ("U", ()), "body_model_id": ("U", ()),
}
#: Keys a clip may have: where its mp_* landmarks come from (LANDMARK_SOURCES; a clip without the key is
#: simulated), and the look of a rendered clip (JSON, scripts/synth/appearance.py).
OPTIONAL_ARRAYS: dict[str, tuple[str, tuple]] = {"landmark_source": ("U", ()), "appearance": ("U", ())}
#: 'simulated': the detector-noise model (generate.py); 'mediapipe': MediaPipe run on a render (detected_clips.py).
LANDMARK_SOURCES = ("simulated", "mediapipe")


def write_clip(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a clip file atomically (temp file, then rename)."""
    check_clip(arrays, str(path))
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def load_clip(path: str | Path) -> dict[str, np.ndarray]:
    """Read and check one clip file; ValueError naming the problem otherwise."""
    with np.load(Path(path), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    check_clip(arrays, str(path))
    return arrays


def check_clip(arrays: dict[str, np.ndarray], where: str = "clip") -> None:
    """Raise ValueError unless `arrays` has every CLIP_ARRAYS entry, and any OPTIONAL_ARRAYS entry it has,
    with its dtype kind and shape, and a known landmark source."""
    if "format" in arrays and str(arrays["format"]) != CLIP_FORMAT:
        raise ValueError(f"{where}: format {str(arrays['format'])!r}, expected {CLIP_FORMAT!r}")
    missing = sorted(set(CLIP_ARRAYS) - set(arrays))
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    frames = arrays["pose_aa"].shape[0]
    for name, (kind, shape) in {**CLIP_ARRAYS, **OPTIONAL_ARRAYS}.items():
        if name not in arrays:
            continue
        value = np.asarray(arrays[name])
        want = tuple(frames if s == "F" else s for s in shape)
        if value.dtype.kind != kind or value.shape != want:
            raise ValueError(f"{where}: {name} is {value.dtype}{value.shape}, expected kind {kind!r} shape {want}")
    if str(arrays.get("landmark_source", "simulated")) not in LANDMARK_SOURCES:
        raise ValueError(f"{where}: landmark_source {str(arrays['landmark_source'])!r}, expected one of "
                         f"{LANDMARK_SOURCES}")


def is_detected(clip: dict[str, np.ndarray]) -> bool:
    """Whether a clip holds MediaPipe's real output (landmark_source 'mediapipe'), not simulated landmarks."""
    return str(clip.get("landmark_source", "simulated")) == "mediapipe"


def world_in_camera_axes(clip: dict[str, np.ndarray], lean_share: float | None = None) -> dict[str, np.ndarray]:
    """The clip with MediaPipe's real world landmarks (landmark_source 'mediapipe', seen from a crop around the
    person) turned into camera axes by the ray to the hips, with the clip's focal length, as the bridge turns
    them for a network that reads them so (bridge/crop_view.py; lean_share None: crop_view.LEAN_SHARE); a
    simulated clip is in camera axes already and comes back as it is."""
    if not is_detected(clip):
        return clip
    from bridge.crop_view import LEAN_SHARE, crop_to_camera_axes

    size = tuple(int(v) for v in clip["image_size"])
    share = LEAN_SHARE if lean_share is None else lean_share
    return {**clip, "mp_world": crop_to_camera_axes(clip["mp_world"], clip["mp_image"], float(clip["focal_px"]), size,
                                                    share)}
