"""Read and add the TFLite model metadata that MediaPipe's Tasks API needs to feed images to a model.

A Tasks graph converts an RGB image (uint8, 0..255) to a float32 input tensor with the
`NormalizationOptions` (mean, std) found in the model's `TFLITE_METADATA` buffer:
`tensor = (pixel - mean) / std`. Models without it are refused for float inputs, so a bare
`.tflite` taken from an old mediapipe wheel must have it added before it goes into a `.task`.

mediapipe 1.2.2's own metadata writer cannot be imported (its C extension for the parser
version is missing from the wheel), so this module builds the metadata flatbuffer with the
generated schema classes that the wheel does ship, and repacks the model with `flatbuffers`.
Output is deterministic for a given input, `flatbuffers` version and schema.
"""
from __future__ import annotations

from dataclasses import dataclass

import flatbuffers
import numpy as np
from mediapipe.tasks.metadata import metadata_schema_py_generated as metadata_fb
from mediapipe.tasks.metadata import schema_py_generated as tflite_fb

METADATA_NAME = "TFLITE_METADATA"
METADATA_FILE_IDENTIFIER = b"M001"
TFLITE_FILE_IDENTIFIER = b"TFL3"
# Normalisation options and image properties are part of metadata schema 1.0.0; a parser at
# least that new can read what we write.
MIN_PARSER_VERSION = "1.0.0"
# TFLite's own converter starts every weight buffer on a 16-byte boundary so the runtime can
# use the weights in place; Python's generic packing would not, and TFLite then copies them.
WEIGHT_ALIGNMENT = 16


class MetadataError(ValueError):
    """A model's metadata is missing, malformed or not what the bundle needs."""


@dataclass(frozen=True)
class ImageNormalization:
    """Per-channel-shared input normalisation: tensor = (pixel - mean) / std, pixels 0..255."""

    mean: float
    std: float


@dataclass(frozen=True)
class TensorDescription:
    """Name and one-line meaning of a model input or output, stored in the metadata."""

    name: str
    description: str


def _model(model: bytes) -> tflite_fb.Model:
    if not tflite_fb.Model.ModelBufferHasIdentifier(model, 0):
        raise MetadataError("not a TFLite model (missing the 'TFL3' file identifier)")
    return tflite_fb.Model.GetRootAsModel(model, 0)


def _metadata_buffer(model: bytes) -> bytes | None:
    """The raw `TFLITE_METADATA` flatbuffer of a model, or None when it has none."""
    root = _model(model)
    for i in range(root.MetadataLength()):
        entry = root.Metadata(i)
        if entry.Name() == METADATA_NAME.encode():
            return root.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    return None


def read_image_normalization(model: bytes) -> ImageNormalization | None:
    """The input image normalisation declared in a TFLite model's metadata (None if undeclared)."""
    buffer = _metadata_buffer(model)
    if buffer is None:
        return None
    if not metadata_fb.ModelMetadata.ModelMetadataBufferHasIdentifier(buffer, 0):
        raise MetadataError(f"{METADATA_NAME} buffer lacks the '{METADATA_FILE_IDENTIFIER.decode()}' identifier")
    meta = metadata_fb.ModelMetadataT.InitFromObj(metadata_fb.ModelMetadata.GetRootAsModelMetadata(buffer, 0))
    if not meta.subgraphMetadata or not meta.subgraphMetadata[0].inputTensorMetadata:
        return None
    for unit in meta.subgraphMetadata[0].inputTensorMetadata[0].processUnits or []:
        if unit.optionsType == metadata_fb.ProcessUnitOptions.NormalizationOptions:
            mean, std = np.asarray(unit.options.mean), np.asarray(unit.options.std)
            if mean.size != 1 or std.size != 1:
                raise MetadataError(f"expected one shared mean/std, got mean={mean.tolist()} std={std.tolist()}")
            return ImageNormalization(float(mean[0]), float(std[0]))
    return None


def _tensor_metadata(described: TensorDescription) -> metadata_fb.TensorMetadataT:
    tensor = metadata_fb.TensorMetadataT()
    tensor.name = described.name
    tensor.description = described.description
    return tensor


