"""Cut a TFLite model's output that nobody reads down to a constant, and drop the layers that made it; or cut
a model down to the layers an inner tensor needs, with that tensor as its output.

BlazePose's landmark model computes a 256x256 person mask beside its landmarks. MediaPipe's Tasks graph
reads that tensor only when a landmarker is created with `output_segmentation_masks`, which the bridge
never asks for, yet the runtime still runs the mask decoder on every frame: 40 % of the model's time on
one core. Outputs are split by position in the Tasks graph, so the output must stay, with its shape and
type; it becomes a FILL of one value (a memset), and every operator that fed only it is removed. Operators
that reach another output are kept as they were, so the other outputs are the same numbers. The mask holds
logits, so the value chosen for it is a very negative one: a landmarker asked for masks gets empty ones.

The second cut reads an inner tensor, e.g. the last one the landmark model's heads share, as a per-frame image
feature (issue #10, item 5): XNNPACK-delegated runtimes do not keep inner tensors, so they must be outputs.
"""
from __future__ import annotations

import numpy as np
from mediapipe.tasks.metadata import schema_py_generated as tflite_fb

from scripts.tflite_metadata import MetadataError, pack_model, unpack_model

#: numpy dtype of each TFLite tensor type a constant output may have.
CONSTANT_DTYPES = {tflite_fb.TensorType.FLOAT32: np.float32, tflite_fb.TensorType.INT32: np.int32}


def output_names(model: bytes) -> list[str]:
    """Subgraph 0's output tensor names, in output order."""
    return _output_names(unpack_model(model).subgraphs[0])


def _output_names(graph: tflite_fb.SubGraphT) -> list[str]:
    return [graph.tensors[t].name.decode() for t in graph.outputs]


def operators_needed(graph: tflite_fb.SubGraphT, outputs: list[int]) -> set[int]:
    """Indices of the operators that `outputs` (tensor indices) depend on."""
    producer = {int(t): k for k, op in enumerate(graph.operators) for t in op.outputs}
    needed: set[int] = set()
    pending, seen = [int(t) for t in outputs], set()
    while pending:
        tensor = pending.pop()
        if tensor < 0 or tensor in seen:  # -1 marks an optional input left out
            continue
        seen.add(tensor)
        op = producer.get(tensor)
        if op is not None and op not in needed:
            needed.add(op)
            pending.extend(int(t) for t in graph.operators[op].inputs)
    return needed


def constant_output(model: bytes, name: str, value: float) -> bytes:
    """`model` with output tensor `name` made a FILL of `value` in its own shape and type, and every operator
    that only fed it removed. Tensors and weights are left in place (no index changes)."""
    root = unpack_model(model)
    graph = root.subgraphs[0]
    names = _output_names(graph)
    if name not in names:
        raise MetadataError(f"the model has no output named {name!r}; its outputs are {names}")
    target = int(graph.outputs[names.index(name)])
    tensor = graph.tensors[target]
    if tensor.type not in CONSTANT_DTYPES or tensor.shape is None or min(tensor.shape, default=0) < 1:
        raise MetadataError(f"output {name!r} must have a fixed shape and a float32 or int32 type")
    kept = operators_needed(graph, [t for t in graph.outputs if int(t) != target])

    def constant(label: str, data: np.ndarray, kind: int) -> int:
        buffer = tflite_fb.BufferT()
        buffer.data = np.frombuffer(data.tobytes(), dtype=np.uint8)
        root.buffers.append(buffer)
        const = tflite_fb.TensorT()
        const.name, const.shape, const.type = f"{name}_{label}".encode(), np.asarray(data.shape, np.int32), kind
        const.buffer = len(root.buffers) - 1
        graph.tensors.append(const)
        return len(graph.tensors) - 1

    dims = constant("constant_shape", np.asarray(tensor.shape, np.int32), tflite_fb.TensorType.INT32)
    fill_value = constant("constant_value", np.asarray(value, CONSTANT_DTYPES[tensor.type]), tensor.type)
    code = tflite_fb.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = tflite_fb.BuiltinOperator.FILL
    code.version = 1
    root.operatorCodes.append(code)
    fill = tflite_fb.OperatorT()
    fill.opcodeIndex = len(root.operatorCodes) - 1
    fill.inputs, fill.outputs = np.asarray([dims, fill_value], np.int32), np.asarray([target], np.int32)
    fill.builtinOptionsType, fill.builtinOptions = tflite_fb.BuiltinOptions.FillOptions, tflite_fb.FillOptionsT()
    # FILL reads constants only, so it may run first; the kept operators stay in their order.
    graph.operators = [fill] + [op for k, op in enumerate(graph.operators) if k in kept]
    return pack_model(root, len(model))


def output_at(model: bytes, name: str) -> bytes:
    """`model` cut down to the operators tensor `name` needs, with that tensor its only output.

    Tensors and weights are left in place (no index changes); the runtime skips what no operator reads."""
    root = unpack_model(model)
    graph = root.subgraphs[0]
    index = {tensor.name.decode(): k for k, tensor in enumerate(graph.tensors)}
    if name not in index:
        raise MetadataError(f"the model has no tensor named {name!r}")
    kept = operators_needed(graph, [index[name]])
    if not kept:
        raise MetadataError(f"tensor {name!r} is an input or a constant, not computed by the model")
    graph.operators = [op for k, op in enumerate(graph.operators) if k in kept]
    graph.outputs = np.asarray([index[name]], np.int32)
    root.signatureDefs = None  # they name the outputs the cut removed
    return pack_model(root, len(model))
