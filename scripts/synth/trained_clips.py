"""Which detected clips a checkpoint has learnt from, so that a choosing set can leave them out.

Why: a detected clip (detected_clips.py: real MediaPipe output on a render) tells which of two networks
generalises better only if neither trained on it. Sessions 20-21 compared fine-tunes with the shipped network
on 89 seed-7 clips believed unseen, but the shipped run had read the whole seed-7 folder as it then was
(plans 0-159), so it was scored on its own training clips and each fine-tune looked 8-9 mm worse than it was;
and the fine-tunes had trained on the tumbled twins of every seed-8 upright clip they were then chosen on.

How: train_arts.py records the ids of the detected clips it trains on in the checkpoint's meta (META_KEY); a
fine-tune's meta holds its parent's under meta["init_model"]["meta"], so the whole lineage is known. The
checkpoint shipped in session 9 (ef7d72e3) and its ancestors trained before ids were recorded: the model card
lists the ids that checkpoint is known to have trained on, with its sha256 (CARD_KEY; from the archives still
in the repository), and every descendant of it inherits them. torch is imported only to read a checkpoint.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

META_KEY = "detected_clip_ids"
CARD_KEY = "trained_detected_clips"
MODEL_CARD = Path(__file__).resolve().parents[2] / "addon_manifest" / "models" / "arts_default.json"


def motion_piece(clip_id: str) -> str:
    """The piece of motion, body and look a detected clip shows, without its variant (detected_clips.py marks a
    clip turned head over heels '~tumble'): a network that trained on one variant has seen the piece."""
    return clip_id.split("~", 1)[0]


def lineage_clip_ids(sha256: str, meta: dict[str, Any] | None, card: dict[str, Any]) -> set[str]:
    """Ids of the detected clips that a checkpoint (its file's sha256 and meta) or any checkpoint it was
    fine-tuned from trained on; the model card's CARD_KEY entry answers for the checkpoint it names."""
    legacy = card.get(CARD_KEY) or {}
    ids: set[str] = set()
    while sha256 or meta:
        if sha256 and sha256 == legacy.get("sha256"):
            ids.update(legacy.get("clip_ids", []))
        ids.update((meta or {}).get(META_KEY, []))
        parent = (meta or {}).get("init_model") or {}
        sha256, meta = parent.get("sha256"), parent.get("meta")
    return ids


def checkpoint_record(path: Path, meta: dict[str, Any], sha256: str | None = None) -> dict[str, Any]:
    """How a checkpoint names another (its start as meta["init_model"], a blend's tuned half): the three keys
    lineage_clip_ids follows, the meta compacted (compact_lineage). `meta` is passed in because every caller
    has already loaded the file."""
    from bridge.hashing import sha256_file

    return {"path": str(path), "sha256": sha256 or sha256_file(path), "meta": compact_lineage(meta)}


def compact_lineage(meta: dict[str, Any]) -> dict[str, Any]:
    """`meta` with every blend's fine-tune record cut where it repeats the blend's start: a blend (scripts/
    interpolate_checkpoints.py) names its start (init_model) and its fine-tune (tuned), and the fine-tune's own
    meta names the same start again, whole. Kept so at every generation, the record doubled each time (5.8 MB of
    the 29.6 MB shipped in session 40). The cut keeps that start's path and sha256; lineage_clip_ids follows
    init_model only, so the lineage is unchanged."""
    out = dict(meta)
    start = out.get("init_model")
    tuned = out.get("tuned")
    if isinstance(tuned, dict) and isinstance(tuned.get("meta"), dict):
        tuned_meta = dict(tuned["meta"])
        its_start = tuned_meta.get("init_model")
        if isinstance(start, dict) and isinstance(its_start, dict) and its_start.get("sha256") == start.get("sha256"):
            tuned_meta["init_model"] = {k: v for k, v in its_start.items() if k != "meta"}
        out["tuned"] = {**tuned, "meta": compact_lineage(tuned_meta)}
    if isinstance(start, dict) and isinstance(start.get("meta"), dict):
        out["init_model"] = {**start, "meta": compact_lineage(start["meta"])}
    return out


def checkpoint_clip_ids(path: Path | None) -> set[str]:
    """lineage_clip_ids of a checkpoint file (None: the shipped one)."""
    from bridge.hashing import sha256_file
    from bridge.models.checkpoint import load_checkpoint
    from bridge.models.registry import DEFAULT_CHECKPOINT

    path = Path(path) if path else DEFAULT_CHECKPOINT
    card = json.loads(MODEL_CARD.read_text()) if MODEL_CARD.is_file() else {}
    return lineage_clip_ids(sha256_file(path), load_checkpoint(path).meta, card)


def clip_id(path: Path) -> str:
    """The clip_id stored in a clip file, read without loading its arrays."""
    with np.load(path, allow_pickle=False) as data:
        return str(data["clip_id"])


def motion_pieces(clip_ids: set[str]) -> set[str]:
    """The motion pieces of trained clip ids, to test many clip files against (seen)."""
    return {motion_piece(i) for i in clip_ids}


def seen(path: Path, pieces: set[str]) -> bool:
    """Whether the clip file shows one of the motion `pieces` (motion_pieces of the trained clip ids)."""
    return motion_piece(clip_id(path)) in pieces
