"""A wider and deeper ARTS network that computes exactly what a trained one does, to fine-tune from.

Training a wider network from scratch costs days of CPU; growing the shipped one keeps everything it has learnt
and spends the fine-tune on what the extra width can add. Both growths leave the function unchanged:

- `--mlp-ratio R` (above the start's): every transformer feed-forward layer (lifter, TIK, MCR) gets more hidden
  units. The old units keep their weights; each new one reads the input through fresh random weights but
  writes nothing (zero output weights), so the sum it feeds is unchanged until training moves those weights.
- `--lifter-depth L` (above the start's): dual-stream blocks appended after the lifter's last one, each of
  whose four pre-norm layers writes nothing into the residual stream (zero attention-output and feed-forward
  output weights), so a new block is the identity: 0.5 * (x + x) = x.

    python scripts/widen_checkpoint.py --start bridge/assets/arts_default.pt --mlp-ratio 4 \
        --out .cache/arts/wide_start/arts.pt

The output's meta names the start as its init_model, so its lineage (scripts/synth/trained_clips.py), and
with it which clips may still choose between networks, is the start's.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge.models.arts import ArtsModel  # noqa: E402
from bridge.models.checkpoint import Checkpoint, build_model, load_checkpoint, save_checkpoint  # noqa: E402
from scripts.synth.trained_clips import checkpoint_record  # noqa: E402

#: A transformer feed-forward layer's input and output Linear (attention.FeedForward: Linear, GELU, Dropout, Linear).
FFN_IN = re.compile(r"\.mlp\.0\.(weight|bias)$")
FFN_OUT_WEIGHT = re.compile(r"\.mlp\.3\.weight$")
#: What a pre-norm layer adds to the residual stream: its attention's output projection and its FFN's output.
WRITES = re.compile(r"\.(attn\.proj|mlp\.3)\.(weight|bias)$")


def widen(start: Checkpoint, mlp_ratio: float | None = None, lifter_depth: int | None = None,
          seed: int = 0) -> Checkpoint:
    """`start` grown to `mlp_ratio` and `lifter_depth` (None: unchanged) with its function kept; ValueError
    for a growth that would shrink it."""
    config = replace(start.config, mlp_ratio=mlp_ratio or start.config.mlp_ratio,
                     lifter_depth=lifter_depth or start.config.lifter_depth)
    if config.mlp_ratio < start.config.mlp_ratio or config.lifter_depth < start.config.lifter_depth:
        raise ValueError("widen_checkpoint only grows a network: mlp_ratio and lifter_depth must not fall")
    torch.manual_seed(seed)
    state = ArtsModel(config, start.body).state_dict()
    for name, old in start.state_dict.items():
        new = state[name]
        if new.shape == old.shape:
            state[name] = old.clone()
        elif FFN_IN.search(name):
            new[:old.shape[0]] = old
        elif FFN_OUT_WEIGHT.search(name):
            new[:, :old.shape[1]] = old
            new[:, old.shape[1]:] = 0.0
        else:
            raise ValueError(f"{name}: shape {tuple(old.shape)} -> {tuple(new.shape)} is not a feed-forward growth")
    for name in set(state) - set(start.state_dict):
        if not name.startswith("lifter.blocks."):
            raise ValueError(f"{name}: a new weight outside the lifter's new blocks")
        if WRITES.search(name):
            state[name].zero_()
    return Checkpoint(config=config, state_dict=state, body=start.body, model_id=start.model_id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", type=Path, required=True, help="the trained checkpoint to grow")
    parser.add_argument("--mlp-ratio", type=float, default=None, help="feed-forward width / model width")
    parser.add_argument("--lifter-depth", type=int, default=None, help="dual-stream blocks in the lifter")
    parser.add_argument("--seed", type=int, default=0, help="seed of the new units' input weights")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    start = load_checkpoint(args.start)
    try:
        grown = widen(start, args.mlp_ratio, args.lifter_depth, args.seed)
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    meta = {"method": "function-preserving growth (scripts/widen_checkpoint.py)",
            "mlp_ratio": grown.config.mlp_ratio, "lifter_depth": grown.config.lifter_depth, "seed": args.seed,
            "init_model": checkpoint_record(args.start, start.meta)}
    model = build_model(grown)
    sha = save_checkpoint(args.out, model, grown.body, grown.model_id, meta)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.out}: mlp_ratio {grown.config.mlp_ratio}, lifter_depth {grown.config.lifter_depth}, "
          f"{params:,} parameters, sha256 {sha}")


if __name__ == "__main__":
    main()
