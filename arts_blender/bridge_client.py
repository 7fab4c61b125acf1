"""Talk to the bridge process (`python -m bridge serve`) over JSON lines on its stdin/stdout, without bpy.

A reader thread turns each stdout line into a message (validated by `bridge.protocol`) and puts it on a
queue; the caller drains the queue whenever it likes (Blender's modal timer, or a blocking loop in a
headless script), so Blender's UI thread never waits on the pipe. stderr is drained by a second thread
and its last lines are kept for error reports. When stdout closes, an `exit` message is queued, so a
bridge that dies mid-run is always noticed.
"""
from __future__ import annotations

import collections
import itertools
import queue
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .bridge_locator import import_bridge

_protocol = import_bridge("protocol")

#: Seconds a cancelled job may take to acknowledge before its process is killed. The bridge looks for a cancel
#: between frames and between batches of windows, and one batch can take several seconds on a busy machine.
CANCEL_GRACE_S = 20.0
#: Seconds without any message after which a job is taken for hung and its process killed (the bridge
#: reports progress at least once per frame or batch, so only a hang is this quiet).
NO_NEWS_TIMEOUT_S = 180.0
STDERR_TAIL_LINES = 20


class BridgeError(RuntimeError):
    """The bridge could not be started, or it reported an error; the message is meant for the user."""


