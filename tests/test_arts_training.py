"""ARTS with the free body model: BSF's analytic path, Eq. 11's losses, training, evaluation, the shipped model."""
from __future__ import annotations

from dataclasses import replace

import json

import numpy as np
import pytest
import torch

from bridge.geometry.analytic_ik import twist_angles_from_rotmats
from bridge.geometry.kinematics import forward_kinematics
from bridge.geometry.rotations import axis_angle_to_matrix
from bridge.hashing import sha256_file
from bridge.models import registry
from bridge.models.bsf import BoneGuidedShapeFitting
from bridge.models.checkpoint import load_checkpoint
from bridge.models.config import ArtsConfig
from bridge.models.disentangle import bone_lengths
from bridge.models.inference import ArtsPredictor
from bridge.models.losses import arts_loss
from bridge.skeleton import SMPL_PARENTS


def rest_joints_of(free_body, betas: np.ndarray) -> np.ndarray:
    w = free_body.J_regressor.astype(np.float64)
    joint_shapedirs = np.einsum("jv,vcb->jcb", w, free_body.shapedirs.astype(np.float64))
    return w @ free_body.v_template + np.einsum("jcb,nb->njc", joint_shapedirs, betas)


def test_bsf_analytic_path_recovers_shape_from_noise_free_bones(free_body):
    # The untrained (analytic) BSF of the paper's Eqs. 6-9, on random bodies of the shipped body model.
    fit = BoneGuidedShapeFitting(free_body.v_template, free_body.shapedirs, free_body.J_regressor, iterations=5)
    betas = np.random.default_rng(7).normal(size=(128, 10))
    bones = bone_lengths(torch.from_numpy(rest_joints_of(free_body, betas))[:, None]).float()
    with torch.no_grad():
        estimate, _ = fit(bones)
    assert np.abs(estimate.numpy() - betas).max() < 1e-3
    with torch.no_grad():  # the paper's single pass is only a first-order answer
        single, _ = BoneGuidedShapeFitting(free_body.v_template, free_body.shapedirs, free_body.J_regressor, iterations=1)(bones)
    assert np.abs(single.numpy() - betas).max() > 0.05


def test_bsf_regularised_inverse_tolerates_bone_noise(free_body):
    betas = np.random.default_rng(8).normal(size=(128, 10))
    bones = bone_lengths(torch.from_numpy(rest_joints_of(free_body, betas))[:, None])
    noisy = (bones + 0.01 * torch.randn(bones.shape, generator=torch.Generator().manual_seed(0),
                                        dtype=torch.float64)).float()
    errors = {}
    for noise in (0.0, 0.01):
        fit = BoneGuidedShapeFitting(free_body.v_template, free_body.shapedirs, free_body.J_regressor, 5, bone_noise_m=noise)
        with torch.no_grad():
            errors[noise] = float((fit(noisy)[0].double().numpy() - betas).__abs__().mean())
    # 1 cm bone errors: the exact inverse explodes, the ridge (β prior) inverse stays near the prior's spread.
    assert errors[0.0] > 5.0 and errors[0.01] < 1.0


