"""Rebuild the folders the model card's training and choosing commands read, from the repository and the corpus.

    python -m scripts.synth.rebuild_folders --group mix_v45 choosing [--root .cache/arts] [--jobs 2]
    python -m scripts.synth.rebuild_folders --folder detected_u17 --folder data_v10
    python -m scripts.synth.rebuild_folders --list

Why: `.cache/` does not outlive a machine, and a round needs some 35 folders (simulated clips from
generate.py, MediaPipe's detections restored by detection_archive.py), which the card named as as many
commands plus steps by hand ("then link its *limits*.npz into ..."): an hour of two cores and easy to get
subtly wrong. folders.json describes each folder once: its generate.py arguments, or its archive, plans and
file-name glob, and the number of clip files it held when the card's networks read it. This runs those
commands side by side (--jobs processes; each folder's output in ROOT/NAME.rebuild.log), skips a folder that
already holds its clips, and fails loudly when a rebuilt folder does not hold the recorded number, which
means the generator, the retargeting or the corpus changed since the card's networks trained.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bridge import threads

from .detection_archive import plan_range, read_index, selected

REPO = Path(__file__).resolve().parents[2]
FOLDERS_FILE = Path(__file__).with_name("folders.json")
ARCHIVES = Path(__file__).with_name("detections")
DEFAULT_ROOT = REPO / ".cache" / "arts"
DEFAULT_MOTION_DIR = REPO.parent / "shared" / "motion"
FORMAT = "arts-folders/1"
#: Rough CPU-seconds a clip costs to make (measured session 53: a restore about 0.3, generate.py about 9 clips a
#: second in session 45).
SECONDS_PER_CLIP = {"archive": 0.3, "generate": 0.11}


def load_folders(path: Path = FOLDERS_FILE) -> dict:
    """folders.json, checked: every group names described folders, every folder has one recipe."""
    content = json.loads(path.read_text())
    if content.get("format") != FORMAT:
        raise ValueError(f"{path} is not an {FORMAT} file")
    folders = content["folders"]
    for name, spec in folders.items():
        if ("archive" in spec) == ("generate" in spec):
            raise ValueError(f"{path}: folder {name!r} needs exactly one of 'archive' and 'generate'")
    for group, names in content["groups"].items():
        unknown = [n for n in names if n not in folders]
        if unknown:
            raise ValueError(f"{path}: group {group!r} names undescribed folders {unknown}")
    return content


def archived_clips(spec: dict, archives: Path = ARCHIVES) -> int:
    """How many clip files a restore of `spec` puts at the folder's top level (clips where MediaPipe found
    nobody go to its nobody/ subfolder, which training does not read)."""
    plans = plan_range(spec["plans"]) if "plans" in spec else None
    return sum(len(Path(entry["file"]).parts) == 1 and selected(entry, plans, spec.get("match"))
               for entry in read_index(archives / spec["archive"])["clips_index"])


def making_seconds(spec: dict) -> float:
    """Roughly how long a folder takes to make (SECONDS_PER_CLIP), to start the longest first."""
    return spec["clips"] * SECONDS_PER_CLIP["generate" if "generate" in spec else "archive"]


def held_clips(folder: Path) -> int:
    """Clip files at a folder's top level, as the training and choosing scripts read them."""
    return len(list(folder.glob("*.npz"))) if folder.is_dir() else 0


def command(name: str, spec: dict, root: Path, motion_dir: Path, archives: Path = ARCHIVES) -> list[str]:
    """The command that makes folder `name` under `root`."""
    out = str(root / name)
    if "generate" in spec:
        motion = ["--motion-dir", str(motion_dir)] if spec.get("motion") else []
        return [sys.executable, "-m", "scripts.synth.generate", "--out", out, *motion, *spec["generate"].split(),
                "--workers", "1"]
    extra = [*(["--plans", spec["plans"]] if "plans" in spec else []),
             *(["--match", spec["match"]] if "match" in spec else [])]
    return [sys.executable, "-m", "scripts.synth.detection_archive", "restore", "--motion-dir", str(motion_dir),
            "--archive", str(archives / spec["archive"]), "--out", out, *extra]


