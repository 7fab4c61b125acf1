"""A wider and deeper ARTS network that computes exactly what a trained one does, to fine-tune from.

Training a wider network from scratch costs days of CPU; growing the shipped one keeps everything it has learnt
and spends the fine-tune on what the extra width can add. Both growths leave the function unchanged:

- `--mlp-ratio R` (above the start's): every transformer feed-forward layer (lifter, TIK, MCR) gets more hidden
  units. The old units keep their weights; each new one reads the input through fresh random weights but
  writes nothing (zero output weights), so the sum it feeds is unchanged until training moves those weights.
- `--lifter-depth L` (above the start's): dual-stream blocks appended after the lifter's last one, each of
  whose four pre-norm layers writes nothing into the residual stream (zero attention-output and feed-forward
  output weights), so a new block is the identity: 0.5 * (x + x) = x.
- `--lifter-dim C --lifter-heads H` (C / H the start's head width): the lifter's residual stream grows from
  c to C channels as x -> Q x, with Q (C x c) sqrt(C / c) times an isometry that maps the constant vector to
  the constant vector. Q keeps every token's channel mean and variance, so each LayerNorm sees the same
  normalised vector turned by Q; its gain and bias move into the layers that read it (their weights times
  Q^T / (C / c)) and it restarts at gain 1, bias 0. Everything that writes into the stream (the keypoint
  embedding, the joint codes, the frame code through a new projection, attention and feed-forward outputs)
  writes Q times what it wrote. New heads read the stream through fresh weights and write nothing (zero output
  columns), as new feed-forward units do. Q is random within those constraints, so the old channels' content
  spreads over all C and every channel takes part in training.

    python scripts/widen_checkpoint.py --start bridge/assets/arts_default.pt --mlp-ratio 4 \
        --out .cache/arts/wide_start/arts.pt
    python scripts/widen_checkpoint.py --start bridge/assets/arts_default.pt --lifter-dim 96 --lifter-heads 6 \
        --out .cache/arts/w96_start/arts.pt

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


def stream_map(old: int, new: int, generator: torch.Generator) -> torch.Tensor:
    """Q (new, old) with Q^T Q = (new / old) I and Q 1 = 1, so Q x has x's channel mean and variance."""
    basis, _ = torch.linalg.qr(torch.randn(new, new, generator=generator, dtype=torch.float64))
    isometry = basis[:, :old]
    mirror = isometry @ torch.full((old,), old ** -0.5, dtype=torch.float64) - new ** -0.5
    if mirror.norm() > 1e-9:  # reflect the constant direction's image onto the constant direction
        isometry = isometry - 2.0 * torch.outer(mirror, mirror @ isometry) / mirror.dot(mirror)
    return ((new / old) ** 0.5 * isometry).float()