def test_losses_vanish_at_the_truth_and_grow_away_from_it(free_body, free_smpl_layer):
    config = ArtsConfig(window=4, mesh_loss_stride=2)
    gen = torch.Generator().manual_seed(0)
    rotmats = axis_angle_to_matrix(0.3 * torch.randn(2, 4, 24, 3, generator=gen)).float()
    betas = torch.randn(2, 10, generator=gen)
    rest = torch.from_numpy(rest_joints_of(free_body, betas.double().numpy())).float()
    joints, _ = forward_kinematics(rotmats, rest[:, None], SMPL_PARENTS)
    template = torch.from_numpy(free_body.J_regressor @ free_body.v_template).float()
    angles = twist_angles_from_rotmats(rotmats, template, SMPL_PARENTS)
    batch = {"rotmats": rotmats, "betas": betas, "joints": joints + 1.0}  # any translation: losses are root-relative
    truth = {"rotmats": rotmats, "betas": betas, "joints": joints - joints[..., :1, :],
             "twist": torch.stack([torch.cos(angles), torch.sin(angles)], -1)}
    with torch.no_grad():
        total, parts = arts_loss(truth, batch, free_smpl_layer, config, template)
    assert set(parts) == {"mesh", "joint", "pose", "shape", "lifter", "twist"}
    assert max(parts.values()) < 1e-5 and float(total) < 1e-4
    wrong = dict(truth, betas=betas + 1.0)
    _, parts = arts_loss(wrong, batch, free_smpl_layer, config, template)
    assert parts["shape"] == pytest.approx(1.0) and parts["mesh"] > 0.005 and parts["joint"] > 0.001
    assert parts["pose"] < 1e-6
    deeper = dict(truth, joints=truth["joints"] + torch.tensor([0.0, 0.0, 0.1]) * (torch.arange(24) == 20)[:, None])
    _, plain = arts_loss(deeper, batch, free_smpl_layer, config, template)
    _, parts = arts_loss(deeper, batch, free_smpl_layer, ArtsConfig(window=4, mesh_loss_stride=2,
                                                                    lambda_limb_depth=2.0), template)
    assert "limb_depth" not in plain and parts["limb_depth"] == pytest.approx(0.1 / 12, rel=1e-3)


def test_limb_depth_term_counts_only_limb_joints_along_the_camera_axis():
    from bridge.models.losses import LIMB_JOINTS, limb_depth_error

    gt = torch.zeros(2, 3, 24, 3)
    sideways = gt.clone()
    sideways[..., LIMB_JOINTS, 0] = 0.2  # across the picture: not this term's business
    assert float(limb_depth_error(sideways, gt)) == 0.0
    deeper = gt.clone()
    deeper[..., 18, 2] = 0.24  # one elbow 24 cm too far: 2 cm over the 12 limb joints
    deeper[..., 15, 2] = 1.0  # the head is no limb joint
    assert float(limb_depth_error(deeper, gt)) == pytest.approx(0.02)
    assert len(LIMB_JOINTS) == 12


def test_mesh_losses_see_the_mid_frame_and_in_turn_every_other_frame():
    from bridge.models.losses import mesh_loss_frames

    torch.manual_seed(0)
    draws = [mesh_loss_frames(16, 4) for _ in range(50)]
    assert all(len(f) == 4 and 8 in f.tolist() and len(set(f.tolist())) == 4 for f in draws)
    assert set(torch.cat(draws).tolist()) == set(range(16))
    assert mesh_loss_frames(4, 1).tolist() == [0, 1, 2, 3] and mesh_loss_frames(5, 8).tolist() == [2]


def make_micro_dataset(folder):
    from scripts.synth.generate import GenerateConfig, generate

    config = GenerateConfig(clip_frames=32, min_clip_frames=32, variants=1, procedural=20, seed=3)
    summary = generate(folder, None, config, log=lambda *_: None)
    assert summary["train_clips"] >= 8 and summary["test_clips"] >= 1
    return folder


@pytest.fixture(scope="module")
def micro_run(tmp_path_factory):
    """A tiny ARTS trained for a few steps of both stages on a generated micro-dataset."""
    from scripts import train_arts

    data = make_micro_dataset(tmp_path_factory.mktemp("micro_data"))
    out = tmp_path_factory.mktemp("micro_run")
    argv = ["--data", str(data), "--out", str(out), "--tiny", "--lifter-steps", "40", "--full-steps", "6",
            "--lifter-lr", "1e-3", "--threads", "1"]
    return data, out, argv, train_arts.main(argv)


