"""Train ARTS in the paper's two stages: the 3D skeleton lifter alone, then the whole network (Sec. 3.4, 4.2).

Data: synthetic clip files (`*.npz`, from scripts/synth) holding per-frame truth (pose_aa, betas, joints_3d) and
what MediaPipe would report (mp_image, mp_world); windows of T frames never cross a clip. Adam with a short warm-up
and cosine decay per stage. Resumable: the full training state (weights, optimiser, stage, step, elapsed time)
is written every --checkpoint-every steps and when --time-limit-min runs out, and --resume continues from it.
When both stages are done the network is exported as an inference checkpoint (bridge.models.checkpoint).

  python scripts/train_arts.py --data DIR --out runs/arts [--export bridge/assets/arts_default.pt]
  python scripts/train_arts.py --data DIR --out /tmp/arts_tiny --tiny      # smoke test: tiny network, few steps
  python scripts/train_arts.py --data DIR [DIR...] --out RUN --init-model bridge/assets/arts_default.pt  # fine-tune
  python scripts/train_arts.py ... --device cuda --workers 6 --batch-size 256   # a GPU: loader processes feed it
  python scripts/train_arts.py --data SIMULATED DETECTED --data-shares 0.7 0.3 ...  # per-folder window shares

--data-shares draws windows from each folder at a fixed rate (with replacement), so a few hundred clips of
MediaPipe's real output (scripts/synth/detected_clips.py) weigh as much as wanted against thousands of
simulated ones; without it every window of every folder is seen once per pass.

--world-frame camera (the default) trains a network that reads MediaPipe's world landmarks in camera axes: the
detector's real clips are turned from its crop view by the ray to the hips (bridge/crop_view.py), as the
simulated ones already are and as the bridge turns the video's; a fine-tune of an older checkpoint (crop, as
given) switches it. --world-frame crop repeats runs made before session 21. A new run turns the lean by
crop_view.LEAN_SHARE of the ray (config world_lean_share; runs of sessions 21-22 turned it whole).

--upright-windows shows each training window as the bridge shows a window to the network: a body leaning
more than the tolerance (--upright-tolerance-deg, kept in the config as upright_tolerance_deg) from upright in
the picture is seen through a camera rolled to it (bridge/upright.py), the truth rolled with it. Without it the
network trains on bodies at every angle yet is shown, in use, only those within the tolerance. A fine-tune of a
network trained so (the shipped default since session 39, a blend whose fine-tune was) keeps it on by itself.
--upright-ramp shows a body past the tolerance at a lean that falls back to 0 at upside down, so a cartwheel's
windows do not jump from +tolerance to -tolerance (config upright_ramp; without it, as every network before
session 44, the body is shown at the tolerance).

Measured once on an H200 shared with a second run: 0.43 s per step of 256 windows, far below the chip's
arithmetic rate (not profiled; the analytic IK walks the kinematic chain in many small kernels), so larger
batches are the first thing to try there.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge.crop_view import LEAN_SHARE  # noqa: E402
from bridge.geometry.rotations import axis_angle_to_matrix  # noqa: E402
from bridge.models.arts import ArtsModel, without_world_landmarks  # noqa: E402
from bridge.models.checkpoint import body_arrays, load_checkpoint, save_checkpoint  # noqa: E402
from bridge.models.config import WORLD_FRAMES, ArtsConfig  # noqa: E402
from bridge.models.inputs import landmark_frame_vector, lifter_keypoints  # noqa: E402
from bridge.models.losses import arts_loss, lifter_loss  # noqa: E402
from bridge.models.vertex_subset import VertexSubsetSkinner  # noqa: E402
from scripts.synth.augment import hide_landmarks  # noqa: E402
from scripts.synth import trained_clips  # noqa: E402
from scripts.synth.dataset import SyntheticWindows  # noqa: E402
from torch.utils.data import DataLoader, WeightedRandomSampler, default_collate  # noqa: E402

#: The network trained on CPU here: the paper's structure at reduced width (see the model card).
CPU_CONFIG = dict(lifter_dim=64, lifter_depth=3, lifter_heads=4, tik_dim=128, mcr_dim=256, feature_dim=256)
TINY_CONFIG = dict(window=8, lifter_dim=32, lifter_depth=1, lifter_heads=4, feature_dim=32, tik_dim=32,
                   tik_heads=4, mcr_dim=32, mcr_heads=4)
STATE_FILE = "train_state.pt"
LIFTER_STATE_FILE = "lifter_stage.pt"


def model_batch(windows: dict[str, torch.Tensor], world_dropout: float = 0.0,
                landmark_dropout: float = 0.0) -> dict[str, torch.Tensor]:
    """A collated batch of scripts.synth windows -> network inputs and targets, on the CPU (endless_batches
    moves them to the training device).

    keypoints (B, T, 19, 3) and frame_vectors (B, T, 232) from the noisy MediaPipe arrays (as the bridge
    builds them from a video), rotmats (B, T, 24, 3, 3), joints (B, T, 24, 3) pelvis-relative metres, betas (B, 10).
    world_dropout: share of windows whose world landmarks are zeroed (as `use_world_landmarks=False` does),
    so the network cannot lean on them alone; landmark_dropout: share of windows with one limb or the face
    hidden over part of the window (scripts.synth.augment.hide_landmarks). Both are drawn from torch's global
    generator, so a seeded run repeats.
    """
    image, world = windows["mp_image"].numpy(), windows["mp_world"].numpy()
    if landmark_dropout > 0:
        rng = np.random.default_rng(int(torch.randint(2 ** 31, ())))
        hidden = np.flatnonzero(rng.random(len(image)) < landmark_dropout)
        image, world = image.copy(), world.copy()
        for i in hidden:
            image[i], world[i] = hide_landmarks(image[i], world[i], rng)
    sizes = [tuple(int(v) for v in size) for size in windows["image_size"].numpy()]
    keypoints = np.stack([lifter_keypoints(image[i], sizes[i]) for i in range(len(sizes))])
    vectors = torch.from_numpy(np.stack([landmark_frame_vector(image[i], world[i], sizes[i])
                                         for i in range(len(sizes))]))
    if world_dropout > 0:
        drop = torch.rand(len(sizes)) < world_dropout
        vectors[drop] = without_world_landmarks(vectors[drop])
    joints = windows["joints_3d"].float()
    return {"keypoints": torch.from_numpy(keypoints), "frame_vectors": vectors,
            "rotmats": axis_angle_to_matrix(windows["pose_aa"].double()).float(),
            "joints": joints - joints[:, :, :1], "betas": windows["betas"][:, :10].float()}


def collate_model_batch(items: list[dict[str, torch.Tensor]], world_dropout: float = 0.0,
                        landmark_dropout: float = 0.0) -> dict[str, torch.Tensor]:
    """DataLoader collate: windows -> network inputs (the numpy preparation runs in the loader's workers)."""
    return model_batch(default_collate(items), world_dropout=world_dropout, landmark_dropout=landmark_dropout)


def endless_batches(dataset: SyntheticWindows, batch_size: int, seed: int, workers: int = 0,
                    world_dropout: float = 0.0, device: str = "cpu", shares: list[float] | None = None,
                    landmark_dropout: float = 0.0):
    """Shuffled, prepared batches on `device` forever (a new permutation each pass, or with `shares`, windows
    drawn with replacement at those per-folder rates); `workers` processes prepare them ahead of the network."""
    generator = torch.Generator().manual_seed(seed)
    sampler = None
    if shares is not None:
        weights = torch.from_numpy(dataset.window_weights(shares))
        sampler = WeightedRandomSampler(weights, num_samples=len(dataset), replacement=True, generator=generator)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=sampler is None, sampler=sampler, drop_last=True,
                        generator=generator, num_workers=workers, persistent_workers=workers > 0,
                        prefetch_factor=4 if workers else None,
                        collate_fn=partial(collate_model_batch, world_dropout=world_dropout,
                                           landmark_dropout=landmark_dropout),
                        pin_memory=device.startswith("cuda"))
    while True:
        for batch in loader:
            yield {key: value.to(device, non_blocking=True) for key, value in batch.items()}


