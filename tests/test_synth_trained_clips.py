"""Which detected clips a checkpoint and its ancestors trained on (scripts/synth/trained_clips.py)."""
from __future__ import annotations

import json

import numpy as np

from scripts.synth import trained_clips
from scripts.synth.clip_file import load_clip, write_clip
from scripts.synth.dataset import SyntheticWindows
from scripts.synth.generate import GenerateConfig, generate


def test_a_fine_tune_answers_for_its_own_clips_its_ancestors_and_the_shipped_cards():
    card = {"sha256": "newer", trained_clips.CARD_KEY: {"sha256": "shipped", "clip_ids": ["seed7:a", "seed7:b"]}}
    grandparent = {trained_clips.META_KEY: ["old"], "init_model": None}
    parent = {trained_clips.META_KEY: ["mid"], "init_model": {"sha256": "gp", "meta": grandparent}}
    child = {trained_clips.META_KEY: ["new"], "init_model": {"sha256": "p", "meta": parent}}
    assert trained_clips.lineage_clip_ids("c", child, card) == {"new", "mid", "old"}
    assert trained_clips.lineage_clip_ids("shipped", {}, card) == {"seed7:a", "seed7:b"}
    of_shipped = {trained_clips.META_KEY: ["new"], "init_model": {"sha256": "shipped", "meta": {"steps": 1}}}
    assert trained_clips.lineage_clip_ids("c", of_shipped, card) == {"new", "seed7:a", "seed7:b"}
    assert trained_clips.lineage_clip_ids("other", None, card) == set()


def test_blend_records_stop_doubling_and_keep_the_lineage():
    """Each blend names its start and its fine-tune, whose meta names that start again: compacted, a chain of
    blends grows by a generation's record, not twice the previous one, and answers for the same clips."""
    def record(sha, meta):
        return {"path": sha + ".pt", "sha256": sha, "meta": meta}

    start = {trained_clips.META_KEY: ["root"], "init_model": None, "notes": "x" * 1000}
    sizes, compact_sizes, sha = [], [], "s0"
    for generation in range(1, 7):
        tuned = {trained_clips.META_KEY: [f"g{generation}"], "init_model": record(sha, start)}
        blend = {"alpha": 0.5, trained_clips.META_KEY: [f"g{generation}"], "init_model": record(sha, start),
                 "tuned": record(f"t{generation}", tuned)}
        compact = trained_clips.compact_lineage(blend)
        assert trained_clips.lineage_clip_ids("b", compact, {}) == trained_clips.lineage_clip_ids("b", blend, {}) == {
            "root", *(f"g{g}" for g in range(1, generation + 1))}
        assert compact["tuned"]["meta"]["init_model"] == {"path": sha + ".pt", "sha256": sha}
        sizes.append(len(json.dumps(blend)))
        compact_sizes.append(len(json.dumps(compact)))
        start, sha = blend, f"b{generation}"
    assert sizes[-1] > 30 * sizes[0]  # the uncompacted chain doubles
    assert compact_sizes[-1] < 3 * compact_sizes[0]
    unrelated = {"init_model": record("s", {}), "tuned": record("t", {"init_model": record("other", {"a": 1})})}
    assert trained_clips.compact_lineage(unrelated) == unrelated  # a fine-tune of another start keeps its record


