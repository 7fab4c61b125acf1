"""Temporal Inverse Kinematics (paper Sec. 3.3.1, Eqs. 4–5): θ_init from joint positions and per-frame features.

Following HybriK, each local rotation is a swing (what joint positions reveal) times a twist about the
joint's rest bone (what they cannot; bridge.geometry.swing_twist). Here:
- swing = MLP(J) (Eq. 4) is a learned residual on the ANALYTIC swing of the posed joints against the body
  model's template rest skeleton (bridge.geometry.analytic_ik.analytic_swing without twists, computed without
  gradient as an input feature);
- twist = MLP(F) (Eq. 4) as unit (cos, sin) per non-root joint, from the per-frame features;
- θ_init = MSA(MLP(concat[swing, twist])) (Eq. 5): a temporal self-attention over the window's frames whose
  output is a 6D residual on the analytic inverse kinematics of the joints WITH the predicted twists. (The
  twists must enter the IK walk itself: twisting a joint turns the frame its children's swings are solved
  in, so swing and twist cannot be composed afterwards joint by joint.) The residual head starts at zero,
  so an untrained TIK already poses the template skeleton exactly onto the input joints, and the gradient
  reaches the twist MLP through the IK. Rotations are returned for all T frames; the model answers for the
  mid frame.
Rotation tensors: local rotation matrices (B, T, 24, 3, 3), joint 0 the global orientation (camera axes).
"""
from __future__ import annotations

import torch
from torch import nn

from ..geometry.analytic_ik import analytic_swing
from ..geometry.rotations import matrix_to_rot6d, rot6d_to_matrix
from ..skeleton import NUM_JOINTS, SMPL_PARENTS
from .attention import TransformerLayer, mlp, temporal_embedding
from .config import ArtsConfig

NUM_TWISTS = NUM_JOINTS - 1


def twist_mask(parents: tuple[int, ...] | list[int] = tuple(SMPL_PARENTS.tolist())) -> torch.Tensor:
    """(23,) 1 where a twist angle turns its joint, 0 for joints with several children (Kabsch fixes them fully)."""
    counts = [0] * len(parents)
    for parent in parents[1:]:
        counts[parent] += 1
    return torch.tensor([1.0 if counts[j] < 2 else 0.0 for j in range(1, len(parents))])


def twist_to_angle(twist: torch.Tensor) -> torch.Tensor:
    """(…, 2) unit (cos, sin) -> (…) radians."""
    return torch.atan2(twist[..., 1], twist[..., 0])


class TemporalInverseKinematics(nn.Module):
    """J (B, T, 24, 3) root-relative metres + F (B, T, D) -> swing, twist and θ_init for every frame."""

    def __init__(self, config: ArtsConfig, rest_joints: torch.Tensor) -> None:
        """rest_joints (24, 3): the body model's template rest skeleton (β = 0), metres, SMPL canonical frame."""
        super().__init__()
        dim = config.tik_dim
        self.register_buffer("rest_joints", rest_joints.float().clone())
        self.swing_mlp = mlp([NUM_JOINTS * (3 + 6), dim, dim, NUM_JOINTS * 6], zero_last=True)
        self.twist_mlp = mlp([config.feature_dim, dim, NUM_TWISTS * 2])
        self.fuse_mlp = mlp([NUM_JOINTS * 6 + NUM_TWISTS * 2, dim, dim])
        self.temporal = nn.ModuleList(TransformerLayer(dim, config.tik_heads, config.mlp_ratio, config.dropout)
                                      for _ in range(config.tik_depth))
        self.norm = nn.LayerNorm(dim)
        self.head = mlp([dim, NUM_JOINTS * 6], zero_last=True)

    def analytic_swing_6d(self, joints: torch.Tensor) -> torch.Tensor:
        """Swing-only IK of the posed joints against the template skeleton, (B, T, 24, 3) -> (B, T, 24, 6)."""
        with torch.no_grad():
            rotmats = analytic_swing(self.rest_joints, joints.detach(), SMPL_PARENTS)
        return matrix_to_rot6d(rotmats)

    def forward(self, joints: torch.Tensor, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """swing_6d (B,T,24,6), twist (B,T,23,2) unit (cos, sin), pose_6d and rotmats (B,T,24,3,3) of θ_init."""
        b, t = joints.shape[:2]
        analytic = self.analytic_swing_6d(joints)
        swing_6d = analytic + self.swing_mlp(torch.cat([joints.reshape(b, t, -1), analytic.reshape(b, t, -1)],
                                                       dim=-1)).view(b, t, NUM_JOINTS, 6)
        twist = nn.functional.normalize(self.twist_mlp(features).view(b, t, NUM_TWISTS, 2), dim=-1, eps=1e-6)
        base = analytic_swing(self.rest_joints, joints.detach(), SMPL_PARENTS, twist_to_angle(twist))
        base_6d = matrix_to_rot6d(base)
        x = self.fuse_mlp(torch.cat([swing_6d.reshape(b, t, -1), twist.reshape(b, t, -1)], dim=-1))
        x = x + temporal_embedding(t, x.shape[-1], x.device)
        for layer in self.temporal:
            x = layer(x)
        pose_6d = base_6d + self.head(self.norm(x)).view(b, t, NUM_JOINTS, 6)
        return {"swing_6d": swing_6d, "twist": twist, "pose_6d": pose_6d, "rotmats": rot6d_to_matrix(pose_6d)}
