"""Opt-in visual check of a processed clip: the detected 2D skeleton and the projected 3D joints over the video.

Written as an MPEG-4 video ('mp4v', the encoder every OpenCV build has) when the path ends in .mp4, or
as a contact sheet (a grid of evenly spaced frames) for .png/.jpg. Green: MediaPipe's detection (grey
where the frame was not detected); orange: the SMPL joints of the results projected with the fitted
camera, so misplaced translation or a wrong pose shows up as the two skeletons parting.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from .camera import principal_point, project
from .results import ClipResult
from .skeleton import SMPL_BONES
from .video import VideoInfo, iter_frames, iter_selected_frames

#: Body connections between MediaPipe landmarks drawn in the preview (face details left out).
MEDIAPIPE_BODY_EDGES: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31), (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
    (0, 2), (0, 5), (2, 7), (5, 8))
DETECTED_BGR = (80, 220, 80)
INTERPOLATED_BGR = (160, 160, 160)
PROJECTED_BGR = (0, 140, 255)
CONTACT_SHEET_FRAMES = 12
KEYPOINT_MIN_CONFIDENCE = 0.3


def draw_overlay(frame_bgr: np.ndarray, result: ClipResult, k: int) -> np.ndarray:
    """Draw frame k of `result` onto a copy of frame_bgr (H, W, 3)."""
    out = frame_bgr.copy()
    scale = max(1, round(max(out.shape[:2]) / 480))
    kp = result.keypoints_2d[k]
    colour = DETECTED_BGR if result.valid[k] else INTERPOLATED_BGR
    for a, b in MEDIAPIPE_BODY_EDGES:
        if not result.valid[k] or min(kp[a, 2], kp[b, 2]) >= KEYPOINT_MIN_CONFIDENCE:
            cv2.line(out, _pt(kp[a]), _pt(kp[b]), colour, scale, cv2.LINE_AA)
    joints = result.joints_3d[k]
    if np.all(joints[:, 2] > 1e-3):
        uv = project(joints, result.focal_px, principal_point(result.image_size))
        for a, b in SMPL_BONES:
            cv2.line(out, _pt(uv[a]), _pt(uv[b]), PROJECTED_BGR, scale, cv2.LINE_AA)
        for p in uv:
            cv2.circle(out, _pt(p), 2 * scale, PROJECTED_BGR, -1, cv2.LINE_AA)
    label = f"frame {int(result.frame_indices[k])}" + ("" if result.valid[k] else " (not detected)")
    cv2.putText(out, label, (8, 20 * scale), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, (255, 255, 255), scale + 1)
    cv2.putText(out, label, (8, 20 * scale), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, (0, 0, 0), scale)
    return out


def _pt(p: np.ndarray) -> tuple[int, int]:
    x, y = float(p[0]), float(p[1])
    big = 1 << 15  # keep far-off points drawable (cv2 needs int coordinates)
    return int(np.clip(x, -big, big)), int(np.clip(y, -big, big))


def write_preview(path: str | Path, info: VideoInfo, result: ClipResult,
                  should_cancel: Callable[[], bool] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> Path:
    """Write a preview video (.mp4) or contact sheet (.png/.jpg) for `result`, decoded from info.path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".png", ".jpg", ".jpeg"):
        raise ValueError(f"preview must end in .mp4 (video) or .png/.jpg (contact sheet), got '{path.name}'")
    path.parent.mkdir(parents=True, exist_ok=True)
    row_of = {int(f): k for k, f in enumerate(result.frame_indices)}
    if suffix == ".mp4":
        _write_video(path, info, result, row_of, should_cancel, progress)
    else:
        _write_sheet(path, info, result, row_of)
    return path


def _write_video(path: Path, info: VideoInfo, result: ClipResult, row_of: dict[int, int],
                 should_cancel: Callable[[], bool] | None, progress: Callable[[int, int], None] | None) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(result.fps), info.image_size)
    if not writer.isOpened():
        raise OSError(f"cannot write preview video {path}")
    total = result.num_frames
    try:
        first, last = int(result.frame_indices[0]), int(result.frame_indices[-1])
        for done, (index, frame) in enumerate(iter_frames(info.path, first, last + 1), start=1):
            if index in row_of:
                writer.write(draw_overlay(frame, result, row_of[index]))
            if done % 25 == 0:
                if should_cancel is not None and should_cancel():
                    raise InterruptedError("cancelled")
                if progress is not None:
                    progress(done, total)
    finally:
        writer.release()


def _write_sheet(path: Path, info: VideoInfo, result: ClipResult, row_of: dict[int, int],
                 columns: int = 4, tile_width_px: int = 320) -> None:
    picks = np.unique(np.linspace(0, result.num_frames - 1, CONTACT_SHEET_FRAMES).round().astype(int))
    wanted = [int(result.frame_indices[k]) for k in picks]
    scale = tile_width_px / info.width
    tile_size = (tile_width_px, max(1, round(info.height * scale)))
    tiles = [cv2.resize(draw_overlay(frame, result, row_of[index]), tile_size, interpolation=cv2.INTER_AREA)
             for index, frame in iter_selected_frames(info.path, wanted)]
    if not tiles:
        raise OSError(f"no frame of {info.path} could be decoded for the contact sheet")
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * tile_size[1], columns * tile_size[0], 3), 255, dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * tile_size[1]:(r + 1) * tile_size[1], c * tile_size[0]:(c + 1) * tile_size[0]] = tile
    if not cv2.imwrite(str(path), sheet):
        raise OSError(f"cannot write contact sheet {path}")