def job_environment(jobs: int) -> dict[str, str]:
    """The environment of each side-by-side job: its share of the CPUs as numpy's and torch's thread count,
    unless the user set one. Why: each process otherwise starts a BLAS thread per CPU, and two restores side
    by side on 2 cores took 46 s where they take 13 with one thread each (session 53)."""
    share = str(max(1, threads.available_cpus() // max(1, jobs)))
    return {**os.environ, **{name: os.environ.get(name, share) for name in threads.ENV_THREAD_VARIABLES}}


def rebuild(names: list[str], folders: dict, root: Path, motion_dir: Path, jobs: int = 2,
            log=print, archives: Path = ARCHIVES) -> dict[str, str]:
    """Make every named folder that does not yet hold its clips; returns {name: 'present' | 'made' | error}."""
    root.mkdir(parents=True, exist_ok=True)
    todo = [n for n in names if held_clips(root / n) != folders[n]["clips"]]
    results = {n: "present" for n in names if n not in todo}
    if results:
        log(f"{len(results)} folders already hold their clips: {', '.join(results)}")
    todo.sort(key=lambda n: -making_seconds(folders[n]))
    environment = job_environment(jobs)
    started = time.monotonic()

    def make(name: str) -> str:
        spec = folders[name]
        log(f"[{time.monotonic() - started:6.0f} s] {name}: making {spec['clips']} clips")
        with open(root / f"{name}.rebuild.log", "w") as output:
            done = subprocess.run(command(name, spec, root, motion_dir, archives), cwd=REPO, stdout=output,
                                  stderr=subprocess.STDOUT, env=environment)
        held = held_clips(root / name)
        if done.returncode != 0:
            result = f"failed (exit {done.returncode}; see {root / name}.rebuild.log)"
        elif held != spec["clips"]:
            result = (f"holds {held} clips, not the {spec['clips']} the card's networks read: the generator, "
                      f"retargeting or corpus changed (see {root / name}.rebuild.log)")
        else:
            result = "made"
        log(f"[{time.monotonic() - started:6.0f} s] {name}: {result}")
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results.update(zip(todo, pool.map(make, todo)))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.synth.rebuild_folders",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", nargs="+", default=[], help="folder groups of folders.json, e.g. mix_v45 choosing")
    parser.add_argument("--folder", action="append", default=[], help="one folder by name (repeatable)")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="where the folders go")
    parser.add_argument("--motion-dir", type=Path, default=DEFAULT_MOTION_DIR, help="the corpus (../shared/motion)")
    parser.add_argument("--jobs", type=int, default=2, help="folders made side by side (one process each)")
    parser.add_argument("--list", action="store_true", help="print the groups and folders, make nothing")
    args = parser.parse_args(argv)
    content = load_folders()
    folders, groups = content["folders"], content["groups"]
    if args.list:
        for group, names in groups.items():
            print(f"{group}: {' '.join(names)}")
        for name, spec in folders.items():
            print(f"{name}: {spec['clips']} clips held now {held_clips(args.root / name)}")
        return 0
    unknown = [g for g in args.group if g not in groups] + [f for f in args.folder if f not in folders]
    if unknown:
        parser.error(f"unknown group or folder {unknown}; see --list")
    names = list(dict.fromkeys([n for g in args.group for n in groups[g]] + args.folder))
    if not names:
        parser.error("name a --group or a --folder (see --list)")
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    results = rebuild(names, folders, args.root, args.motion_dir, args.jobs, log)
    failed = {n: r for n, r in results.items() if r not in ("present", "made")}
    for name, result in failed.items():
        log(f"{name}: {result}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
