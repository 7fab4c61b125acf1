"""How many CPU threads the bridge's compute may use, chosen once at start-up, before torch is imported.

torch starts one busy-waiting OpenMP thread per core by default. Beside Blender, a render or another bridge
job, those threads spin against the other process and the model stage slows several-fold (issue 14: 1.8 s
became 17.8 s beside a second job). So the bridge uses at most the CPUs it may run on
(os.sched_getaffinity, not the machine's count), its OpenMP threads sleep instead of spinning when idle
(OMP_WAIT_POLICY=PASSIVE: 2-thread training under contention went from 0.15 to 1.4 steps/s), and torch's
inter-op pool is one thread. A number given by the user (--threads, the add-on's preference) wins.
Environment variables the user set themselves are left alone.
"""
from __future__ import annotations

import os
import sys

ENV_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # macOS and Windows have no affinity call
        return max(os.cpu_count() or 1, 1)


def choose_threads(requested: int | None = None) -> int:
    """The requested count (at least 1), else every available CPU."""
    return max(int(requested), 1) if requested else available_cpus()


def in_force() -> int:
    """The thread count in force: what configure() set (or the user's OMP_NUM_THREADS), else every available
    CPU; never more than the CPUs available."""
    try:
        count = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        count = 0
    return min(count, available_cpus()) if count > 0 else available_cpus()


#: Most landmarkers run side by side: each holds its own model and frame queue, and past this the pieces of a
#: short clip are mostly warm-up.
MAX_DETECT_WORKERS = 8


def detect_workers() -> int:
    """Landmarkers to run side by side (bridge/parallel_tracking.py): one per thread in force. MediaPipe keeps one
    core busy per landmarker, so one pass leaves the others to the network, which then waits for detection.
    Measured on 2 cores, a 600-frame 720p clip (3 interleaved runs each): as fast as one pass on a quiet machine
    (15.4 s against 15.3), 10 % faster beside a bursty 2-thread compute process (22.3 s against 24.8). With
    MediaPipe's person-mask decoder still running (before scripts/tflite_graph.py) it was 16.7 s against 22.9."""
    return min(in_force(), MAX_DETECT_WORKERS)


def configure(requested: int | None = None) -> int:
    """Apply the policy; returns the thread count. Call before torch is imported (the OpenMP settings are
    read when its library loads); if torch is already loaded its intra-op count is still set."""
    threads = choose_threads(requested)
    for name in ENV_THREAD_VARIABLES:
        if requested or name not in os.environ:
            os.environ[name] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(threads)
    return threads


def torch_started() -> None:
    """Keep torch's inter-op pool to one thread (only possible before its first parallel work)."""
    import torch

    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already running parallel work: the pool keeps its size
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", available_cpus())))
