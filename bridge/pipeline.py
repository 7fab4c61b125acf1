"""Video -> SMPL animation: the bridge's one job, shared by the CLI and the server.

Stages (protocol.STAGES): load (probe video, load model and body model) -> people (pick the person) -> detect
(decode + MediaPipe, streaming, consecutive pieces of the clip side by side on the CPUs; then, in a crop,
missed frames beside found ones) -> model (ARTS over sliding windows) -> smooth (optional) -> camera (root
translation; the limbs turned part of the way to the 2D keypoints, limb_reaim.py; world frame, contacts, foot
lock) -> write (atomic results file) -> preview (optional). Progress is reported per stage with done/total and
an ETA; cancellation is checked between frames and batches, so a cancel takes effect within one batch. The
clip-level shape is a robust mean of the per-frame shapes over detected frames (carried over by skeleton
proportions when the chosen body model is not the checkpoint's), and the joints in the results are re-posed
from that shape (forward kinematics), so they are exactly the joints of the rig the add-on builds from (betas,
pose_aa, trans_m).
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import (camera, contacts, crop_recovery, foot_lock, ground, limb_reaim, parallel_tracking, preflight,
               protocol, smoothing, stuck_tracking, threads, track_checks, tracking, video)
from .detection import DetectorMissingError, PoseDetector
from .geometry import kinematics, rotations
from .results import ClipResult, ResultsError, write_results
from .shape_transfer import transfer_betas
from .skeleton import NUM_BETAS, SMPL_PARENTS
from .overlap import WindowsAhead
from .windows import (DEFAULT_BATCH_WINDOWS, DEFAULT_WINDOW_STRIDE, MAX_WINDOW_STRIDE, answer_offsets,
                      blend_answers, gather_windows, stride_for, window_centres, window_indices)

#: Sampled frames for choosing the person automatically (a person index is resolved with list_people's own
#: defaults instead, so it names the same candidate the user picked from that listing).
AUTO_PEOPLE_SAMPLES = 8
#: At most this many people are followed at once in multi-person tracking.
MAX_TRACKED_POSES = 4

ProgressFn = Callable[[str, int, int, float | None, str], None]  # stage, done, total, eta_s, message
CancelFn = Callable[[], bool]


class PipelineError(Exception):
    """A job that cannot finish; `code` is a protocol error code (video_error, no_person, model_missing, ...)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Cancelled(PipelineError):
    def __init__(self) -> None:
        super().__init__("cancelled", "cancelled by the user")


@dataclass
class ProcessOptions:
    """Everything a process_video request can set (protocol.PARAMS["process_video"] mirrors it)."""

    video: str
    output: str | None = None  # results .npz; None = do not write (the caller keeps the ClipResult)
    start_frame: int = 0
    end_frame: int | None = None  # exclusive
    device: str = "cpu"  # auto | cpu | cuda
    person: int | list[float] | None = None  # list_people index, a box [x0, y0, x1, y1] px, or None = automatic
    smoothing: str | dict | None = "none"
    preview: str | None = None  # .mp4 (video) or .png/.jpg (contact sheet)
    checkpoint: str | None = None
    body_model: str | None = None
    fov_deg: float = camera.DEFAULT_FOV_DEG
    focal_px: float | None = None
    batch_size: int = DEFAULT_BATCH_WINDOWS
    foot_lock: float = 1.0  # strength in [0, 1]; 0 = off
    limb_reaim: float = limb_reaim.DEFAULT_STRENGTH  # share of the way limbs turn to the 2D keypoints; 0 = off
    task_path: str | None = None  # pose landmarker bundle (tests, advanced use)
    max_side_px: int | None = 1280  # frames are downscaled to this before landmark detection
    #: the people pass beside tracking, and the network on finished windows while detection goes on (same results)
    overlap: bool = True
    flip_average: bool = True  # also run each window mirrored and average (test-time flip: 2x model time)
    window_stride: int = DEFAULT_WINDOW_STRIDE  # a window on every n-th frame, answers blended (bridge/windows.py)
    #: landmarkers tracking consecutive pieces of the clip side by side (bridge/parallel_tracking.py); None =
    #: threads.detect_workers(), 1 = one pass
    detect_workers: int | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ProcessOptions:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in params.items() if k in known})


