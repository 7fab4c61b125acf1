"""Function-preserving growth of a trained network (scripts/widen_checkpoint.py)."""
from __future__ import annotations

import pytest
import torch

from arts_test_body import SMALL, tiny_body
from bridge.hashing import sha256_file
from bridge.models.arts import ArtsModel
from bridge.models.checkpoint import build_model, load_checkpoint, save_checkpoint
from bridge.models.config import ArtsConfig
from bridge.models.inputs import LANDMARK_VECTOR_DIM
from scripts.synth.trained_clips import META_KEY, lineage_clip_ids
from scripts.widen_checkpoint import main, stream_map


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    """A 'trained' checkpoint: random weights with no zero in them, and a record of a clip it trained on."""
    body = tiny_body()
    torch.manual_seed(0)
    model = ArtsModel(ArtsConfig(**SMALL), body)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path_factory.mktemp("widen") / "start.pt"
    save_checkpoint(path, model, body, "arts-test", meta={"init_model": None, META_KEY: ["cmu:001_01@0#r0"]})
    return path


def outputs(path) -> dict[str, torch.Tensor]:
    model = build_model(load_checkpoint(path)).eval()
    generator = torch.Generator().manual_seed(1)
    keypoints = torch.rand(2, model.config.window, 19, 3, generator=generator)
    with torch.no_grad():
        return model(keypoints, torch.randn(2, model.config.window, LANDMARK_VECTOR_DIM, generator=generator))


def test_the_grown_network_computes_what_the_start_did(start, tmp_path):
    out = tmp_path / "wide.pt"
    main(["--start", str(start), "--mlp-ratio", "4", "--lifter-depth", "2", "--out", str(out)])
    wide, narrow = load_checkpoint(out), load_checkpoint(start)
    assert (wide.config.mlp_ratio, wide.config.lifter_depth) == (4.0, 2)
    assert sum(w.numel() for w in wide.state_dict.values()) > sum(w.numel() for w in narrow.state_dict.values())
    expected, got = outputs(start), outputs(out)
    for key, value in expected.items():
        torch.testing.assert_close(got[key], value, atol=1e-5, rtol=1e-5)


def test_a_wider_lifter_computes_what_the_start_did(start, tmp_path):
    """The stream grows by a non-integer factor, with more heads, wider feed-forward layers and a deeper lifter."""
    out = tmp_path / "wide.pt"
    main(["--start", str(start), "--lifter-dim", "48", "--lifter-heads", "6", "--mlp-ratio", "3",
          "--lifter-depth", "2", "--out", str(out)])
    wide = load_checkpoint(out)
    assert (wide.config.lifter_dim, wide.config.lifter_heads, wide.config.lifter_time_dim) == (48, 6, 32)
    expected, got = outputs(start), outputs(out)
    torch.testing.assert_close(got["joints"], expected["joints"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got["rotmats"], expected["rotmats"], atol=1e-4, rtol=1e-4)


def test_the_stream_map_keeps_layer_norm_inputs(start):
    """Q x has x's channel mean and variance, and spreads x over every new channel."""
    q = stream_map(32, 48, torch.Generator().manual_seed(0))
    x = torch.randn(100, 32)
    y = x @ q.T
    torch.testing.assert_close(y.mean(dim=1), x.mean(dim=1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(y.var(dim=1, unbiased=False), x.var(dim=1, unbiased=False), atol=1e-4, rtol=1e-4)
    assert (y[:, 32:].abs().mean(dim=0) > 0.05).all()


def test_the_wider_lifter_s_new_heads_can_learn(start, tmp_path):
    out = tmp_path / "wide.pt"
    main(["--start", str(start), "--lifter-dim", "64", "--lifter-heads", "8", "--out", str(out)])
    state = load_checkpoint(out).state_dict
    layer = "lifter.blocks.0.ts_temporal.attn"
    assert state[f"{layer}.to_q.weight"][32:].std() > 1e-3 and state[f"{layer}.to_kv.weight"][96:].std() > 1e-3
    assert not state[f"{layer}.proj.weight"][:, 32:].any() and state[f"{layer}.proj.weight"][:, :32].any()


def test_the_heads_keep_their_width(start, tmp_path):
    with pytest.raises(SystemExit, match="heads' width"):
        main(["--start", str(start), "--lifter-dim", "48", "--out", str(tmp_path / "x.pt")])


def test_the_new_units_can_learn(start, tmp_path):
    """Fresh input weights (not zeros, which would keep every new unit's gradient at zero forever)."""
    out = tmp_path / "wide.pt"
    main(["--start", str(start), "--mlp-ratio", "4", "--out", str(out)])
    state = load_checkpoint(out).state_dict
    hidden = int(SMALL["lifter_dim"] * ArtsConfig().mlp_ratio)
    new_in = state["lifter.blocks.0.st_spatial.mlp.0.weight"][hidden:]
    assert new_in.abs().min() > 0 and new_in.std() > 1e-3
    assert not state["lifter.blocks.0.st_spatial.mlp.3.weight"][:, hidden:].any()


def test_its_lineage_is_the_start_s(start, tmp_path):
    out = tmp_path / "wide.pt"
    main(["--start", str(start), "--mlp-ratio", "3", "--out", str(out)])
    assert lineage_clip_ids(sha256_file(out), load_checkpoint(out).meta, {}) == {"cmu:001_01@0#r0"}
    assert load_checkpoint(out).meta["init_model"]["sha256"] == sha256_file(start)


def test_shrinking_is_refused(start, tmp_path):
    with pytest.raises(SystemExit, match="only grows"):
        main(["--start", str(start), "--mlp-ratio", "1", "--out", str(tmp_path / "x.pt")])
    assert not (tmp_path / "x.pt").exists()
