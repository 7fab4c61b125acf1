"""Video input: probing and streaming decode with OpenCV, one frame in memory at a time (plus a short prefetch).

Memory stays flat in the video's length: frames are yielded as they are decoded and never collected.
Phone videos store their rotation as metadata; OpenCV's FFmpeg backend applies it while decoding
(CAP_PROP_ORIENTATION_AUTO, on by default) and we report the angle, so landmarks are found in the upright
image the user sees. Every failure is a VideoError with a `code` and a message that says what to do.
"""
from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEFAULT_FPS = 30.0
VIDEO_ERROR_CODES: tuple[str, ...] = ("not_found", "empty", "unsupported", "unreadable", "no_frames", "bad_range")

# Leading bytes of the containers FFmpeg reads; anything else (an image, a text file) is refused up front.
_CONTAINER_MAGIC: tuple[tuple[int, bytes], ...] = (
    (4, b"ftyp"), (4, b"moov"), (4, b"mdat"), (4, b"free"), (4, b"wide"), (4, b"skip"),  # MP4 / MOV
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (0, b"RIFF"),  # AVI
    (0, b"\x00\x00\x01\xba"), (0, b"\x00\x00\x01\xb3"),  # MPEG program / elementary stream
    (0, b"FLV"), (0, b"OggS"), (0, b"YUV4MPEG2"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"),  # ASF / WMV
)


class VideoError(Exception):
    """A video that cannot be used; `code` is one of VIDEO_ERROR_CODES."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VideoInfo:
    """What the pipeline needs to know about a video, measured on the upright (rotated) frames."""

    path: str
    width: int  # px, after rotation
    height: int  # px, after rotation
    fps: float
    frame_count: int  # from the container; can be an estimate (0 = unknown)
    rotation_deg: int  # rotation metadata applied while decoding (0, 90, 180, 270)
    codec: str  # FourCC, e.g. "avc1"
    fps_from_file: bool  # False: the file had no usable frame rate and DEFAULT_FPS was assumed

    @property
    def image_size(self) -> tuple[int, int]:
        return self.width, self.height


def _looks_like_video(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(200)
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:  # MPEG transport stream sync bytes
        return True
    return any(head[offset:offset + len(magic)] == magic for offset, magic in _CONTAINER_MAGIC)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VideoError("not_found", f"video file not found: {path}")
    if not path.is_file():
        raise VideoError("not_found", f"not a file: {path}")
    if path.stat().st_size == 0:
        raise VideoError("empty", f"video file is empty (0 bytes): {path}")
    if not _looks_like_video(path):
        raise VideoError("unsupported", f"{path.name} is not a video container OpenCV can read (MP4, MOV, MKV, "
                         "WebM, AVI, MPEG, FLV, OGG, WMV); convert it to MP4 (H.264) first")


def _open(path: Path) -> cv2.VideoCapture:
    _check_file(path)
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise VideoError("unreadable", f"cannot open {path.name}: the file is corrupt or truncated, or uses a codec "
                         "this OpenCV build cannot decode; re-export it as MP4 (H.264)")
    return cap


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip() else ""


def probe(path: str | Path) -> VideoInfo:
    """Open a video, decode its first frame to prove it is readable, and describe it."""
    path = Path(path)
    cap = _open(path)
    try:
        ok, frame = cap.read()
        if not ok or frame is None:
            raise VideoError("no_frames", f"{path.name} opened but no frame could be decoded: the file is corrupt, "
                             "truncated, or has no video stream")
        fps = cap.get(cv2.CAP_PROP_FPS)
        fps_ok = math.isfinite(fps) and 0.5 <= fps <= 1000.0
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        rotation = cap.get(cv2.CAP_PROP_ORIENTATION_META)
        return VideoInfo(
            path=str(path), width=int(frame.shape[1]), height=int(frame.shape[0]),
            fps=float(fps) if fps_ok else DEFAULT_FPS,
            frame_count=int(count) if math.isfinite(count) and count > 0 else 0,
            rotation_deg=int(round(rotation)) % 360 if math.isfinite(rotation) else 0,
            codec=_fourcc(cap), fps_from_file=fps_ok)
    finally:
        cap.release()


def resolve_range(info: VideoInfo, start_frame: int = 0, end_frame: int | None = None) -> tuple[int, int | None]:
    """Check a [start, end) frame range against the video; end None = to the last frame."""
    if start_frame < 0:
        raise VideoError("bad_range", f"start frame must be >= 0, got {start_frame}")
    if end_frame is not None and end_frame <= start_frame:
        raise VideoError("bad_range", f"end frame ({end_frame}) must be greater than start frame ({start_frame})")
    if info.frame_count and start_frame >= info.frame_count:
        raise VideoError("bad_range", f"start frame {start_frame} is past the end of the video "
                         f"({info.frame_count} frames)")
    if info.frame_count and end_frame is not None:
        end_frame = min(end_frame, info.frame_count)
    return start_frame, end_frame


def expected_frames(info: VideoInfo, start_frame: int = 0, end_frame: int | None = None) -> int:
    """Frames the range should hold according to the container (0 if unknown); for progress totals only."""
    end = end_frame if end_frame is not None else info.frame_count
    if end is None or end <= 0:
        return 0
    if info.frame_count:
        end = min(end, info.frame_count)
    return max(end - start_frame, 0)


def _seek(cap: cv2.VideoCapture, start_frame: int) -> None:
    """Position `cap` at start_frame: a container seek when it lands exactly, else decode-and-drop."""
    if start_frame == 0:
        return
    if cap.set(cv2.CAP_PROP_POS_FRAMES, start_frame) and int(cap.get(cv2.CAP_PROP_POS_FRAMES)) == start_frame:
        return
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    for _ in range(start_frame):
        if not cap.grab():
            break


def iter_frames(path: str | Path, start_frame: int = 0, end_frame: int | None = None
                ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame_index, frame BGR uint8 (H, W, 3)) for frames in [start_frame, end_frame), upright."""
    path = Path(path)
    cap = _open(path)
    try:
        _seek(cap, start_frame)
        index = start_frame
        while end_frame is None or index < end_frame:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            yield index, frame
            index += 1
        if index == start_frame:
            raise VideoError("no_frames", f"no frame could be decoded from {path.name} at or after frame "
                             f"{start_frame}: the range is past the end, or the file is corrupt")
    finally:
        cap.release()


class FrameReader:
    """Frames by index, in any order: short gaps forwards are decoded through, longer jumps seeked, a step
    back reopens the file. For callers that decide the next frame from the last one (crop_recovery)."""

    def __init__(self, path: str | Path, seek_gap: int = 60):
        self._path = Path(path)
        self._cap = _open(self._path)
        self._seek_gap = seek_gap
        self._position = 0  # index of the frame the next read() returns

    def read(self, index: int) -> np.ndarray | None:
        """The frame at `index` (BGR uint8, upright), or None past the end."""
        if index < self._position:  # back: start again from a fresh capture (_seek expects one)
            self._cap.release()
            self._cap = _open(self._path)
            self._position = 0
        if index - self._position > self._seek_gap:
            _seek(self._cap, index)
            self._position = index
        while self._position < index and self._cap.grab():
            self._position += 1
        if self._position != index:
            return None
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        self._position += 1
        return frame

    def close(self) -> None:
        self._cap.release()

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iter_selected_frames(path: str | Path, indices: list[int], seek_gap: int = 60
                         ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame_index, frame) for sorted `indices` only: short gaps are decoded through, long ones seeked.

    For sparse samples of long videos (the people pass); frames past the end are silently absent.
    """
    with FrameReader(path, seek_gap) as reader:
        for index in sorted(set(indices)):
            frame = reader.read(index)
            if frame is None:
                return
            yield index, frame


def prefetch(frames: Iterator[tuple[int, np.ndarray]], depth: int = 4) -> Iterator[tuple[int, np.ndarray]]:
    """Decode ahead in a background thread (OpenCV releases the GIL), keeping at most `depth` frames queued.

    Errors raised by the decoder are re-raised in the consumer; closing the generator stops the thread.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in frames:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            slots.put(exc)
        finally:
            close = getattr(frames, "close", None)
            if close is not None and stop.is_set():
                close()

    worker = threading.Thread(target=produce, name="video-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
