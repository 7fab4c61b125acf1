"""Benchmark the bridge on CPU: frames/s per stage and end to end at 480p/720p/1080p, and memory on a long video.

    python scripts/bench_bridge.py [--sizes 480,720,1080] [--seconds 4] [--long-minutes 10] [--threads N]
    python scripts/bench_bridge.py --contention 1 [--sizes 720] [--long-minutes 0]
    python scripts/bench_bridge.py --checkpoint .cache/arts/wide/arts.pt --sizes 720 --long-minutes 0  # a candidate

Test videos are rendered once by scripts/render_test_clip.py (H.264, Blender) into .cache/bench/ and
reused. Stages: decode (OpenCV), detect (MediaPipe on decoded frames), model (ARTS windows; --checkpoint, or the
shipped checkpoint when present, else an untrained network of the default size, which costs the same), end to end
(bridge.pipeline.process_video, everything included). The long video repeats the rendered frames (MPEG-4
part 2, written by OpenCV) and is processed in a child process whose resident memory is sampled, to show
that memory stays flat in the video's length. With --contention N, each size's end-to-end run is repeated
with detection in one pass (one landmarker instead of one per thread), beside N bursty 2-thread torch
processes (a render or a training job next to the bridge), and as two bridge jobs at once to compare their
combined frames/s with one job's. Prints tables; asserts nothing (numbers vary with load).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge.windows import DEFAULT_WINDOW_STRIDE  # noqa: E402

CACHE = REPO / ".cache" / "bench"
SIZES = {480: (854, 480), 720: (1280, 720), 1080: (1920, 1080)}


def rss_mb() -> float:
    """Resident memory of this process in MiB (Linux /proc)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def ensure_clip(height: int, seconds: float) -> Path:
    """The rendered benchmark clip at this height (rendered on first use)."""
    from scripts.render_test_clip import render_clip

    width, _ = SIZES[height]
    name = f"bench_{height}p_{seconds:g}s"
    path = CACHE / f"{name}.mp4"
    if not path.is_file():
        print(f"rendering {path.name} ...", file=sys.stderr)
        render_clip(CACHE, name, "wave", seconds, (width, height), distance_m=3.2)
    return path


def make_predictor(tiny: bool = False, checkpoint: Path | None = None):
    from bridge.models.config import ArtsConfig
    from bridge.models.inference import ArtsPredictor
    from bridge.models.registry import DEFAULT_CHECKPOINT

    if tiny:  # memory runs: the network's size does not change how memory grows with the video's length
        config = ArtsConfig(lifter_depth=1, lifter_dim=32, lifter_heads=2, feature_dim=32, tik_dim=32, tik_heads=2,
                            mcr_dim=32, mcr_heads=2, bsf_iterations=1)
        return ArtsPredictor.from_config(config), "untrained, tiny"
    if checkpoint is not None:  # a candidate: a wider network must keep the bridge at 30 frames/s before it ships
        return ArtsPredictor.load(checkpoint), str(checkpoint)
    if DEFAULT_CHECKPOINT.is_file():
        return ArtsPredictor.load(None), "shipped checkpoint"
    return ArtsPredictor.from_config(ArtsConfig()), "untrained, default size"


def bench_decode(path: Path) -> tuple[float, int]:
    from bridge.video import iter_frames

    t0 = time.perf_counter()
    n = sum(1 for _ in iter_frames(path))
    return n / (time.perf_counter() - t0), n


def bench_detect(path: Path) -> tuple[float, int]:
    from bridge.detection import PoseDetector
    from bridge.tracking import timestamp_ms
    from bridge.video import iter_frames

    frames = [f for _, f in iter_frames(path)]
    found = 0
    with PoseDetector() as det:
        t0 = time.perf_counter()
        for k, frame in enumerate(frames):
            found += det.detect(frame, timestamp_ms(k, 30.0)).count > 0
        fps = len(frames) / (time.perf_counter() - t0)
    return fps, found


