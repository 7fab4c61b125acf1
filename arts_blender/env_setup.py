"""Create the bridge's private Python environment in a subprocess and follow its progress, without bpy.

Runs the project's own `scripts/setup_env.py --runtime-only` (shipped in the extension) with the same
pinned requirements as a developer checkout; each `pip install` line it prints is one step, so progress is
the share of steps started. A reader thread keeps Blender's UI responsive.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from .bridge_locator import bridge_root, setup_env_script


def venv_python(venv: Path) -> Path:
    """The interpreter inside a venv, on POSIX and Windows (mirrors scripts/setup_env.py)."""
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"


def setup_steps() -> int:
    """How many `pip install` commands a runtime-only setup runs (pip upgrade + torch + runtime steps)."""
    spec = json.loads((bridge_root() / "addon_manifest" / "bridge_requirements.json").read_text())
    return 2 + sum(1 for step in spec["steps"] if not step.get("dev_only"))


def setup_command(venv: Path, cuda: bool = False, python: str = sys.executable) -> list[str]:
    cmd = [python, str(setup_env_script()), "--runtime-only", "--skip-assets", "--venv", str(venv)]
    return [*cmd, "--cuda"] if cuda else cmd


class EnvSetup:
    """One run of setup_env.py: `start()`, then `poll()` from a timer until `finished`."""

    def __init__(self, command: list[str], total_steps: int):
        self.command = command
        self.total_steps = max(total_steps, 1)
        self.steps_started = 0
        self.lines: list[str] = []
        self.returncode: int | None = None
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._proc: subprocess.Popen | None = None

    def start(self) -> "EnvSetup":
        env = dict(os.environ)
        env.pop("PYTHONHOME", None)
        env["PYTHONUNBUFFERED"] = "1"
        self._proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, text=True, errors="replace", env=env)
        threading.Thread(target=self._read, daemon=True, name="arts-env-setup").start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._queue.put(line.rstrip())
        self._proc.wait()
        self._queue.put(None)

    def poll(self) -> list[str]:
        """New output lines since the last call; sets `returncode` when the process has ended."""
        new = []
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self.returncode = self._proc.returncode
                break
            new.append(line)
            if " -m pip install " in line:
                self.steps_started += 1
        self.lines += new
        return new

    @property
    def finished(self) -> bool:
        return self.returncode is not None

    @property
    def fraction(self) -> float:
        return 1.0 if self.finished else min(self.steps_started / self.total_steps, 0.99)

    def cancel(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()

    def error_summary(self, lines: int = 8) -> str:
        return "\n".join(self.lines[-lines:])
