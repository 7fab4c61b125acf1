"""The offline PoseLandmarker bundle: reproducible build, pinned sources, and real landmarks on a photo.

The bundle is built on first use (about a second once the mediapipe 0.10.21 wheel is in
`.cache/`; the first run downloads the wheel with pip). A failed build fails these tests with
the build's message instead of skipping them.
"""
from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from scripts.build_pose_task import (REGISTRY, ZIP_DATE_TIME, PoseTaskError, SourceModel,
                                     build_pose_task, check_alignment, download_wheel, extract_models,
                                     load_spec, sha256_file, write_bundle)

ASTRONAUT_SIZE_PX = 512
NOSE, LEFT_EYE, RIGHT_EYE, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 0, 2, 5, 11, 12, 23, 24


def _quiet(*_args) -> None:
    return None


@pytest.fixture(scope="module")
def spec():
    return load_spec()


@pytest.fixture(scope="module")
def pose_task(spec) -> Path:
    return build_pose_task(log=_quiet)


@pytest.fixture(scope="module")
def wheel(spec) -> Path:
    return download_wheel(spec)


@pytest.fixture(scope="module")
def vision():
    # mediapipe's vision package imports matplotlib (drawing utils): it must be installed.
    from mediapipe.tasks.python import vision as mp_vision

    return mp_vision


def _mp_image(rgb: np.ndarray):
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))


def _landmarker(vision, task: Path, mode):
    from mediapipe.tasks.python import BaseOptions

    options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(task)), running_mode=mode)
    return vision.PoseLandmarker.create_from_options(options)


def _astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def _px(landmarks, width: int, height: int) -> np.ndarray:
    """(33, 2) pixel positions from normalised landmarks."""
    return np.array([[lm.x * width, lm.y * height] for lm in landmarks])


def test_bundle_matches_registry(pose_task, spec):
    assert pose_task == spec.output
    assert sha256_file(pose_task) == spec.sha256
    assert pose_task.stat().st_size == json.loads(REGISTRY.read_text())["size_bytes"]
    with zipfile.ZipFile(pose_task) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
        assert all(i.compress_type == zipfile.ZIP_STORED and i.date_time == ZIP_DATE_TIME for i in infos)
    check_alignment(pose_task.read_bytes())


def test_build_is_reproducible(tmp_path, spec, wheel, pose_task):
    rebuilt = build_pose_task(out=tmp_path / "rebuilt.task", wheel=wheel, log=_quiet)
    assert sha256_file(rebuilt) == spec.sha256
    assert rebuilt.read_bytes() == pose_task.read_bytes()