def bench_model(predictor, frames: int = 512, batch: int = 64, flip_average: bool = True,
                stride: int = DEFAULT_WINDOW_STRIDE) -> float:
    """Frames answered per second by the network alone, windows every `stride` frames (as the pipeline runs it)."""
    from bridge.camera import focal_for_frame
    from bridge.windows import answer_offsets, gather_windows, iter_window_batches, stride_for

    stride = stride_for(predictor.window, stride)
    rng = np.random.default_rng(0)
    image = np.concatenate([rng.uniform(100, 600, (frames, 33, 2)), np.ones((frames, 33, 2))], -1).astype(np.float32)
    world = rng.normal(scale=0.3, size=(frames, 33, 3)).astype(np.float32)
    predictor.predict_windows(image[None, :16], world[None, :16], (1280, 720))  # warm-up
    t0 = time.perf_counter()
    for _, idx in iter_window_batches(frames, predictor.window, batch, stride):
        predictor.predict_windows(gather_windows(image, idx), gather_windows(world, idx), (1280, 720),
                                  flip_average=flip_average, offsets=answer_offsets(stride),
                                  focal_px=focal_for_frame((1280, 720)))
    return frames / (time.perf_counter() - t0)


def bench_end_to_end(path: Path, predictor, tmp: Path, flip_average: bool = True,
                     stride: int = DEFAULT_WINDOW_STRIDE, detect_workers: int | None = None) -> tuple[float, dict]:
    from bridge.pipeline import ProcessOptions, process_video

    t0 = time.perf_counter()
    options = ProcessOptions(video=str(path), output=str(tmp / "bench.npz"), flip_average=flip_average,
                             window_stride=stride, detect_workers=detect_workers)
    _, summary = process_video(options, predictor=predictor)
    return summary.frames / (time.perf_counter() - t0), summary.timings_s


def burner(threads: int = 2, busy_s: float = 0.3, idle_s: float = 0.1) -> None:
    """Child: bursts of torch matrix products on `threads` threads with short pauses, until killed."""
    import torch

    torch.set_num_threads(threads)
    a = torch.randn(512, 512)
    while True:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < busy_s:
            a = torch.tanh(a @ a)
        time.sleep(idle_s)


def job_child(path: str, out: str, checkpoint: Path | None = None) -> None:
    """Child: one bridge job on `path` (its own process, as a batch user would run it); JSON timings to `out`.

    Timed like the one-job rows, which run in a process that has already made its landmarkers and run the
    network once: a 10-frame warm-up first (the first landmarker in a process takes about a second to make,
    as much as the whole of a 4-s clip's people pass)."""
    from bridge.pipeline import ProcessOptions, process_video

    predictor, _ = make_predictor(checkpoint=checkpoint)
    process_video(ProcessOptions(video=path, end_frame=10, output=str(Path(out).with_suffix(".warm.npz"))),
                  predictor=predictor)
    started, t0 = time.time(), time.perf_counter()
    _, summary = process_video(ProcessOptions(video=path, output=str(Path(out).with_suffix(".npz"))),
                               predictor=predictor)
    Path(out).write_text(json.dumps({"seconds": time.perf_counter() - t0, "frames": summary.frames,
                                     "start": started, "end": time.time(), "timings": summary.timings_s}))


