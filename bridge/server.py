"""`python -m bridge serve`: the long-running process the add-on drives over stdin/stdout (bridge.protocol).

Threads: a reader parses stdin lines and answers the cheap requests itself (hello, cancel, shutdown,
malformed lines); one worker runs the queued jobs (process_video, list_people) one at a time. A cancel
reaches a running job through its flag, which the pipeline checks between frames and batches, and drops
a queued job at once. Every job ends with exactly one result or error line. stdout carries ONLY protocol
lines: at start-up file descriptor 1 is pointed at stderr, so MediaPipe/absl/TFLite C++ logging and
stray prints land there, and protocol lines go through a private duplicate of the original stdout.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import platform
import queue
import sys
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO

from . import __version__, protocol
from .crash_report import bug_message, write_crash_report
from .protocol import ProtocolError, Request

log = logging.getLogger("bridge.server")
#: How long shutdown waits for a running job to notice its cancel flag before exiting anyway.
SHUTDOWN_GRACE_S = 30.0
JOB_METHODS = ("process_video", "list_people")


@dataclass
class _Job:
    request: Request
    cancel: threading.Event = field(default_factory=threading.Event)


class Server:
    """The protocol loop over a binary input stream and a text output stream."""

    def __init__(self, inp: BinaryIO, out: TextIO):
        self._inp = inp
        self._out = out
        self._send_lock = threading.Lock()
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._state_lock = threading.Lock()
        self._pending: dict[Any, _Job] = {}  # id -> queued or running job
        self._running: _Job | None = None
        self._stopping = threading.Event()

    # -- output ---------------------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        line = protocol.encode(message)
        with self._send_lock:
            try:
                self._out.write(line)
                self._out.flush()
            except (BrokenPipeError, ValueError, OSError):  # the client is gone: nothing left to tell
                self._stopping.set()

    def _error(self, request_id: Any, code: str, message: str) -> None:
        self.send(protocol.error_message(request_id, code, message))

    # -- reader ---------------------------------------------------------------------------------------
    def serve(self) -> int:
        """Run until shutdown or end of input; returns the process exit code (0)."""
        worker = threading.Thread(target=self._work, name="bridge-worker", daemon=True)
        worker.start()
        shutdown_id: Any = None
        shutdown_requested = False
        for raw in self._inp:
            if not raw.strip():
                continue
            try:
                req = protocol.decode_request(raw)
            except ProtocolError as exc:
                self._error(exc.id, exc.code, exc.message)
                continue
            if req.method == "shutdown":
                shutdown_id, shutdown_requested = req.id, True
                break
            self._dispatch(req)
        self._stopping.set()
        self._cancel_all()
        self._jobs.put(None)
        worker.join(timeout=SHUTDOWN_GRACE_S)
        if shutdown_requested:
            self.send(protocol.result_message(shutdown_id, {"ok": True}))
        return 0

    def _dispatch(self, req: Request) -> None:
        if req.method == "hello":
            self.send(protocol.result_message(req.id, hello_info(req.params)))
        elif req.method == "cancel":
            self.send(protocol.result_message(req.id, {"target": req.params["target"],
                                                       "found": self._cancel(req.params["target"])}))
        elif req.method in JOB_METHODS:
            with self._state_lock:
                if req.id is None or req.id in self._pending:
                    self._error(req.id, "invalid_request", "a job needs an 'id' that no queued or running job uses")
                    return
                job = _Job(req)
                self._pending[req.id] = job
            self._jobs.put(job)
        else:  # decode_request only lets known methods through
            self._error(req.id, "unknown_method", f"unknown method {req.method!r}")

    def _cancel(self, target: Any) -> bool:
        with self._state_lock:
            job = self._pending.get(target)
        if job is None:
            return False
        job.cancel.set()
        return True

    def _cancel_all(self) -> None:
        with self._state_lock:
            jobs = list(self._pending.values())
        for job in jobs:
            job.cancel.set()

    # -- worker ---------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                if job.cancel.is_set():
                    self._error(job.request.id, "cancelled", "cancelled before it started")
                else:
                    self._run(job)
            finally:
                with self._state_lock:
                    self._pending.pop(job.request.id, None)

    def _run(self, job: _Job) -> None:
        from .pipeline import PipelineError

        req = job.request

        def progress(stage: str, done: int, total: int, eta_s: float | None, message: str) -> None:
            self.send(protocol.progress_event(req.id, stage, done, total, eta_s, message))

        try:
            result = run_job(req, progress, job.cancel.is_set)
        except PipelineError as exc:
            self._error(req.id, exc.code, exc.message)
        except Exception as exc:  # noqa: BLE001 - any failure must become an error reply, never a dead server
            traceback.print_exc(file=sys.stderr)
            report = write_crash_report(exc, f"request: {req.method} {req.params}")
            self._error(req.id, "internal_error", bug_message(exc, report))
        else:
            for warning in result.get("warnings", []):
                self.send(protocol.log_event(req.id, "warning", warning))
            self.send(protocol.result_message(req.id, result))


def run_job(req: Request, progress, should_cancel) -> dict[str, Any]:
    """Run one process_video or list_people request; returns the result object."""
    from . import pipeline

    params = req.params
    if req.method == "list_people":
        return pipeline.people(params["video"], params["start_frame"], params["end_frame"], params["samples"],
                               params["max_people"], params["thumbnails_dir"], progress=progress,
                               should_cancel=should_cancel)
    _, summary = pipeline.process_video(pipeline.ProcessOptions.from_params(params), progress, should_cancel)
    return summary.to_dict()


def hello_info(params: dict[str, Any]) -> dict[str, Any]:
    """What the add-on needs to know before sending work: versions, methods, and which assets are installed."""
    from .detection import DEFAULT_TASK_PATH

    devices = ["cpu"]
    torch_found = importlib.util.find_spec("torch") is not None
    if torch_found:
        import torch

        if torch.cuda.is_available():
            devices.append("cuda")
    return {"protocol": protocol.PROTOCOL_VERSION, "bridge_version": __version__, "methods": list(protocol.METHODS),
            "stages": list(protocol.STAGES), "python": platform.python_version(), "pid": os.getpid(),
            "torch": torch_found, "devices": devices, "pose_landmarker": DEFAULT_TASK_PATH.is_file(),
            "client": params.get("client")}


def _protocol_stdout() -> TextIO:
    """Keep a private handle on the real stdout for protocol lines and send everything else to stderr."""
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)  # native libraries writing to fd 1 now write to stderr
    sys.stdout = sys.stderr
    return os.fdopen(protocol_fd, "w", encoding="utf-8", buffering=1, newline="\n")


def main() -> int:
    """Entry point of `python -m bridge serve`."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe: warnings and above only
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    out = _protocol_stdout()
    return Server(sys.stdin.buffer, out).serve()
