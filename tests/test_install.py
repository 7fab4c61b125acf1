"""Installing the bridge: the pins every supported platform needs, and offline package folders."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from scripts import setup_env
from scripts.build_bridge_pack import torch_pin
from scripts.check_bridge_wheels import REQUIREMENTS, runtime_pins


def test_runtime_pins_are_what_the_private_environment_installs():
    requirements = json.loads(REQUIREMENTS.read_text())
    pins = runtime_pins(requirements)
    assert pins[0] == f"torch=={requirements['torch']['version']}"
    assert "mediapipe==1.2.2" in pins and not any(p.startswith(("bpy", "pytest", "anny")) for p in pins)
    # Linux gets the CPU build (PyPI's Linux torch is the CUDA one); other platforms PyPI's.
    assert torch_pin(requirements, "linux", cuda=False)[0].endswith("+cpu")
    assert torch_pin(requirements, "linux", cuda=False, find_links="/mirror")[1] == ["--find-links", "/mirror"]
    assert torch_pin(requirements, "windows", cuda=False) == (pins[0], [])


def test_an_offline_folder_must_match_this_python(tmp_path, capsys):
    with pytest.raises(SystemExit, match="not an offline package folder"):
        setup_env.check_pack(tmp_path)
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    (tmp_path / "pack.json").write_text(json.dumps({"python": "2.7", "requirements_sha256": digest}))
    with pytest.raises(SystemExit, match="Python 2.7"):
        setup_env.check_pack(tmp_path)
    (tmp_path / "pack.json").write_text(json.dumps({"python": here, "requirements_sha256": digest}))
    assert setup_env.check_pack(tmp_path)["python"] == here and "warning" not in capsys.readouterr().out
    (tmp_path / "pack.json").write_text(json.dumps({"python": here, "requirements_sha256": "0" * 64}))
    setup_env.check_pack(tmp_path)
    assert "other requirements" in capsys.readouterr().out


@pytest.mark.slow
def test_pinned_wheels_exist_for_every_supported_python_and_platform(repo_root):
    """Asks PyPI (resolution only, about 2 minutes): Linux, Windows, macOS x Python 3.11, 3.13."""
    proc = subprocess.run([sys.executable, str(repo_root / "scripts" / "check_bridge_wheels.py")],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
