"""The ARTS network: each component's behaviour, ablation switches, checkpoints and the predictor."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from arts_test_body import REST_JOINTS, tiny_body
from bridge.geometry.kinematics import forward_kinematics
from bridge.geometry.rotations import axis_angle_to_matrix, matrix_to_rot6d
from bridge.hashing import sha256_file
from bridge.mirror import mirror_image_landmarks, mirror_pose_aa, mirror_smpl_points, mirror_world_landmarks
from bridge.models import bsf as bsf_module
from bridge.models.arts import ArtsModel
from bridge.models.attention import temporal_embedding
from bridge.models.checkpoint import (CheckpointError, CheckpointMissingError, build_model, load_checkpoint,
                                      save_checkpoint)
from bridge.models.config import ArtsConfig, ConfigError
from bridge.models.disentangle import bone_lengths, disentangle, motion
from bridge.models.features import LandmarkFeatures, ResNet50Features
from bridge.models.inference import ArtsPredictor
from bridge.models.inputs import LANDMARK_VECTOR_DIM, landmark_frame_vector, lifter_keypoints
from bridge.models.lifter import SkeletonLifter
from bridge.models.mcr import MotionCentricRefinement
from bridge.models.tik import TemporalInverseKinematics
from bridge.skeleton import SMPL_BONES, SMPL_PARENTS

SMALL = dict(lifter_dim=32, lifter_depth=2, lifter_heads=4, feature_dim=32, tik_dim=32, tik_heads=4, mcr_dim=32,
             mcr_heads=4)


@pytest.fixture(scope="module")
def body():
    return tiny_body()


def small_config(**overrides) -> ArtsConfig:
    return ArtsConfig(**{**SMALL, **overrides})


def random_inputs(batch: int, frames: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, frames, 19, 3, generator=gen), torch.randn(batch, frames, LANDMARK_VECTOR_DIM,
                                                                         generator=gen)


def posed_template(body, batch: int, frames: int, seed: int = 0,
                   scale: float = 0.4) -> tuple[torch.Tensor, torch.Tensor]:
    """Random local rotations (B, T, 24, 3, 3) and the template skeleton they pose, pelvis at the origin."""
    gen = torch.Generator().manual_seed(seed)
    rotmats = axis_angle_to_matrix(scale * torch.randn(batch, frames, 24, 3, generator=gen, dtype=torch.float64))
    rest = torch.from_numpy(body.J_regressor @ body.v_template)
    joints, _ = forward_kinematics(rotmats, rest, SMPL_PARENTS)
    return rotmats, joints - joints[..., :1, :]


# ---------------------------------------------------------------- config


def test_config_round_trip_and_validation():
    config = ArtsConfig(window=9, use_mcr=False)
    assert ArtsConfig.from_dict(config.to_dict()) == config
    assert config.mid_frame == 4
    assert (ArtsConfig().lifter_depth, ArtsConfig().lifter_dim, ArtsConfig().mcr_dim) == (3, 256, 512)
    with pytest.raises(ConfigError, match="does not know"):
        ArtsConfig.from_dict({**config.to_dict(), "future_knob": 1})
    with pytest.raises(ConfigError, match="at least 2"):
        ArtsConfig(window=1)
    with pytest.raises(ConfigError, match="feature_source"):
        ArtsConfig(feature_source="vit")
    with pytest.raises(ConfigError, match="divisible"):
        ArtsConfig(lifter_dim=100, lifter_heads=8)
    with pytest.raises(ConfigError, match="world_frame"):
        ArtsConfig(world_frame="image")
    assert ArtsConfig.from_dict({k: v for k, v in config.to_dict().items() if k != "world_frame"}).world_frame == "crop"
    older = {k: v for k, v in config.to_dict().items() if k != "upright_tolerance_deg"}
    assert ArtsConfig.from_dict(older).upright_tolerance_deg == 45.0  # every network before session 39
    with pytest.raises(ConfigError, match="upright_tolerance_deg"):
        ArtsConfig(upright_tolerance_deg=-5.0)


# ---------------------------------------------------------------- inputs


def test_lifter_keypoints_normalise_by_width_and_combine_confidence():
    lm = np.zeros((1, 33, 4), np.float32)
    lm[..., :2] = [320.0, 240.0]  # image centre of 640 x 480
    lm[..., 2], lm[..., 3] = 0.5, 0.8
    lm[0, 23, 2] = 0.1  # weak left hip -> weak pelvis
    kp = lifter_keypoints(lm, (640, 480))
    assert kp.shape == (1, 19, 3)
    np.testing.assert_allclose(kp[0, :, :2], 0.0, atol=1e-6)
    assert kp[0, 0, 2] == pytest.approx(0.4)
    assert kp[0, 17, 2] == pytest.approx(0.08)  # pelvis: the lower of its two hips


def test_landmark_frame_vector_is_scale_free_with_scale_kept_apart():
    rng = np.random.default_rng(0)
    image = np.concatenate([rng.uniform(0, 600, (2, 5, 33, 2)), rng.uniform(0, 1, (2, 5, 33, 2))], -1)
    world = rng.normal(scale=0.4, size=(2, 5, 33, 3))
    vec = landmark_frame_vector(image, world, (640, 480))
    vec_big = landmark_frame_vector(image, 2.0 * world + 0.3, (640, 480))
    assert vec.shape == (2, 5, LANDMARK_VECTOR_DIM)
    np.testing.assert_allclose(vec[..., :-1], vec_big[..., :-1], atol=1e-5)
    np.testing.assert_allclose(vec_big[..., -1] - vec[..., -1], np.log(2.0), atol=1e-5)


# ---------------------------------------------------------------- lifter and disentanglement


@pytest.mark.parametrize("frames", [2, 5, 16])
def test_lifter_outputs_root_relative_smpl_joints_for_any_window(frames):
    torch.manual_seed(0)
    lifter = SkeletonLifter(small_config())
    keypoints, _ = random_inputs(3, frames)
    joints = lifter(keypoints)
    assert joints.shape == (3, frames, 24, 3)
    assert torch.all(joints[:, :, 0] == 0)
    assert joints[:, :, 1:].abs().sum() > 0
    with pytest.raises(ValueError, match="19 keypoints"):
        lifter(torch.zeros(1, frames, 17, 3))


def test_lifter_mixes_information_across_frames():
    torch.manual_seed(0)
    lifter = SkeletonLifter(small_config())
    keypoints, _ = random_inputs(1, 6)
    changed = keypoints.clone()
    changed[:, 0] += 1.0  # only the first frame's input changes
    delta = (lifter(changed) - lifter(keypoints)).abs().amax(dim=(0, 2, 3))
    assert torch.all(delta[1:] > 0)  # ... yet every frame's output moves: temporal attention


def test_temporal_embedding_is_centred_on_the_mid_frame():
    short, long = temporal_embedding(5, 8), temporal_embedding(16, 8)
    torch.testing.assert_close(short[2], long[8])


def test_disentangle_bones_and_motion():
    joints = torch.zeros(1, 3, 24, 3)
    for t in range(3):
        for parent, child in SMPL_BONES:
            joints[0, t, child] = joints[0, t, parent] + torch.tensor([0.0, 0.1 * (t + 1), 0.0])
    joints[0, :, :, 0] += torch.tensor([0.0, 1.0, 3.0])[:, None]  # x moves +1 then +2 per frame
    lengths = bone_lengths(joints)
    torch.testing.assert_close(lengths, torch.full((1, 23), 0.2))  # mean of 0.1, 0.2, 0.3
    m = motion(joints)
    assert m.shape == (1, 3, 24, 3)
    torch.testing.assert_close(m[0, 1, 0], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(m[0, 2, 0], torch.tensor([2.0, 0.0, 0.0]))
    torch.testing.assert_close(m[0, 0, 0], torch.tensor([1.5, 0.0, 0.0]))  # the mean motion first
    j, b, mm = disentangle(joints)
    assert j is joints and torch.equal(b, lengths) and torch.equal(mm, m)


# ---------------------------------------------------------------- TIK


def test_untrained_tik_poses_the_template_onto_the_input_joints(body):
    torch.manual_seed(0)
    rest = torch.from_numpy(body.J_regressor @ body.v_template)
    tik = TemporalInverseKinematics(small_config(), rest).double()
    rotmats, joints = posed_template(body, 2, 4)
    out = tik(joints, torch.randn(2, 4, 32, dtype=torch.float64))
    assert out["swing_6d"].shape == (2, 4, 24, 6) and out["twist"].shape == (2, 4, 23, 2)
    torch.testing.assert_close(out["twist"].norm(dim=-1), torch.ones(2, 4, 23, dtype=torch.float64))
    posed, _ = forward_kinematics(out["rotmats"], rest, SMPL_PARENTS)
    torch.testing.assert_close(posed - posed[..., :1, :], joints, atol=1e-6, rtol=0)


def test_tik_uses_twist_and_attends_over_time(body):
    torch.manual_seed(0)
    rest = torch.from_numpy(body.J_regressor @ body.v_template).float()
    tik = TemporalInverseKinematics(small_config(), rest)
    for parameter in tik.head.parameters():  # a trained head: non-zero temporal residual
        torch.nn.init.normal_(parameter, std=0.05)
    _, joints = posed_template(body, 1, 5)
    features = torch.randn(1, 5, 32)
    base = tik(joints.float(), features)
    changed = features.clone()
    changed[:, 0] += 1.0
    moved = tik(joints.float(), changed)
    assert not torch.allclose(moved["twist"][:, 0], base["twist"][:, 0])
    assert torch.allclose(moved["twist"][:, 1:], base["twist"][:, 1:])  # twist is per frame ...
    assert (moved["pose_6d"][:, 1:] - base["pose_6d"][:, 1:]).abs().max() > 1e-5  # ... θ_init is temporal


# ---------------------------------------------------------------- BSF


def length_only_body():
    """Shape directions that only lengthen bones (every joint moves along its own bone): Eq. 7 is exact."""
    b = tiny_body()
    rest = b.J_regressor @ b.v_template
    rng = np.random.default_rng(3)
    owner = np.argmax(b.J_regressor, axis=0)
    shapedirs = np.zeros_like(b.shapedirs)
    for k in range(10):
        stretch = rng.uniform(-0.08, 0.08, 24)
        stretch[0] = 0.0
        shift = np.zeros((24, 3))  # joint displacement: accumulated stretch of the bones above it
        for joint in range(1, 24):
            parent = SMPL_PARENTS[joint]
            shift[joint] = shift[parent] + stretch[joint] * (rest[joint] - rest[parent])
        shapedirs[:, :, k] = shift[owner]
    b.shapedirs = shapedirs
    return b


def true_bones(body, betas: np.ndarray) -> torch.Tensor:
    rest = body.J_regressor @ body.v_template + np.einsum("jv,vcb,nb->njc", body.J_regressor, body.shapedirs, betas)
    return bone_lengths(torch.from_numpy(rest)[:, None])


def test_bsf_initialisation_is_the_exact_linear_inverse():
    body = length_only_body()
    fit = bsf_module.BoneGuidedShapeFitting(body.v_template, body.shapedirs, body.J_regressor, iterations=1).double()
    betas = np.random.default_rng(0).normal(size=(32, 10))
    estimate, aligned = fit(true_bones(body, betas))
    np.testing.assert_allclose(estimate.detach().numpy(), betas, atol=1e-6)
    rest = body.J_regressor @ body.v_template + np.einsum("jv,vcb,nb->njc", body.J_regressor, body.shapedirs, betas)
    np.testing.assert_allclose(aligned.detach().numpy(), rest, atol=1e-6)  # Eq. 7 rebuilt the true skeleton


def test_plain_two_step_pseudo_inverse_is_not_exact():
    # Why BSF composes pinv(W S): pinv(S) (pinv(W) J - T̄) misses β even from the TRUE rest joints.
    body = tiny_body()
    betas = np.random.default_rng(0).normal(size=(8, 10))
    vertices = body.v_template + np.einsum("vcb,nb->nvc", body.shapedirs, betas)
    joints = body.J_regressor @ vertices
    plain = np.einsum("vj,njc->nvc", np.linalg.pinv(body.J_regressor), joints) - body.v_template
    plain = plain.reshape(8, -1) @ np.linalg.pinv(body.shapedirs.reshape(-1, 10)).T
    w_inv, w_bias, s_inv = bsf_module.shape_space_inverse(body.v_template, body.shapedirs, body.J_regressor)
    composed = (joints.reshape(8, -1) @ w_inv.T + w_bias - body.v_template.reshape(-1)) @ s_inv.T
    assert np.abs(plain - betas).max() > 0.1
    np.testing.assert_allclose(composed, betas, atol=1e-8)


def test_bsf_rejects_shape_directions_the_joints_cannot_see():
    body = tiny_body()
    shapedirs = body.shapedirs.copy()
    shapedirs[..., 9] = 0.0
    with pytest.raises(bsf_module.ShapeSpaceError, match="9 of its 10"):
        bsf_module.BoneGuidedShapeFitting(body.v_template, shapedirs, body.J_regressor)


def test_bsf_layers_are_trainable():
    body = tiny_body()
    fit = bsf_module.BoneGuidedShapeFitting(body.v_template, body.shapedirs, body.J_regressor, iterations=2)
    betas, _ = fit(true_bones(body, np.zeros((2, 10))).float())
    betas.square().sum().backward()
    assert fit.fc_w_inv.weight.grad.abs().sum() > 0 and fit.fc_s_inv.weight.grad.abs().sum() > 0


# ---------------------------------------------------------------- MCR


def test_bsf_inference_uses_the_composed_layers_and_follows_their_training():
    body = tiny_body()
    fit = bsf_module.BoneGuidedShapeFitting(body.v_template, body.shapedirs, body.J_regressor, iterations=3).double()
    bones = true_bones(body, np.random.default_rng(1).normal(size=(4, 10)))
    optimiser = torch.optim.SGD(fit.parameters(), lr=0.5)
    for _ in range(2):
        with torch.no_grad():
            inferred, _ = fit(bones)
        trained, _ = fit(bones)
        torch.testing.assert_close(inferred, trained.detach(), rtol=0, atol=1e-9)
        trained.square().sum().backward()
        optimiser.step()
        optimiser.zero_grad()
    assert not torch.allclose(inferred, fit(bones)[0].detach(), atol=1e-3)


def test_untrained_mcr_passes_the_initial_estimate_through():
    torch.manual_seed(0)
    mcr = MotionCentricRefinement(small_config())
    pose, betas = torch.randn(2, 6, 24, 6), torch.randn(2, 10)
    refined_pose, refined_betas = mcr(torch.randn(2, 6, 24, 3), torch.randn(2, 6, 32), pose, betas)
    assert torch.equal(refined_pose, pose) and torch.equal(refined_betas, betas)
    (refined_pose.sum() + refined_betas.sum()).backward()
    assert mcr.pose_head[-1].weight.grad.abs().sum() > 0 and mcr.shape_head[-1].weight.grad.abs().sum() > 0


def test_mcr_queries_are_motion():
    torch.manual_seed(0)
    mcr = MotionCentricRefinement(small_config())
    features = torch.randn(1, 4, 32)
    a = mcr.motion_centric_features(torch.zeros(1, 4, 24, 3), features)
    b = mcr.motion_centric_features(0.01 * torch.ones(1, 4, 24, 3), features)
    assert a.shape == (1, 4, 32) and (a - b).abs().max() > 1e-4


# ---------------------------------------------------------------- features


def test_landmark_features_shape_and_input_check():
    features = LandmarkFeatures(48)
    assert features(torch.randn(2, 3, LANDMARK_VECTOR_DIM)).shape == (2, 3, 48)
    with pytest.raises(ValueError, match="landmark features"):
        features(torch.randn(2, 3, 99))


def test_resnet50_features_shape_and_weight_loading(tmp_path):
    torch.manual_seed(0)
    features = ResNet50Features().eval()
    assert sum(p.numel() for p in features.backbone.parameters()) == 23_508_032  # ResNet-50 without its classifier
    crops = torch.rand(1, 2, 3, 64, 64)
    with torch.no_grad():
        out = features(crops)
    assert out.shape == (1, 2, 2048)
    state = {f"module.{k}": v for k, v in features.backbone.state_dict().items()}
    state["module.fc.weight"] = torch.zeros(1000, 2048)
    torch.save(state, tmp_path / "r50.pt")
    other = ResNet50Features().eval()
    other.load_backbone(tmp_path / "r50.pt")
    with torch.no_grad():
        torch.testing.assert_close(other(crops), out)
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a ResNet-50"):
        other.load_backbone(tmp_path / "bad.pt")


# ---------------------------------------------------------------- whole model and ablations


@pytest.mark.parametrize("switches", [
    dict(), dict(use_tik=False), dict(use_mcr=False), dict(use_bsf=False),
    dict(use_tik=False, use_mcr=False, use_bsf=False)])
def test_arts_model_and_table3_ablations(body, switches):
    torch.manual_seed(0)
    model = ArtsModel(small_config(**switches), body)
    keypoints, frames = random_inputs(2, 5)
    out = model(keypoints, frames)
    assert out["rotmats"].shape == (2, 5, 24, 3, 3) and out["betas"].shape == (2, 10)
    assert out["joints"].shape == (2, 5, 24, 3) and out["bone_lengths"].shape == (2, 23)
    assert hasattr(model, "tik") == switches.get("use_tik", True) == ("twist" in out)
    assert hasattr(model, "bsf") == switches.get("use_bsf", True)
    assert hasattr(model, "mcr") == switches.get("use_mcr", True)
    if not switches.get("use_mcr", True):
        assert torch.equal(out["pose_6d"], out["pose_init_6d"]) and torch.equal(out["betas"], out["betas_init"])
    (out["rotmats"].square().sum() + out["betas"].square().sum()).backward()
    # Residual heads start at zero, so at initialisation only BSF's bone path reaches the lifter and only
    # TIK's twists (through the analytic IK) reach the features.
    def reached(grad):
        return grad is not None and bool(grad.abs().sum() > 0)
    assert reached(model.lifter.head.weight.grad) == switches.get("use_bsf", True)
    assert reached(model.features.net[0].weight.grad) == switches.get("use_tik", True)
    det = torch.linalg.det(out["rotmats"])
    torch.testing.assert_close(det, torch.ones_like(det), atol=1e-5, rtol=0)


def test_model_without_world_landmarks_ignores_them(body):
    from bridge.models.inputs import WORLD_SLICE

    torch.manual_seed(0)
    model = ArtsModel(small_config(use_world_landmarks=False), body).eval()
    keypoints, frames = random_inputs(1, 5)
    other = frames.clone()
    other[..., WORLD_SLICE] = torch.randn_like(other[..., WORLD_SLICE])
    with torch.no_grad():
        a, b = model(keypoints, frames), model(keypoints, other)
    torch.testing.assert_close(a["rotmats"], b["rotmats"])
    with_world = ArtsModel(small_config(), body).eval()
    with_world.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert not torch.allclose(with_world(keypoints, frames)["twist"], with_world(keypoints, other)["twist"])


def test_posed_joints_follow_the_rotations_and_the_shape(body):
    model = ArtsModel(small_config(), body).double()
    rotmats, joints = posed_template(body, 2, 3)
    torch.testing.assert_close(model.posed_joints(rotmats, torch.zeros(2, 10, dtype=torch.float64)), joints)
    taller = model.posed_joints(rotmats, torch.ones(2, 10, dtype=torch.float64))
    assert (taller - joints).abs().max() > 1e-3


# ---------------------------------------------------------------- checkpoints and predictor


def test_checkpoint_round_trip_and_errors(body, tmp_path):
    torch.manual_seed(0)
    model = ArtsModel(small_config(window=4), body).eval()
    path = tmp_path / "arts.pt"
    sha = save_checkpoint(path, model, body, "arts-test", meta={"steps": 3})
    assert sha == sha256_file(path)
    loaded = load_checkpoint(path, expected_sha256=sha)
    assert loaded.config == model.config and loaded.model_id == "arts-test" and loaded.meta == {"steps": 3}
    assert loaded.body.model_id == "test-tiny-body"
    restored = build_model(loaded)
    keypoints, frames = random_inputs(1, 4)
    with torch.no_grad():
        torch.testing.assert_close(restored(keypoints, frames)["rotmats"], model(keypoints, frames)["rotmats"])

    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path, expected_sha256="0" * 64)
    with pytest.raises(FileNotFoundError, match="train one"):
        load_checkpoint(tmp_path / "missing.pt")
    assert issubclass(CheckpointMissingError, CheckpointError)
    torch.save({"format": "something-else"}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not an ARTS checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "garbage.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"]["future_knob"] = 3
    torch.save(payload, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match="future_knob"):
        load_checkpoint(tmp_path / "newer.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"]["lifter_depth"] = 1
    del payload["digest"]  # as written before checkpoints carried one
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="cannot build its network"):
        build_model(load_checkpoint(tmp_path / "mismatch.pt"))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the zeroed body arrays
def test_checkpoint_digest_refuses_damaged_weights_and_body(body, tmp_path):
    """Only the shipped file's sha256 is registered: every other checkpoint is checked by its own digest."""
    model = ArtsModel(small_config(window=4), body).eval()
    path = tmp_path / "arts.pt"
    save_checkpoint(path, model, body, "arts-test")
    payload = torch.load(path, weights_only=True)
    name = next(iter(payload["state_dict"]))
    payload["state_dict"][name].view(-1)[0] += 17.0  # a flipped weight, file otherwise well-formed
    torch.save(payload, tmp_path / "damaged.pt")
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(tmp_path / "damaged.pt")
    del payload["digest"]  # an old file without a digest still loads: the check is additive
    torch.save(payload, tmp_path / "legacy.pt")
    assert load_checkpoint(tmp_path / "legacy.pt").model_id == "arts-test"

    payload = torch.load(path, weights_only=True)
    payload["body"]["J_regressor"].zero_()  # body arrays that can no longer build BSF (a ShapeSpaceError)
    del payload["digest"]
    torch.save(payload, tmp_path / "no_shape.pt")
    with pytest.raises(CheckpointError, match="cannot build its network"):
        build_model(load_checkpoint(tmp_path / "no_shape.pt"))


