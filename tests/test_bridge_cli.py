"""`python -m bridge run|people` on the rendered clip, as a user would call them."""
from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

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


def _refused_before_work(proc: subprocess.CompletedProcess, code: str) -> None:
    """Exit 2, one line naming the problem, no traceback, and no frame decoded (no detect progress)."""
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and f"error ({code})" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "detect" not in proc.stderr


def test_bad_outputs_and_model_files_are_refused_before_any_frame(tmp_path, checkpoint):
    from tests.smpl_pickle_fixtures import op_global, op_str, op_tuple

    run = ("run", str(CLIP), "--checkpoint", str(checkpoint))
    _refused_before_work(_bridge(*run, "-o", str(tmp_path)), "output_error")  # a folder
    _refused_before_work(_bridge(*run, "-o", str(tmp_path / "result.json")), "output_error")
    (tmp_path / "a_file").write_text("")
    _refused_before_work(_bridge(*run, "-o", str(tmp_path / "a_file" / "out.npz")), "output_error")
    _refused_before_work(_bridge(*run, "-o", str(tmp_path / "o.npz"), "--preview", str(tmp_path / "p.gif")),
                         "output_error")

    payload = torch.load(checkpoint, weights_only=True)
    payload["state_dict"][next(iter(payload["state_dict"]))].view(-1)[0] += 17.0
    torch.save(payload, tmp_path / "damaged.pt")
    proc = _bridge("run", str(CLIP), "-o", str(tmp_path / "o.npz"), "--checkpoint", str(tmp_path / "damaged.pt"))
    _refused_before_work(proc, "model_missing")
    assert "damaged" in proc.stderr

    shipped = torch.load(REPO / "bridge" / "assets" / "arts_default.pt", weights_only=True)
    if "digest" not in shipped:  # a damaged copy of a shipped file saved before checkpoints carried digests
        shipped["state_dict"][next(iter(shipped["state_dict"]))].view(-1)[0] += 17.0
        torch.save(shipped, tmp_path / "arts_default_copy.pt")
        proc = _bridge("run", str(CLIP), "-o", str(tmp_path / "o.npz"), "--checkpoint",
                       str(tmp_path / "arts_default_copy.pt"))
        _refused_before_work(proc, "model_missing")
        assert "not the shipped file" in proc.stderr

    marker = tmp_path / "pwned"
    evil = pickle.PROTO + bytes([2]) + op_global("os", "system") + op_tuple(op_str(f"touch {marker}".encode()))
    (tmp_path / "SMPL_NEUTRAL.pkl").write_bytes(evil + pickle.REDUCE + pickle.STOP)
    proc = _bridge(*run, "-o", str(tmp_path / "o.npz"), "--body-model", str(tmp_path / "SMPL_NEUTRAL.pkl"))
    _refused_before_work(proc, "model_missing")
    assert not marker.exists()
    (tmp_path / "garbage.pkl").write_bytes(b"\x00" * 100)
    _refused_before_work(_bridge(*run, "-o", str(tmp_path / "o.npz"), "--body-model", str(tmp_path / "garbage.pkl")),
                         "model_missing")
    assert not (tmp_path / "o.npz").exists()


def test_a_bug_is_one_line_and_a_report_file(tmp_path, monkeypatch, capsys):
    from bridge import cli, pipeline

    def broken(*args, **kwargs):
        raise ZeroDivisionError("deliberately")

    monkeypatch.setattr(pipeline, "process_video", broken)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert cli.main(["run", str(CLIP), "-o", str(tmp_path / "o.npz"), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error (internal_error): unexpected ZeroDivisionError: deliberately") and "\n" not in err
    reports = list((tmp_path / "arts-bridge").glob("crash-*.log"))
    assert len(reports) == 1 and str(reports[0]) in err and "Traceback" in reports[0].read_text()


def test_argument_parsing():
    parser = build_parser()
    args = parser.parse_args(["run", "v.mp4", "-o", "o.npz", "--person", "10,20,110,220", "--smooth", "strong"])
    assert args.person == [10.0, 20.0, 110.0, 220.0] and args.smooth == "strong"
    assert parser.parse_args(["run", "v.mp4", "-o", "o.npz", "--person", "2"]).person == 2
    assert parser.parse_args(["run", "v.mp4", "-o", "o.npz", "--foot-lock", "0"]).foot_lock == 0.0
    assert args.flip_average and not parser.parse_args(["run", "v.mp4", "-o", "o.npz", "--no-flip-average"]).flip_average
    assert args.window_stride == 2 and parser.parse_args(["run", "v.mp4", "-o", "o.npz", "--window-stride", "1"]
                                                         ).window_stride == 1
    for bad in (["--person", "1,2"], ["--smooth", "wild"], ["--device", "tpu"], ["--foot-lock", "2"],
                ["--window-stride", "5"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["run", "v.mp4", "-o", "o.npz", *bad])