def contention_rows(clip: Path, predictor, burners: int, checkpoint: Path | None = None
                    ) -> list[tuple[str, float, dict]]:
    """(condition, end-to-end frames/s, stage seconds): quiet (also with detection in one pass, as before
    bridge/parallel_tracking.py), beside `burners` bursty torch processes, and two bridge jobs at once: their
    combined frames/s from the first job's start to the last one's end, counted like the one-job rows (after
    loading and a warm-up), and the wall time with both processes' start-up for reference."""
    rows = []
    fps, timings = bench_end_to_end(clip, predictor, CACHE)
    rows.append(("quiet", fps, timings))
    fps, timings = bench_end_to_end(clip, predictor, CACHE, detect_workers=1)
    rows.append(("quiet, detection in one pass", fps, timings))
    children = [subprocess.Popen([sys.executable, __file__, "--burn"]) for _ in range(burners)]
    try:
        time.sleep(2.0)  # let them start their bursts
        fps, timings = bench_end_to_end(clip, predictor, CACHE)
        rows.append((f"beside {burners} bursty 2-thread torch process(es)", fps, timings))
    finally:
        for child in children:
            child.kill()
            child.wait()
    outs = [CACHE / f"job_{k}.json" for k in range(2)]
    t0 = time.perf_counter()
    extra = ["--checkpoint", str(checkpoint)] if checkpoint else []
    jobs = [subprocess.Popen([sys.executable, __file__, "--job", str(clip), str(out), *extra]) for out in outs]
    for job in jobs:
        job.wait()
    wall = time.perf_counter() - t0
    results = [json.loads(out.read_text()) for out in outs]
    frames = sum(r["frames"] for r in results)
    span = max(r["end"] for r in results) - min(r["start"] for r in results)
    rows.append(("two bridge jobs at once (combined, after loading and warm-up as above)", frames / span,
                 {**{f"job {k} s": r["seconds"] for k, r in enumerate(results)},
                  "span s": span, f"wall with start-up s ({frames / wall:.1f} frames/s)": wall}))
    return rows


def make_long_video(source: Path, minutes: float) -> Path:
    """`minutes` of video made by looping the frames of `source` (cheap to write, same content)."""
    import cv2

    from bridge.video import iter_frames, probe

    info = probe(source)
    path = CACHE / f"long_{minutes:g}min_{info.height}p.mp4"
    total = int(minutes * 60 * info.fps)
    if path.is_file():
        return path
    frames = [f for _, f in iter_frames(source)]
    cycle = frames + frames[::-1]  # ping-pong so the motion has no jump
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), info.fps, info.image_size)
    for k in range(total):
        writer.write(cycle[k % len(cycle)])
    writer.release()
    return path