@dataclass
class ProcessSummary:
    """What the caller is told besides the results file."""

    output: str | None
    frames: int
    valid_frames: int
    fps: float
    image_size: tuple[int, int]
    rotation_deg: int
    person: dict | None
    model_id: str
    body_model_id: str
    device: str
    timings_s: dict[str, float] = field(default_factory=dict)
    preview: str | None = None
    warnings: list[str] = field(default_factory=list)
    world: dict | None = None  # how the world frame was found and the camera it implies
    foot_lock: dict | None = None  # strength and frames locked per foot

    def to_dict(self) -> dict[str, Any]:
        return {"output": self.output, "frames": self.frames, "valid_frames": self.valid_frames, "fps": self.fps,
                "image_size": list(self.image_size), "rotation_deg": self.rotation_deg, "person": self.person,
                "model_id": self.model_id, "body_model_id": self.body_model_id, "device": self.device,
                "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()}, "preview": self.preview,
                "warnings": self.warnings, "world": self.world, "foot_lock": self.foot_lock}


# ---------------------------------------------------------------------------------------------------------
# Loading (cached: the server handles many jobs with the same model).

def resolve_device(device: str) -> str:
    """auto -> cuda if available else cpu; cuda without a GPU is an error rather than a silent fallback."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise PipelineError("invalid_request", "device 'cuda' was requested but this PyTorch sees no CUDA GPU; "
                            "choose device 'cpu' or 'auto'")
    if device not in ("cpu", "cuda"):
        raise PipelineError("invalid_request", f"unknown device {device!r}; choose auto, cpu or cuda")
    return device


@functools.lru_cache(maxsize=2)
def load_predictor(checkpoint: str | None, device: str):
    """The ARTS predictor for (checkpoint, device); model_missing with setup advice when it is absent."""
    from .threads import torch_started

    torch_started()
    from .models.checkpoint import CheckpointError
    from .models.inference import ArtsPredictor

    try:
        predictor = ArtsPredictor.load(Path(checkpoint) if checkpoint else None, device=device)
    except (FileNotFoundError, CheckpointError) as exc:
        raise PipelineError("model_missing", str(exc)) from exc
    if predictor.model.config.feature_source != "landmarks":
        raise PipelineError("model_missing", f"checkpoint {checkpoint or 'default'} reads image features "
                            f"({predictor.model.config.feature_source}); the bridge feeds landmark features only: "
                            "use a checkpoint trained with feature_source 'landmarks'")
    return predictor


@functools.lru_cache(maxsize=2)
def load_body_model(path: str | None):
    from .body_model import BodyModelError, load_body_model_arrays

    try:
        return load_body_model_arrays(path)
    except FileNotFoundError as exc:
        raise PipelineError("model_missing", f"body model not found: {exc}") from exc
    except BodyModelError as exc:
        raise PipelineError("model_missing", str(exc)) from exc


def betas_for_body(predictor, body, betas: np.ndarray) -> tuple[np.ndarray, str | None]:
    """The network's β belong to the body model it was trained with; any other body model (a user's
    SMPL_NEUTRAL.pkl) gets β with the same skeleton proportions, and a note saying so."""
    source = getattr(predictor, "body", None)
    if source is None or str(source.model_id) == str(body.model_id):
        return betas, None
    transfer = transfer_betas(source, betas, body)
    return transfer.betas, (f"body shape carried over from '{source.model_id}' (what the network predicts) to "
                            f"'{body.model_id}' by skeleton proportions (bone error {transfer.bone_rms_mm:.1f} mm "
                            "rms); its girth stays at that model's mean")


# ---------------------------------------------------------------------------------------------------------
# Pure steps.

def robust_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(F, D) per-frame estimates, (F,) weights >= 0 -> (D,): weighted mean of the frames whose distance to
    the per-coefficient median is within 3 median absolute deviations (outlier frames cannot drag it)."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if not np.any(weights > 0):
        weights = np.ones(len(values))
    median = np.median(values[weights > 0], axis=0)
    dist = np.linalg.norm(values - median, axis=1)
    mad = np.median(dist[weights > 0])
    inlier = dist <= 3.0 * mad + 1e-9
    w = np.where(inlier, weights, 0.0)
    if w.sum() <= 0:
        return median
    return (w[:, None] * values).sum(axis=0) / w.sum()


def pose_joints(pose_aa: np.ndarray, rest_joints: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """(F, 24, 3) axis-angle and (24, 3) rest joints -> (F, 24, 3) posed joints, root at rest_joints[0].

    In chunks of frames, so the (F, 24, 3, 3) rotation matrices of a long video never exist all at once."""
    pose_aa = np.asarray(pose_aa, np.float64)
    rest = np.asarray(rest_joints, np.float64)
    out = np.empty(pose_aa.shape, np.float64)
    for start in range(0, len(pose_aa), chunk):
        part = slice(start, start + chunk)
        out[part], _ = kinematics.forward_kinematics(rotations.axis_angle_to_matrix(pose_aa[part]), rest, SMPL_PARENTS)
    return out


def sole_heights(rest_vertices: np.ndarray, rest_joints: np.ndarray) -> dict[int, float]:
    """Height of each foot joint above the sole (the lowest rest vertex) in the body's rest pose (Y up)."""
    sole = float(np.min(np.asarray(rest_vertices)[:, 1]))
    return {j: float(rest_joints[j, 1]) - sole for j in ground.FOOT_JOINTS}