def test_predictor_contract(body, tmp_path):
    torch.manual_seed(0)
    predictor = ArtsPredictor.from_config(small_config(window=6), body=body)
    assert predictor.window == 6
    rng = np.random.default_rng(0)
    image = np.concatenate([rng.uniform(0, 500, (3, 6, 33, 2)), rng.uniform(0.5, 1, (3, 6, 33, 2))], -1)
    world = rng.normal(scale=0.4, size=(3, 6, 33, 3))
    out = predictor.predict_windows(image, world, (640, 480))
    assert out["pose_aa"].shape == (3, 24, 3) and out["betas"].shape == (3, 10)
    assert out["joints_3d"].shape == (3, 24, 3) and np.all(out["joints_3d"][:, 0] == 0)
    # joints_3d are the body model's joints for the returned pose and shape
    model = predictor.model
    rotmats = axis_angle_to_matrix(torch.from_numpy(out["pose_aa"]))
    expected = model.posed_joints(rotmats, torch.from_numpy(out["betas"]))
    np.testing.assert_allclose(out["joints_3d"], expected.numpy(), atol=1e-4)
    # the mid frame (index 3) is the one answered for: changing only frame 0 of a window changes it less
    # than nothing at all would (it still changes: attention), but a different mid frame changes pose
    chunked = ArtsPredictor(model, "m", predictor.body, chunk_size=2).predict_windows(image, world, (640, 480))
    # equal up to float32 rounding, compared as rotations: batches of 2 and 3 may take different kernels
    # (1.0e-5 apart on an AMD EPYC), and axis-angle magnifies that near a half turn; a chunking bug is O(1)
    np.testing.assert_allclose(axis_angle_to_matrix(torch.from_numpy(chunked["pose_aa"])).numpy(), rotmats.numpy(),
                               atol=5e-5)
    with pytest.raises(ValueError, match="world_landmarks"):
        predictor.predict_windows(image, world[:, :, :10], (640, 480))

    path = tmp_path / "arts.pt"
    save_checkpoint(path, model, body, "arts-test")
    reloaded = ArtsPredictor.load(path)
    assert reloaded.model_id == "arts-test" and reloaded.body_model_id == "test-tiny-body"
    np.testing.assert_allclose(reloaded.predict_windows(image, world, (640, 480))["pose_aa"], out["pose_aa"],
                               atol=1e-5)
    with pytest.raises(FileNotFoundError):
        ArtsPredictor.load(tmp_path / "nothing.pt")