def test_up_to_date_bundle_is_left_alone(pose_task, repo_root):
    before = pose_task.stat().st_mtime_ns
    result = subprocess.run([sys.executable, str(repo_root / "scripts" / "build_pose_task.py")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "bundle ready" in result.stdout and "wrote" not in result.stdout
    assert pose_task.stat().st_mtime_ns == before


def test_changed_wheel_is_refused(tmp_path, spec):
    fake = tmp_path / spec.wheel_filename
    with zipfile.ZipFile(fake, "w") as zf:
        for model in spec.models:
            zf.writestr(model.wheel_path, b"not the pinned model")
    out = tmp_path / "x.task"
    with pytest.raises(PoseTaskError, match="pinned to " + spec.wheel_sha256):
        build_pose_task(out=out, wheel=fake, log=_quiet)
    assert not out.exists()
    # Past the wheel check, each model is checked on its own too.
    with pytest.raises(PoseTaskError, match="refusing a changed model"):
        extract_models(fake, spec.models)
    missing = SourceModel("mediapipe/modules/nothing.tflite", "0" * 64, "x.tflite", 0.0, 1.0)
    with pytest.raises(PoseTaskError, match="has no mediapipe/modules/nothing.tflite"):
        extract_models(fake, [missing])


def test_bundle_writer_aligns_and_round_trips():
    members = [("a.bin", b"\x01" * 7), ("longer_name.tflite", bytes(range(200)) * 3), ("z", b"")]
    bundle = write_bundle(members)
    assert bundle == write_bundle(members)
    check_alignment(bundle)
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        assert zf.testzip() is None
        assert [(i.filename, zf.read(i)) for i in zf.infolist()] == members
        for info in zf.infolist():
            assert info.external_attr >> 16 == 0o100644


def test_input_normalization_metadata(pose_task, unpruned_task, spec, wheel):
    from scripts.tflite_metadata import ImageNormalization, MetadataError, add_metadata, read_image_normalization
    from mediapipe.tasks.metadata import schema_py_generated as tflite_fb

    with zipfile.ZipFile(pose_task) as zf:
        bundled = {name: zf.read(name) for name in zf.namelist()}
    assert read_image_normalization(bundled["pose_detector.tflite"]) == ImageNormalization(127.5, 127.5)
    assert read_image_normalization(bundled["pose_landmarks_detector.tflite"]) == ImageNormalization(0.0, 255.0)

    sources = extract_models(wheel, spec.models)
    assert bundled["pose_detector.tflite"] == sources["pose_detector.tflite"]  # already had its metadata
    original = sources["pose_landmarks_detector.tflite"]
    assert read_image_normalization(original) is None
    with pytest.raises(MetadataError, match="already has TFLITE_METADATA"):
        add_metadata(bundled["pose_landmarks_detector.tflite"], b"")

    # Adding metadata changes no tensor and no weight (the person mask is the next step's, tested below).
    before = tflite_fb.Model.GetRootAsModel(original, 0)
    after = tflite_fb.Model.GetRootAsModel(_bundled(unpruned_task, "pose_landmarks_detector.tflite"), 0)
    assert after.BuffersLength() == before.BuffersLength() + 1
    g0, g1 = before.Subgraphs(0), after.Subgraphs(0)
    assert g1.TensorsLength() == g0.TensorsLength() and g1.OperatorsLength() == g0.OperatorsLength()
    for t in range(g0.TensorsLength()):
        a, b = g0.Tensors(t), g1.Tensors(t)
        assert a.Name() == b.Name() and a.Buffer() == b.Buffer()
        assert np.array_equal(a.ShapeAsNumpy(), b.ShapeAsNumpy())
        if before.Buffers(a.Buffer()).DataLength():
            data_a, data_b = before.Buffers(a.Buffer()).DataAsNumpy(), after.Buffers(b.Buffer()).DataAsNumpy()
            assert np.array_equal(data_a, data_b)


def test_image_mode_finds_astronaut_pose(pose_task, vision):
    image = _astronaut()
    with _landmarker(vision, pose_task, vision.RunningMode.IMAGE) as landmarker:
        result = landmarker.detect(_mp_image(image))
    assert len(result.pose_landmarks) == 1 and len(result.pose_world_landmarks) == 1
    lm = result.pose_landmarks[0]
    assert len(lm) == 33
    px = _px(lm, ASTRONAUT_SIZE_PX, ASTRONAUT_SIZE_PX)
    # Her face spans roughly x 175..275, y 60..185 px in the 512x512 photo.
    assert 180 < px[NOSE, 0] < 270 and 80 < px[NOSE, 1] < 170
    assert min(lm[i].visibility for i in (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_SHOULDER, RIGHT_SHOULDER)) > 0.8
    eyes_y = px[[LEFT_EYE, RIGHT_EYE], 1].mean()
    assert px[NOSE, 1] > eyes_y
    assert px[LEFT_SHOULDER, 1] > eyes_y + 60 and px[RIGHT_SHOULDER, 1] > eyes_y + 60
    # She faces the camera: her left side is on the image's right.
    assert px[LEFT_EYE, 0] > px[NOSE, 0] > px[RIGHT_EYE, 0]
    assert px[LEFT_SHOULDER, 0] - px[RIGHT_SHOULDER, 0] > 120

    world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks[0]])
    shoulder_width_m = np.linalg.norm(world[LEFT_SHOULDER] - world[RIGHT_SHOULDER])
    assert 0.3 < shoulder_width_m < 0.5
    assert np.linalg.norm(world[[LEFT_HIP, RIGHT_HIP]].mean(axis=0)) < 0.05  # hip-centred
    assert world[NOSE, 1] < world[LEFT_SHOULDER, 1] - 0.1  # y points down: head above shoulders
    assert world[LEFT_SHOULDER, 0] > world[RIGHT_SHOULDER, 0]  # +x is the image's right