def test_training_smoke_loss_decreases(micro_run):
    from scripts import train_arts

    data, out, _, summary = micro_run
    assert summary["finished"]
    checkpoint = load_checkpoint(out / "arts.pt", expected_sha256=summary["sha256"])
    assert checkpoint.meta["steps"] == {"lifter": 40, "full": 6}
    # On one fixed batch, the trained lifter beats the same network before training.
    from scripts.synth.dataset import SyntheticWindows
    from torch.utils.data import DataLoader

    torch.manual_seed(0)
    windows = SyntheticWindows(data, window=checkpoint.config.window, split="train", random_crop=False, flip_prob=0)
    batch = train_arts.model_batch(next(iter(DataLoader(windows, batch_size=16))))
    trained = ArtsPredictor.load(out / "arts.pt").model
    torch.manual_seed(0)  # train_arts builds its network after seeding with --seed (0)
    untrained = ArtsPredictor.from_config(checkpoint.config).model
    with torch.no_grad():
        before = float(train_arts.lifter_loss(untrained.lifter(batch["keypoints"]), batch["joints"]))
        after = float(train_arts.lifter_loss(trained.lifter(batch["keypoints"]), batch["joints"]))
    assert after < 0.8 * before
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    full = [r for r in records if r.get("stage") == "full" and "mesh" in r]
    assert len(full) == 6 and all(np.isfinite(r["loss"]) for r in full)


def test_landmark_dropout_hides_inputs_of_some_windows_not_targets(micro_run):
    from scripts import train_arts
    from scripts.synth.dataset import SyntheticWindows
    from torch.utils.data import DataLoader

    data = micro_run[0]
    windows = SyntheticWindows(data, window=16, split="train", random_crop=False, flip_prob=0)
    raw = next(iter(DataLoader(windows, batch_size=16)))
    torch.manual_seed(1)
    hidden = train_arts.model_batch(raw, landmark_dropout=0.5)
    plain = train_arts.model_batch(raw)
    touched = (hidden["keypoints"] != plain["keypoints"]).flatten(1).any(dim=1)
    assert 0 < int(touched.sum()) < 16
    assert torch.all(hidden["keypoints"][touched][..., 2].amin(dim=(1, 2)) == 0.0)
    for key in ("rotmats", "joints", "betas"):
        assert torch.equal(hidden[key], plain[key])


def test_training_resumes_from_its_state(micro_run, tmp_path):
    import shutil

    from scripts import train_arts

    data, out, argv, _ = micro_run
    resumed_out = tmp_path / "resumed"
    shutil.copytree(out, resumed_out)
    state = torch.load(resumed_out / train_arts.STATE_FILE, weights_only=True)
    assert state["stage"] == "done"
    # Pretend the run was interrupted in stage 2 after 3 steps, then resume it with another vertex stride:
    # the run keeps the one it started with.
    state["stage"], state["step"], state["mesh_vertex_stride"] = "full", 3, 2
    torch.save(state, resumed_out / train_arts.STATE_FILE)
    argv = [a if a != str(out) else str(resumed_out) for a in argv] + ["--resume", "--mesh-vertex-stride", "5"]
    summary = train_arts.main(argv)
    records = [json.loads(line) for line in (resumed_out / "log.jsonl").read_text().splitlines()]
    starts = [r for r in records if r.get("event") == "start"]
    assert starts[-1]["stage"] == "full" and starts[-1]["step"] == 3
    assert summary["finished"] and [r["step"] for r in summary["history"] if r["stage"] == "full"][-3:] == [4, 5, 6]
    assert load_checkpoint(resumed_out / "arts.pt").meta["mesh_vertex_stride"] == 2