def test_the_focal_length_turns_world_landmarks_only_for_a_camera_axes_network(body):
    """world_frame "camera": MediaPipe's world landmarks are turned by the ray to the hips before the network
    (what training does to the detector's real output), the lean by the config's share; "crop" (every older
    checkpoint): they are read as given."""
    from bridge.crop_view import crop_to_camera_axes

    rng = np.random.default_rng(4)
    image = np.concatenate([rng.uniform(400, 600, (2, 6, 33, 2)), rng.uniform(0.5, 1, (2, 6, 33, 2))], -1)
    world = rng.normal(scale=0.4, size=(2, 6, 33, 3))
    focal = 500.0
    for frame, share in (("camera", 0.5), ("camera", 1.0), ("crop", 0.5)):
        torch.manual_seed(0)
        config = small_config(window=6, world_frame=frame, world_lean_share=share)
        predictor = ArtsPredictor.from_config(config, body=body)
        given = predictor.predict_windows(image, world, (640, 480), flip_average=True, focal_px=focal)["pose_aa"]
        plain = predictor.predict_windows(image, world, (640, 480), flip_average=True)["pose_aa"]
        turned = predictor.predict_windows(image, crop_to_camera_axes(world, image, focal, (640, 480), share),
                                           (640, 480), flip_average=True)["pose_aa"]
        np.testing.assert_allclose(given, turned if frame == "camera" else plain, atol=1e-5)
        assert np.abs(turned - plain).max() > 1e-3  # the person is off to the side: the turn is not nothing


