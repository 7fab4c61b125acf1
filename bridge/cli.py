"""Command line: `python -m bridge run VIDEO -o OUT.npz`, `python -m bridge people VIDEO`, `python -m bridge serve`.

The same pipeline as the add-on's, for batch work and debugging. Progress goes to stderr (tqdm) so stdout
stays clean for the result summary (JSON), which scripts can parse.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import __version__
from .camera import DEFAULT_FOV_DEG
from .limb_reaim import DEFAULT_STRENGTH as LIMB_REAIM_STRENGTH
from .smoothing import PRESETS
from .windows import DEFAULT_BATCH_WINDOWS, DEFAULT_WINDOW_STRIDE, MAX_WINDOW_STRIDE


def _person(text: str) -> int | list[float]:
    """'2' (a candidate index from `people`) or 'x0,y0,x1,y1' (a box in pixels)."""
    parts = text.split(",")
    try:
        if len(parts) == 1:
            value = int(parts[0])
            if value < 0:
                raise ValueError
            return value
        if len(parts) == 4:
            box = [float(p) for p in parts]
            if box[2] > box[0] and box[3] > box[1]:
                return box
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"--person takes an index from `people` or a box x0,y0,x1,y1, got {text!r}")


def _strength(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"takes a strength from 0 (off) to 1, got {text!r}")
    return value


def _smoothing(text: str) -> str | dict:
    """A preset name or a JSON object of smoothing parameters."""
    if text in PRESETS:
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        return value
    raise argparse.ArgumentTypeError(f"--smooth takes {', '.join(PRESETS)} or a JSON object like "
                                     '\'{"method": "one_euro", "min_cutoff_hz": 1.5, "beta": 0.5}\'')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bridge", description="ARTS video-to-SMPL bridge")
    parser.add_argument("--version", action="version", version=f"arts-bridge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="process a video into a results .npz")
    run.add_argument("video")
    run.add_argument("-o", "--output", required=True, help="results file (.npz)")
    run.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    run.add_argument("--smooth", type=_smoothing, default="none",
                     help=f"smoothing preset ({', '.join(PRESETS)}) or a JSON object of filter parameters")
    run.add_argument("--person", type=_person, default=None,
                     help="who to track: an index listed by `people`, or a box x0,y0,x1,y1 in pixels")
    run.add_argument("--start", type=int, default=0, help="first frame (default 0)")
    run.add_argument("--end", type=int, default=None, help="frame to stop before (default: the end)")
    run.add_argument("--preview", default=None, help="write a preview .mp4 or a contact sheet .png/.jpg")
    run.add_argument("--checkpoint", default=None, help="ARTS checkpoint (default: the shipped model)")
    run.add_argument("--body-model", default=None, help="body model .npz or SMPL_NEUTRAL.pkl (default: bundled)")
    run.add_argument("--fov-deg", type=float, default=DEFAULT_FOV_DEG,
                     help="the camera's field of view across the picture's long side, degrees")
    run.add_argument("--focal-px", type=float, default=None, help="focal length in pixels (overrides --fov-deg)")
    run.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_WINDOWS, help="windows per network call")
    run.add_argument("--foot-lock", type=_strength, default=1.0,
                     help="pin planted feet to one spot, strength 0 (off) to 1 (default 1)")
    run.add_argument("--limb-reaim", type=_strength, default=LIMB_REAIM_STRENGTH,
                     help="turn each limb this share of the way towards the video's 2D keypoints, 0 (off) to 1 "
                          f"(default {LIMB_REAIM_STRENGTH:g})")
    run.add_argument("--flip-average", action=argparse.BooleanOptionalAction, default=True,
                     help="also run the network on the mirrored clip and average (default on; off halves model time)")
    run.add_argument("--window-stride", type=int, default=DEFAULT_WINDOW_STRIDE,
                     choices=range(1, MAX_WINDOW_STRIDE + 1), metavar="N",
                     help="run the network on every N-th frame's window, each answering for the frames around it "
                          f"(1 to {MAX_WINDOW_STRIDE}, default {DEFAULT_WINDOW_STRIDE}; model time / N; 4 is "
                          "less accurate)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    people = sub.add_parser("people", help="list the people in a video (candidates for --person)")
    people.add_argument("video")
    people.add_argument("--start", type=int, default=0)
    people.add_argument("--end", type=int, default=None)
    people.add_argument("--samples", type=int, default=12, help="frames to sample")
    people.add_argument("--max-people", type=int, default=4)
    people.add_argument("--thumbnails", default=None, help="folder for person_<index>.png crops")

    serve = sub.add_parser("serve", help="speak the JSON-lines protocol on stdin/stdout (used by the Blender add-on)")
    for command in (run, people, serve):
        command.add_argument("--threads", type=int, default=None,
                             help="CPU threads for the model, and landmarkers tracking pieces of a long video side "
                                  "by side (default: the CPUs this process may use; 1: one pass)")
    return parser


class _ProgressBars:
    """One tqdm bar per stage, on stderr."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.stage: str | None = None
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int, eta_s: float | None, message: str) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total or None, desc=stage, unit="frame" if stage in ("detect", "model") else "step",
                            file=sys.stderr, leave=True, dynamic_ncols=True)
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        if message:
            self.bar.set_postfix_str(message, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _fail(code: str, message: str) -> int:
    print(f"error ({code}): {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 done, 2 an input or setting to change (one line on stderr), 1 a bug (one line and a
    crash report file); never a traceback."""
    args = build_parser().parse_args(argv)
    from .threads import configure

    configure(args.threads)  # before anything imports torch
    try:
        return _run(args)
    except Exception as exc:  # noqa: BLE001 - a bug: say so in one line, keep the details in a file
        from .crash_report import bug_message, write_crash_report

        print(f"error (internal_error): {bug_message(exc, write_crash_report(exc, f'argv: {sys.argv}'))}",
              file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from .server import main as serve_main

        return serve_main()

    from .pipeline import PipelineError, ProcessOptions, people, process_video

    if args.command == "people":
        try:
            listing = people(args.video, args.start, args.end, args.samples, args.max_people, args.thumbnails)
        except PipelineError as exc:
            return _fail(exc.code, exc.message)
        print(json.dumps(listing, indent=2))
        return 0

    bars = _ProgressBars(not args.quiet)
    options = ProcessOptions(
        video=args.video, output=args.output, start_frame=args.start, end_frame=args.end, device=args.device,
        person=args.person, smoothing=args.smooth, preview=args.preview, checkpoint=args.checkpoint,
        body_model=args.body_model, fov_deg=args.fov_deg, focal_px=args.focal_px, batch_size=args.batch_size,
        foot_lock=args.foot_lock, limb_reaim=args.limb_reaim, flip_average=args.flip_average,
        window_stride=args.window_stride)
    try:
        _, summary = process_video(options, progress=bars)
    except PipelineError as exc:
        bars.close()
        return _fail(exc.code, exc.message)
    except KeyboardInterrupt:
        bars.close()
        return _fail("cancelled", "interrupted")
    bars.close()
    print(json.dumps(summary.to_dict(), indent=2))
    return 0