def test_image_mode_finds_nobody_in_blank_frame(pose_task, vision):
    blank = np.full((480, 640, 3), 127, dtype=np.uint8)
    with _landmarker(vision, pose_task, vision.RunningMode.IMAGE) as landmarker:
        assert landmarker.detect(_mp_image(blank)).pose_landmarks == []


def _shifted_frames(n: int, step_px: int) -> list[tuple[np.ndarray, int]]:
    """640x480 frames with the photo (scaled to 400 px) moving right by step_px per frame."""
    import cv2

    person = cv2.resize(_astronaut(), (400, 400), interpolation=cv2.INTER_AREA)
    frames = []
    for k in range(n):
        frame = np.full((480, 640, 3), 90, dtype=np.uint8)
        x0 = 40 + k * step_px
        frame[80:480, x0 : x0 + 400] = person
        frames.append((frame, x0))
    return frames


def test_video_mode_tracks_moving_person(pose_task, vision):
    frames = _shifted_frames(5, step_px=12)
    noses = []
    with _landmarker(vision, pose_task, vision.RunningMode.VIDEO) as landmarker:
        for k, (frame, _) in enumerate(frames):
            result = landmarker.detect_for_video(_mp_image(frame), timestamp_ms=k * 33)
            assert len(result.pose_landmarks) == 1 and len(result.pose_landmarks[0]) == 33
            noses.append(_px(result.pose_landmarks[0], 640, 480)[NOSE])
        with pytest.raises(ValueError):  # timestamps must increase
            landmarker.detect_for_video(_mp_image(frames[0][0]), timestamp_ms=0)
    noses = np.array(noses)
    offsets = np.array([x0 for _, x0 in frames])
    # The nose sits at the same place on the moving photo: (223, 128) px of 512 -> scale 400/512.
    expected = np.stack([offsets + 223 * 400 / 512, np.full(len(frames), 80 + 128 * 400 / 512)], axis=1)
    assert np.abs(noses - expected).max() < 10
    assert np.all(np.diff(noses[:, 0]) > 6)


@pytest.fixture(scope="module")
def unpruned_task(tmp_path_factory, spec, wheel) -> Path:
    """The bundle as it was before the person mask was made a constant: metadata added, nothing removed."""
    from scripts.build_pose_task import prepared_model

    models = [dataclasses.replace(m, constant_outputs=()) for m in spec.models]
    sources = extract_models(wheel, models)
    path = tmp_path_factory.mktemp("unpruned") / "pose_landmarker_unpruned.task"
    path.write_bytes(write_bundle([(m.bundle_name, prepared_model(m, sources[m.bundle_name])) for m in models]))
    return path


def _bundled(task: Path, name: str) -> bytes:
    with zipfile.ZipFile(task) as zf:
        return zf.read(name)


def test_mask_output_is_a_fill_and_every_other_layer_is_kept(pose_task, unpruned_task):
    from mediapipe.tasks.metadata import schema_py_generated as tflite_fb
    from scripts.tflite_graph import operators_needed, output_names
    from scripts.tflite_metadata import unpack_model

    before = unpack_model(_bundled(unpruned_task, "pose_landmarks_detector.tflite"))
    after = unpack_model(_bundled(pose_task, "pose_landmarks_detector.tflite"))
    assert output_names(_bundled(pose_task, "pose_landmarks_detector.tflite")) == [
        "Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4"]
    g0, g1 = before.subgraphs[0], after.subgraphs[0]
    mask = int(g1.outputs[2])
    assert list(g1.tensors[mask].shape) == [1, 256, 256, 1]
    fill = g1.operators[0]
    assert after.operatorCodes[fill.opcodeIndex].builtinCode == tflite_fb.BuiltinOperator.FILL
    assert list(fill.outputs) == [mask]
    assert not any(mask in op.outputs for op in g1.operators[1:])

    def signature(model, op):
        return (model.operatorCodes[op.opcodeIndex].builtinCode, tuple(op.inputs), tuple(op.outputs))

    kept = operators_needed(g0, [t for t in g0.outputs if int(t) != mask])
    assert [signature(after, op) for op in g1.operators[1:]] == [signature(before, g0.operators[k]) for k in sorted(kept)]
    assert 0 < len(g0.operators) - len(kept) < len(g0.operators) // 4  # the mask decoder only


