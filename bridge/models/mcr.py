"""Motion-Centric Refinement (paper Sec. 3.3.3, Eq. 10): motion-guided fusion of per-frame features refines θ, β.

Queries come from the skeleton motion M (B, T, 24, 3), keys and values from the per-frame features F (B, T, D);
L2 cross-attention layers with feed-forward networks give the motion-centric features F' (B, T, C2). MLP heads,
started at zero so an untrained MCR passes θ_init and β_init through unchanged, add a 6D residual to each
frame's θ (from F'_t and θ_init,t) and a residual to β (from the window's mean F' and β_init).
"""
from __future__ import annotations

import torch
from torch import nn

from ..skeleton import NUM_BETAS, NUM_JOINTS
from .attention import CrossAttentionLayer, mlp, temporal_embedding
from .config import ArtsConfig


class MotionCentricRefinement(nn.Module):
    def __init__(self, config: ArtsConfig) -> None:
        super().__init__()
        dim = config.mcr_dim
        self.to_query = nn.Linear(NUM_JOINTS * 3, dim)
        self.to_context = nn.Linear(config.feature_dim, dim)
        self.layers = nn.ModuleList(CrossAttentionLayer(dim, config.mcr_heads, config.mlp_ratio, config.dropout)
                                    for _ in range(config.mcr_depth))
        self.norm = nn.LayerNorm(dim)
        self.pose_head = mlp([dim + NUM_JOINTS * 6, dim, NUM_JOINTS * 6], zero_last=True)
        self.shape_head = mlp([dim + NUM_BETAS, dim, NUM_BETAS], zero_last=True)

    def motion_centric_features(self, motion: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Eq. 10: motion (B, T, 24, 3) metres/frame, features (B, T, D) -> F' (B, T, C2)."""
        b, t = motion.shape[:2]
        position = temporal_embedding(t, self.to_query.out_features, motion.device)
        # Motion is centimetres per frame in magnitude: scale it to order one before projecting.
        query = self.to_query(motion.reshape(b, t, -1) * 10.0) + position
        context = self.to_context(features) + position
        for layer in self.layers:
            query = layer(query, context)
        return self.norm(query)

    def forward(self, motion: torch.Tensor, features: torch.Tensor, pose_6d: torch.Tensor,
                betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """pose_6d (B, T, 24, 6) θ_init, betas (B, 10) β_init -> refined (pose_6d, betas), same shapes."""
        b, t = pose_6d.shape[:2]
        fused = self.motion_centric_features(motion, features)
        pose_6d = pose_6d + self.pose_head(torch.cat([fused, pose_6d.reshape(b, t, -1)], dim=-1)).view(pose_6d.shape)
        betas = betas + self.shape_head(torch.cat([fused.mean(dim=1), betas], dim=-1))
        return pose_6d, betas
