"""Skeleton disentanglement (paper Sec. 3.2.2): joints J, bone lengths B (Eq. 3) and motion M (Eq. 2)."""
from __future__ import annotations

import torch

from ..skeleton import SMPL_BONES

_BONE_PARENTS = [p for p, _ in SMPL_BONES]
_BONE_CHILDREN = [c for _, c in SMPL_BONES]


def bone_lengths(joints: torch.Tensor) -> torch.Tensor:
    """Eq. 3: temporal mean length of each SMPL bone. joints (B, T, 24, 3) metres -> (B, 23) metres."""
    vectors = joints[:, :, _BONE_CHILDREN] - joints[:, :, _BONE_PARENTS]
    return vectors.norm(dim=-1).mean(dim=1)


def motion(joints: torch.Tensor) -> torch.Tensor:
    """Eq. 2: M = [mean(Δ), Δ_2..Δ_T], Δ_t = J_t - J_(t-1); joints (B, T, 24, 3) -> (B, T, 24, 3) metres/frame."""
    deltas = joints[:, 1:] - joints[:, :-1]
    return torch.cat([deltas.mean(dim=1, keepdim=True), deltas], dim=1)


def disentangle(joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """joints (B, T, 24, 3) -> (J (B, T, 24, 3), B (B, 23), M (B, T, 24, 3))."""
    return joints, bone_lengths(joints), motion(joints)