def long_video_child(path: str, out: str, tiny: bool) -> None:
    """Run in a child process: process the long video and record RSS over time (JSON to `out`)."""
    samples: list[tuple[float, float, int]] = []
    progress = {"done": 0}
    stop = threading.Event()

    def sample() -> None:
        t0 = time.perf_counter()
        while not stop.wait(1.0):
            samples.append((time.perf_counter() - t0, rss_mb(), progress["done"]))

    from bridge.pipeline import ProcessOptions, process_video

    predictor, _ = make_predictor(tiny)
    threading.Thread(target=sample, daemon=True).start()
    t0 = time.perf_counter()

    def on_progress(stage, done, total, eta, message):
        if stage == "detect":
            progress["done"] = done

    _, summary = process_video(ProcessOptions(video=path, output=str(Path(out).with_suffix(".npz"))),
                               progress=on_progress, predictor=predictor)
    stop.set()
    Path(out).write_text(json.dumps({"seconds": time.perf_counter() - t0, "frames": summary.frames,
                                     "timings": summary.timings_s, "samples": samples}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="480,720,1080")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the rendered clips")
    parser.add_argument("--long-minutes", type=float, default=10.0, help="0 skips the memory run")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--long-tiny-model", action="store_true",
                        help="memory run with a tiny network (same memory behaviour, minutes faster)")
    parser.add_argument("--contention", type=int, default=0,
                        help="also run end to end beside N bursty torch processes, and two jobs at once")
    parser.add_argument("--checkpoint", type=Path, default=None, help="a checkpoint to time instead of the shipped one")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--job", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--burn", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.burn:
        burner()
    if args.job:
        job_child(*args.job, checkpoint=args.checkpoint)
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.child:
        long_video_child(*args.child, tiny=args.long_tiny_model)
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    predictor, what = make_predictor(checkpoint=args.checkpoint)
    print(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}; model: {what}")
    model_fps, plain_model_fps = bench_model(predictor), bench_model(predictor, flip_average=False)
    every_frame_model_fps = bench_model(predictor, stride=1)
    rows = []
    for height in (int(s) for s in args.sizes.split(",")):
        clip = ensure_clip(height, args.seconds)
        decode_fps, frames = bench_decode(clip)
        detect_fps, found = bench_detect(clip)
        e2e_fps, timings = bench_end_to_end(clip, predictor, CACHE)
        plain_fps, _ = bench_end_to_end(clip, predictor, CACHE, flip_average=False)
        every_frame_fps, _ = bench_end_to_end(clip, predictor, CACHE, stride=1)
        rows.append((f"{height}p", frames, decode_fps, detect_fps, model_fps, e2e_fps, plain_model_fps, plain_fps,
                     every_frame_model_fps, every_frame_fps, found, timings))
    print(f"\n{'size':>6} {'frames':>6} {'decode':>9} {'detect':>9} {'model':>9} {'end2end':>9} {'model*':>9} "
          f"{'end2end*':>9} {'model1':>9} {'end2end1':>9}  person found")
    for size, frames, dec, det, mod, e2e, mod_plain, e2e_plain, mod1, e2e1, found, _ in rows:
        print(f"{size:>6} {frames:>6} {dec:>9.1f} {det:>9.1f} {mod:>9.1f} {e2e:>9.1f} {mod_plain:>9.1f} "
              f"{e2e_plain:>9.1f} {mod1:>9.1f} {e2e1:>9.1f}  {found}/{frames}")
    print("(frames per second; end2end = probe + people pass + decode + detect + model + camera fit + write, "
          f"with the defaults: flip averaging, a window every {DEFAULT_WINDOW_STRIDE} frames; * without flip "
          "averaging; 1: a window on every frame)")
    print("\nend-to-end seconds per stage:")
    for size, *_, timings in rows:
        print(f"{size:>6} " + "  ".join(f"{k} {v:.2f}" for k, v in timings.items()))
    if args.contention:
        print("\n| size | condition | end to end (frames/s) | seconds |\n|---|---|---|---|")
        for height in (int(s) for s in args.sizes.split(",")):
            for condition, fps, timings in contention_rows(ensure_clip(height, args.seconds), predictor,
                                                           args.contention, args.checkpoint):
                detail = ", ".join(f"{k} {v:.2f}" for k, v in timings.items())
                print(f"| {height}p | {condition} | {fps:.1f} | {detail} |", flush=True)

    if args.long_minutes > 0:
        long_path = make_long_video(ensure_clip(480, args.seconds), args.long_minutes)
        out = CACHE / "long_result.json"
        child = [sys.executable, __file__, "--child", str(long_path), str(out)]
        subprocess.run(child + (["--long-tiny-model"] if args.long_tiny_model else []), check=True)
        data = json.loads(out.read_text())
        samples = data["samples"]
        model = "tiny untrained network" if args.long_tiny_model else "default-size network"
        print(f"\nlong video: {data['frames']} frames ({args.long_minutes:g} min, 480p, {model}) in "
              f"{data['seconds']:.0f} s = {data['frames'] / data['seconds']:.1f} frames/s; stage seconds "
              f"{ {k: round(v, 1) for k, v in data['timings'].items()} }")
        print(f"{'time_s':>8} {'frames done':>12} {'RSS MiB':>9}")
        for t, rss, done in samples[:: max(1, len(samples) // 12)] + samples[-1:]:
            print(f"{t:>8.0f} {done:>12} {rss:>9.0f}")
        last = max(s[2] for s in samples)
        detect = [s for s in samples if 0 < s[2] < last]
        if len(detect) > 4:
            early = np.mean([s[1] for s in detect[: len(detect) // 4]])
            late = np.mean([s[1] for s in detect[-len(detect) // 4:]])
            print(f"RSS during detection: first quarter {early:.0f} MiB, last quarter {late:.0f} MiB "
                  f"({(late - early) * 1024 / max(detect[-1][2] - detect[0][2], 1):.2f} KiB per frame: landmarks only)")
        print(f"peak RSS {max(s[1] for s in samples):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
