"""3D skeleton estimation (paper Sec. 3.2.1): a dual-stream spatial/temporal transformer, Eq. 1.

2D keypoints (B, T, 19, 3) [x_norm, y_norm, confidence] -> 24 SMPL joints (B, T, 24, 3), root-relative,
metres, camera axes (x right, y down, z forward), for every frame of the window.
The 19 input tokens become 24 output joints through one learned linear map per frame from all 19 tokens'
final features (19 x C1) to the 24 x 3 coordinates. (A token-axis mix followed by a head shared by all joints
was tried first: it ties every joint to one shared feature-to-3D map, and on CPU-sized training it stayed at
the mean pose for hundreds of steps, while this map learns at once.)

Before embedding, the window's keypoints are moved so that the mid frame's pelvis is at the origin and scaled
by the window's mean 2D torso length (pelvis to neck). The output is root-relative and metric, so where the
person stands in the image and how far from the camera carry (almost) nothing the lifter needs, and taking
them out spares a small network trained on CPU from learning that invariance.
"""
from __future__ import annotations

import torch
from torch import nn

from ..keypoints import COCO19_NAMES, NUM_COCO19
from ..skeleton import NUM_JOINTS
from .attention import TransformerLayer, temporal_embedding
from .config import ArtsConfig

_PELVIS, _NECK = COCO19_NAMES.index("pelvis"), COCO19_NAMES.index("neck")


def centre_and_scale(keypoints_2d: torch.Tensor) -> torch.Tensor:
    """(B, T, 19, 3) screen-normalised keypoints -> same, x and y relative to the mid frame's pelvis in units
    of the window's mean torso length; confidence unchanged."""
    xy = keypoints_2d[..., :2]
    centre = xy[:, xy.shape[1] // 2, _PELVIS][:, None, None]
    torso = (xy[:, :, _NECK] - xy[:, :, _PELVIS]).norm(dim=-1).mean(dim=1).clamp_min(1e-3)[:, None, None, None]
    return torch.cat([(xy - centre) / torso, keypoints_2d[..., 2:]], dim=-1)


class DualStreamBlock(nn.Module):
    """X' = mean(MSA_ST(X), MSA_TS(X)): ST attends over joints then frames, TS over frames then joints.

    Eq. 1 sums the two streams; each already carries X through its residual connections, so the sum
    is halved to keep the residual stream's magnitude constant across blocks. (B, T, K, C) -> same.
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float) -> None:
        super().__init__()
        self.st_spatial = TransformerLayer(dim, heads, mlp_ratio, dropout)
        self.st_temporal = TransformerLayer(dim, heads, mlp_ratio, dropout)
        self.ts_temporal = TransformerLayer(dim, heads, mlp_ratio, dropout)
        self.ts_spatial = TransformerLayer(dim, heads, mlp_ratio, dropout)

    @staticmethod
    def _spatial(layer: TransformerLayer, x: torch.Tensor) -> torch.Tensor:
        b, t, k, c = x.shape
        return layer(x.reshape(b * t, k, c)).view(b, t, k, c)

    @staticmethod
    def _temporal(layer: TransformerLayer, x: torch.Tensor) -> torch.Tensor:
        b, t, k, c = x.shape
        y = layer(x.transpose(1, 2).reshape(b * k, t, c))
        return y.view(b, k, t, c).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        st = self._temporal(self.st_temporal, self._spatial(self.st_spatial, x))
        ts = self._spatial(self.ts_spatial, self._temporal(self.ts_temporal, x))
        return 0.5 * (st + ts)


class SkeletonLifter(nn.Module):
    """Lifts a window of 2D keypoints to root-relative 3D SMPL joints for all its frames."""

    def __init__(self, config: ArtsConfig) -> None:
        super().__init__()
        dim = config.lifter_dim
        self.embed = nn.Linear(3, dim)
        self.spatial_embedding = nn.Parameter(torch.zeros(NUM_COCO19, dim))
        nn.init.trunc_normal_(self.spatial_embedding, std=0.02)
        self.blocks = nn.ModuleList(DualStreamBlock(dim, config.lifter_heads, config.mlp_ratio, config.dropout)
                                    for _ in range(config.lifter_depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(NUM_COCO19 * dim, NUM_JOINTS * 3)
        self.time_dim = config.lifter_time_dim or dim
        self.time_proj = nn.Linear(self.time_dim, dim, bias=False) if self.time_dim != dim else None

    def forward(self, keypoints_2d: torch.Tensor) -> torch.Tensor:
        """keypoints_2d (B, T, 19, 3) -> joints (B, T, 24, 3), metres, pelvis at the origin."""
        b, t, k, _ = keypoints_2d.shape
        if k != NUM_COCO19:
            raise ValueError(f"lifter expects {NUM_COCO19} keypoints per frame, got {k}")
        x = self.embed(centre_and_scale(keypoints_2d)) + self.spatial_embedding
        time_code = temporal_embedding(t, self.time_dim, x.device)
        if self.time_proj is not None:
            time_code = self.time_proj(time_code)
        x = x + time_code[None, :, None, :]
        for block in self.blocks:
            x = block(x)
        joints = self.head(self.norm(x).reshape(b, t, k * x.shape[-1])).view(b, t, NUM_JOINTS, 3)
        return joints - joints[:, :, :1]
