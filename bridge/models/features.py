"""Per-frame feature sources (the paper's F, (B, T, D)) feeding TIK's twist and MCR's keys and values.

- "landmarks" (default, trainable here): everything MediaPipe reports for a frame, as built by
  bridge.models.inputs.landmark_frame_vector (33 image landmarks with visibility and presence, 33 metric
  world landmarks, scale), embedded by an MLP. Hands, heels, toes and the face give the twist cues.
- "resnet50": the paper's per-frame image feature, a ResNet-50 (written here in plain torch: torchvision's
  wheels do not run beside CPU torch) on the person crop, globally pooled to 2048-d. Its parameter names
  follow the common ResNet layout (conv1, bn1, layer1.0.conv1, ..., downsample.0), so users who own
  backbone weights (e.g. SPIN's) can load them with `load_backbone`. No weights are shipped.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .config import ArtsConfig
from .inputs import LANDMARK_VECTOR_DIM


class LandmarkFeatures(nn.Module):
    """(B, T, 232) landmark vectors -> (B, T, feature_dim)."""

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(LANDMARK_VECTOR_DIM, feature_dim), nn.GELU(),
                                 nn.Linear(feature_dim, feature_dim), nn.GELU(),
                                 nn.Linear(feature_dim, feature_dim), nn.LayerNorm(feature_dim))

    def forward(self, frame_vectors: torch.Tensor) -> torch.Tensor:
        if frame_vectors.shape[-1] != LANDMARK_VECTOR_DIM:
            raise ValueError(f"landmark features expect (B, T, {LANDMARK_VECTOR_DIM}) vectors, "
                             f"got {tuple(frame_vectors.shape)}")
        return self.net(frame_vectors)


class Bottleneck(nn.Module):
    """ResNet bottleneck: 1x1 reduce, 3x3 (carrying the stride), 1x1 expand by 4, plus the shortcut."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int) -> None:
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + shortcut)


class ResNet50(nn.Module):
    """ResNet-50 trunk: (N, 3, H, W) ImageNet-normalised images -> (N, 2048) globally pooled features."""

    stage_blocks = (3, 4, 6, 3)

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels = 64
        for index, (blocks, width) in enumerate(zip(self.stage_blocks, (64, 128, 256, 512)), start=1):
            layers = []
            for block in range(blocks):
                layers.append(Bottleneck(channels, width, stride=2 if block == 0 and index > 1 else 1))
                channels = width * Bottleneck.expansion
            setattr(self, f"layer{index}", nn.Sequential(*layers))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return x.mean(dim=(2, 3))


class ResNet50Features(nn.Module):
    """(B, T, 3, H, W) person crops, RGB in [0, 1] (224 x 224 as SPIN) -> (B, T, 2048)."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = ResNet50()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        if crops.dim() != 5 or crops.shape[2] != 3:
            raise ValueError(f"resnet50 features expect (B, T, 3, H, W) crops, got {tuple(crops.shape)}")
        b, t = crops.shape[:2]
        images = (crops.flatten(0, 1) - self.mean) / self.std
        return self.backbone(images).view(b, t, -1)

    def load_backbone(self, path: str | Path) -> None:
        """Load user-supplied ResNet-50 weights (a state dict; a classifier `fc.*` is ignored)."""
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        state = {k.removeprefix("module.").removeprefix("backbone."): v for k, v in state.items()
                 if not k.removeprefix("module.").startswith("fc.")}
        try:
            self.backbone.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ValueError(f"{path} is not a ResNet-50 state dict: {str(exc)[:300]}") from exc


def make_feature_source(config: ArtsConfig) -> nn.Module:
    """The per-frame feature module named by config.feature_source."""
    if config.feature_source == "resnet50":
        return ResNet50Features()
    return LandmarkFeatures(config.feature_dim)