def test_flip_averaged_prediction_is_mirror_equivariant(body):
    # Averaging a window with its mirror image makes the answer for the mirrored window exactly the mirror of
    # the answer, whatever the (here untrained) network does on its own.
    torch.manual_seed(1)
    predictor = ArtsPredictor.from_config(small_config(window=6), body=body)
    rng = np.random.default_rng(1)
    image = np.concatenate([rng.uniform(0, 640, (4, 6, 33, 2)), rng.uniform(0.5, 1, (4, 6, 33, 2))], -1)
    world = rng.normal(scale=0.4, size=(4, 6, 33, 3))
    out = predictor.predict_windows(image, world, (640, 480), flip_average=True)
    mirrored = predictor.predict_windows(mirror_image_landmarks(image, 640), mirror_world_landmarks(world), (640, 480),
                                         flip_average=True)
    np.testing.assert_allclose(mirror_pose_aa(mirrored["pose_aa"]), out["pose_aa"], atol=1e-4)
    np.testing.assert_allclose(mirrored["betas"], out["betas"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mirror_smpl_points(mirrored["lifter_joints"]), out["lifter_joints"], atol=1e-5)
    assert np.abs(predictor.predict_windows(image, world, (640, 480))["pose_aa"] - out["pose_aa"]).max() > 1e-3


def test_root_rotation_in_camera_space_for_an_upright_person(body):
    # An upright person facing the camera: body up (+Y) is camera -y, body front (+Z) is camera -z.
    rest = torch.from_numpy(body.J_regressor @ body.v_template)
    upright = axis_angle_to_matrix(torch.tensor([np.pi, 0.0, 0.0], dtype=torch.float64))
    joints = (rest - rest[0]) @ upright.T
    tik = TemporalInverseKinematics(small_config(), rest).double()
    swing = tik.analytic_swing_6d(joints[None, None])
    torch.testing.assert_close(swing[0, 0, 0], matrix_to_rot6d(upright), atol=1e-6, rtol=0)


def test_rest_joints_of_test_body_are_the_humanoid():
    np.testing.assert_allclose(tiny_body().J_regressor @ tiny_body().v_template, REST_JOINTS, atol=1e-12)


def test_dataclass_config_fields_are_all_serialisable():
    for field in dataclasses.fields(ArtsConfig):
        assert field.type in ("int", "float", "str", "bool"), field.name


def test_lifter_ignores_where_the_person_is_and_how_big():
    torch.manual_seed(0)
    lifter = SkeletonLifter(small_config())
    keypoints, _ = random_inputs(2, 5)
    moved = keypoints.clone()
    moved[..., :2] = 0.5 * moved[..., :2] + torch.tensor([0.3, -0.2])  # smaller, elsewhere in the image
    torch.testing.assert_close(lifter(moved), lifter(keypoints), atol=1e-5, rtol=1e-4)


def test_resnet50_feature_source_runs_the_whole_model_on_crops(body):
    torch.manual_seed(0)
    config = small_config(feature_source="resnet50", feature_dim=2048, window=2)
    predictor = ArtsPredictor.from_config(config, body=body)
    rng = np.random.default_rng(0)
    image = np.concatenate([rng.uniform(0, 500, (1, 2, 33, 2)), rng.uniform(0.5, 1, (1, 2, 33, 2))], -1)
    world = rng.normal(scale=0.4, size=(1, 2, 33, 3))
    with pytest.raises(ValueError, match="pass crops"):
        predictor.predict_windows(image, world, (640, 480))
    out = predictor.predict_windows(image, world, (640, 480), crops=rng.uniform(0, 1, (1, 2, 3, 64, 64)))
    assert out["pose_aa"].shape == (1, 24, 3) and np.isfinite(out["pose_aa"]).all()


@pytest.mark.parametrize("tolerance, ramp", [(None, False), (20.0, False), (20.0, True)])
def test_a_body_upside_down_is_answered_as_through_a_camera_rolled_upright(body, tolerance, ramp):
    """An upside-down window gets the rolled-back answer for the same window seen through a camera rolled to
    within the network's tolerance of upright (its config's; 45 degrees for older networks), to it or, for a
    network trained with the ramp, nearly upright; a window within the tolerance is not touched."""
    from bridge.upright import (UPRIGHT_TOLERANCE_DEG, body_tilt, roll_image_landmarks, roll_matrix, roll_points,
                                upright_roll)

    torch.manual_seed(2)
    config = (small_config(window=6) if tolerance is None else
              small_config(window=6, upright_tolerance_deg=tolerance, upright_ramp=ramp))
    tolerance = UPRIGHT_TOLERANCE_DEG if tolerance is None else tolerance
    predictor = ArtsPredictor.from_config(config, body=body)
    rng = np.random.default_rng(2)
    image = np.concatenate([rng.uniform(200, 440, (2, 6, 33, 2)), rng.uniform(0.5, 1, (2, 6, 33, 2))], -1)
    image[..., [11, 12], 1] = 150.0  # shoulders over the ankles, 20 px to the right: 6 degrees of lean
    shoulders_x, ankles_x = image[..., [11, 12], 0], image[..., [27, 28], 0]
    image[..., [11, 12], 0] += 20.0 - shoulders_x.mean(-1, keepdims=True) + ankles_x.mean(-1, keepdims=True)
    image[..., [27, 28], 1] = 350.0
    world = rng.normal(scale=0.4, size=(2, 6, 33, 3))
    assert np.all(upright_roll(image, tolerance, ramp) == 0.0)
    upside_down = np.full(2, np.pi)
    inverted_image = roll_image_landmarks(image, upside_down, (640, 480))
    inverted_world = roll_points(world, upside_down)
    roll = upright_roll(inverted_image, tolerance, ramp)
    tilt = np.degrees(np.abs(body_tilt(inverted_image)))
    np.testing.assert_allclose(tilt, 180.0 - 5.7, atol=0.1)
    np.testing.assert_allclose(np.degrees(np.abs(body_tilt(roll_image_landmarks(inverted_image, roll, (640, 480))))),
                               tolerance * (180.0 - tilt) / (180.0 - tolerance) if ramp else tolerance, atol=1e-6)
    out = predictor.predict_windows(inverted_image, inverted_world, (640, 480))
    seen = predictor.predict_windows(roll_image_landmarks(inverted_image, roll, (640, 480)),
                                     roll_points(inverted_world, roll), (640, 480))
    back = roll_matrix(-roll)
    root = back @ axis_angle_to_matrix(torch.from_numpy(seen["pose_aa"][:, 0]).double()).numpy()
    np.testing.assert_allclose(axis_angle_to_matrix(torch.from_numpy(out["pose_aa"][:, 0]).double()).numpy(), root,
                               atol=1e-4)
    np.testing.assert_allclose(out["pose_aa"][:, 1:], seen["pose_aa"][:, 1:], atol=1e-4)
    np.testing.assert_allclose(out["betas"], seen["betas"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["lifter_joints"], roll_points(seen["lifter_joints"], -roll), atol=1e-4)
    np.testing.assert_allclose(out["joints_3d"], roll_points(seen["joints_3d"], -roll), atol=1e-4)


def test_windows_answer_for_frames_around_their_mid_frame_through_flip_and_roll(body):
    # The bridge's window stride asks each window for several frames: each column must be that frame's answer,
    # flip-averaged and rolled back exactly as the mid frame's is.
    from bridge.upright import roll_image_landmarks, roll_points

    torch.manual_seed(3)
    predictor = ArtsPredictor.from_config(small_config(window=6), body=body)
    rng = np.random.default_rng(3)
    image = np.concatenate([rng.uniform(200, 440, (3, 6, 33, 2)), rng.uniform(0.5, 1, (3, 6, 33, 2))], -1)
    image[..., [11, 12], 1], image[..., [27, 28], 1] = 150.0, 350.0
    world = rng.normal(scale=0.4, size=(3, 6, 33, 3))
    head_down = np.full(1, np.pi)
    image[:1], world[:1] = roll_image_landmarks(image[:1], head_down, (640, 480)), roll_points(world[:1], head_down)
    for flip in (False, True):
        mid = predictor.predict_windows(image, world, (640, 480), flip_average=flip)
        around = predictor.predict_windows(image, world, (640, 480), flip_average=flip, offsets=(-2, 0, 2))
        assert around["pose_aa"].shape == (3, 3, 24, 3) and around["betas"].shape == (3, 10)
        assert around["joints_3d"].shape == around["lifter_joints"].shape == (3, 3, 24, 3)
        for name in ("pose_aa", "joints_3d", "lifter_joints"):
            np.testing.assert_allclose(around[name][:, 1], mid[name], atol=1e-5)
        np.testing.assert_allclose(around["betas"], mid["betas"], atol=1e-6)
        assert np.abs(around["pose_aa"][:, 0] - around["pose_aa"][:, 2]).max() > 1e-3  # other frames, other answers
    with pytest.raises(ValueError, match="inside the 6-frame window"):
        predictor.predict_windows(image, world, (640, 480), offsets=(-4, 0))
