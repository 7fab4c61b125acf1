"""One checkpoint from several fine-tunes of the same start, by averaging their weights (a model soup).

Fine-tunes that share a start and differ only in their random draws (`train_arts.py --seed`: which windows, crops
and flips they saw) end near one another in the start's basin. Their uniform average keeps what all of them learnt
and cancels part of what each learnt by chance (Wortsman et al., "Model soups", ICML 2022). The soup is itself a
fine-tune of that start, so interpolate_checkpoints.py blends it with the start like any other.

    python scripts/average_checkpoints.py --tuned .cache/arts/ft_v45a/arts.pt .cache/arts/ft_v45b/arts.pt \
        --out .cache/arts/soup45/arts.pt

Every ingredient must name the same start as its init_model and share its network config, body model and way of
cutting windows (upright or not); settings that act only in training (dropout, the loss weights) may differ, and
the soup keeps the first ingredient's. The soup's meta names that start once, as its own init_model; holds the union of
the detected clips the ingredients trained on (scripts/synth/trained_clips.py), so none of them may later choose
between networks; and records each ingredient by path, sha256 and its meta less those two.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bridge.hashing import sha256_file  # noqa: E402
from bridge.models.checkpoint import Checkpoint, build_model, load_checkpoint, save_checkpoint  # noqa: E402
from scripts.interpolate_checkpoints import TRAINING_ONLY_SETTINGS, check_mixable  # noqa: E402
from scripts.synth.trained_clips import META_KEY  # noqa: E402


def average(ingredients: list[Checkpoint]) -> Checkpoint:
    """The checkpoint whose float weights are the ingredients' mean; ValueError where they do not match."""
    first = ingredients[0]
    for other in ingredients[1:]:
        check_mixable(first, other, TRAINING_ONLY_SETTINGS)
    state = {name: torch.stack([c.state_dict[name] for c in ingredients]).mean(0) if w.is_floating_point()
             else w.clone() for name, w in first.state_dict.items()}
    return Checkpoint(config=first.config, state_dict=state, body=first.body, model_id=first.model_id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tuned", type=Path, nargs="+", required=True, help="two or more fine-tunes of one start")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if len(args.tuned) < 2:
        raise SystemExit("a soup needs at least two fine-tunes")
    ingredients = [load_checkpoint(path) for path in args.tuned]
    starts = [(c.meta.get("init_model") or {}).get("sha256") for c in ingredients]
    if None in starts or len(set(starts)) != 1:
        raise SystemExit(f"the fine-tunes do not share one start (their init_model sha256s: {starts}): "
                         "only fine-tunes of one checkpoint lie in one basin")
    upright = {bool(c.meta.get("upright_windows")) for c in ingredients}
    if len(upright) != 1:
        raise SystemExit("some of the fine-tunes trained on upright windows and some did not")
    try:
        soup = average(ingredients)
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    clip_ids = sorted(set().union(*(c.meta.get(META_KEY, []) for c in ingredients)))
    meta = {"method": "uniform weight average of fine-tunes of one start (scripts/average_checkpoints.py)",
            "init_model": ingredients[0].meta["init_model"], "upright_windows": upright.pop(), META_KEY: clip_ids,
            "ingredients": [{"path": str(path), "sha256": sha256_file(path),
                             "meta": {k: v for k, v in c.meta.items() if k not in ("init_model", META_KEY)}}
                            for path, c in zip(args.tuned, ingredients)]}
    sha = save_checkpoint(args.out, build_model(soup), soup.body, soup.model_id, meta)
    print(f"{args.out}: the mean of {len(ingredients)} fine-tunes, sha256 {sha}")


if __name__ == "__main__":
    main()