def world_summary(world: ground.WorldFrame) -> dict:
    pitch, roll = world.camera_pitch_roll_deg()
    return {"method": world.method, "planted_frames": world.contacts,
            "camera_height_m": round(world.camera_height_m(), 3), "camera_pitch_deg": round(pitch, 2),
            "camera_roll_deg": round(roll, 2)}


def _eta(done: int, total: int, elapsed_s: float) -> float | None:
    if done <= 0 or total <= 0 or total < done:
        return None
    return elapsed_s / done * (total - done)


# ---------------------------------------------------------------------------------------------------------

class _Reporter:
    """Progress + cancellation for one job; times every stage."""

    def __init__(self, progress: ProgressFn | None, should_cancel: CancelFn | None):
        self.progress = progress
        self.should_cancel = should_cancel
        self.timings: dict[str, float] = {}
        self._stage_start = 0.0

    def check(self) -> None:
        if self.should_cancel is not None and self.should_cancel():
            raise Cancelled()

    def begin(self, stage: str, total: int = 0, message: str = "") -> None:
        self.check()
        self._stage_start = time.perf_counter()
        self.report(stage, 0, total, None, message)

    def end(self, stage: str, done: int = 1, total: int = 1) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - self._stage_start
        self.report(stage, done, total, 0.0, "")

    def report(self, stage: str, done: int, total: int, eta_s: float | None, message: str = "") -> None:
        if self.progress is not None:
            self.progress(stage, done, total, eta_s, message)

    def elapsed(self) -> float:
        return time.perf_counter() - self._stage_start


def _choose_person(options: ProcessOptions, info: video.VideoInfo, start: int, end: int | None, rep: _Reporter
                   ) -> tuple[np.ndarray | None, int, dict | None]:
    """(box to follow from the start or None, num_poses, candidate description) for the requested person.

    A box given by the caller is taken as the person's box at the start of the range."""
    if isinstance(options.person, list):
        box = np.asarray(options.person, dtype=np.float64)
        return box, MAX_TRACKED_POSES, {"box": [float(v) for v in box]}
    listing = protocol.PARAMS["list_people"]
    samples = AUTO_PEOPLE_SAMPLES if options.person is None else listing["samples"][1]
    max_people = MAX_TRACKED_POSES if options.person is None else listing["max_people"][1]
    rep.begin("people", samples, "looking for people")
    try:
        candidates = tracking.list_people(
            info, start, end, samples=samples, max_people=max_people,
            task_path=options.task_path, should_cancel=rep.should_cancel,
            progress=lambda d, t: rep.report("people", d, t, None))
    except InterruptedError as exc:
        raise Cancelled() from exc
    rep.end("people")
    wanted = 0 if options.person is None else int(options.person)
    if wanted >= len(candidates) and options.person is not None:
        raise PipelineError("no_person", f"person {wanted} was requested but only {len(candidates)} "
                            "candidate(s) were found; run list_people again and pick one of them")
    if len(candidates) <= 1 and options.person is None:
        # One person (or none seen in the samples): MediaPipe's own tracking, the fast path.
        return None, 1, candidates[0].to_dict() if candidates else None
    chosen = candidates[wanted]
    return chosen.first_box, min(max(len(candidates), 2), MAX_TRACKED_POSES), chosen.to_dict()


