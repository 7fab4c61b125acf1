"""`python -m bridge run|people` on the rendered clip, as a user would call them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.cli import build_parser
from bridge.results import read_results

REPO = Path(__file__).resolve().parent.parent
CLIP = REPO / "tests" / "fixtures" / "bridge" / "wave_480x360.mp4"


def _bridge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bridge", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from bridge.body_model import load_body_model_arrays
    from bridge.models.checkpoint import save_checkpoint
    from tests.test_bridge_pipeline import tiny_predictor

    path = tmp_path_factory.mktemp("cli") / "tiny.pt"
    save_checkpoint(path, tiny_predictor().model, load_body_model_arrays(), "arts-tiny-cli")
    return path


def test_run_writes_results_and_prints_a_summary(tmp_path, checkpoint):
    out = tmp_path / "out.npz"
    sheet = tmp_path / "sheet.png"
    proc = _bridge("run", str(CLIP), "-o", str(out), "--checkpoint", str(checkpoint), "--start", "10", "--end", "40",
                   "--smooth", '{"method": "one_euro", "min_cutoff_hz": 1.5, "beta": 0.3}', "--fov-deg", "60",
                   "--preview", str(sheet))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["frames"] == 30 and summary["output"] == str(out) and summary["preview"] == str(sheet)
    assert "detect" in proc.stderr  # tqdm bars on stderr
    result = read_results(out)
    assert result.frame_indices[0] == 10 and result.smoothing.startswith("one_euro")
    assert result.model_id == "arts-tiny-cli" and sheet.stat().st_size > 1000


def test_people_lists_one_person(tmp_path):
    proc = _bridge("people", str(CLIP), "--samples", "4", "--thumbnails", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    assert len(listing["people"]) == 1 and (tmp_path / "person_0.png").is_file()


def test_errors_are_clear_and_exit_2(tmp_path, checkpoint):
    proc = _bridge("run", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "o.npz"), "--quiet")
    assert proc.returncode == 2 and "error (video_error)" in proc.stderr and "not found" in proc.stderr
    proc = _bridge("run", str(CLIP), "-o", str(tmp_path / "o.npz"), "--checkpoint", str(tmp_path / "none.pt"),
                   "--quiet")
    assert proc.returncode == 2 and "error (model_missing)" in proc.stderr


def test_argument_parsing():
    parser = build_parser()
    args = parser.parse_args(["run", "v.mp4", "-o", "o.npz", "--person", "10,20,110,220", "--smooth", "strong"])
    assert args.person == [10.0, 20.0, 110.0, 220.0] and args.smooth == "strong"
    assert parser.parse_args(["run", "v.mp4", "-o", "o.npz", "--person", "2"]).person == 2
    for bad in (["--person", "1,2"], ["--smooth", "wild"], ["--device", "tpu"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["run", "v.mp4", "-o", "o.npz", *bad])