def _grow_lifter_stream(start: dict[str, torch.Tensor], fresh: dict[str, torch.Tensor], q: torch.Tensor
                        ) -> dict[str, torch.Tensor]:
    """The lifter's weights on the stream Q x (module docstring); new rows, heads and units from `fresh`."""
    new, old = q.shape
    grown = dict(start)

    def read(layer: str, norm: str) -> None:
        """`layer` reading the stream through `norm` at gain 1, bias 0, its old output rows (k and v apart)
        first among the fresh ones."""
        weight, gain, shift = start[f"{layer}.weight"], start[f"{norm}.weight"], start[f"{norm}.bias"]
        folded = {"weight": (weight * gain) @ q.T * (old / new), "bias": start[f"{layer}.bias"] + weight @ shift}
        parts = 2 if layer.endswith("to_kv") else 1
        for kind, value in folded.items():
            out, rows = fresh[f"{layer}.{kind}"].clone(), value.shape[0] // parts
            for part in range(parts):
                out[part * out.shape[0] // parts:][:rows] = value[part * rows:(part + 1) * rows]
            grown[f"{layer}.{kind}"] = out

    def write(layer: str) -> None:
        """`layer` writing Q times its old output; its new input columns (new heads or units) write nothing."""
        weight = torch.zeros_like(fresh[f"{layer}.weight"])
        weight[:, :start[f"{layer}.weight"].shape[1]] = q @ start[f"{layer}.weight"]
        grown[f"{layer}.weight"], grown[f"{layer}.bias"] = weight, q @ start[f"{layer}.bias"]

    def restart(norm: str) -> None:
        grown[f"{norm}.weight"], grown[f"{norm}.bias"] = torch.ones(new), torch.zeros(new)

    layers = [name.removesuffix(".norm_attn.weight") for name in start
              if name.startswith("lifter.") and name.endswith(".norm_attn.weight")]
    for layer in layers:
        read(f"{layer}.attn.to_q", f"{layer}.norm_attn")
        read(f"{layer}.attn.to_kv", f"{layer}.norm_attn")
        read(f"{layer}.mlp.0", f"{layer}.norm_mlp")
        write(f"{layer}.attn.proj")
        write(f"{layer}.mlp.3")
        restart(f"{layer}.norm_attn")
        restart(f"{layer}.norm_mlp")
    grown["lifter.embed.weight"] = q @ start["lifter.embed.weight"]
    grown["lifter.embed.bias"] = q @ start["lifter.embed.bias"]
    grown["lifter.spatial_embedding"] = start["lifter.spatial_embedding"] @ q.T
    grown["lifter.time_proj.weight"] = q @ start.get("lifter.time_proj.weight", torch.eye(old))
    head = start["lifter.head.weight"].unflatten(1, (-1, old))
    grown["lifter.head.weight"] = ((head * start["lifter.norm.weight"]) @ q.T * (old / new)).flatten(1)
    grown["lifter.head.bias"] = start["lifter.head.bias"] + (head @ start["lifter.norm.bias"]).sum(dim=1)
    restart("lifter.norm")
    return grown


def widen(start: Checkpoint, mlp_ratio: float | None = None, lifter_depth: int | None = None,
          lifter_dim: int | None = None, lifter_heads: int | None = None, seed: int = 0) -> Checkpoint:
    """`start` grown to `mlp_ratio`, `lifter_depth`, and `lifter_dim` with `lifter_heads` (None: unchanged), its
    function kept; ValueError for a growth that would shrink it or change the width of its heads."""
    old = start.config
    config = replace(old, mlp_ratio=mlp_ratio or old.mlp_ratio, lifter_depth=lifter_depth or old.lifter_depth,
                     lifter_dim=lifter_dim or old.lifter_dim, lifter_heads=lifter_heads or old.lifter_heads)
    if config.mlp_ratio < old.mlp_ratio or config.lifter_depth < old.lifter_depth or config.lifter_dim < old.lifter_dim:
        raise ValueError("widen_checkpoint only grows a network: mlp_ratio, lifter_depth and lifter_dim must not "
                         "fall")
    if config.lifter_dim * old.lifter_heads != old.lifter_dim * config.lifter_heads:
        raise ValueError(f"{config.lifter_heads} heads of a {config.lifter_dim}-wide lifter change the heads' width "
                         f"({old.lifter_dim // old.lifter_heads}): grow the heads in proportion")
    stream_grows = config.lifter_dim != old.lifter_dim
    if stream_grows:
        config = replace(config, lifter_time_dim=old.lifter_time_dim or old.lifter_dim)
    torch.manual_seed(seed)
    state = ArtsModel(config, start.body).state_dict()
    previous = start.state_dict
    if stream_grows:
        q = stream_map(old.lifter_dim, config.lifter_dim, torch.Generator().manual_seed(seed))
        previous = _grow_lifter_stream(previous, state, q)
    for name, before in previous.items():
        new = state[name]
        if new.shape == before.shape:
            state[name] = before.clone()
        elif FFN_IN.search(name):
            new[:before.shape[0]] = before
        elif FFN_OUT_WEIGHT.search(name):
            new[:, :before.shape[1]] = before
            new[:, before.shape[1]:] = 0.0
        else:
            raise ValueError(f"{name}: shape {tuple(before.shape)} -> {tuple(new.shape)} is not a feed-forward "
                             "growth")
    for name in set(state) - set(previous):
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
    parser.add_argument("--lifter-dim", type=int, default=None, help="the lifter's width C1")
    parser.add_argument("--lifter-heads", type=int, default=None,
                        help="the lifter's attention heads (with --lifter-dim, in proportion to it)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the new units' input weights")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    start = load_checkpoint(args.start)
    try:
        grown = widen(start, args.mlp_ratio, args.lifter_depth, args.lifter_dim, args.lifter_heads, args.seed)
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    meta = {"method": "function-preserving growth (scripts/widen_checkpoint.py)",
            "mlp_ratio": grown.config.mlp_ratio, "lifter_depth": grown.config.lifter_depth,
            "lifter_dim": grown.config.lifter_dim, "lifter_heads": grown.config.lifter_heads, "seed": args.seed,
            "init_model": checkpoint_record(args.start, start.meta)}
    model = build_model(grown)
    sha = save_checkpoint(args.out, model, grown.body, grown.model_id, meta)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.out}: mlp_ratio {grown.config.mlp_ratio}, lifter_depth {grown.config.lifter_depth}, "
          f"lifter_dim {grown.config.lifter_dim} ({grown.config.lifter_heads} heads), "
          f"{params:,} parameters, sha256 {sha}")


if __name__ == "__main__":
    main()