def _look_again(track: tracking.TrackedClip, info: video.VideoInfo, options: ProcessOptions,
                rep: _Reporter) -> None:
    """Look again, in a crop and without MediaPipe's tracking, for the person in frames next to ones where
    they were found (crop_recovery), then where the tracked landmarks jump (stuck_tracking)."""
    missed = _frames_in(crop_recovery.missed_runs(track.valid))
    stretches = stuck_tracking.suspect_stretches(track.image_landmarks, track.valid, info.fps)
    if not missed and not stretches:
        return
    tally = _LookAgainProgress(rep, track.num_frames, missed + _frames_in(stretches))
    with (PoseDetector(options.task_path, video_mode=False, max_side_px=options.max_side_px) as detector,
          video.FrameReader(info.path) as reader):
        if missed:
            crop_recovery.recover_missed(track, reader.read, detector.detect, rep.should_cancel, tally.add)
            # Frames found again may start or end a jump: the stretches are those of the track as it is now.
            stretches = stuck_tracking.suspect_stretches(track.image_landmarks, track.valid, info.fps)
            tally.plan(missed + _frames_in(stretches))
        stuck_tracking.repair_stuck(track, stretches, reader.read, detector.detect, rep.should_cancel, tally.add)


def _frames_in(runs: list[tuple[int, int]]) -> int:
    return sum(stop - start for start, stop in runs)


#: What the detect stage reports while it looks again.
LOOK_AGAIN_MESSAGE = "looking again where the person was lost or the tracking jumped"
#: Frames looked at again between two progress reports.
LOOK_AGAIN_REPORT_EVERY = 10


class _LookAgainProgress:
    """The detect stage's progress while it looks again: its tracked frames done, plus the frames looked at
    again out of those planned. Why: on long footage where the person is often small or upside down this
    can take minutes, and a bridge that says nothing for that long is taken for hung (the add-on gives up
    after bridge_client.NO_NEWS_TIMEOUT_S)."""

    def __init__(self, rep: _Reporter, frames: int, planned: int):
        self._rep, self._frames, self._planned = rep, frames, planned
        self._done = self._reported = 0
        self._start = time.perf_counter()
        self._report()

    def plan(self, planned: int) -> None:
        self._planned = max(planned, self._done)
        self._report()

    def add(self, count: int) -> None:
        self._done += count
        if self._done - self._reported >= LOOK_AGAIN_REPORT_EVERY:
            self._report()

    def _report(self) -> None:
        self._reported = self._done
        self._rep.report("detect", self._frames + self._done, self._frames + self._planned,
                         _eta(self._done, self._planned, time.perf_counter() - self._start), LOOK_AGAIN_MESSAGE)


#: What the detect stage reports it is doing.
DETECT_MESSAGE = "finding the person in every frame"