def learning_rate(progress: float, peak: float, warmup: float = 0.03) -> float:
    """Linear warm-up over the first 3 % of a stage, then cosine decay to a tenth of the peak at its end."""
    if progress < warmup:
        return peak * max(progress / warmup, 0.01)
    fraction = min(1.0, (progress - warmup) / (1.0 - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * fraction)))


def stage_parameters(model: ArtsModel, stage: str, bsf_lr_scale: float = 1.0) -> list[dict]:
    """Optimiser parameter groups. BSF's analytically initialised layers get a scaled-down rate: Adam moves
    every weight by about the learning rate per step whatever its gradient, which would soon wash out
    the pseudo-inverse initialisation (weights ~0.01-1) that makes BSF semi-analytical."""
    if stage == "lifter":
        return [{"params": list(model.lifter.parameters()), "lr_scale": 1.0}]
    bsf = list(model.bsf.parameters()) if model.config.use_bsf else []
    bsf_ids = {id(p) for p in bsf}
    rest = [p for p in model.parameters() if id(p) not in bsf_ids]
    return [{"params": rest, "lr_scale": 1.0}] + ([{"params": bsf, "lr_scale": bsf_lr_scale}] if bsf else [])


def stage_loss(model: ArtsModel, batch: dict[str, torch.Tensor], stage: str, smpl_layer: torch.nn.Module
               ) -> tuple[torch.Tensor, dict[str, float]]:
    if stage == "lifter":
        loss = lifter_loss(model.lifter(batch["keypoints"]), batch["joints"])
        return loss, {"lifter": float(loss.detach())}
    out = model(batch["keypoints"], batch["frame_vectors"])
    rest = model.tik.rest_joints if model.config.use_tik else None
    return arts_loss(out, batch, smpl_layer, model.config, rest)


