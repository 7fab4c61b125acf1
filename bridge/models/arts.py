"""ArtsModel: the whole network of the paper's Fig. 2, with Table 3's ablation switches.

keypoints_2d (B, T, 19, 3) --lifter--> J (B, T, 24, 3) --disentangle--> J, bones (B, 23), motion (B, T, 24, 3)
  TIK(J, F) -> θ_init;  BSF(bones) -> β_init;  MCR(motion, F, θ_init, β_init) -> θ, β
with F (B, T, D) the per-frame features (features.py). Switching a component off replaces it by what a
regressor without it would do: no TIK -> θ_init from F by a per-frame MLP; no BSF -> β_init from the window's
mean F by an MLP; no MCR -> θ = θ_init, β = β_init.
The body model is needed at construction: BSF is initialised from its template, shape directions and joint
regressor, and TIK's analytic swing uses its template skeleton. A trained network is tied to that model.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..geometry.kinematics import forward_kinematics
from ..geometry.rotations import rot6d_to_matrix
from ..skeleton import NUM_BETAS, NUM_JOINTS, SMPL_PARENTS
from .attention import mlp
from .bsf import BoneGuidedShapeFitting
from .config import ArtsConfig
from .disentangle import disentangle
from .features import make_feature_source
from .inputs import WORLD_SLICE
from .lifter import SkeletonLifter
from .mcr import MotionCentricRefinement
from .tik import TemporalInverseKinematics

#: 6D of the identity rotation (first two columns, row-major).
IDENTITY_6D = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def without_world_landmarks(frame_vectors: torch.Tensor) -> torch.Tensor:
    """(..., 232) landmark vectors with the world landmarks and scale zeroed (image landmarks only)."""
    out = frame_vectors.clone()
    out[..., WORLD_SLICE] = 0.0
    return out


class ArtsModel(nn.Module):
    def __init__(self, config: ArtsConfig, body: Any) -> None:
        """body: the body model's arrays (bridge.body_model.BodyModelArrays or anything with v_template (V, 3),
        shapedirs (V, 3, >=10) and J_regressor (24, V))."""
        super().__init__()
        self.config = config
        v_template = np.asarray(body.v_template, dtype=np.float64)
        shapedirs = np.asarray(body.shapedirs, dtype=np.float64)[..., :NUM_BETAS]
        j_regressor = np.asarray(body.J_regressor, dtype=np.float64)
        template_joints = j_regressor @ v_template
        self.register_buffer("template_joints", torch.from_numpy(template_joints).float())
        self.register_buffer("joint_shapedirs",
                             torch.from_numpy(np.einsum("jv,vcb->jcb", j_regressor, shapedirs)).float())
        self.lifter = SkeletonLifter(config)
        self.features = make_feature_source(config)
        if config.use_tik:
            self.tik = TemporalInverseKinematics(config, torch.from_numpy(template_joints))
        else:
            self.pose_from_features = mlp([config.feature_dim, config.tik_dim, NUM_JOINTS * 6], zero_last=True)
        if config.use_bsf:
            self.bsf = BoneGuidedShapeFitting(v_template, shapedirs, j_regressor, config.bsf_iterations,
                                              config.bsf_bone_noise_m)
        else:
            self.shape_from_features = mlp([config.feature_dim, config.tik_dim, NUM_BETAS], zero_last=True)
        if config.use_mcr:
            self.mcr = MotionCentricRefinement(config)

    def forward(self, keypoints_2d: torch.Tensor, frame_input: torch.Tensor) -> dict[str, torch.Tensor]:
        """keypoints_2d (B, T, 19, 3); frame_input (B, T, 232) landmark vectors or (B, T, 3, H, W) crops.

        Returns joints (B, T, 24, 3) lifter skeleton (root-relative metres), bone_lengths (B, 23),
        pose_init_6d / pose_6d (B, T, 24, 6), rotmats (B, T, 24, 3, 3) local, betas_init / betas (B, 10),
        and with TIK swing_6d (B, T, 24, 6) and twist (B, T, 23, 2).
        """
        if self.config.feature_source == "landmarks" and not self.config.use_world_landmarks:
            frame_input = without_world_landmarks(frame_input)
        features = self.features(frame_input)
        joints, bones, motion = disentangle(self.lifter(keypoints_2d))
        out: dict[str, torch.Tensor] = {"joints": joints, "bone_lengths": bones}
        if self.config.use_tik:
            tik = self.tik(joints, features)
            out.update(swing_6d=tik["swing_6d"], twist=tik["twist"])
            pose_6d = tik["pose_6d"]
        else:
            identity = features.new_tensor(IDENTITY_6D).repeat(NUM_JOINTS)
            pose_6d = (identity + self.pose_from_features(features)).unflatten(-1, (NUM_JOINTS, 6))
        if self.config.use_bsf:
            betas, _ = self.bsf(bones)
        else:
            betas = self.shape_from_features(features.mean(dim=1))
        out.update(pose_init_6d=pose_6d, betas_init=betas)
        if self.config.use_mcr:
            pose_6d, betas = self.mcr(motion, features, pose_6d, betas)
        out.update(pose_6d=pose_6d, rotmats=rot6d_to_matrix(pose_6d), betas=betas)
        return out

    def rest_joints(self, betas: torch.Tensor) -> torch.Tensor:
        """Rest skeleton of shape β, (B, 10) -> (B, 24, 3) metres (joints are linear in β)."""
        return self.template_joints + torch.einsum("jcb,nb->njc", self.joint_shapedirs, betas)

    def posed_joints(self, rotmats: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """Root-relative posed SMPL joints: rotmats (B, ..., 24, 3, 3), betas (B, 10) -> (B, ..., 24, 3) metres."""
        rest = self.rest_joints(betas)
        rest = rest.view(rest.shape[0], *([1] * (rotmats.dim() - 4)), NUM_JOINTS, 3)
        posed, _ = forward_kinematics(rotmats, rest, SMPL_PARENTS)
        return posed - posed[..., :1, :]