class _PeopleBeside:
    """The people pass in a thread beside the first frames of one-person tracking (the default person only).

    MediaPipe's own tracking is what the pass picks whenever it sees at most one person, so tracking starts at
    once and is kept then; with several people it is dropped (`wrong`) and started again from the chosen one's
    box. Either way the results are those of the pass and then tracking. The detect stage's progress and the
    landmarks for the windows run-ahead are held back until the pass is done, so stages still report in order
    and nothing from a dropped track reaches the network."""

    def __init__(self, options: ProcessOptions, info: video.VideoInfo, start: int, end: int | None, rep: _Reporter,
                 ahead: WindowsAhead | None):
        import threading

        self._rep, self._ahead, self._held, self._detect_begun = rep, ahead, [], False
        self._outcome: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._look, args=(options, info, start, end), name="arts-people",
                                        daemon=True)
        self._thread.start()

    def _look(self, options: ProcessOptions, info: video.VideoInfo, start: int, end: int | None) -> None:
        try:
            self._outcome["choice"] = _choose_person(options, info, start, end, self._rep)
        except BaseException as exc:  # re-raised in the caller's thread by choice()
            self._outcome["error"] = exc

    def _settled(self) -> bool:
        return not self._thread.is_alive()

    def wait(self) -> None:
        """Until the pass is done (it stops soon after a cancel: it polls the same flag)."""
        self._thread.join()

    def choice(self) -> tuple[np.ndarray | None, int, dict | None]:
        """(box, num_poses, person) as _choose_person gives them, once the pass is done."""
        self.wait()
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome["choice"]

    def wrong(self) -> bool:
        """Whether the pass is done and chose someone MediaPipe's own tracking may not follow."""
        return self._settled() and self.choice()[0] is not None

    def should_cancel(self) -> bool:
        return self.wrong() or (self._rep.should_cancel is not None and self._rep.should_cancel())

    def progress(self, done: int, total: int, elapsed_s: float) -> None:
        if not self._settled() or self.wrong():
            return
        self._begin_detect(total)
        self._rep.report("detect", done, total, _eta(done, total, elapsed_s))

    def _begin_detect(self, total: int) -> None:
        if not self._detect_begun:
            self._detect_begun = True
            self._rep.begin("detect", total, DETECT_MESSAGE)

    def add(self, position: int, image_lm: np.ndarray, world_lm: np.ndarray, found: bool) -> None:
        self._held.append((position, image_lm, world_lm, found))
        if self._settled() and not self.wrong():
            self._flush()

    def _flush(self) -> None:
        if self._ahead is not None:
            for item in self._held:
                self._ahead.add(*item)
        self._held.clear()

    def finish(self, track: tracking.TrackedClip) -> None:
        """The kept track is complete: whatever was held back goes on, and the detect stage has begun."""
        self._flush()
        self._begin_detect(track.num_frames)


def _detect(options: ProcessOptions, info: video.VideoInfo, start: int, end: int | None, rep: _Reporter,
            track_person: Callable[..., tracking.TrackedClip] | None, ahead: WindowsAhead | None = None,
            look_again: bool = True) -> tuple[tracking.TrackedClip, dict | None]:
    """The people and detect stages: choose the person, follow them, look again for missed frames.
    `ahead` (with the default tracker only) receives every frame's landmarks as they come."""
    try:
        track = None
        total = video.expected_frames(info, start, end)
        common = dict(task_path=options.task_path, max_side_px=options.max_side_px)
        follow = functools.partial(parallel_tracking.track_person_parallel,
                                   workers=options.detect_workers or threads.detect_workers())
        if options.overlap and track_person is None and options.person is None:
            beside = _PeopleBeside(options, info, start, end, rep, ahead)
            try:
                track = follow(info, start, end, person_box=None, num_poses=1, should_cancel=beside.should_cancel,
                               progress=beside.progress, on_landmarks=beside.add, **common)
            except InterruptedError:
                if not beside.wrong():
                    raise
            finally:
                beside.wait()
            box, num_poses, person = beside.choice()
            if box is None:
                beside.finish(track)
            else:
                track = None
        else:
            box, num_poses, person = _choose_person(options, info, start, end, rep)
        if track is None:
            rep.begin("detect", total, DETECT_MESSAGE)
            extra = {"on_landmarks": ahead.add} if ahead is not None and track_person is None else {}
            track = (track_person or follow)(
                info, start, end, person_box=box, num_poses=num_poses, should_cancel=rep.should_cancel,
                progress=lambda d, t, s: rep.report("detect", d, t, _eta(d, t, s)), **common, **extra)
        if look_again:
            _look_again(track, info, options, rep)
    except InterruptedError as exc:
        raise Cancelled() from exc
    except video.VideoError as exc:
        raise PipelineError("video_error", exc.message) from exc
    except DetectorMissingError as exc:
        raise PipelineError("model_missing", str(exc)) from exc
    rep.end("detect", track.num_frames, track.num_frames)
    return track, person


def _check_outputs(options: ProcessOptions, frames: int) -> None:
    """Refuse output paths that cannot be written before any work is done (output_error)."""
    try:
        if options.output:
            preflight.check_output_file(options.output, (".npz",), "results file", preflight.results_bytes(frames))
        if options.preview:
            preflight.check_output_file(options.preview, (".mp4", ".png", ".jpg", ".jpeg"), "preview")
    except preflight.OutputPathError as exc:
        raise PipelineError("output_error", str(exc)) from exc


