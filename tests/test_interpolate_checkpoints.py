"""Weight-space interpolation between a checkpoint and its fine-tune (scripts/interpolate_checkpoints.py)."""
from __future__ import annotations

import pytest
import torch

from arts_test_body import SMALL, tiny_body
from bridge.hashing import sha256_file
from bridge.models.arts import ArtsModel
from bridge.models.checkpoint import load_checkpoint, save_checkpoint
from bridge.models.config import ArtsConfig
from scripts.interpolate_checkpoints import main
from scripts.synth.trained_clips import CARD_KEY, META_KEY, lineage_clip_ids


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A start checkpoint, a 'fine-tune' of it (weights moved, meta naming the start) and an unrelated one."""
    folder = tmp_path_factory.mktemp("interpolate")
    body = tiny_body()
    torch.manual_seed(0)
    model = ArtsModel(ArtsConfig(**SMALL), body)
    start = folder / "start.pt"
    save_checkpoint(start, model, body, "arts-test")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    tuned = folder / "tuned.pt"
    save_checkpoint(tuned, model, body, "arts-test", meta={"init_model": {"sha256": sha256_file(start)},
                                                           META_KEY: ["cmu:001_01@0#r0"]})
    other = folder / "other.pt"
    save_checkpoint(other, ArtsModel(ArtsConfig(**SMALL), body), body, "arts-test", meta={"init_model": None})
    return start, tuned, other


@pytest.mark.parametrize("alpha", [0.0, 0.25, 1.0])
def test_the_weights_lie_on_the_line_between_start_and_fine_tune(pair, tmp_path, alpha):
    start, tuned, _ = pair
    out = tmp_path / "blend.pt"
    main(["--start", str(start), "--tuned", str(tuned), "--alpha", str(alpha), "--out", str(out)])
    a, b, blend = load_checkpoint(start), load_checkpoint(tuned), load_checkpoint(out)
    assert blend.has_digest and blend.config == a.config
    for name, weight in blend.state_dict.items():
        if weight.is_floating_point():
            torch.testing.assert_close(weight, (1 - alpha) * a.state_dict[name] + alpha * b.state_dict[name])
    assert blend.meta["alpha"] == alpha and blend.meta["init_model"]["sha256"] == sha256_file(start)
    assert blend.meta["tuned"]["sha256"] == sha256_file(tuned)


def test_a_blend_has_trained_on_what_its_fine_tune_trained_on(pair, tmp_path):
    """Its lineage is the fine-tune's, so a clip either end learnt from never chooses between networks."""
    start, tuned, _ = pair
    out = tmp_path / "blend.pt"
    main(["--start", str(start), "--tuned", str(tuned), "--alpha", "0.5", "--out", str(out)])
    card = {CARD_KEY: {"sha256": sha256_file(start), "clip_ids": ["seed7:a"]}}
    expected = {"cmu:001_01@0#r0", "seed7:a"}
    assert lineage_clip_ids(sha256_file(out), load_checkpoint(out).meta, card) == expected
    assert lineage_clip_ids(sha256_file(tuned), load_checkpoint(tuned).meta, card) == expected


def test_a_network_that_was_not_fine_tuned_from_the_start_is_refused(pair, tmp_path):
    start, _, other = pair
    with pytest.raises(SystemExit, match="not fine-tuned from"):
        main(["--start", str(start), "--tuned", str(other), "--alpha", "0.5", "--out", str(tmp_path / "x.pt")])
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize("changed, refused", [({"upright_tolerance_deg": 20.0}, False),
                                              ({"upright_tolerance_deg": 20.0, "upright_ramp": True}, False),
                                              ({"window": 32}, False),
                                              ({"dropout": 0.1}, False),
                                              ({"lambda_limb_depth": 1.0, "lambda_twist": 0.1}, False),
                                              ({"mlp_ratio": 4.0}, True)])
def test_only_settings_that_shape_no_weight_may_differ_and_the_blend_takes_the_fine_tunes(tmp_path, changed, refused):
    # A fine-tune trained on windows rolled to 20 degrees (train_arts.py --upright-windows, --upright-ramp), on
    # longer windows (--config '{"window": 32}'), with dropout (--config '{"dropout": 0.1}') or other loss weights
    # is answered so; none of these shapes a weight, so only they may differ.
    body = tiny_body()
    torch.manual_seed(0)
    start = tmp_path / "start.pt"
    save_checkpoint(start, ArtsModel(ArtsConfig(**SMALL), body), body, "arts-test")
    tuned = tmp_path / "tuned.pt"
    save_checkpoint(tuned, ArtsModel(ArtsConfig(**SMALL, **changed), body), body, "arts-test",
                    meta={"init_model": {"sha256": sha256_file(start)}})
    out = tmp_path / "blend.pt"
    args = ["--start", str(start), "--tuned", str(tuned), "--alpha", "0.5", "--out", str(out)]
    if refused:
        with pytest.raises(SystemExit, match="different network configs"):
            main(args)
        assert not out.exists()
    else:
        main(args)
        assert load_checkpoint(out).config == load_checkpoint(tuned).config


def test_a_blend_does_not_repeat_its_start_inside_its_fine_tunes_record(tmp_path):
    """The fine-tune's meta names the start whole; the blend keeps that once, as its own init_model, so a chain
    of blends grows by a generation's record instead of doubling (trained_clips.compact_lineage)."""
    body = tiny_body()
    torch.manual_seed(0)
    model = ArtsModel(ArtsConfig(**SMALL), body)
    start = tmp_path / "start.pt"
    save_checkpoint(start, model, body, "arts-test", meta={"notes": "x" * 5000})
    start_record = {"path": str(start), "sha256": sha256_file(start), "meta": {"notes": "x" * 5000}}
    tuned = tmp_path / "tuned.pt"
    save_checkpoint(tuned, model, body, "arts-test", meta={"init_model": start_record, META_KEY: ["a"]})
    out = tmp_path / "blend.pt"
    main(["--start", str(start), "--tuned", str(tuned), "--alpha", "0.5", "--out", str(out)])
    meta = load_checkpoint(out).meta
    assert meta["init_model"]["meta"] == {"notes": "x" * 5000}
    assert meta["tuned"]["meta"]["init_model"] == {"path": str(start), "sha256": sha256_file(start)}
    assert lineage_clip_ids(sha256_file(out), meta, {}) == {"a"}