def trained_lifter(path: Path) -> tuple[dict[str, torch.Tensor], list[dict], float, int]:
    """The lifter weights of a training state or an ARTS checkpoint, plus stage 1's log records, seconds and
    steps when it is a training state (to train stage 2 only, e.g. for ablations, from one shared lifter)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    weights = saved.get("model") or saved.get("state_dict")
    if weights is None:
        raise SystemExit(f"{path} is neither a training state nor an ARTS checkpoint")
    lifter = {k.removeprefix("lifter."): v for k, v in weights.items() if k.startswith("lifter.")}
    history = [r for r in saved.get("history", []) if r.get("stage") == "lifter"]
    steps = saved.get("steps_done", {}).get("lifter", history[-1]["step"] if history else 0)
    return lifter, history, float(saved.get("spent_s", {}).get("lifter", 0.0)), int(steps)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", required=True,
                        help="folder(s) of synthetic clip .npz files (several: their training clips together)")
    parser.add_argument("--data-shares", type=float, nargs="+", default=None,
                        help="share of training windows drawn from each --data folder (default: in proportion "
                             "to their windows), e.g. --data SIMULATED DETECTED --data-shares 0.6 0.4")
    parser.add_argument("--out", type=Path, required=True, help="run folder (training state, log, exported model)")
    parser.add_argument("--body-model", default=None, help="body model file (default: the bundled free model)")
    parser.add_argument("--config", default=None,
                        help="JSON object of ArtsConfig overrides (default: the CPU configuration); with --init-model, "
                             "overrides of the start's configuration that keep its weights' shapes, e.g. "
                             "'{\"window\": 32}' (the frame embedding is sinusoidal, so any T loads)")
    parser.add_argument("--paper-size", action="store_true", help="the paper's widths (C1=256, C2=512)")
    parser.add_argument("--lifter-steps", type=int, default=None, help="stage-1 steps (default 3000; --tiny: 10)")
    parser.add_argument("--full-steps", type=int, default=None, help="stage-2 steps (default 3000; --tiny: 10)")
    parser.add_argument("--lifter-minutes", type=float, default=0.0, help="stage-1 time budget (0: steps only)")
    parser.add_argument("--full-minutes", type=float, default=0.0, help="stage-2 time budget (0: steps only)")
    parser.add_argument("--batch-size", type=int, default=None, help="windows per step (default 16; --tiny: 4)")
    parser.add_argument("--lifter-lr", type=float, default=3e-4)
    parser.add_argument("--full-lr", type=float, default=1e-4)
    parser.add_argument("--bsf-lr-scale", type=float, default=0.01, help="BSF layers' rate relative to --full-lr")
    parser.add_argument("--world-dropout", type=float, default=0.0,
                        help="share of training windows shown without MediaPipe's world landmarks")
    parser.add_argument("--landmark-dropout", type=float, default=0.0,
                        help="share of training windows with an arm, a leg or the face hidden over part of the window")
    parser.add_argument("--world-frame", choices=WORLD_FRAMES, default="camera",
                        help="axes the network reads MediaPipe's world landmarks in: camera (its real output turned "
                             "by the ray to the hips, bridge/crop_view.py) or crop (as MediaPipe gives them: every "
                             "run before session 21); a resumed run keeps its own")
    parser.add_argument("--stride", type=int, default=4, help="frames between training windows (plus a random crop)")
    parser.add_argument("--mesh-vertex-stride", type=int, default=1,
                        help="L_mesh over every n-th vertex only (bridge/models/vertex_subset.py): a cheaper CPU step; "
                             "1 = the whole mesh, as every run before session 24; a resumed run keeps its own")
    parser.add_argument("--checkpoint-every", type=int, default=200)
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--time-limit-min", type=float, default=0.0,
                        help="interrupt this session (resumably) after this long; 0: no limit")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N, or auto (a CUDA GPU when present)")
    parser.add_argument("--workers", type=int, default=0,
                        help="processes preparing batches ahead of the network (worth it on a GPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    parser.add_argument("--init-lifter", type=Path, default=None,
                        help="skip stage 1: take the lifter from this training state or checkpoint")
    parser.add_argument("--init-model", type=Path, default=None,
                        help="fine-tune: stage 2 only, starting from this ARTS checkpoint (its config is kept)")
    parser.add_argument("--roll-prob", type=float, default=0.0,
                        help="share of training windows seen by a camera rolled about its optical axis")
    parser.add_argument("--roll-max-deg", type=float, default=180.0, help="largest roll angle (uniform in ±this)")
    parser.add_argument("--upright-windows", action="store_true",
                        help="show every training window as the bridge shows a window to the network: a body leaning "
                             "past the tolerance in the picture is seen through a camera rolled to it (bridge/upright.py); "
                             "on by itself for a fine-tune of a network trained so (or of a blend with one)")
    parser.add_argument("--upright-tolerance-deg", type=float, default=None,
                        help="that tolerance, kept in the network's config for the bridge (default: the start's, 45 "
                             "for every checkpoint before session 39); a resumed run keeps its own")
    parser.add_argument("--upright-ramp", action="store_true",
                        help="past the tolerance, show the body at a lean falling back to 0 at upside down instead "
                             "of at the tolerance (bridge/upright.py), kept in the config as upright_ramp for the "
                             "bridge; a fine-tune of a network trained so keeps it")
    parser.add_argument("--detector-error-scale", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="scale MediaPipe's error (its landmarks minus the truth's noise-free ones) in windows of "
                             "its real output by a factor uniform in [LOW, HIGH] (scripts/synth/augment.py)")
    parser.add_argument("--detector-error-scale-prob", type=float, default=0.5,
                        help="share of such windows that get a scaled error (with --detector-error-scale)")
    parser.add_argument("--model-id", default="arts-default")
    parser.add_argument("--export", type=Path, default=None, help="also copy the finished checkpoint here")
    parser.add_argument("--tiny", action="store_true", help="smoke test: tiny network, 10 + 10 steps, batch 4")
    args = parser.parse_args(argv)
    defaults = (10, 10, 4) if args.tiny else (3000, 3000, 16)
    for name, default in zip(("lifter_steps", "full_steps", "batch_size"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.tiny:
        args.lifter_minutes = args.full_minutes = 0.0
        args.checkpoint_every, args.log_every, args.stride = 5, 1, 1
    return args


def make_config(args: argparse.Namespace, start: ArtsConfig | None = None) -> ArtsConfig:
    """A new network's configuration, or a fine-tune's: its start's, with --config's overrides on top."""
    overrides = json.loads(args.config) if args.config else {}
    if start is not None:
        return replace(start, **overrides)
    return ArtsConfig(**{**(TINY_CONFIG if args.tiny else ({} if args.paper_size else CPU_CONFIG)), **overrides})


def trained_on_upright_windows(meta: dict) -> bool:
    """Whether a checkpoint, or a blend's fine-tune (interpolate_checkpoints.py), trained on windows rolled as
    the bridge rolls them: a fine-tune of it keeps doing so, or it would unlearn the tolerance it is answered with."""
    return bool(meta.get("upright_windows") or ((meta.get("tuned") or {}).get("meta") or {}).get("upright_windows"))


def log(out_dir: Path, record: dict) -> None:
    line = json.dumps(record)
    print(line, flush=True)
    with open(out_dir / "log.jsonl", "a") as handle:
        handle.write(line + "\n")


def train(args: argparse.Namespace) -> dict:
    """Run (or resume) both stages; returns a summary (logged records, checkpoint path and sha256 when done).

    Each stage ends when it has run its steps or its minutes, whichever comes first; its learning rate follows
    the further along of the two, so a stage cut short by time still ends with a decayed rate.
    """
    from bridge.body_model import load_body_model_arrays
    from bridge.smpl_layer import make_smpl_layer

    torch.set_num_threads(args.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    args.out.mkdir(parents=True, exist_ok=True)
    state_path = args.out / STATE_FILE
    body = load_body_model_arrays(args.body_model)
    resume = args.resume and state_path.is_file()
    state = torch.load(state_path, map_location="cpu", weights_only=True) if resume else None
    parent = load_checkpoint(args.init_model) if args.init_model and not state else None
    if parent is not None and parent.body.model_id != getattr(body, "model_id", None):
        raise SystemExit(f"{args.init_model} was trained on body model {parent.body.model_id}, not this one")
    # The start's identity is taken when its weights are (and kept in the training state), so a file replaced at
    # that path while this trains, such as a new default shipped meanwhile, cannot name the wrong parent.
    if state and "init_model" in state:
        init_model = state["init_model"]
    elif args.init_model:
        init_model = trained_clips.checkpoint_record(args.init_model, (parent or load_checkpoint(args.init_model)).meta)
    else:
        init_model = None
    config = ArtsConfig.from_dict(state["config"]) if state else make_config(args, parent.config if parent else None)
    if not state:
        config = replace(config, world_frame=args.world_frame, world_lean_share=LEAN_SHARE)
        if args.upright_tolerance_deg is not None:
            config = replace(config, upright_tolerance_deg=args.upright_tolerance_deg)
        if args.upright_ramp:
            config = replace(config, upright_ramp=True)
    upright_windows = (bool(state.get("upright_windows", False)) if state else
                       args.upright_windows or (parent is not None and trained_on_upright_windows(parent.meta)))
    torch.manual_seed(args.seed)
    model = ArtsModel(config, body)
    smpl_layer = make_smpl_layer(body).to(device)
    vertex_stride = int(state.get("mesh_vertex_stride", args.mesh_vertex_stride)) if state else args.mesh_vertex_stride
    if vertex_stride > 1:
        smpl_layer = VertexSubsetSkinner(smpl_layer, vertex_stride)
    data = SyntheticWindows(args.data, window=config.window, split="train", stride=args.stride, flip_prob=0.5,
                            roll_prob=args.roll_prob, roll_max_deg=args.roll_max_deg, world_frame=config.world_frame,
                            lean_share=config.world_lean_share,
                            upright_tolerance_deg=config.upright_tolerance_deg if upright_windows else None,
                            upright_ramp=config.upright_ramp,
                            error_scale=tuple(args.detector_error_scale) if args.detector_error_scale else None,
                            error_scale_prob=args.detector_error_scale_prob)
    budget = {"lifter": (args.lifter_steps, args.lifter_minutes, args.lifter_lr),
              "full": (args.full_steps, args.full_minutes, args.full_lr)}
    stage, step, history = "lifter", 0, []
    spent, steps_done = {"lifter": 0.0, "full": 0.0}, {"lifter": 0, "full": 0}
    if state:
        model.load_state_dict(state["model"])
        stage, step, spent, history = state["stage"], state["step"], state["spent_s"], state["history"]
        steps_done = state.get("steps_done", {**steps_done, stage: step})
    elif parent is not None:
        stage = "full"
        model.load_state_dict(parent.state_dict)
    elif args.init_lifter:
        stage = "full"
        lifter_weights, history, spent["lifter"], steps_done["lifter"] = trained_lifter(args.init_lifter)
        model.lifter.load_state_dict(lifter_weights)
    model.to(device)
    optimizer = torch.optim.Adam(stage_parameters(model, stage if stage != "done" else "full", args.bsf_lr_scale))
    if state:
        optimizer.load_state_dict(state["optimizer"])
    torch.manual_seed(args.seed + step + (0 if stage == "lifter" else 10 ** 6))  # fresh crops/flips on resume
    batches = endless_batches(data, args.batch_size, args.seed + step, args.workers, args.world_dropout, device,
                              args.data_shares, args.landmark_dropout)
    log(args.out, {"event": "start", "stage": stage, "step": step, "windows": len(data), "clips": len(data.clip_ids),
                   "parameters": sum(p.numel() for p in model.parameters()), "config": config.to_dict(),
                   "device": device})

    def save_state() -> None:
        torch.save({"config": config.to_dict(), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "stage": stage, "step": step, "spent_s": spent, "steps_done": steps_done, "history": history,
                    "mesh_vertex_stride": vertex_stride, "init_model": init_model, "upright_windows": upright_windows},
                   str(state_path) + ".tmp")
        os.replace(str(state_path) + ".tmp", state_path)

    session_start = time.time()
    while stage != "done":
        model.train()
        steps, minutes, peak = budget[stage]
        stage_start = time.time() - spent[stage]

        def progress() -> float:
            by_time = (time.time() - stage_start) / (60.0 * minutes) if minutes else 0.0
            return max(step / steps, by_time)

        while progress() < 1.0:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(progress(), peak) * group["lr_scale"]
            batch = next(batches)  # world dropout touches only the frame vectors, which stage 1 never reads
            loss, parts = stage_loss(model, batch, stage, smpl_layer)
            optimizer.zero_grad(set_to_none=True)
            if not torch.isfinite(loss):
                log(args.out, {"event": "skipped_non_finite_loss", "stage": stage, "step": step})
                continue
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            if not torch.isfinite(grad_norm):  # e.g. an SVD in the analytic IK at a degenerate pose
                log(args.out, {"event": "skipped_non_finite_gradient", "stage": stage, "step": step})
                continue
            optimizer.step()
            step += 1
            steps_done[stage] = step
            spent[stage] = time.time() - stage_start
            if step % args.log_every == 0:
                record = {"stage": stage, "step": step, "loss": float(loss.detach()), **parts,
                          "lr": optimizer.param_groups[0]["lr"], "stage_s": round(spent[stage], 1)}
                history.append(record)
                log(args.out, record)
            if step % args.checkpoint_every == 0:
                save_state()
            if args.time_limit_min and time.time() - session_start > 60.0 * args.time_limit_min:
                save_state()
                log(args.out, {"event": "time_limit", "stage": stage, "step": step})
                return {"finished": False, "history": history, "state": str(state_path)}
        log(args.out, {"event": "stage_done", "stage": stage, "steps": step, "stage_s": round(spent[stage], 1)})
        stage, step = ("full", 0) if stage == "lifter" else ("done", 0)
        if stage == "full":
            optimizer = torch.optim.Adam(stage_parameters(model, stage, args.bsf_lr_scale))
        save_state()
        if stage == "full":  # kept for training stage-2 variants (ablations) from the same lifter
            shutil.copyfile(state_path, args.out / LIFTER_STATE_FILE)
    meta = {"steps": steps_done, "batch_size": args.batch_size, "train_windows": len(data),
            "train_clips": len(data.clip_ids), "window_stride": args.stride,
            "training_time_s": round(sum(spent.values()), 1),
            "stage_time_s": {k: round(v, 1) for k, v in spent.items()},
            "data": [str(d) for d in args.data], "data_shares": args.data_shares,
            "mesh_vertex_stride": vertex_stride,
            trained_clips.META_KEY: data.detected_clip_ids(args.data_shares),
            "threads": args.threads, "device": device,
            "world_dropout": args.world_dropout, "landmark_dropout": args.landmark_dropout,
            "world_frame": config.world_frame, "world_lean_share": config.world_lean_share,
            "roll": {"prob": args.roll_prob, "max_deg": args.roll_max_deg},
            "detector_error_scale": ({"range": list(args.detector_error_scale), "prob": args.detector_error_scale_prob}
                                     if args.detector_error_scale else None),
            "upright_windows": upright_windows, "upright_tolerance_deg": config.upright_tolerance_deg,
            "init_lifter": str(args.init_lifter) if args.init_lifter else None,
            "init_model": init_model,
            "lr": {"lifter": args.lifter_lr, "full": args.full_lr, "bsf_scale": args.bsf_lr_scale}}
    model.to("cpu")
    sha = save_checkpoint(args.out / "arts.pt", model, body_arrays(body), args.model_id, meta)
    if args.export:
        sha = save_checkpoint(args.export, model, body_arrays(body), args.model_id, meta)
    log(args.out, {"event": "done", "checkpoint": str(args.export or args.out / "arts.pt"), "sha256": sha, **meta})
    return {"finished": True, "history": history, "checkpoint": str(args.out / "arts.pt"), "sha256": sha}


def main(argv: list[str] | None = None) -> dict:
    return train(parse_args(argv))


if __name__ == "__main__":
    main()