def test_evaluation_table(micro_run, free_body, free_smpl_layer):
    from scripts import eval_arts

    data, out, _, _ = micro_run
    predictor = ArtsPredictor.load(out / "arts.pt")
    clips = eval_arts.test_clips(data, predictor.window, max_clips=1)
    table = eval_arts.evaluate({"tiny": predictor}, clips, free_smpl_layer, free_body.J_regressor @ free_body.v_template,
                               log=lambda *_: None)
    assert set(table) == {"tiny", "MediaPipe world landmarks"}
    for key in ("MPJPE-14", "PA-MPJPE-14", "MPJPE-24", "PA-MPJPE-24", "MPVPE", "Accel", "Rot (deg)", "Twist (deg)"):
        assert np.isfinite(table["tiny"][key]) and table["tiny"][key] > 0
    assert "MPVPE" not in table["MediaPipe world landmarks"]
    assert table["tiny"]["PA-MPJPE-24"] <= table["tiny"]["MPJPE-24"] + 1e-9
    assert "| tiny |" in eval_arts.format_table(table)


def test_mediapipe_baseline_skeleton_mapping():
    from bridge.keypoints import mediapipe_world_to_smpl_joints

    world = np.random.default_rng(0).normal(size=(2, 33, 3))
    joints = mediapipe_world_to_smpl_joints(world)
    np.testing.assert_allclose(joints[:, 0], 0.5 * (world[:, 23] + world[:, 24]))
    np.testing.assert_allclose(joints[:, 18], world[:, 13])  # left elbow
    np.testing.assert_allclose(joints[:, 6], 0.5 * (joints[:, 0] + joints[:, 12]))  # spine2 halfway up


def test_shipped_checkpoint_matches_its_registry_and_model_card(repo_root):
    card_path = repo_root / "addon_manifest" / "models" / "arts_default.json"
    if not registry.DEFAULT_CHECKPOINT.is_file():
        pytest.skip("no shipped checkpoint in this checkout")
    card = json.loads(card_path.read_text())
    sha = sha256_file(registry.DEFAULT_CHECKPOINT)
    assert registry.DEFAULT_SHA256 == sha == card["sha256"]
    predictor = ArtsPredictor.load()
    assert predictor.model_id == card["model_id"] == registry.DEFAULT_MODEL_ID
    assert predictor.body_model_id == card["body_model_id"]
    assert registry.DEFAULT_CHECKPOINT.stat().st_size < 40 * 2 ** 20


def test_stage_two_variants_start_from_a_shared_lifter(micro_run, tmp_path):
    from scripts import train_arts

    data, out, _, _ = micro_run
    lifter_state = out / train_arts.LIFTER_STATE_FILE
    assert lifter_state.is_file()  # written when stage 1 ends
    summary = train_arts.main(["--data", str(data), "--out", str(tmp_path / "no_mcr"), "--tiny", "--full-steps", "2",
                               "--threads", "1", "--init-lifter", str(lifter_state),
                               "--config", '{"use_mcr": false}'])
    variant = load_checkpoint(tmp_path / "no_mcr" / "arts.pt")
    assert not variant.config.use_mcr and variant.meta["steps"] == {"lifter": 40, "full": 2}
    shared = torch.load(lifter_state, weights_only=True)["model"]
    # Two Adam steps at lr <= 1e-4 move each weight by at most ~2e-4: the lifter is the shared one.
    drift = max(float((value - shared[name]).abs().max()) for name, value in variant.state_dict.items()
                if name.startswith("lifter."))
    assert drift < 1e-3 and summary["finished"]


