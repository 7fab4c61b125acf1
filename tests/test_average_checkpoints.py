"""A model soup of fine-tunes of one start (scripts/average_checkpoints.py), and its blend with that start."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from arts_test_body import SMALL, tiny_body
from bridge.hashing import sha256_file
from bridge.models.arts import ArtsModel
from bridge.models.checkpoint import load_checkpoint, save_checkpoint
from bridge.models.config import ArtsConfig
from scripts import average_checkpoints, interpolate_checkpoints
from scripts.synth.trained_clips import META_KEY, lineage_clip_ids


def fine_tune(folder, name, start, seed, clip_ids, upright=True, **config):
    """A 'fine-tune' of `start`: its weights moved by seeded noise, its meta naming the start and its clips."""
    start_ckpt = load_checkpoint(start)
    body = tiny_body()
    model = ArtsModel(ArtsConfig(**SMALL, **config), body)
    model.load_state_dict(start_ckpt.state_dict)
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    path = folder / f"{name}.pt"
    save_checkpoint(path, model, body, "arts-test", meta={
        "init_model": {"path": str(start), "sha256": sha256_file(start), "meta": {}}, META_KEY: clip_ids,
        "upright_windows": upright, "steps": 10})
    return path


@pytest.fixture
def start(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "start.pt"
    save_checkpoint(path, ArtsModel(ArtsConfig(**SMALL), tiny_body()), tiny_body(), "arts-test")
    return path


def test_the_soup_is_the_mean_and_has_trained_on_every_ingredients_clips(start, tmp_path):
    a = fine_tune(tmp_path, "a", start, 1, ["seed7:a", "seed7:b"])
    b = fine_tune(tmp_path, "b", start, 2, ["seed7:b", "seed9:c"])
    soup = tmp_path / "soup.pt"
    average_checkpoints.main(["--tuned", str(a), str(b), "--out", str(soup)])
    ca, cb, cs = load_checkpoint(a), load_checkpoint(b), load_checkpoint(soup)
    for name, weight in cs.state_dict.items():
        if weight.is_floating_point():
            torch.testing.assert_close(weight, (ca.state_dict[name] + cb.state_dict[name]) / 2)
    assert cs.meta["init_model"]["sha256"] == sha256_file(start) and cs.meta["upright_windows"]
    assert [i["sha256"] for i in cs.meta["ingredients"]] == [sha256_file(a), sha256_file(b)]
    assert lineage_clip_ids(sha256_file(soup), cs.meta, {}) == {"seed7:a", "seed7:b", "seed9:c"}

    # The soup blends with its start like one fine-tune, and the blend keeps the union.
    blend = tmp_path / "blend.pt"
    interpolate_checkpoints.main(["--start", str(start), "--tuned", str(soup), "--alpha", "0.35",
                                  "--out", str(blend)])
    meta = load_checkpoint(blend).meta
    assert lineage_clip_ids(sha256_file(blend), meta, {}) == {"seed7:a", "seed7:b", "seed9:c"}


def test_fine_tunes_of_different_starts_are_refused(start, tmp_path):
    other_start = tmp_path / "other_start.pt"
    torch.manual_seed(5)
    save_checkpoint(other_start, ArtsModel(ArtsConfig(**SMALL), tiny_body()), tiny_body(), "arts-test")
    a = fine_tune(tmp_path, "a", start, 1, [])
    b = fine_tune(tmp_path, "b", other_start, 2, [])
    with pytest.raises(SystemExit, match="do not share one start"):
        average_checkpoints.main(["--tuned", str(a), str(b), "--out", str(tmp_path / "x.pt")])
    assert not (tmp_path / "x.pt").exists()


def test_upright_and_unrolled_fine_tunes_are_not_mixed(start, tmp_path):
    a = fine_tune(tmp_path, "a", start, 1, [], upright=True)
    b = fine_tune(tmp_path, "b", start, 2, [], upright=False)
    with pytest.raises(SystemExit, match="upright windows"):
        average_checkpoints.main(["--tuned", str(a), str(b), "--out", str(tmp_path / "x.pt")])


def test_fine_tunes_trained_with_other_loss_weights_mix_and_other_widths_do_not(start, tmp_path):
    a = fine_tune(tmp_path, "a", start, 1, [], lambda_limb_depth=1.0)
    b = fine_tune(tmp_path, "b", start, 2, [], lambda_limb_depth=3.0, dropout=0.1)
    average_checkpoints.main(["--tuned", str(a), str(b), "--out", str(tmp_path / "soup.pt")])
    assert load_checkpoint(tmp_path / "soup.pt").config == load_checkpoint(a).config
    wider = replace(load_checkpoint(b), config=ArtsConfig(**{**SMALL, "mlp_ratio": 4.0}))
    with pytest.raises(ValueError, match="different network configs"):
        average_checkpoints.average([load_checkpoint(a), wider])


def test_one_fine_tune_is_no_soup(start, tmp_path):
    a = fine_tune(tmp_path, "a", start, 1, [])
    with pytest.raises(SystemExit, match="at least two"):
        average_checkpoints.main(["--tuned", str(a), "--out", str(tmp_path / "x.pt")])
