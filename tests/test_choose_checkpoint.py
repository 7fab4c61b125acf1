"""choose_checkpoint: the model card's shipping rule, part by part, on reports shaped as the evaluations write them."""
from __future__ import annotations

import argparse
import json

import pytest

from scripts.choose_checkpoint import (CHOOSING_SETS, CLIPS_NEEDED, RENDERED_SETS, choosing_command, judge, main,
                                       parse_candidate)


def choosing_report(split: str, clips: int, shipped: float, candidate: float, lower: int,
                    pa: tuple[float, float] = (70.0, 70.0)) -> dict:
    """A report whose candidate is lower than the shipped network on `lower` of `clips` clips."""
    table = {"shipped": {"MPJPE-14": shipped, "PA-MPJPE-14": pa[0]},
             "cand": {"MPJPE-14": candidate, "PA-MPJPE-14": pa[1]},
             "MediaPipe world landmarks": {"MPJPE-14": 150.0, "PA-MPJPE-14": 100.0}}
    for k in range(clips):
        table[f"  shipped: folder/clip{k}"] = {"MPJPE-14": 100.0}
        table[f"  cand: folder/clip{k}"] = {"MPJPE-14": 99.0 if k < lower else 101.0}
        table[f"  MediaPipe world landmarks: folder/clip{k}"] = {"MPJPE-14": 150.0}
    table["  cand [folder]"] = {"MPJPE-14": candidate, "PA-MPJPE-14": pa[1]}  # a folder row, not a clip
    return {"tables": {split: table}}


def rendered_report(mpjpe: tuple[float, float], accel: tuple[float, float]) -> dict:
    return {"sets": {name: {"rows": {"shipped": {"mean": {"MPJPE-14": mpjpe[0], "Accel": accel[0]}},
                                     "cand": {"mean": {"MPJPE-14": mpjpe[1], "Accel": accel[1]}}}}
                     for name in RENDERED_SETS}}


def passing_choosing(**changes) -> dict:
    counted = [name for name, (_, _, counts) in CHOOSING_SETS.items() if counts]
    reports = {}
    for name, (split, _, counts) in CHOOSING_SETS.items():
        lower = (CLIPS_NEEDED + len(counted) - 1) // len(counted) if counts else 0
        reports[name] = choosing_report(split, 100, 110.0, 109.0, lower)
    reports.update(changes)
    return reports


def test_a_candidate_better_everywhere_ships():
    verdict = judge(passing_choosing(), rendered_report((60.0, 59.0), (5.0, 5.2)), "cand")
    assert verdict["ships"] is True
    assert verdict["parts"]["b"]["lower"] >= CLIPS_NEEDED and verdict["parts"]["b"]["of"] == 300  # twins not counted


@pytest.mark.parametrize("part, choosing, rendered", [
    ("a", {"u17f": choosing_report("unseen", 10, 110.0, 110.5, 10)}, ((60.0, 59.0), (5.0, 5.0))),  # one set higher
    ("a", {"upright": choosing_report("train", 100, 110.0, 109.0, 58, pa=(70.0, 70.6))}, ((60.0, 59.0), (5.0, 5.0))),
    ("b", {"u17": choosing_report("unseen", 100, 110.0, 109.0, 50)}, ((60.0, 59.0), (5.0, 5.0))),  # too few clips
    ("c", {}, ((60.0, 61.6), (5.0, 5.0))),  # a rendered set 1.6 mm worse
    ("d", {}, ((60.0, 59.0), (5.0, 5.6))),  # Accel 12 % worse
])
def test_each_part_alone_stops_a_candidate(part, choosing, rendered):
    verdict = judge(passing_choosing(**choosing), rendered_report(*rendered), "cand")
    assert verdict["ships"] is False
    assert [p for p in "abcd" if not verdict["parts"][p]["pass"]] == [part]


def test_without_a_rendered_run_the_verdict_waits_unless_the_choosing_sets_decide():
    verdict = judge(passing_choosing(), None, "cand")
    assert verdict["ships"] is None and verdict["parts"]["c"]["pass"] is None
    assert judge(passing_choosing(u17=choosing_report("unseen", 100, 110.0, 109.0, 0)), None, "cand")["ships"] is False


def test_judge_reads_a_run_folder(tmp_path, capsys):
    for name, report in passing_choosing().items():
        (tmp_path / f"{name}.json").write_text(json.dumps(report))
    (tmp_path / "rendered.json").write_text(json.dumps(rendered_report((60.0, 60.5), (5.0, 5.0))))
    verdicts = main(["judge", "--out", str(tmp_path), "--json", str(tmp_path / "verdict.json")])
    assert list(verdicts) == ["cand"] and verdicts["cand"]["ships"] is True
    assert "cand: ships" in capsys.readouterr().out
    assert json.loads((tmp_path / "verdict.json").read_text())["cand"]["ships"] is True


def test_candidates_and_commands():
    assert parse_candidate("b35=.cache/arts/b35/arts.pt") == ("b35", ".cache/arts/b35/arts.pt")
    for bad in ("b35", "=x.pt", "shipped=x.pt"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_candidate(bad)
    from pathlib import Path
    command = choosing_command("tumbled", [("b35", "x.pt")], Path("out"), Path("data"))
    assert command[command.index("--splits") + 1] == "train"
    assert [arg for arg in command if arg.startswith("data/")] == [f"data/{f}" for f in CHOOSING_SETS["tumbled"][1]]
    assert 'b35={"checkpoint": "x.pt"}' in command and any(arg.startswith("shipped=") for arg in command)


def test_run_keeps_each_sets_output_and_stops_at_a_failed_set(tmp_path, monkeypatch):
    import sys

    from scripts import choose_checkpoint

    fail = {"tumbled"}
    monkeypatch.setattr(choose_checkpoint, "choosing_command", lambda name, *_: [
        sys.executable, "-c", f"import sys; print('{name}'); sys.exit({int(name in fail)})"])
    with pytest.raises(SystemExit, match="tumbled failed"):
        choose_checkpoint.run([("b35", "x.pt")], tmp_path, tmp_path, rendered=False)
    assert (tmp_path / "upright.txt").read_text() == "upright\n"
    assert (tmp_path / "tumbled.txt").read_text() == "tumbled\n"
    fail.clear()
    choose_checkpoint.run([("b35", "x.pt")], tmp_path, tmp_path, rendered=False)
    assert all((tmp_path / f"{name}.txt").read_text() == f"{name}\n" for name in CHOOSING_SETS)