def test_fine_tuning_starts_from_a_checkpoint_and_records_it(micro_run, tmp_path):
    """--init-model: stage 2 only, from the parent's weights and config, with camera-roll augmentation, windows
    rolled to within 20 degrees of upright as the bridge will roll them (the tolerance and the ramp then in the
    config), longer windows (--config on top of the parent's), world dropout, two data folders, batches prepared
    by two loader processes, L_mesh on every 3rd vertex and the detector's error scaled (nothing to scale in
    simulated clips, but the setting is recorded); the parent (path, sha256, its own training facts) is in
    the new checkpoint's meta."""
    from scripts import train_arts

    data, out, _, _ = micro_run
    parent = load_checkpoint(out / "arts.pt")
    summary = train_arts.main(["--data", str(data), str(data), "--out", str(tmp_path / "ft"), "--full-steps", "2",
                               "--batch-size", "4", "--threads", "1", "--init-model", str(out / "arts.pt"),
                               "--roll-prob", "1.0", "--workers", "2", "--world-dropout", "0.5", "--device", "auto",
                               "--mesh-vertex-stride", "3", "--upright-windows", "--upright-tolerance-deg", "20",
                               "--upright-ramp", "--config", '{"window": 12}', "--detector-error-scale", "0.5", "1.5"])
    child = load_checkpoint(tmp_path / "ft" / "arts.pt")
    assert summary["finished"] and child.config == replace(parent.config, upright_tolerance_deg=20.0, upright_ramp=True,
                                                           window=12)
    assert parent.config.window == 8
    assert not parent.config.upright_ramp
    assert child.meta["upright_windows"] and parent.config.upright_tolerance_deg == 45.0
    assert train_arts.trained_on_upright_windows({"tuned": {"meta": child.meta}})  # a blend with it keeps rolling
    assert not train_arts.trained_on_upright_windows(parent.meta)
    assert child.meta["steps"] == {"lifter": 0, "full": 2} and child.meta["roll"] == {"prob": 1.0, "max_deg": 180.0}
    assert child.meta["init_model"]["meta"] == parent.meta and len(child.meta["data"]) == 2
    assert child.meta["detected_clip_ids"] == []  # simulated clips only (scripts/synth/trained_clips.py)
    assert child.meta["mesh_vertex_stride"] == 3 and parent.meta["mesh_vertex_stride"] == 1
    assert child.meta["detector_error_scale"] == {"range": [0.5, 1.5], "prob": 0.5}
    assert parent.meta["detector_error_scale"] is None
    from bridge.crop_view import LEAN_SHARE  # a new run turns the lean by the measured share

    assert child.config.world_lean_share == child.meta["world_lean_share"] == LEAN_SHARE
    assert child.meta["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    drift = max(float((value - parent.state_dict[name]).abs().max()) for name, value in child.state_dict.items())
    assert 0 < drift < 1e-2


def test_the_recorded_start_is_the_file_as_training_began(micro_run, tmp_path):
    """A file replaced at --init-model's path before the run ends (a new default shipped meanwhile) must not
    become the fine-tune's recorded parent: the lineage that keeps trained clips out of choosing sets reads it."""
    import shutil

    from bridge.hashing import sha256_file
    from scripts import train_arts

    data, out, _, _ = micro_run
    start = tmp_path / "start.pt"
    shutil.copyfile(out / "arts.pt", start)
    started_as = sha256_file(start)
    args = ["--data", str(data), "--out", str(tmp_path / "ft"), "--batch-size", "4", "--threads", "1",
            "--init-model", str(start), "--resume"]
    train_arts.main([*args, "--full-steps", "1"])
    start.write_bytes(b"replaced")  # a resumed run reads the start from its training state, not this file
    summary = train_arts.main([*args, "--full-steps", "2"])
    child = load_checkpoint(tmp_path / "ft" / "arts.pt")
    assert summary["finished"] and child.meta["init_model"]["sha256"] == started_as


def test_model_card_scores_both_rendered_sets_against_mediapipe_on_the_same_frames(repo_root):
    card = json.loads((repo_root / "addon_manifest" / "models" / "arts_default.json").read_text())
    evaluation = card["evaluation"]
    for set_name in ("rendered_heldout", "rendered_unseen_kinds"):
        rows = evaluation[set_name]
        for row in (rows["arts"], rows["mediapipe_world"]):
            assert set(row) == {"mpjpe14_mm", "pa_mpjpe14_mm", "accel_mm_per_frame2", "frames"}
            assert all(np.isfinite(v) and v > 0 for v in row.values())
            assert row["pa_mpjpe14_mm"] <= row["mpjpe14_mm"]
        assert rows["arts"]["frames"] == rows["mediapipe_world"]["frames"]
    assert "hips' midpoint" in evaluation["rendered_definitions"]
