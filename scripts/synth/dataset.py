"""A torch Dataset of T-frame windows over a folder of synthetic clip files (see README.md).

Training: windows start every `stride` frames plus a random offset (random crops), each window is
mirrored with probability `flip_prob` (augment.flip_clip) and seen by a camera rolled by up to
`roll_max_deg` with probability `roll_prob` (augment.roll_clip), and, with `upright_tolerance_deg`, a body
leaning further than that in the picture is seen through a camera rolled to within it (at it, or with
`upright_ramp` at a lean falling to 0 at upside down), exactly as the bridge shows a window to the network
(bridge/upright.py). With `error_scale` (lo, hi), a window of MediaPipe's real output has, with probability
`error_scale_prob`, the detector's error scaled by a factor uniform in [lo, hi] (augment.scale_detector_error)
before it is flipped or rolled. Evaluation: every window at a fixed stride,
no flip, so results are reproducible. The only module of the package that imports torch.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from bridge.models.config import WORLD_FRAMES
from bridge.upright import upright_roll

from .augment import flip_clip, roll_clip, scale_detector_error
from .clip_file import is_detected, load_clip, world_in_camera_axes

#: Per-frame arrays sliced into windows; the rest of a clip's arrays are per clip.
PER_FRAME_KEYS = ("pose_aa", "trans_m", "joints_3d", "mp_image", "mp_image_clean", "mp_world", "mp_world_clean",
                  "valid")
PER_CLIP_KEYS = ("betas", "image_size", "focal_px", "fps")


class SyntheticWindows(Dataset):
    """Windows of `window` frames from every clip of `split` ('train', 'test' or None for all) in `folder`
    (or in each of several folders, e.g. simulated and MediaPipe-detected clips together).

    Items are dicts of tensors: the PER_FRAME_KEYS as (T, ...) and the PER_CLIP_KEYS, plus `clip_index`
    (into `self.clip_ids`) and `start` (first frame of the window in its clip).
    world_frame "camera": MediaPipe's real world landmarks (clips with landmark_source 'mediapipe') are turned
    from the crop's view into camera axes with the clip's focal length, as the bridge turns them for a network
    with that config (bridge/crop_view.py; its lean by lean_share of the ray, None: crop_view.LEAN_SHARE);
    simulated ones are in camera axes already. "crop": all as stored.
    """

    def __init__(self, folder: str | Path | Sequence[str | Path], window: int = 16, split: str | None = "train",
                 stride: int | None = None, random_crop: bool = True, flip_prob: float = 0.5,
                 roll_prob: float = 0.0, roll_max_deg: float = 180.0, world_frame: str = "camera",
                 lean_share: float | None = None, upright_tolerance_deg: float | None = None,
                 upright_ramp: bool = False, error_scale: tuple[float, float] | None = None,
                 error_scale_prob: float = 0.0) -> None:
        if world_frame not in WORLD_FRAMES:
            raise ValueError(f"world_frame must be one of {WORLD_FRAMES}, got {world_frame!r}")
        folders = [Path(folder)] if isinstance(folder, (str, Path)) else [Path(f) for f in folder]
        files: list[tuple[int, Path]] = []  # (index into folders, clip file)
        for folder_index, path in enumerate(folders):
            found = sorted(path.glob("*.npz"))
            if not found:
                raise FileNotFoundError(f"no clip files in {path}; generate some with python -m scripts.synth.generate")
            files += [(folder_index, f) for f in found]
        folder = ", ".join(str(f) for f in folders)
        self.window = window
        self.random_crop = random_crop
        self.flip_prob = flip_prob
        self.roll_prob = roll_prob
        self.roll_max_rad = float(np.deg2rad(roll_max_deg))
        self.upright_tolerance_deg = upright_tolerance_deg
        self.upright_ramp = upright_ramp
        self.error_scale = error_scale if error_scale is not None and error_scale_prob > 0 else None
        self.error_scale_prob = error_scale_prob
        self.stride = stride or (max(1, window // 2) if random_crop else window)
        self.clips: list[dict[str, np.ndarray]] = []
        self.clip_ids: list[str] = []
        self.clip_folders: list[int] = []  # index into `folders` of each clip's folder
        self.folder_count = len(folders)
        for folder_index, path in files:
            clip = load_clip(path)
            if split is not None and str(clip["split"]) != split:
                continue
            if clip["pose_aa"].shape[0] < window:
                continue
            if world_frame == "camera":
                clip = world_in_camera_axes(clip, lean_share)
            self.clips.append(clip)
            self.clip_ids.append(str(clip["clip_id"]))
            self.clip_folders.append(folder_index)
        if not self.clips:
            raise ValueError(f"{folder} has no {split or ''} clips of at least {window} frames")
        self.index = [(c, start) for c, clip in enumerate(self.clips)
                      for start in range(0, clip["pose_aa"].shape[0] - window + 1, self.stride)]

    def detected_clip_ids(self, shares: Sequence[float] | None = None) -> list[str]:
        """Sorted ids of the clips of the detector's real output (landmark_source 'mediapipe') that training
        draws from: every folder, or those with a share above 0 (trained_clips.py keeps them out of choosing)."""
        return sorted({self.clip_ids[c] for c, clip in enumerate(self.clips)
                       if is_detected(clip) and (shares is None or shares[self.clip_folders[c]] > 0)})

    def window_weights(self, shares: Sequence[float]) -> np.ndarray:
        """Per-window sampling weights that draw a window from folder i with probability shares[i] (normalised),
        uniformly within the folder: a few hundred clips of MediaPipe's real output can then weigh as much as
        thousands of simulated ones. A folder without training windows must have share 0."""
        if len(shares) != self.folder_count or min(shares) < 0 or sum(shares) <= 0:
            raise ValueError(f"need {self.folder_count} non-negative shares, one per folder, got {list(shares)}")
        folder_of_window = np.array([self.clip_folders[c] for c, _ in self.index])
        counts = np.bincount(folder_of_window, minlength=self.folder_count)
        empty = [i for i, share in enumerate(shares) if share > 0 and counts[i] == 0]
        if empty:
            raise ValueError(f"folder(s) {empty} have a share but no training windows")
        per_window = np.asarray(shares, dtype=np.float64) / np.maximum(counts, 1)
        weights = per_window[folder_of_window]
        return weights / weights.sum()

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        clip_index, start = self.index[item]
        clip = self.clips[clip_index]
        if self.random_crop:
            last_start = clip["pose_aa"].shape[0] - self.window
            start = min(start + int(torch.randint(self.stride, ()).item()), last_start)
        window = {key: clip[key][start:start + self.window] for key in PER_FRAME_KEYS if key in clip}
        window.update({key: clip[key] for key in PER_CLIP_KEYS})
        if self.error_scale is not None and is_detected(clip) and float(torch.rand(())) < self.error_scale_prob:
            low, high = self.error_scale
            window = scale_detector_error(window, low + (high - low) * float(torch.rand(())))
        if self.flip_prob > 0 and float(torch.rand(())) < self.flip_prob:
            window = flip_clip(window)
        if self.roll_prob > 0 and float(torch.rand(())) < self.roll_prob:
            window = roll_clip(window, float((2.0 * torch.rand(()) - 1.0) * self.roll_max_rad))
        if self.upright_tolerance_deg is not None:  # as the bridge will show such a window (bridge/upright.py)
            angle = float(upright_roll(window["mp_image"][None], self.upright_tolerance_deg, self.upright_ramp)[0])
            if angle:
                window = roll_clip(window, angle)
        out = {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in window.items()}
        out["clip_index"] = torch.tensor(clip_index)
        out["start"] = torch.tensor(start)
        return out