def test_the_shipped_checkpoint_is_known_to_have_trained_on_the_early_seed_7_clips():
    """The card lists what its ancestor ef7d72e3 read before ids were recorded; the shipped fine-tune adds its
    own from its meta and its parents' (the same seed-7 clips, the upright seed-12, 15, 21, 23 and 25 ones, and
    the tumbled seed-8, 13, 16, 22, 24 and 26 ones), the joint-limit clips of seeds 32 and 33, and (through the
    fine-tune halves of the blends it descends from) the low-posture clips of seeds 34 and 35, the
    acrobatic-trial clips of seeds 36 and 37, the fitness-drill clips of seeds 41 to 44 and the seated clips of
    seeds 45 and 46."""
    from bridge.models.checkpoint import load_checkpoint
    from bridge.models.registry import DEFAULT_CHECKPOINT

    card = json.loads(trained_clips.MODEL_CARD.read_text())
    ids = trained_clips.checkpoint_clip_ids(None)
    legacy = set(card[trained_clips.CARD_KEY]["clip_ids"])
    own = set(load_checkpoint(DEFAULT_CHECKPOINT).meta.get(trained_clips.META_KEY, []))
    assert len(legacy) == 153 and ids == legacy | own
    assert "expmap:train/soccer/soccer_2@7#r1" in ids  # plan 1 of train-seed7-random-4s
    # With a person found: tumbled seed-8 plans 0-43, seeds 13, 16, 22, 24, 26, seed 33's limit clips (plans
    # 0-175) and seed 35's tumbled crouch clips (plans 0-131); upright seed 7 plans 0-159, seeds 12, 15, 21, 23, 25,
    # seed 32's limit clips (plans 0-177), the crouch clips of seeds 34 (plans 0-130) and 35, and the acrobatic
    # clips of seeds 36 (plans 0-93) and 37 (plans 0-94), not tumbled; the drill clips of seeds 41 (plans 0-35),
    # 42 (plans 0-39, 23 of its 36 tumbled), 43 (30) and 44 (29, 14 tumbled); the seated clips of seeds 45 (plans
    # 0-61, 59) and 46 (plans 0-59, 59, 28 tumbled).
    tumbled = 40 + 108 + 103 + 86 + 230 + 256 + 89 + 64 + 23 + 14 + 28
    upright = 153 + 111 + 122 + 91 + 233 + 265 + 98 + 120 + 61 + 91 + 89 + 33 + 13 + 30 + 15 + 59 + 31
    assert sum(i.endswith("~tumble") for i in ids) == tumbled and len(ids) == upright + tumbled
    assert sum(":limits:" in i for i in ids) == 98 + 89
    assert sum(":crouch:" in i for i in ids) == 120 + 125
    assert sum(":exercise:" in i for i in ids) == 33 + 36 + 30 + 29
    assert sum(":seated:" in i for i in ids) == 59 + 59


def test_training_records_the_detected_clips_it_draws_from(tmp_path):
    simulated, detected = tmp_path / "simulated", tmp_path / "detected"
    generate(simulated, None, GenerateConfig(clip_frames=20, procedural=6, seed=2), log=lambda _: None)
    detected.mkdir()
    sources = sorted(simulated.glob("train-*.npz"))[:2]
    for source in sources:
        write_clip(detected / source.name, {**load_clip(source), "landmark_source": np.array("mediapipe"),
                                            "appearance": np.array("{}")})
    ids = sorted(str(load_clip(s)["clip_id"]) for s in sources)
    windows = SyntheticWindows([simulated, detected], window=8, split="train", world_frame="crop")
    assert windows.detected_clip_ids() == ids
    assert windows.detected_clip_ids([1.0, 0.0]) == []
    assert trained_clips.clip_id(detected / sources[0].name) == str(load_clip(sources[0])["clip_id"])


def test_a_tumbled_twin_counts_as_the_same_motion_piece(tmp_path):
    generate(tmp_path, None, GenerateConfig(clip_frames=20, procedural=3, seed=4), log=lambda _: None)
    path = sorted(tmp_path.glob("*.npz"))[0]
    name = trained_clips.clip_id(path)
    assert trained_clips.motion_piece(name + "~tumble") == name
    pieces = trained_clips.motion_pieces
    assert trained_clips.seen(path, pieces({name + "~tumble"})) and trained_clips.seen(path, pieces({name}))
    assert not trained_clips.seen(path, pieces({"procedural:walk:1@0#r9~tumble"}))
