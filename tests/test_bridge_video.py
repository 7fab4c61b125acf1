"""Video input: probing, frame ranges, rotation metadata, prefetch, and clear errors for bad files."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from bridge import video
from bridge.video import VideoError
from scripts.render_test_clip import set_mp4_rotation, write_bad_inputs


def _numbered_clip(path, frames=40, size=(96, 64), fps=25.0):
    """Frame k shows k in binary (six black/white 16 px blocks along the top), so frames can be identified."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for k in range(frames):
        img = np.zeros((size[1], size[0], 3), np.uint8)
        for bit in range(6):
            img[:16, 16 * bit:16 * bit + 16] = 255 * ((k >> bit) & 1)
        img[40:, 70:] = 255  # a marker in the bottom-right corner, to see rotations
        writer.write(img)
    writer.release()
    return path


def _level(frame) -> int:
    return sum(1 << bit for bit in range(6) if frame[4:12, 16 * bit + 4:16 * bit + 12].mean() > 128)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return _numbered_clip(tmp_path_factory.mktemp("video") / "numbered.mp4")


def test_probe(clip):
    info = video.probe(clip)
    assert (info.width, info.height) == (96, 64) and info.image_size == (96, 64)
    assert info.fps == pytest.approx(25.0) and info.fps_from_file
    assert info.frame_count == 40 and info.rotation_deg == 0 and info.codec in ("mp4v", "FMP4")


def test_iter_frames_range_and_seek(clip):
    frames = list(video.iter_frames(clip, 0, None))
    assert [i for i, _ in frames] == list(range(40))
    assert [_level(f) for _, f in frames] == list(range(40))
    part = list(video.iter_frames(clip, 25, 31))
    assert [i for i, _ in part] == list(range(25, 31))
    assert [_level(f) for _, f in part] == list(range(25, 31))
    picked = list(video.iter_selected_frames(clip, [3, 1, 30, 39, 45], seek_gap=5))
    assert [i for i, _ in picked] == [1, 3, 30, 39]
    assert [_level(f) for _, f in picked] == [1, 3, 30, 39]


def test_frame_reader_goes_forwards_backwards_and_past_the_end(clip):
    with video.FrameReader(clip, seek_gap=5) as reader:
        levels = [_level(reader.read(i)) for i in (2, 3, 20, 21, 0, 7, 39)]
        assert levels == [2, 3, 20, 21, 0, 7, 39]
        assert reader.read(40) is None and _level(reader.read(10)) == 10


def test_prefetch_keeps_order_and_stops_early(clip):
    got = [i for i, _ in video.prefetch(video.iter_frames(clip), depth=2)]
    assert got == list(range(40))
    gen = video.prefetch(video.iter_frames(clip), depth=2)
    assert next(gen)[0] == 0
    gen.close()  # must not hang with the decoder thread blocked on a full queue


def test_prefetch_reraises_decoder_errors(tmp_path):
    with pytest.raises(VideoError) as info:
        list(video.prefetch(video.iter_frames(tmp_path / "missing.mp4")))
    assert info.value.code == "not_found"


def test_ranges(clip):
    info = video.probe(clip)
    assert video.resolve_range(info, 10, 100) == (10, 40)
    assert video.expected_frames(info, 10, None) == 30
    for start, end in ((40, None), (5, 5), (-1, None)):
        with pytest.raises(VideoError) as err:
            video.resolve_range(info, start, end)
        assert err.value.code == "bad_range"


@pytest.mark.parametrize("degrees", [90, 270])
def test_rotation_metadata_is_applied(tmp_path, degrees):
    path = set_mp4_rotation(_numbered_clip(tmp_path / f"rot{degrees}.mp4", frames=5), degrees)
    info = video.probe(path)
    assert info.rotation_deg == degrees
    assert (info.width, info.height) == (64, 96)
    _, frame = next(iter(video.iter_frames(path)))
    assert frame.shape == (96, 64, 3)
    # the bottom-right marker of the stored frame ends up bottom-left (90 cw) or top-right (270 cw)
    corner = frame[-10:, :10] if degrees == 90 else frame[:10, -10:]
    assert corner.mean() > 200


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, clip):
    return write_bad_inputs(tmp_path_factory.mktemp("bad"), source_mp4=clip)


@pytest.mark.parametrize("kind, code", [("empty", "empty"), ("not_a_video", "unsupported"),
                                        ("truncated", "unreadable")])
def test_bad_files_raise_clear_errors(bad_inputs, kind, code):
    with pytest.raises(VideoError) as info:
        video.probe(bad_inputs[kind])
    assert info.value.code == code
    assert bad_inputs[kind].name in info.value.message or "empty" in info.value.message


def test_missing_and_directory(tmp_path):
    for path in (tmp_path / "nope.mp4", tmp_path):
        with pytest.raises(VideoError) as info:
            video.probe(path)
        assert info.value.code == "not_found"


def test_no_person_clip_is_a_readable_video(bad_inputs):
    info = video.probe(bad_inputs["no_person"])
    assert info.frame_count == 30 and info.width == 160
