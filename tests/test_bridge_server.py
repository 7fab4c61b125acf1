"""`python -m bridge serve` as a REAL subprocess: hello, malformed input, unknown method, jobs with progress,
cancel mid-run, and a clean shutdown. stdout must carry nothing but protocol lines."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bridge import protocol
from scripts.render_test_clip import write_noise_clip

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 120.0


class BridgeProcess:
    """A bridge server subprocess with a reader thread collecting every stdout line (decoded and validated)."""

    def __init__(self):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "bridge", "serve"], cwd=REPO, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.lines: queue.Queue = queue.Queue()
        self.raw: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr: list[bytes] = []
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.raw.append(line)
            try:
                self.lines.put(protocol.decode_message(line))
            except protocol.ProtocolError as exc:  # stdout must carry protocol lines only
                self.lines.put({"_not_protocol": line.decode(errors="replace"), "_why": exc.message})
        self.lines.put(None)

    def send_line(self, text: str) -> None:
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def send(self, request_id, method, params=None) -> None:
        self.send_line(protocol.encode(protocol.request(request_id, method, params)).strip())

    def next(self, timeout=TIMEOUT_S) -> dict:
        msg = self.lines.get(timeout=timeout)
        assert msg is not None, "the bridge closed stdout: " + b"".join(self.stderr[-20:]).decode(errors="replace")
        assert "_not_protocol" not in msg, f"non-protocol line on stdout: {msg}"
        return msg

    def until_final(self, request_id, timeout=TIMEOUT_S) -> tuple[dict, list[dict]]:
        """Messages for request_id up to its result or error -> (final, events); other ids are kept aside."""
        events, deadline = [], time.monotonic() + timeout
        while True:
            msg = self.next(max(deadline - time.monotonic(), 0.1))
            if msg["id"] != request_id:
                continue
            if "event" in msg:
                events.append(msg)
            else:
                return msg, events

    def close(self) -> int:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        return self.proc.wait(timeout=60)


@pytest.fixture
def bridge():
    proc = BridgeProcess()
    yield proc
    if proc.proc.poll() is None:
        proc.proc.kill()
        proc.proc.wait()


def test_hello_errors_and_shutdown(bridge, tmp_path):
    bridge.send("h1", "hello", {"client": "pytest"})
    reply = bridge.next()
    assert reply["id"] == "h1" and reply["result"]["protocol"] == protocol.PROTOCOL_VERSION
    assert reply["result"]["client"] == "pytest" and "process_video" in reply["result"]["methods"]
    assert "cpu" in reply["result"]["devices"]

    bridge.send_line("{this is not json")
    reply = bridge.next()
    assert reply["id"] is None and reply["error"]["code"] == "parse_error"
    bridge.send_line("[1, 2, 3]")
    assert bridge.next()["error"]["code"] == "invalid_request"
    bridge.send_line("")  # blank lines are ignored
    bridge.send_line(json.dumps({"v": 1, "id": 7, "method": "fly"}))
    reply = bridge.next()
    assert reply["id"] == 7 and reply["error"]["code"] == "unknown_method"
    bridge.send(8, "process_video", {"video": "x.mp4"})
    reply = bridge.next()
    assert reply["id"] == 8 and reply["error"]["code"] == "invalid_request" and "output" in reply["error"]["message"]

    bridge.send("c1", "cancel", {"target": "nothing-running"})
    reply = bridge.next()
    assert reply["result"] == {"target": "nothing-running", "found": False}

    bridge.send("v1", "process_video", {"video": str(tmp_path / "missing.mp4"), "output": str(tmp_path / "o.npz")})
    final, _ = bridge.until_final("v1")
    assert final["error"]["code"] in ("video_error", "model_missing")
    clip = Path(__file__).resolve().parent / "fixtures" / "bridge" / "wave_480x360.mp4"
    (tmp_path / "folder.npz").mkdir()
    bridge.send("v2", "process_video", {"video": str(clip), "output": str(tmp_path / "folder.npz")})
    final, events = bridge.until_final("v2")
    assert final["error"]["code"] == "output_error" and "folder" in final["error"]["message"]
    assert not any(e.get("stage") == "detect" for e in events)  # refused before any frame was decoded

    bridge.send("bye", "shutdown")
    final, _ = bridge.until_final("bye")
    assert final["result"] == {"ok": True}
    assert bridge.proc.wait(timeout=30) == 0
    assert not (tmp_path / "o.npz").exists()


def test_end_of_input_exits_cleanly(bridge):
    assert bridge.close() == 0


def test_list_people_on_a_clip_without_people(bridge, tmp_path):
    clip = write_noise_clip(tmp_path / "noise.mp4", frames=20)
    bridge.send("p1", "list_people", {"video": str(clip), "samples": 4, "thumbnails_dir": str(tmp_path / "thumbs")})
    final, events = bridge.until_final("p1")
    assert final["result"]["people"] == [] and final["result"]["image_size"] == [160, 120]
    assert events and all(e["stage"] == "people" for e in events)
    assert events[-1]["done"] == events[-1]["total"]
    bridge.send("bye", "shutdown")
    bridge.until_final("bye")
    assert bridge.proc.wait(timeout=30) == 0
    assert all(line.startswith(b"{") for line in bridge.raw)  # MediaPipe's logging went to stderr


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """An untrained tiny ARTS checkpoint: the server loads it like any user checkpoint."""
    from bridge.body_model import load_body_model_arrays
    from bridge.models.checkpoint import save_checkpoint
    from tests.test_bridge_pipeline import tiny_predictor

    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_checkpoint(path, tiny_predictor().model, load_body_model_arrays(), "arts-tiny-test")
    return path


FIXTURE_CLIP = REPO / "tests" / "fixtures" / "bridge" / "wave_480x360.mp4"


def test_process_video_with_progress_then_cancel_mid_run(bridge, tmp_path, tiny_checkpoint):
    from scripts.render_test_clip import derive_clip

    out = tmp_path / "wave.npz"
    bridge.send("job-1", "process_video", {"video": str(FIXTURE_CLIP), "output": str(out),
                                           "checkpoint": str(tiny_checkpoint), "end_frame": 45})
    final, events = bridge.until_final("job-1")
    assert "result" in final, final
    result = final["result"]
    assert result["frames"] == 45 and result["output"] == str(out) and result["model_id"] == "arts-tiny-test"
    assert out.is_file()
    stages = [e["stage"] for e in events if e["event"] == "progress"]
    assert stages[0] == "load" and "detect" in stages and "model" in stages and stages[-1] == "write"

    # A long job (the clip played 6 times), cancelled once detection is under way.
    long_clip = derive_clip(FIXTURE_CLIP, tmp_path / "long.mp4", repeat=6)
    out2 = tmp_path / "cancelled.npz"
    bridge.send("job-2", "process_video", {"video": str(long_clip), "output": str(out2),
                                           "checkpoint": str(tiny_checkpoint)})
    bridge.send("job-3", "list_people", {"video": str(long_clip)})  # queued behind job-2, cancelled unstarted
    while True:
        msg = bridge.next()
        if msg["id"] == "job-2" and msg.get("stage") == "detect" and msg["done"] > 0:
            break
        assert "result" not in msg and "error" not in msg, msg
    bridge.send("c-3", "cancel", {"target": "job-3"})
    bridge.send("c-2", "cancel", {"target": "job-2"})
    finals = {}
    while len(finals) < 4:
        msg = bridge.next()
        if "event" not in msg:
            finals[msg["id"]] = msg
    assert finals["c-2"]["result"] == {"target": "job-2", "found": True}
    assert finals["c-3"]["result"] == {"target": "job-3", "found": True}
    assert finals["job-2"]["error"]["code"] == "cancelled"
    assert finals["job-3"]["error"]["code"] == "cancelled"
    assert not out2.exists()

    bridge.send("h", "hello")  # still alive and answering
    assert bridge.next()["result"]["protocol"] == protocol.PROTOCOL_VERSION
    bridge.send("bye", "shutdown")
    final, _ = bridge.until_final("bye")
    assert final["result"] == {"ok": True} and bridge.proc.wait(timeout=30) == 0
