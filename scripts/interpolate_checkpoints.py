"""A checkpoint between a network and its fine-tune, by interpolating their weights (weight-space ensembling).

A fine-tune started from a checkpoint stays in that checkpoint's basin, so the weights on the line between
the two are networks too. Part of the way along that line a network often keeps most of what the fine-tune
learnt on its data while losing less of what the start knew about motion neither saw (WiSE-FT, Wortsman et
al., CVPR 2022). Costs nothing at inference: the result is one ordinary checkpoint.

    python scripts/interpolate_checkpoints.py --start bridge/assets/arts_default.pt \
        --tuned .cache/arts/ft_v14/arts.pt --alpha 0.5 --out .cache/arts/wise_v14_050/arts.pt

alpha 0 gives the start's weights, 1 the fine-tune's. Both must share the config and the body model, and the
fine-tune must record the start as its init_model (its meta), so a blend of unrelated networks is refused.
The settings that shape no weight may differ (UNSHAPING_SETTINGS): `upright_tolerance_deg` and `upright_ramp`,
how the bridge rolls a window whose body leans (bridge/upright.py), `window`, T (the frame embedding is
sinusoidal), and those that only act in training (dropout, the loss weights); the blend takes the fine-tune's,
the way it saw its windows.
The output's meta records alpha, the start as its own init_model and the fine-tune (path, sha256, meta, its
own record of the start cut to path and sha256: trained_clips.compact_lineage), and carries the fine-tune's
record of the detected clips it trained on (scripts/synth/trained_clips.py), so the blend's lineage, and with
it which clips may still choose between networks, is the fine-tune's.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge.hashing import sha256_file  # noqa: E402
from bridge.models.checkpoint import Checkpoint, build_model, load_checkpoint, save_checkpoint  # noqa: E402
from scripts.synth.trained_clips import META_KEY, checkpoint_record, compact_lineage  # noqa: E402


#: ArtsConfig fields that act only in training (dropout, the loss): fine-tunes differing in them still mix.
TRAINING_ONLY_SETTINGS: tuple[str, ...] = (
    "dropout", "lambda_mesh", "lambda_joint", "lambda_pose", "lambda_shape", "lambda_twist", "lambda_limb_depth",
    "mesh_loss_stride")
#: ArtsConfig fields a start and its fine-tune may differ in: none of them shapes a weight.
UNSHAPING_SETTINGS: tuple[str, ...] = ("upright_tolerance_deg", "upright_ramp", "window") + TRAINING_ONLY_SETTINGS


def check_mixable(a: Checkpoint, b: Checkpoint, may_differ: tuple[str, ...] = ()) -> None:
    """ValueError unless the two share the network config (but for the fields named in `may_differ`), the body
    model and the weights' names: only then is a mix of their weights a network."""
    if replace(b.config, **{name: getattr(a.config, name) for name in may_differ}) != a.config:
        raise ValueError("the two checkpoints have different network configs")
    if a.body.model_id != b.body.model_id or not all(
            np.array_equal(getattr(a.body, k), getattr(b.body, k)) for k in ("v_template", "shapedirs", "J_regressor")):
        raise ValueError("the two checkpoints were built on different body models")
    if set(a.state_dict) != set(b.state_dict):
        raise ValueError("the two checkpoints have different weights")


def interpolate(start: Checkpoint, tuned: Checkpoint, alpha: float) -> Checkpoint:
    """The checkpoint with weights (1 - alpha) * start + alpha * tuned; ValueError where they do not match."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    check_mixable(start, tuned, UNSHAPING_SETTINGS)
    config = replace(start.config, **{name: getattr(tuned.config, name) for name in UNSHAPING_SETTINGS})
    state = {}
    for name, a in start.state_dict.items():
        b = tuned.state_dict[name]
        state[name] = (a + alpha * (b - a)) if a.is_floating_point() else (b if alpha >= 0.5 else a).clone()
    return Checkpoint(config=config, state_dict=state, body=start.body, model_id=start.model_id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", type=Path, required=True, help="the checkpoint the fine-tune started from")
    parser.add_argument("--tuned", type=Path, required=True, help="the fine-tuned checkpoint")
    parser.add_argument("--alpha", type=float, required=True, help="0 = start, 1 = fine-tune")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    start, tuned = load_checkpoint(args.start), load_checkpoint(args.tuned)
    start_sha = sha256_file(args.start)
    parent = (tuned.meta.get("init_model") or {}).get("sha256")
    if parent != start_sha:
        raise SystemExit(f"{args.tuned} was not fine-tuned from {args.start} (its init_model sha256 is {parent}, "
                         f"the start's is {start_sha}): their weights do not lie in one basin")
    try:
        blended = interpolate(start, tuned, args.alpha)
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    meta = compact_lineage({"method": "weight-space interpolation (scripts/interpolate_checkpoints.py)",
                            "alpha": args.alpha, "init_model": checkpoint_record(args.start, start.meta, start_sha),
                            "tuned": checkpoint_record(args.tuned, tuned.meta)})
    if META_KEY in tuned.meta:
        meta[META_KEY] = tuned.meta[META_KEY]
    sha = save_checkpoint(args.out, build_model(blended), blended.body, blended.model_id, meta)
    print(f"{args.out}: alpha {args.alpha}, sha256 {sha}")


if __name__ == "__main__":
    main()
