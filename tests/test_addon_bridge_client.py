"""The add-on's bridge client against a fake bridge process speaking the real protocol (no bpy, no torch)."""
from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from arts_blender.bridge_client import BridgeClient, BridgeError, BridgeJob
from arts_blender.bridge_locator import bridge_command, bridge_root

# A stand-in for `python -m bridge serve`: reads requests, answers according to FAKE_MODE.
FAKE_BRIDGE = textwrap.dedent('''
    import os, sys, time
    from bridge import protocol
    mode = os.environ["FAKE_MODE"]
    def send(msg):
        sys.stdout.write(protocol.encode(msg)); sys.stdout.flush()
    for line in sys.stdin:
        req = protocol.decode_request(line)
        if req.method == "shutdown":
            break
        if req.method == "cancel":
            if mode == "cancel":
                send(protocol.error_message(req.params["target"], "cancelled", "cancelled by the user"))
            continue  # mode "stubborn" ignores cancel
        print("library chatter on stdout", flush=True)
        for done in range(1, 4):
            send(protocol.progress_event(req.id, "detect", done, 3, eta_s=3 - done))
        if mode == "result":
            send(protocol.result_message(req.id, {"output": req.params["output"], "frames": 3}))
        elif mode == "error":
            send(protocol.error_message(req.id, "no_person", "no person was found in frames 0-90"))
        elif mode == "die":
            sys.stderr.write("Traceback: out of memory\\n"); sys.stderr.flush()
            os._exit(3)
        elif mode in ("cancel", "stubborn"):
            continue  # keep "working" until cancelled or killed
''')


@pytest.fixture()
def fake_bridge(tmp_path: Path):
    script = tmp_path / "fake_bridge.py"
    script.write_text(FAKE_BRIDGE)
    clients = []

    def start(mode: str) -> BridgeClient:
        env = dict(os.environ, FAKE_MODE=mode, PYTHONPATH=str(bridge_root()))
        client = BridgeClient([sys.executable, str(script)], cwd=str(tmp_path), env=env).start()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.kill()


PARAMS = {"video": "clip.mp4", "output": "/tmp/out.npz"}


def test_progress_then_result(fake_bridge):
    job = BridgeJob(fake_bridge("result"), "process_video", PARAMS)
    seen = []
    state = job.wait(timeout_s=20, on_update=lambda s: seen.append((s.stage, s.done, s.total)))
    assert state.succeeded and state.result == {"output": "/tmp/out.npz", "frames": 3}
    assert ("detect", 3, 3) in seen and state.fraction == 1.0
    assert any("non-protocol line" in entry for entry in state.log)  # stray prints become warnings
    time.sleep(0.2)
    assert not job.client.running  # the process is closed when the job ends


def test_error_is_reported_with_the_bridge_message(fake_bridge):
    state = BridgeJob(fake_bridge("error"), "process_video", PARAMS).wait(timeout_s=20)
    assert state.finished and not state.succeeded
    assert state.error_code == "no_person" and "no person was found" in state.error
    assert state.status_text().startswith("Failed: no person")


def test_death_mid_run_is_reported_with_stderr(fake_bridge):
    state = BridgeJob(fake_bridge("die"), "process_video", PARAMS).wait(timeout_s=20)
    assert state.finished and not state.succeeded and state.error_code == "bridge_died"
    assert "exit code 3" in state.error and "out of memory" in state.error


def test_polling_never_blocks_and_cancel_is_acknowledged(fake_bridge):
    job = BridgeJob(fake_bridge("cancel"), "process_video", PARAMS)
    t0 = time.monotonic()
    while job.state.stage != "detect" and time.monotonic() - t0 < 20:
        job.update()  # what Blender's timer does; returns at once
        time.sleep(0.02)
    assert job.state.stage == "detect" and 0 < job.state.fraction < 1
    job.cancel()
    state = job.wait(timeout_s=20)
    assert state.error_code == "cancelled" and state.error == "cancelled by the user"


def test_cancel_kills_a_bridge_that_does_not_stop(fake_bridge):
    job = BridgeJob(fake_bridge("stubborn"), "process_video", PARAMS, cancel_grace_s=0.5)
    job.cancel()
    t0 = time.monotonic()
    state = job.wait(timeout_s=20)
    assert state.error_code == "cancelled" and "killed" in state.error
    assert time.monotonic() - t0 < 5
    time.sleep(0.2)
    assert not job.client.running


def test_a_hung_bridge_is_stopped_with_a_clear_error(fake_bridge):
    """The headless path used to wait forever on a bridge that went quiet without exiting."""
    job = BridgeJob(fake_bridge("stubborn"), "process_video", PARAMS, no_news_timeout_s=1.0)
    state = job.wait()
    assert state.error_code == "bridge_hung" and "stopped responding" in state.error and not state.succeeded
    time.sleep(0.2)
    assert not job.client.running


def test_missing_interpreter_gives_an_actionable_error(tmp_path):
    with pytest.raises(BridgeError, match="bridge Python interpreter"):
        BridgeClient([str(tmp_path / "no-python"), "-m", "bridge", "serve"]).start()


def test_bridge_command_runs_the_package_from_its_root():
    argv, cwd, env = bridge_command("/usr/bin/python3", "serve")
    assert argv == ["/usr/bin/python3", "-m", "bridge", "serve"]
    assert (cwd / "bridge" / "__init__.py").is_file()
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(cwd)
