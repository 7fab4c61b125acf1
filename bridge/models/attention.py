"""Transformer building blocks shared by the lifter, TIK and MCR: pre-norm attention layers and embeddings."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as nnf


class MultiHeadAttention(nn.Module):
    """Multi-head attention; self-attention when `context` is None, cross-attention otherwise.

    x (N, Lq, C), context (N, Lk, C) -> (N, Lq, C).
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim)
        self.to_kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        context = x if context is None else context
        n, lq, c = x.shape
        q = self.to_q(x).view(n, lq, self.heads, c // self.heads).transpose(1, 2)
        k, v = self.to_kv(context).view(n, context.shape[1], 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = nnf.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(out.transpose(1, 2).reshape(n, lq, c))


class FeedForward(nn.Sequential):
    """Two-layer GELU MLP, (..., C) -> (..., C)."""

    def __init__(self, dim: int, mlp_ratio: float, dropout: float = 0.0) -> None:
        hidden = int(dim * mlp_ratio)
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim))


class TransformerLayer(nn.Module):
    """Pre-norm self-attention + MLP over the middle axis of (N, L, C)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm_attn = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads, dropout)
        self.norm_mlp = nn.LayerNorm(dim)
        self.mlp = FeedForward(dim, mlp_ratio, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm_attn(x))
        return x + self.mlp(self.norm_mlp(x))


class CrossAttentionLayer(nn.Module):
    """Pre-norm cross-attention (queries attend to a context) + MLP: (N, Lq, C), (N, Lk, C) -> (N, Lq, C)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm_query = nn.LayerNorm(dim)
        self.norm_context = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads, dropout)
        self.norm_mlp = nn.LayerNorm(dim)
        self.mlp = FeedForward(dim, mlp_ratio, dropout)

    def forward(self, query: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = query + self.attn(self.norm_query(query), self.norm_context(context))
        return x + self.mlp(self.norm_mlp(x))


def temporal_embedding(frames: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """Sinusoidal embedding of frame offsets from the window's middle, (frames, dim).

    Fixed rather than learned so one network accepts any window length T >= 2; centring on the mid
    frame (the one the model answers for) keeps that frame's code the same whatever T is.
    """
    offsets = torch.arange(frames, dtype=torch.float32, device=device) - frames // 2
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=device) / half)
    angles = offsets[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


def mlp(sizes: list[int], zero_last: bool = False) -> nn.Sequential:
    """Plain GELU MLP through `sizes`; `zero_last` starts it as an exact zero (for residual heads)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.GELU())
    if zero_last:
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)
    return nn.Sequential(*layers)