class BridgeClient:
    """One bridge process. `start()` it, `send()` requests, `poll()` messages, `close()` it."""

    def __init__(self, argv: list[str], cwd: str | None = None, env: dict[str, str] | None = None):
        self.argv = list(argv)
        self.cwd = cwd
        self.env = env
        self._proc: subprocess.Popen | None = None
        self._messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._ids = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._write_lock = threading.Lock()

    # -- process ------------------------------------------------------------------------------------------
    def start(self) -> "BridgeClient":
        try:
            self._proc = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, bufsize=0)
        except OSError as exc:
            raise BridgeError(f"cannot start the bridge ({self.argv[0]}): {exc}. "
                              "Check the bridge Python interpreter in the add-on preferences.") from exc
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True, name="arts-bridge-stdout"),
                         threading.Thread(target=self._read_stderr, daemon=True, name="arts-bridge-stderr")]
        for thread in self._threads:
            thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr_tail)

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = raw.strip()
            if not line:
                continue
            try:
                self._messages.put(_protocol.decode_message(line))
            except _protocol.ProtocolError as exc:
                # A stray print from a library is not fatal: show it as a warning, keep reading.
                text = line.decode("utf-8", "replace")[:300]
                self._messages.put({"id": None, "event": "log", "level": "warning",
                                    "message": f"bridge wrote a non-protocol line ({exc.message}): {text}"})
        code = self._proc.wait()
        for thread in self._threads[1:]:
            thread.join(timeout=2.0)  # let the stderr reader finish so the exit message carries the tail
        self._messages.put({"id": None, "event": "exit", "returncode": code, "stderr": self.stderr_tail()})

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for raw in self._proc.stderr:
            text = raw.decode("utf-8", "replace").rstrip()
            if text:
                self._stderr_tail.append(text)

    # -- messages -----------------------------------------------------------------------------------------
    def send(self, method: str, params: dict[str, Any] | None = None) -> str:
        """Send a request; returns its id. Raises BridgeError when the process is gone."""
        request_id = f"req-{next(self._ids)}"
        line = _protocol.encode(_protocol.request(request_id, method, params)).encode("ascii")
        if not self.running or self._proc.stdin is None:
            raise BridgeError(f"the bridge is not running (exit code {self.returncode}); {self.stderr_tail()}")
        try:
            with self._write_lock:
                self._proc.stdin.write(line)
                self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise BridgeError(f"the bridge stopped accepting requests: {exc}; {self.stderr_tail()}") from exc
        return request_id

    def poll(self) -> list[dict[str, Any]]:
        """Every message received since the last call (never blocks)."""
        out = []
        while True:
            try:
                out.append(self._messages.get_nowait())
            except queue.Empty:
                return out

    def wait_message(self, timeout_s: float) -> dict[str, Any] | None:
        """The next message, or None after `timeout_s` seconds."""
        try:
            return self._messages.get(timeout=timeout_s)
        except queue.Empty:
            return None

    # -- shutdown -----------------------------------------------------------------------------------------
    def kill(self) -> None:
        if self.running:
            self._proc.kill()

    def close(self, grace_s: float = 3.0) -> None:
        """Ask the bridge to shut down, then terminate and finally kill it if it lingers."""
        if self._proc is None:
            return
        if self.running:
            try:
                self.send("shutdown")
                self._proc.stdin.close()
            except (BridgeError, OSError):
                pass
            for stop in (None, self._proc.terminate, self._proc.kill):
                if stop is not None:
                    stop()
                try:
                    self._proc.wait(timeout=grace_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


@dataclass
class JobState:
    """What the UI shows about one request: stage, progress fraction, last message, and how it ended."""

    stage: str = "start"
    done: int = 0
    total: int = 0
    message: str = ""
    eta_s: float | None = None
    result: dict[str, Any] | None = None
    error_code: str = ""
    error: str = ""
    finished: bool = False
    log: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        """Overall progress in [0, 1]: finished stages plus the current one's share."""
        stages = _protocol.STAGES
        if self.finished:
            return 1.0
        if self.stage not in stages:
            return 0.0
        inside = self.done / self.total if self.total > 0 else 0.0
        return (stages.index(self.stage) + min(inside, 1.0)) / len(stages)

    @property
    def succeeded(self) -> bool:
        return self.finished and self.result is not None

    def status_text(self) -> str:
        if self.error:
            return f"Failed: {self.error}"
        if self.finished:
            return "Done"
        count = f" {self.done}/{self.total}" if self.total else ""
        eta = f", about {self.eta_s:.0f} s left" if self.eta_s else ""
        return f"{self.stage}{count}{eta}" + (f": {self.message}" if self.message else "")


class BridgeJob:
    """One request followed to its end: `update()` drains messages, `cancel()` asks then enforces.

    Whatever happens (result, bridge error, cancel, the process dying) the job ends `finished` with either a
    result or an error message, and the process is closed; callers build nothing until `succeeded`.
    """

    def __init__(self, client: BridgeClient, method: str, params: dict[str, Any],
                 cancel_grace_s: float = CANCEL_GRACE_S, no_news_timeout_s: float = NO_NEWS_TIMEOUT_S):
        self.client = client
        self.state = JobState()
        self.cancel_grace_s = cancel_grace_s
        self.no_news_timeout_s = no_news_timeout_s
        self._cancel_deadline: float | None = None
        self._last_news = time.monotonic()
        self.request_id = client.send(method, params)

    def update(self) -> JobState:
        """Drain the messages received so far (never blocks) and enforce a pending cancel."""
        for msg in self.client.poll():
            if self.state.finished:
                break
            self._handle(msg)
        self._enforce_cancel()
        return self.state

    def _enforce_cancel(self) -> None:
        """Kill a bridge that ignores a cancel past its grace, or that has said nothing for too long."""
        if self.state.finished:
            return
        now = time.monotonic()
        if self._cancel_deadline is not None and now > self._cancel_deadline:
            self.client.kill()
            self._finish(error_code="cancelled", error="cancelled (the bridge did not stop in time and was killed)")
        elif self._cancel_deadline is None and now - self._last_news > self.no_news_timeout_s:
            self.client.kill()
            self._finish(error_code="bridge_hung", error=(
                f"the bridge stopped responding (no progress for {self.no_news_timeout_s:.0f} s) and was stopped; "
                f"nothing was imported. Last bridge output: {self.client.stderr_tail() or 'none'}"))

    def _handle(self, msg: dict[str, Any]) -> None:
        self._last_news = time.monotonic()
        event = msg.get("event")
        if event == "exit":
            detail = msg.get("stderr") or "no error output"
            if self._cancel_deadline is not None:
                self._finish(error_code="cancelled", error="cancelled")
            else:
                self._finish(error_code="bridge_died", error=(
                    f"the bridge process stopped unexpectedly (exit code {msg.get('returncode')}): {detail}"))
            return
        if msg.get("id") not in (self.request_id, None):
            return
        if event == "progress":
            self.state.stage, self.state.done, self.state.total = msg["stage"], msg["done"], msg["total"]
            self.state.eta_s = msg.get("eta_s")
            self.state.message = msg.get("message", "")
        elif event == "log":
            self.state.log.append(f"{msg['level']}: {msg['message']}")
        elif "result" in msg:
            self._finish(result=msg["result"])
        elif "error" in msg:
            self._finish(error_code=msg["error"]["code"], error=msg["error"]["message"])

    def _finish(self, result: dict[str, Any] | None = None, error_code: str = "", error: str = "") -> None:
        self.state.finished = True
        self.state.result = result
        self.state.error_code = error_code
        self.state.error = error
        self.client.close(grace_s=1.0)

    def cancel(self) -> None:
        """Send `cancel`; if no reply within the grace period, `update()` kills the process."""
        if self.state.finished or self._cancel_deadline is not None:
            return
        self._cancel_deadline = time.monotonic() + self.cancel_grace_s
        try:
            self.client.send("cancel", {"target": self.request_id})
        except BridgeError:
            self.client.kill()

    def wait(self, timeout_s: float | None = None, on_update=None) -> JobState:
        """Block until the job ends (headless use), cancelling after `timeout_s`; `on_update(state)` after each message."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self.state.finished:
            if deadline is not None and time.monotonic() > deadline:
                self.cancel()
                deadline = None
            msg = self.client.wait_message(0.2)
            if msg is not None:
                self._handle(msg)
                if on_update is not None:
                    on_update(self.state)
            self._enforce_cancel()
        return self.state
