"""Judge candidate checkpoints against the shipped one by the model card's shipping rule, on the sets it names.

Why: the rule that decides what ships (model card, Training) was applied by hand for thirty sessions from
scratch scripts; written down here it runs the same way on a bare machine, and the choosing sets are defined
once. A candidate ships only if, against the shipped network in the same runs:
  (a) its pooled MPJPE-14 is lower on each of the four choosing sets, with PA-MPJPE-14 at most 0.5 mm higher;
  (b) its MPJPE-14 is lower on at least 172 of the 302 clips of the upright, tumbled and unseen-kinds sets
      (a sign test at p < 0.01; the faced twins repeat the unseen motions, so they do not count twice);
  (c) neither rendered set's MPJPE-14 is more than 1.5 mm higher;
  (d) neither rendered set's Accel is more than 10 % higher.
The candidates must be named before any result is seen; this script only applies the rule.

    python scripts/choose_checkpoint.py run --out DIR --candidate NAME=PATH [--candidate ...] [--rendered]
    python scripts/choose_checkpoint.py judge --out DIR [--json VERDICT.json]

`run` scores the shipped network and the candidates on the choosing sets (scripts/eval_simulated_bridge.py,
two sets at a time on one thread each, about 10 minutes per network on 2 cores; the folders must exist:
`python -m scripts.synth.rebuild_folders --group choosing renders_v65`) and, with --rendered, on the rendered
sets (scripts/eval_rendered.py --clips 12 --foot-lock 0, about 20 minutes more), writing one JSON per set into
DIR. `judge` reads them and prints every part of the rule for every candidate.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge.models.registry import DEFAULT_CHECKPOINT  # noqa: E402
from scripts.eval_rendered import MEDIAPIPE_ROW  # noqa: E402

SHIPPED = "shipped"
#: name: (eval_simulated_bridge split, folders under .cache/arts, counts towards part (b)).
CHOOSING_SETS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "upright": ("train", ("detected_s7_160", "detected_s9_eval"), True),
    "tumbled": ("train", ("detected_t8_val", "detected_t8_54", "detected_t10_eval", "detected_t11_eval"), True),
    "u17": ("unseen", ("detected_u17",), True),
    "u17f": ("unseen", ("detected_u17f",), False),
}
RENDERED_SETS = ("rendered_heldout", "rendered_unseen_kinds")
PA_SLACK_MM = 0.5
CLIPS_NEEDED = 172
RENDERED_SLACK_MM = 1.5
ACCEL_SLACK = 0.10


def set_rows(report: dict, split: str) -> tuple[dict[str, dict], dict[str, dict[str, float]]]:
    """({model: pooled row}, {model: {clip: MPJPE-14}}) of one eval_simulated_bridge.py --json report."""
    table = report["tables"][split]
    pooled = {name: row for name, row in table.items() if not name.startswith(" ")}
    per_clip: dict[str, dict[str, float]] = {}
    for name, row in table.items():
        model, sep, clip = name.strip().partition(": ")
        if name.startswith("  ") and sep and "MPJPE-14" in row:
            per_clip.setdefault(model, {})[clip] = row["MPJPE-14"]
    return pooled, per_clip


def judge(choosing: dict[str, dict], rendered: dict | None, candidate: str) -> dict:
    """Every part of the rule for one candidate: choosing = {set name: eval_simulated_bridge report}, rendered =
    eval_rendered report or None (parts (c) and (d) then undecided, and so is the verdict unless (a) or (b) fails)."""
    parts: dict[str, dict] = {"a": {}, "b": {"lower": 0, "of": 0}, "c": {}, "d": {}}
    for name, (split, _, counts) in CHOOSING_SETS.items():
        pooled, per_clip = set_rows(choosing[name], split)
        base, cand = pooled[SHIPPED], pooled[candidate]
        parts["a"][name] = {"mpjpe14": [base["MPJPE-14"], cand["MPJPE-14"]],
                            "pa_mpjpe14": [base["PA-MPJPE-14"], cand["PA-MPJPE-14"]],
                            "pass": cand["MPJPE-14"] < base["MPJPE-14"]
                            and cand["PA-MPJPE-14"] <= base["PA-MPJPE-14"] + PA_SLACK_MM}
        if counts:
            shared = per_clip[SHIPPED].keys() & per_clip[candidate].keys()
            parts["b"]["lower"] += sum(per_clip[candidate][clip] < per_clip[SHIPPED][clip] for clip in shared)
            parts["b"]["of"] += len(shared)
    parts["a"]["pass"] = all(entry["pass"] for entry in parts["a"].values())
    parts["b"]["pass"] = parts["b"]["lower"] >= CLIPS_NEEDED
    for name in RENDERED_SETS:
        if rendered is None:
            continue
        rows = rendered["sets"][name]["rows"]
        base, cand = rows[SHIPPED]["mean"], rows[candidate]["mean"]
        parts["c"][name] = {"mpjpe14": [base["MPJPE-14"], cand["MPJPE-14"]],
                            "pass": cand["MPJPE-14"] <= base["MPJPE-14"] + RENDERED_SLACK_MM}
        parts["d"][name] = {"accel": [base["Accel"], cand["Accel"]],
                            "pass": cand["Accel"] <= base["Accel"] * (1.0 + ACCEL_SLACK)}
    for part in "cd":
        parts[part]["pass"] = all(entry["pass"] for entry in parts[part].values()) if rendered else None
    outcomes = [parts[part]["pass"] for part in "abcd"]
    ships = False if False in outcomes else None if None in outcomes else True
    return {"parts": parts, "ships": ships}


def _outcome(passed: bool | None) -> str:
    return {True: "pass", False: "fail", None: "undecided"}[passed]


def format_verdict(candidate: str, verdict: dict) -> str:
    parts = verdict["parts"]
    shipping = {True: "ships", False: "does not ship", None: "undecided"}[verdict["ships"]]
    lines = [f"{candidate}: {shipping}"]
    for name in CHOOSING_SETS:
        entry = parts["a"][name]
        lines.append(f"  (a) {name:8s} MPJPE-14 {entry['mpjpe14'][0]:.2f} -> {entry['mpjpe14'][1]:.2f}, PA "
                     f"{entry['pa_mpjpe14'][0]:.2f} -> {entry['pa_mpjpe14'][1]:.2f}: {_outcome(entry['pass'])}")
    b = parts["b"]
    lines.append(f"  (b) lower on {b['lower']} of {b['of']} clips ({CLIPS_NEEDED} needed): {_outcome(b['pass'])}")
    for part, metric in (("c", "mpjpe14"), ("d", "accel")):
        for name in RENDERED_SETS:
            if name in parts[part]:
                entry = parts[part][name]
                lines.append(f"  ({part}) {name} {metric} {entry[metric][0]:.2f} -> {entry[metric][1]:.2f}: "
                             f"{_outcome(entry['pass'])}")
        if parts[part]["pass"] is None:
            lines.append(f"  ({part}) no rendered run")
    return "\n".join(lines)


def parse_candidate(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path or name == SHIPPED:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH with NAME other than {SHIPPED!r}, got {text!r}")
    return name, path


def choosing_command(name: str, candidates: list[tuple[str, str]], out: Path, data_root: Path) -> list[str]:
    split, folders, _ = CHOOSING_SETS[name]
    variants = [(SHIPPED, str(DEFAULT_CHECKPOINT)), *candidates]
    command = [sys.executable, str(REPO / "scripts" / "eval_simulated_bridge.py"), "--data",
               *[str(data_root / folder) for folder in folders], "--splits", split, "--clips", "200", "--per-clip",
               "--json", str(out / f"{name}.json")]
    for model, path in variants:
        command += ["--variant", f"{model}={json.dumps({'checkpoint': path})}"]
    return command


def rendered_command(candidates: list[tuple[str, str]], out: Path) -> list[str]:
    command = [sys.executable, str(REPO / "scripts" / "eval_rendered.py"), "--clips", "12", "--foot-lock", "0",
               "--threads", "2", "--per-clip", f"--checkpoint={SHIPPED}=", "--json", str(out / "rendered.json")]
    for model, path in candidates:
        command.append(f"--checkpoint={model}={path}")
    return command


def run(candidates: list[tuple[str, str]], out: Path, data_root: Path, rendered: bool) -> None:
    """The choosing sets two at a time (one thread each), then the rendered sets; logs beside the JSONs."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for pair in (("upright", "u17"), ("tumbled", "u17f")):  # a large set beside a small one
        with ExitStack() as files:
            jobs = [subprocess.Popen(choosing_command(name, candidates, out, data_root), cwd=REPO, env=env,
                                     stdout=files.enter_context(open(out / f"{name}.txt", "w")),
                                     stderr=files.enter_context(open(out / f"{name}.log", "w")))
                    for name in pair]
            failed = [name for name, job in zip(pair, jobs) if job.wait() != 0]
        if failed:
            raise SystemExit(f"{failed[0]} failed: see {out / f'{failed[0]}.log'}")
    if rendered:
        with open(out / "rendered.txt", "w") as stdout, open(out / "rendered.log", "w") as stderr:
            if subprocess.run(rendered_command(candidates, out), cwd=REPO, stdout=stdout, stderr=stderr).returncode:
                raise SystemExit(f"rendered sets failed: see {out / 'rendered.log'}")


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="score the shipped network and the candidates")
    run_parser.add_argument("--out", type=Path, required=True)
    run_parser.add_argument("--candidate", type=parse_candidate, action="append", required=True)
    run_parser.add_argument("--rendered", action="store_true", help="also the rendered sets (parts (c), (d))")
    run_parser.add_argument("--data-root", type=Path, default=REPO / ".cache" / "arts")
    judge_parser = sub.add_parser("judge", help="apply the rule to a run's JSONs")
    judge_parser.add_argument("--out", type=Path, required=True)
    judge_parser.add_argument("--json", type=Path, default=None, help="write the verdicts here")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.candidate, args.out, args.data_root, args.rendered)
    choosing = {name: json.loads((args.out / f"{name}.json").read_text()) for name in CHOOSING_SETS}
    rendered_path = args.out / "rendered.json"
    rendered = json.loads(rendered_path.read_text()) if rendered_path.is_file() else None
    split = CHOOSING_SETS["upright"][0]
    candidates = [name for name in set_rows(choosing["upright"], split)[0]
                  if name not in (SHIPPED, MEDIAPIPE_ROW)]
    verdicts = {name: judge(choosing, rendered, name) for name in candidates}
    for name, verdict in verdicts.items():
        print(format_verdict(name, verdict))
    verdict_path = getattr(args, "json", None)  # judge's option only
    if verdict_path is not None:
        verdict_path.write_text(json.dumps(verdicts, indent=1))
    return verdicts


if __name__ == "__main__":
    main()
