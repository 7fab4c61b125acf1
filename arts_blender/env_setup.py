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


#: Where a platform build of the extension carries an offline package folder (scripts/build_bridge_pack.py).
BUNDLED_WHEELS = "wheels"


def setup_steps(offline: bool = False) -> int:
    """How many `pip install` commands a runtime-only setup runs (pip upgrade unless offline, torch, and the
    runtime steps)."""
    spec = json.loads((bridge_root() / "addon_manifest" / "bridge_requirements.json").read_text())
    runtime = sum(1 for step in spec["steps"] if not step.get("dev_only") and not step.get("asset_tools"))
    return (1 if offline else 2) + runtime


def install_source(wheels_dir: str, online_access: bool) -> Path | None:
    """Where the private environment's packages come from: the chosen offline folder, else the one bundled
    in the extension, else the network (None), which Blender's rules allow only with "Allow Online Access"
    on; RuntimeError with what to do when none is possible."""
    if wheels_dir:
        folder = Path(wheels_dir)
        if not (folder / "pack.json").is_file():
            raise RuntimeError(f"'{folder}' is not an offline package folder (no pack.json); make one with "
                               "scripts/build_bridge_pack.py for this platform and Blender's Python")
        return folder
    bundled = bridge_root() / BUNDLED_WHEELS
    if (bundled / "pack.json").is_file():
        return bundled
    if not online_access:
        raise RuntimeError("Blender's 'Allow Online Access' is off (Preferences > System > Network), so the "
                           "packages (about 1 GB) cannot be downloaded: turn it on, or set 'Offline packages' to "
                           "a folder made by scripts/build_bridge_pack.py")
    return None


def setup_command(venv: Path, cuda: bool = False, python: str = sys.executable,
                  wheels: Path | None = None) -> list[str]:
    cmd = [python, str(setup_env_script()), "--runtime-only", "--skip-assets", "--venv", str(venv)]
    if wheels is not None:
        cmd += ["--wheels", str(wheels)]
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
