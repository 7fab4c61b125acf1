"""Print what a per-frame image feature from BlazePose's own network would cost the bridge (issue #10, item 5).

The paper's MCR attends to per-frame image features; the bridge's ARTS reads landmark vectors. The pose
bundle's landmark model already computes, on the 256x256 person crop, a tensor its landmark, world-landmark
and pose-flag heads all read (FEATURE_TENSOR, 1x2x2x288). This script cuts the bundle's landmark model down to
that tensor (scripts/tflite_graph.output_at) and times it beside the whole landmark model, one crop at a
time, on 1 and 2 threads. Each head is a single 2x2 convolution of that tensor, so MediaPipe's world landmarks
(which the network reads already) are one linear map of it: a feature that adds evidence about depth is more
likely found in the spatial backbone before it (8x8x864) than in this tensor. The runtime is LiteRT, which the
bridge does not depend on yet:
    pip install ai-edge-litert   # 2.3.0 tried
    python scripts/bench_pose_features.py [--runs 60] [--out cut.tflite]
The crops are random pixels: the network's cost does not depend on what it sees.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a file: make the `scripts` package importable
    sys.path.insert(0, str(REPO))

from scripts.build_pose_task import build_pose_task  # noqa: E402
from scripts.tflite_graph import output_at  # noqa: E402

LANDMARK_MODEL = "pose_landmarks_detector.tflite"
#: The last tensor the landmark model's landmark, world-landmark and pose-flag heads share (1x2x2x288).
FEATURE_TENSOR = "model_1/model/re_lu_63/Relu6;model_1/model/add_22/add"


def landmark_model(task: Path) -> bytes:
    with zipfile.ZipFile(task) as zf:
        return zf.read(LANDMARK_MODEL)


def time_model(model: bytes, threads: int, runs: int, warmup: int = 5) -> tuple[list[float], tuple[int, ...]]:
    """Milliseconds per invoke after `warmup` invokes, and the first output's shape."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model, num_threads=threads)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    crop = np.random.default_rng(0).random(source["shape"], dtype=np.float32)
    times_ms = []
    for k in range(warmup + runs):
        t0 = time.perf_counter()
        interpreter.set_tensor(source["index"], crop)
        interpreter.invoke()
        if k >= warmup:
            times_ms.append((time.perf_counter() - t0) * 1e3)
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    return times_ms, tuple(out.shape)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--out", type=Path, default=None, help="also write the cut model here")
    args = ap.parse_args()
    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        sys.exit("this benchmark needs LiteRT: pip install ai-edge-litert")
    whole = landmark_model(build_pose_task())
    cut = output_at(whole, FEATURE_TENSOR)
    if args.out:
        args.out.write_bytes(cut)
    print(f"{os.cpu_count()} CPUs visible; {args.runs} crops each (first 5 not timed)")
    for label, model in (("whole landmark model", whole), ("cut at the shared feature", cut)):
        for threads in (1, 2):
            ms, shape = time_model(model, threads, args.runs)
            print(f"{label}, {threads} thread(s): median {statistics.median(ms):.2f} ms/crop, "
                  f"p90 {np.percentile(ms, 90):.2f}; first output {shape}")


if __name__ == "__main__":
    main()