def _truncation_warning(info: video.VideoInfo, start: int, end: int | None, decoded: int) -> str | None:
    """A warning when the video ends well before the frame count its container declares."""
    declared = video.expected_frames(info, start, end)
    if declared and decoded < declared - max(2, declared // 100):
        return (f"the video ended after {decoded} of the {declared} frames its header declares; the file may be "
                "truncated or damaged, so the animation stops early")
    return None


def _open_video(options: ProcessOptions) -> tuple[video.VideoInfo, int, int | None]:
    """(video info, first frame, end frame or None) for the requested range."""
    try:
        info = video.probe(options.video)
        return (info, *video.resolve_range(info, options.start_frame, options.end_frame))
    except video.VideoError as exc:
        raise PipelineError("video_error", exc.message) from exc


def track_video(options: ProcessOptions, progress: ProgressFn | None = None, should_cancel: CancelFn | None = None
                ) -> tuple[video.VideoInfo, tracking.TrackedClip, dict | None]:
    """Only what process_video does to find the person in every frame (the people and detect stages, with
    the same choices), for tools that need MediaPipe's landmarks exactly as the model gets them but not the
    model: (video info, the track (missed frames valid = False, not filled), the chosen candidate or None)."""
    rep = _Reporter(progress, should_cancel)
    info, start, end = _open_video(options)
    track, person = _detect(options, info, start, end, rep, None)
    return info, track, person


def process_video(options: ProcessOptions, progress: ProgressFn | None = None, should_cancel: CancelFn | None = None,
                  predictor: Any | None = None, track_person: Callable[..., tracking.TrackedClip] | None = None,
                  look_again: bool = True) -> tuple[ClipResult, ProcessSummary]:
    """Run the whole pipeline; writes options.output when set. `predictor` overrides the loaded model (tests);
    `track_person` stands in for tracking.track_person (evaluation runs MediaPipe once for several models);
    look_again=False takes its track as final, for a stored track over a stand-in video where looking again
    (crop recovery, stuck tracking) could find nothing."""
    rep = _Reporter(progress, should_cancel)
    try:
        smooth_params = smoothing.params_from_request(options.smoothing)
    except ValueError as exc:
        raise PipelineError("invalid_request", str(exc)) from exc
    if not 1 <= int(options.window_stride) <= MAX_WINDOW_STRIDE:
        raise PipelineError("invalid_request",
                            f"window_stride must be 1 to {MAX_WINDOW_STRIDE} frames, got {options.window_stride}")

    rep.begin("load", 3, "opening video")
    info, start, end = _open_video(options)
    _check_outputs(options, video.expected_frames(info, start, end))
    warnings = [] if info.fps_from_file else [f"the video has no frame rate; {video.DEFAULT_FPS:g} fps assumed"]
    rep.report("load", 1, 3, None, "loading model")
    device = resolve_device(options.device) if predictor is None else str(getattr(predictor, "device", "cpu"))
    if predictor is None:
        predictor = load_predictor(options.checkpoint, device)
    rep.report("load", 2, 3, None, "loading body model")
    body = load_body_model(options.body_model)
    rep.end("load", 3, 3)

    stride = stride_for(int(predictor.window), options.window_stride)
    focal_px = float(options.focal_px) if options.focal_px else camera.focal_for_frame(info.image_size, options.fov_deg)
    ahead = (WindowsAhead(predictor, info.image_size, options.batch_size, options.flip_average, stride, focal_px)
             if options.overlap and track_person is None else None)
    try:
        track, person = _detect(options, info, start, end, rep, track_person, ahead, look_again)
    except BaseException:
        if ahead is not None:
            ahead.stop(finish=False)
        raise
    early = ahead.stop(track=track) if ahead is not None else {}
    if not track.valid.any():
        raise PipelineError("no_person", f"no person was detected in {Path(options.video).name} "
                            f"(frames {start} to {start + track.num_frames - 1}); make sure one person is fully "
                            "visible, or choose a different range")

    frames = track.num_frames
    truncated = _truncation_warning(info, start, end, frames)
    if truncated:
        warnings.append(truncated)
    warnings += track_checks.tracking_warnings(track.frame_indices, track.image_landmarks, track.valid, info.fps)
    image_lm = tracking.fill_missing(track.image_landmarks, track.valid)
    image_lm[~np.asarray(track.valid, bool), :, 2:] = 0.0  # no confidence where nobody was found, as in training
    world_lm = tracking.fill_missing(track.world_landmarks, track.valid)
    centres, offsets = window_centres(frames, stride), answer_offsets(stride)
    windows = len(centres)
    window_pose = np.zeros((windows, len(offsets), 24, 3), dtype=np.float32)
    window_betas = np.zeros((windows, NUM_BETAS), dtype=np.float32)
    for centre, (pose, betas_k) in early.items():  # batches run during detection: their inputs were final
        window_pose[centre // stride], window_betas[centre // stride] = pose, betas_k
    # the same batches either way
    starts = [b for b in range(0, windows, options.batch_size) if int(centres[b]) not in early]
    rep.begin("model", windows, f"running {getattr(predictor, 'model_id', 'ARTS')} on {len(starts)} batch(es)"
              + (f" ({len(early)} windows already run during detection)" if early else ""))
    for n, first in enumerate(starts):
        rep.check()
        batch = slice(first, min(first + options.batch_size, windows))
        idx = window_indices(centres[batch], frames, int(predictor.window))
        out = predictor.predict_windows(gather_windows(image_lm, idx), gather_windows(world_lm, idx), info.image_size,
                                        flip_average=options.flip_average, offsets=offsets, focal_px=focal_px)
        window_pose[batch] = np.asarray(out["pose_aa"], dtype=np.float32)
        window_betas[batch] = np.asarray(out["betas"], dtype=np.float32)
        done = len(early) + sum(min(options.batch_size, windows - b) for b in starts[:n + 1])
        rep.report("model", done, windows, _eta(done, windows, rep.elapsed()))
    rep.end("model", windows, windows)
    pose_aa, betas_per_frame = blend_answers(window_pose, window_betas, frames, stride)

    confidence = np.where(track.valid, tracking.frame_confidence(track.image_landmarks), 0.0).astype(np.float32)
    keypoints_2d = np.concatenate([image_lm[..., :2], tracking.keypoint_confidence(image_lm)[..., None]], axis=-1)
    keypoints_2d[~track.valid, :, 2] = 0.0  # interpolated points are for the model only, never evidence
    betas = robust_mean(betas_per_frame[track.valid], confidence[track.valid]).astype(np.float32)
    betas, shape_note = betas_for_body(predictor, body, betas)
    if shape_note:
        warnings.append(shape_note)
    from .body_model import shaped_rest

    rest_vertices, rest_joints = shaped_rest(body, betas)
    rest_joints = np.asarray(rest_joints, dtype=np.float64)

    if smooth_params.method != "none":
        rep.begin("smooth", 1, smooth_params.describe())
        pose_aa = smoothing.smooth_pose_aa(pose_aa, info.fps, smooth_params).astype(np.float32)
        rep.end("smooth")

    rep.begin("camera", 1, "placing the person in the camera")
    posed = pose_joints(pose_aa, rest_joints)  # root at rest_joints[0]
    relative = posed - posed[:, :1]
    try:
        pelvis = camera.fit_clip_translation(relative, keypoints_2d, focal_px, info.image_size)
    except ValueError as exc:
        raise PipelineError("no_person", f"cannot place the person in the camera: {exc}") from exc
    if smooth_params.method != "none":
        pelvis = smoothing.smooth_array(pelvis, info.fps, smooth_params)
    trans_m = pelvis - rest_joints[0]
    joints_3d = relative + pelvis[:, None, :]
    if options.limb_reaim > 0:  # before the floor, contacts and lock, which then work on the limbs as shown
        pose_aa = limb_reaim.reaim_limbs(pose_aa, rest_joints, pelvis, keypoints_2d, focal_px, info.image_size,
                                         float(options.limb_reaim)).astype(np.float32)
        joints_3d = pose_joints(pose_aa, rest_joints) + trans_m[:, None]
    soles = sole_heights(rest_vertices, rest_joints)
    world = ground.estimate_world_frame(joints_3d, track.valid, info.fps, soles,
                                        contacts.pictured_stillness(keypoints_2d, info.fps, ground.FOOT_JOINTS))
    joints_world = joints_3d @ world.rotation.T + world.translation
    contact = contacts.contact_probabilities(joints_world, info.fps, soles, keypoints_2d)
    lock_summary = {"strength": float(options.foot_lock), "locked_frames": {"left": 0, "right": 0}}
    if options.foot_lock > 0:
        rays = foot_lock.ankle_rays(keypoints_2d, focal_px, info.image_size, world.matrix())
        locked = foot_lock.lock_feet(pose_aa, trans_m, rest_joints, world.matrix(), contact, soles, info.fps,
                                     float(options.foot_lock), rays)
        pose_aa, trans_m = locked.pose_aa, locked.trans_m
        joints_3d, joints_world = locked.joints_cam, locked.joints_world
        contact = foot_lock.held_contacts(contact, locked.weights, float(options.foot_lock))
        lock_summary["locked_frames"] = {side: int((locked.weights[:, k] > 0.5).sum())
                                         for k, side in enumerate(("left", "right"))}
    if world.method == "body":
        warnings.append("no planted feet were seen, so the floor is placed under the lowest feet and 'up' "
                        "comes from the body's posture; check the rig stands level")
    rep.end("camera")

    result = ClipResult(
        fps=info.fps, frame_indices=track.frame_indices, pose_aa=pose_aa, betas=betas,
        trans_m=trans_m.astype(np.float32), joints_3d=joints_3d.astype(np.float32),
        keypoints_2d=keypoints_2d.astype(np.float32), valid=track.valid, confidence=np.clip(confidence, 0, 1),
        image_size=info.image_size, focal_px=focal_px, model_id=str(getattr(predictor, "model_id", "")),
        world_from_camera=world.matrix(), joints_world_m=joints_world.astype(np.float32), contacts=contact,
        body_model_id=str(getattr(body, "model_id", "")), source=str(Path(options.video).name),
        smoothing=smooth_params.describe())
    if options.output:
        rep.begin("write", 1, "writing results")
        try:
            write_results(options.output, result)
        except (OSError, ResultsError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise PipelineError("output_error", f"cannot write the results file {options.output}: {reason}") from exc
        rep.end("write")
    preview_path = None
    if options.preview:
        from .preview import write_preview

        rep.begin("preview", frames, "drawing the preview")
        try:
            preview_path = str(write_preview(options.preview, info, result, should_cancel=rep.should_cancel,
                                             progress=lambda d, t: rep.report("preview", d, t, None)))
        except InterruptedError as exc:
            raise Cancelled() from exc
        rep.end("preview", frames, frames)
    summary = ProcessSummary(
        output=options.output, frames=frames, valid_frames=int(track.valid.sum()), fps=info.fps,
        image_size=info.image_size, rotation_deg=info.rotation_deg, person=person, model_id=result.model_id,
        body_model_id=result.body_model_id, device=device, timings_s=rep.timings, preview=preview_path,
        warnings=warnings, world=world_summary(world), foot_lock=lock_summary)
    return result, summary


def people(video_path: str, start_frame: int = 0, end_frame: int | None = None, samples: int = 12,
           max_people: int = 4, thumbnails_dir: str | None = None, task_path: str | None = None,
           progress: ProgressFn | None = None, should_cancel: CancelFn | None = None) -> dict[str, Any]:
    """The list_people job: candidates (best first) with boxes and optional PNG thumbnails."""
    rep = _Reporter(progress, should_cancel)
    try:
        info = video.probe(video_path)
        start, end = video.resolve_range(info, start_frame, end_frame)
        rep.begin("people", samples, "looking for people")
        candidates = tracking.list_people(info, start, end, samples=samples, max_people=max_people,
                                          thumbnails_dir=thumbnails_dir, task_path=task_path,
                                          should_cancel=rep.should_cancel,
                                          progress=lambda d, t: rep.report("people", d, t, None))
    except video.VideoError as exc:
        raise PipelineError("video_error", exc.message) from exc
    except DetectorMissingError as exc:
        raise PipelineError("model_missing", str(exc)) from exc
    except InterruptedError as exc:
        raise Cancelled() from exc
    rep.end("people", samples, samples)
    return {"people": [c.to_dict() for c in candidates], "image_size": list(info.image_size), "fps": info.fps,
            "frame_count": info.frame_count, "rotation_deg": info.rotation_deg}
