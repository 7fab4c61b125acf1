"""Creating the bridge's private environment: the command the add-on runs and how its progress is read."""
from __future__ import annotations

import json
import sys
import time

import pytest

from arts_blender import env_setup
from arts_blender.bridge_locator import bridge_root


def test_setup_command_uses_the_projects_runtime_install(tmp_path):
    cmd = env_setup.setup_command(tmp_path / "env", cuda=False, python="/opt/blender/python")
    assert cmd[0] == "/opt/blender/python" and cmd[1].endswith("scripts/setup_env.py")
    assert cmd[2:] == ["--runtime-only", "--skip-assets", "--venv", str(tmp_path / "env")]
    assert env_setup.setup_command(tmp_path, cuda=True)[-1] == "--cuda"
    spec = json.loads((bridge_root() / "addon_manifest" / "bridge_requirements.json").read_text())
    runtime = [s for s in spec["steps"] if not s.get("dev_only") and not s.get("asset_tools")]
    assert env_setup.setup_steps() == len(runtime) + 2  # pip upgrade, torch, then each runtime step
    assert env_setup.setup_steps(offline=True) == len(runtime) + 1  # no pip upgrade without a network
    offline = env_setup.setup_command(tmp_path / "env", wheels=tmp_path / "pack")
    assert offline[-2:] == ["--wheels", str(tmp_path / "pack")]


def test_network_install_only_with_online_access(tmp_path, monkeypatch):
    """Blender's extension rules: nothing goes online unless the user allowed it."""
    monkeypatch.setattr(env_setup, "bridge_root", lambda: tmp_path / "extension")
    assert env_setup.install_source("", online_access=True) is None  # download
    with pytest.raises(RuntimeError, match="Allow Online Access"):
        env_setup.install_source("", online_access=False)
    pack = tmp_path / "pack"
    pack.mkdir()
    with pytest.raises(RuntimeError, match="not an offline package folder"):
        env_setup.install_source(str(pack), online_access=False)
    (pack / "pack.json").write_text("{}")
    assert env_setup.install_source(str(pack), online_access=False) == pack
    bundled = tmp_path / "extension" / env_setup.BUNDLED_WHEELS
    bundled.mkdir(parents=True)
    (bundled / "pack.json").write_text("{}")
    assert env_setup.install_source("", online_access=False) == bundled  # a platform build carries its own


def test_progress_follows_pip_steps_and_reports_failure(tmp_path):
    script = tmp_path / "fake_setup.py"
    script.write_text(
        "import sys, time\n"
        "for i in range(3):\n"
        "    print(f'/env/bin/python -m pip install --disable-pip-version-check pkg{i}', flush=True)\n"
        "    print('Collecting things', flush=True)\n"
        "print('ERROR: No matching distribution found for pkg3', flush=True)\n"
        "sys.exit(1)\n")
    setup = env_setup.EnvSetup([sys.executable, str(script)], total_steps=4).start()
    fractions = []
    deadline = time.monotonic() + 20
    while not setup.finished and time.monotonic() < deadline:
        setup.poll()
        fractions.append(setup.fraction)
        time.sleep(0.02)
    assert setup.finished and setup.returncode == 1
    assert setup.steps_started == 3 and fractions == sorted(fractions)
    assert "No matching distribution" in setup.error_summary()
