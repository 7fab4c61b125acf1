"""2D/3D body landmarks per frame with MediaPipe's PoseLandmarker (Tasks API, CPU delegate, offline model).

The model bundle `bridge/assets/pose_landmarker_full.task` is built locally by scripts/build_pose_task.py
(nothing is downloaded at run time). Its landmark model no longer computes the person mask (a third of its
CPU time), so a landmarker asked for segmentation masks would get empty ones: the bridge never asks. VIDEO
mode lets MediaPipe track a person from frame to frame instead of re-detecting, which is both faster and
steadier; IMAGE mode is for sparse samples (list_people).
mediapipe is imported when a detector is created, so importing this module stays cheap.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEFAULT_TASK_PATH = Path(__file__).resolve().parent / "assets" / "pose_landmarker_full.task"
NUM_LANDMARKS = 33


class DetectorMissingError(FileNotFoundError):
    """The pose landmarker bundle is not installed (protocol error code "model_missing")."""

    code = "model_missing"


@dataclass
class FramePoses:
    """Every pose MediaPipe found in one frame; P = number of poses (0 when nobody was found).

    image: (P, 33, 4) float32 [x_px, y_px, visibility, presence] in the full-resolution frame.
    world: (P, 33, 3) float32 metres, MediaPipe's hip-centred world landmarks.
    """

    image: np.ndarray
    world: np.ndarray

    @property
    def count(self) -> int:
        return int(self.image.shape[0])


def resolve_task_path(task_path: str | Path | None = None) -> Path:
    """The landmarker bundle to use; DetectorMissingError says how to build it when it is absent."""
    path = Path(task_path) if task_path is not None else DEFAULT_TASK_PATH
    if not path.is_file():
        raise DetectorMissingError(
            f"pose landmarker model not found at {path}. Build it once with "
            "`python scripts/build_pose_task.py` (or run `python scripts/setup_env.py`), then try again.")
    return path


class PoseDetector:
    """A MediaPipe PoseLandmarker on the CPU.

    video_mode: frames must come in time order with increasing timestamps (MediaPipe tracks between them).
    num_poses: most people reported per frame. max_side_px: frames larger than this are downscaled before
    detection (landmarks are normalised, so they map back to full-resolution pixels exactly); None = never.
    """

    def __init__(self, task_path: str | Path | None = None, video_mode: bool = True, num_poses: int = 1,
                 max_side_px: int | None = 1280, min_detection_confidence: float = 0.5,
                 min_presence_confidence: float = 0.5, min_tracking_confidence: float = 0.5):
        path = resolve_task_path(task_path)
        from mediapipe.tasks.python.core.base_options import BaseOptions
        from mediapipe.tasks.python.vision import pose_landmarker
        from mediapipe.tasks.python.vision.core.vision_task_running_mode import VisionTaskRunningMode

        import mediapipe

        self._mp_image = mediapipe.Image
        self._srgb = mediapipe.ImageFormat.SRGB
        options = pose_landmarker.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path), delegate=BaseOptions.Delegate.CPU),
            running_mode=VisionTaskRunningMode.VIDEO if video_mode else VisionTaskRunningMode.IMAGE,
            num_poses=num_poses, min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_presence_confidence, min_tracking_confidence=min_tracking_confidence)
        try:
            self._landmarker = pose_landmarker.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise DetectorMissingError(f"cannot load the pose landmarker model {path}: {exc}. Rebuild it with "
                                       "`python scripts/build_pose_task.py`.") from exc
        self.video_mode = video_mode
        self.max_side_px = max_side_px
        self._last_timestamp_ms = -1

    def _to_mp_image(self, frame_bgr: np.ndarray):
        height, width = frame_bgr.shape[:2]
        side = max(height, width)
        if self.max_side_px is not None and side > self.max_side_px:
            scale = self.max_side_px / side
            frame_bgr = cv2.resize(frame_bgr, (max(1, round(width * scale)), max(1, round(height * scale))),
                                   interpolation=cv2.INTER_AREA)
        rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        return self._mp_image(image_format=self._srgb, data=rgb)

    def detect(self, frame_bgr: np.ndarray, timestamp_ms: int | None = None) -> FramePoses:
        """Landmarks of everyone found in a BGR uint8 frame (H, W, 3); VIDEO mode needs timestamp_ms."""
        height, width = frame_bgr.shape[:2]
        image = self._to_mp_image(frame_bgr)
        if self.video_mode:
            if timestamp_ms is None:
                raise ValueError("VIDEO mode needs a timestamp for every frame")
            # MediaPipe refuses non-increasing timestamps; a rounding tie (fps > 1000) moves on by 1 ms.
            timestamp_ms = max(int(timestamp_ms), self._last_timestamp_ms + 1)
            self._last_timestamp_ms = timestamp_ms
            result = self._landmarker.detect_for_video(image, timestamp_ms)
        else:
            result = self._landmarker.detect(image)
        return poses_from_result(result.pose_landmarks, result.pose_world_landmarks, width, height)

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> PoseDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _value(v: float | None, default: float) -> float:
    return default if v is None else float(v)


def poses_from_result(pose_landmarks: list, pose_world_landmarks: list, width: int, height: int) -> FramePoses:
    """MediaPipe landmark lists -> FramePoses in pixels of a width x height frame.

    Missing visibility/presence (models that do not predict them) count as 1.
    """
    count = len(pose_landmarks)
    image = np.zeros((count, NUM_LANDMARKS, 4), dtype=np.float32)
    world = np.zeros((count, NUM_LANDMARKS, 3), dtype=np.float32)
    for p, landmarks in enumerate(pose_landmarks):
        image[p] = [(lm.x * width, lm.y * height, _value(lm.visibility, 1.0), _value(lm.presence, 1.0))
                    for lm in landmarks[:NUM_LANDMARKS]]
    for p, landmarks in enumerate(pose_world_landmarks[:count]):
        world[p] = [(lm.x, lm.y, lm.z) for lm in landmarks[:NUM_LANDMARKS]]
    return FramePoses(image=image, world=world)