def _image_input_metadata(described: TensorDescription, norm: ImageNormalization) -> metadata_fb.TensorMetadataT:
    """RGB image input with its normalisation and the value range it produces."""
    options = metadata_fb.NormalizationOptionsT()
    options.mean, options.std = [norm.mean], [norm.std]
    unit = metadata_fb.ProcessUnitT()
    unit.optionsType = metadata_fb.ProcessUnitOptions.NormalizationOptions
    unit.options = options
    image = metadata_fb.ImagePropertiesT()
    image.colorSpace = metadata_fb.ColorSpaceType.RGB
    content = metadata_fb.ContentT()
    content.contentPropertiesType = metadata_fb.ContentProperties.ImageProperties
    content.contentProperties = image
    stats = metadata_fb.StatsT()
    stats.min = [(0.0 - norm.mean) / norm.std]
    stats.max = [(255.0 - norm.mean) / norm.std]
    tensor = _tensor_metadata(described)
    tensor.content, tensor.processUnits, tensor.stats = content, [unit], stats
    return tensor


def build_image_model_metadata(
    name: str,
    description: str,
    image_input: TensorDescription,
    norm: ImageNormalization,
    outputs: list[TensorDescription],
) -> bytes:
    """A `ModelMetadata` flatbuffer for a one-image-input model (file identifier M001)."""
    subgraph = metadata_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [_image_input_metadata(image_input, norm)]
    subgraph.outputTensorMetadata = [_tensor_metadata(o) for o in outputs]
    meta = metadata_fb.ModelMetadataT()
    meta.name, meta.description = name, description
    meta.subgraphMetadata = [subgraph]
    meta.minParserVersion = MIN_PARSER_VERSION
    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), METADATA_FILE_IDENTIFIER)
    return bytes(builder.Output())


class _AlignedBufferT(tflite_fb.BufferT):
    """A TFLite buffer packed with its data on a WEIGHT_ALIGNMENT boundary (see the constant)."""

    def Pack(self, builder: flatbuffers.Builder) -> int:
        data = None
        if self.data is not None:
            raw = np.ascontiguousarray(self.data, dtype=np.uint8).tobytes()
            builder.StartVector(1, len(raw), WEIGHT_ALIGNMENT)
            builder.head = builder.Head() - len(raw)
            builder.Bytes[builder.Head() : builder.Head() + len(raw)] = raw
            data = builder.EndVector()
        tflite_fb.BufferStart(builder)
        if data is not None:
            tflite_fb.BufferAddData(builder, data)
        tflite_fb.BufferAddOffset(builder, self.offset)
        tflite_fb.BufferAddSize(builder, self.size)
        return tflite_fb.BufferEnd(builder)


def _aligned(buffer: tflite_fb.BufferT) -> _AlignedBufferT:
    aligned = _AlignedBufferT()
    aligned.data, aligned.offset, aligned.size = buffer.data, buffer.offset, buffer.size
    return aligned


def add_metadata(model: bytes, metadata: bytes) -> bytes:
    """Return `model` with `metadata` stored as its `TFLITE_METADATA` entry.

    Refuses a model that already has metadata, so nothing the model's authors wrote is replaced.
    """
    if _metadata_buffer(model) is not None:
        raise MetadataError(f"the model already has {METADATA_NAME}; refusing to replace it")
    root = unpack_model(model)
    stored = tflite_fb.BufferT()
    stored.data = np.frombuffer(metadata, dtype=np.uint8)
    root.buffers.append(stored)
    entry = tflite_fb.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(root.buffers) - 1
    root.metadata = [*(root.metadata or []), entry]
    return pack_model(root, len(model) + len(metadata))


def unpack_model(model: bytes) -> tflite_fb.ModelT:
    """A model as editable objects (weights stored inside the flatbuffer only)."""
    root = tflite_fb.ModelT.InitFromObj(_model(model))
    if any(b.offset for b in root.buffers):
        raise MetadataError("models with weights stored outside the flatbuffer (> 2 GB) are not supported")
    return root


def pack_model(root: tflite_fb.ModelT, size_hint: int = 0) -> bytes:
    """`root` packed as a TFLite file, every weight buffer on a WEIGHT_ALIGNMENT boundary."""
    root.buffers = [_aligned(b) for b in root.buffers]
    builder = flatbuffers.Builder(size_hint + 4096)
    builder.Finish(root.Pack(builder), TFLITE_FILE_IDENTIFIER)
    return bytes(builder.Output())


def tensor_names(model: bytes) -> tuple[list[str], list[str]]:
    """Names of the model's (inputs, outputs) in subgraph 0, in model order."""
    graph = _model(model).Subgraphs(0)
    inputs = [graph.Tensors(graph.Inputs(i)).Name().decode() for i in range(graph.InputsLength())]
    outputs = [graph.Tensors(graph.Outputs(i)).Name().decode() for i in range(graph.OutputsLength())]
    return inputs, outputs