def test_landmarks_equal_the_unpruned_models(pose_task, unpruned_task, vision):
    from mediapipe.tasks.python import BaseOptions

    def track(task: Path) -> tuple[np.ndarray, np.ndarray, list]:
        options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(task)),
                                               running_mode=vision.RunningMode.VIDEO, output_segmentation_masks=True)
        image, world, masks = [], [], []
        with vision.PoseLandmarker.create_from_options(options) as landmarker:
            for k, (frame, _) in enumerate(_shifted_frames(4, step_px=10)):
                result = landmarker.detect_for_video(_mp_image(frame), timestamp_ms=k * 33)
                image.append([[p.x, p.y, p.z, p.visibility, p.presence] for p in result.pose_landmarks[0]])
                world.append([[p.x, p.y, p.z] for p in result.pose_world_landmarks[0]])
                masks.append(result.segmentation_masks[0].numpy_view().copy())
        return np.array(image), np.array(world), masks

    image0, world0, masks0 = track(unpruned_task)
    image1, world1, masks1 = track(pose_task)
    np.testing.assert_array_equal(image1, image0)
    np.testing.assert_array_equal(world1, world0)
    assert max(m.max() for m in masks0) > 0.5  # the model's own mask finds the person
    assert all(m.max() < 1e-6 for m in masks1)  # the bundle's is empty: a constant very negative logit


def test_an_unknown_output_is_refused(pose_task):
    from scripts.tflite_graph import constant_output
    from scripts.tflite_metadata import MetadataError

    with pytest.raises(MetadataError, match="no output named 'mask'.*Identity_2"):
        constant_output(_bundled(pose_task, "pose_landmarks_detector.tflite"), "mask", 0.0)


def test_the_shared_feature_cut_keeps_only_what_that_tensor_needs(pose_task):
    from scripts.bench_pose_features import FEATURE_TENSOR, LANDMARK_MODEL
    from scripts.tflite_graph import operators_needed, output_at
    from scripts.tflite_metadata import MetadataError, unpack_model

    whole = _bundled(pose_task, LANDMARK_MODEL)
    full, cut = unpack_model(whole), unpack_model(output_at(whole, FEATURE_TENSOR))
    g0, g1 = full.subgraphs[0], cut.subgraphs[0]
    [feature] = [int(t) for t in g1.outputs]
    assert g1.tensors[feature].name.decode() == FEATURE_TENSOR and list(g1.tensors[feature].shape) == [1, 2, 2, 288]
    needed = operators_needed(g0, [feature])
    ops = [(op.opcodeIndex, tuple(op.inputs), tuple(op.outputs)) for op in g1.operators]
    assert ops == [(op.opcodeIndex, tuple(op.inputs), tuple(op.outputs))
                   for k, op in enumerate(g0.operators) if k in needed]
    # every head reads the feature: the landmark, flag and world outputs each need all of the cut's operators
    for head in (0, 1, 4):
        assert needed < operators_needed(g0, [int(g0.outputs[head])])
    # and the world landmarks are one linear map of it (a 2x2 convolution over the 2x2 feature, then a
    # reshape): what the network already reads from them is the feature's one trained 3D projection
    from mediapipe.tasks.metadata.schema_py_generated import BuiltinOperator

    def kind(op) -> int:
        return full.operatorCodes[op.opcodeIndex].builtinCode

    world_ops = [g0.operators[k] for k in sorted(operators_needed(g0, [int(g0.outputs[4])]) - needed)]
    reading = [op for op in world_ops if feature in [int(t) for t in op.inputs]]
    assert [kind(op) for op in reading] == [BuiltinOperator.CONV_2D]
    assert list(g0.tensors[int(reading[0].inputs[1])].shape) == [117, 2, 2, 288]
    assert {kind(op) for op in world_ops} <= {BuiltinOperator.CONV_2D, BuiltinOperator.RESHAPE,
                                              BuiltinOperator.DEQUANTIZE}  # float16 weights unpacked
    assert len(g1.operators) < 0.9 * len(g0.operators)  # the mask and heatmap decoders are gone
    with pytest.raises(MetadataError, match="no tensor named 'nothing'"):
        output_at(whole, "nothing")
