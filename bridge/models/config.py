"""ArtsConfig: the single source of ARTS hyper-parameters, stored as a plain dict inside every checkpoint.

Defaults are the paper's (Sec. 4.2) and the authors' released settings: T = 16, lifter L1 = 3 blocks of
width C1 = 256 with 8 heads and MLP ratio 2, MCR L2 = 1 layer of width C2 = 512 with 8 heads, and
Eq. 11's weights. No torch import: the config is read and written by tools that never build a network.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..upright import UPRIGHT_TOLERANCE_DEG

#: Per-frame feature sources (features.py); resnet50 features are always RESNET50_DIM wide.
FEATURE_SOURCES: tuple[str, ...] = ("landmarks", "resnet50")
RESNET50_DIM = 2048
WORLD_FRAMES: tuple[str, ...] = ("crop", "camera")


class ConfigError(ValueError):
    """A configuration (or the one stored in a checkpoint) is not one this code can build."""


@dataclass
class ArtsConfig:
    # sequence
    window: int = 16  # T, frames per window; the model answers for frame T // 2
    # 3D skeleton lifter (Sec. 3.2.1)
    lifter_depth: int = 3  # L1
    lifter_dim: int = 256  # C1
    lifter_heads: int = 8
    #: Width of the lifter's sinusoidal frame code, projected by a learnt map onto the C1-wide stream when it
    #: differs (0: C1 itself, no map). A lifter grown wider (scripts/widen_checkpoint.py) keeps the code it was
    #: trained with, so the grown network computes what the narrow one did.
    lifter_time_dim: int = 0
    mlp_ratio: float = 2.0
    dropout: float = 0.0
    # per-frame image features (F in the paper)
    feature_source: str = "landmarks"
    feature_dim: int = 512
    #: Whether the landmark features read MediaPipe's world landmarks and their scale (False: zeros in their
    #: place, the image landmarks alone), for the input ablation: real world landmarks are far noisier than
    #: the image ones.
    use_world_landmarks: bool = True
    #: The axes the network reads MediaPipe's world landmarks in: "crop", as MediaPipe gives them (seen from a
    #: crop around the person; every checkpoint before session 21), or "camera", turned into the camera's axes
    #: by the ray to the hips first (bridge/crop_view.py), as the simulated training landmarks are.
    world_frame: str = "crop"
    #: With world_frame "camera": the share of the ray's vertical part the landmarks are turned by
    #: (bridge/crop_view.py). 1.0 in the checkpoints of sessions 21-22 (and any config without the key);
    #: train_arts.py gives new runs crop_view.LEAN_SHARE.
    world_lean_share: float = 1.0
    #: Windows whose body leans further than this from upright in the picture are answered through a camera
    #: rolled to this lean (bridge/upright.py). 45 for every checkpoint before session 39 (and any config
    #: without the key); a network trained on windows rolled the same way (train_arts.py --upright-windows)
    #: carries the tolerance it saw.
    upright_tolerance_deg: float = UPRIGHT_TOLERANCE_DEG
    #: Beyond the tolerance, a body is shown at it (False: every checkpoint before session 44, and any config
    #: without the key) or at a lean falling back to 0 at upside down (True: train_arts.py --upright-ramp).
    upright_ramp: bool = False
    # temporal inverse kinematics (Sec. 3.3.1)
    tik_dim: int = 256
    tik_heads: int = 8
    tik_depth: int = 1
    # motion-centric refinement (Sec. 3.3.3)
    mcr_dim: int = 512  # C2
    mcr_heads: int = 8
    mcr_depth: int = 1  # L2
    # bone-guided shape fitting (Sec. 3.3.2): alignment passes of Eq. 7 (1 = the paper's single pass) and the
    # expected error of the lifter's bone lengths, metres, which regularises the inverse (0 = plain pseudo-inverse;
    # 0.03 is the RMS bone error measured for the CPU-trained lifter on held-out clips)
    bsf_iterations: int = 5
    bsf_bone_noise_m: float = 0.03
    # loss weights, Eq. 11
    lambda_mesh: float = 1.0
    lambda_joint: float = 1.0
    lambda_pose: float = 0.06
    lambda_shape: float = 0.06
    lambda_twist: float = 0.06  # auxiliary TIK twist loss (HybriK-style), not in Eq. 11
    lambda_limb_depth: float = 0.0  # extra weight on the limb joints' depth error (losses.limb_depth_error)
    mesh_loss_stride: int = 4  # L_mesh / L_joint through the SMPL layer on every n-th frame (mid frame included)
    # ablation switches (Table 3)
    use_tik: bool = True
    use_bsf: bool = True
    use_mcr: bool = True

    def __post_init__(self) -> None:
        if self.window < 2:
            raise ConfigError(f"window must be at least 2 frames, got {self.window}")
        if self.feature_source not in FEATURE_SOURCES:
            raise ConfigError(f"unknown feature_source '{self.feature_source}'; choose one of {FEATURE_SOURCES}")
        if self.world_frame not in WORLD_FRAMES:
            raise ConfigError(f"unknown world_frame '{self.world_frame}'; choose one of {WORLD_FRAMES}")
        if self.feature_source == "resnet50" and self.feature_dim != RESNET50_DIM:
            raise ConfigError(f"resnet50 features are {RESNET50_DIM}-d, got feature_dim={self.feature_dim}")
        for name in ("lifter_dim", "tik_dim", "mcr_dim"):
            heads = getattr(self, name.replace("_dim", "_heads"))
            if getattr(self, name) % heads:
                raise ConfigError(f"{name}={getattr(self, name)} is not divisible by its {heads} heads")
        if not 0.0 <= self.upright_tolerance_deg <= 180.0:
            raise ConfigError(f"upright_tolerance_deg must be 0 to 180, got {self.upright_tolerance_deg}")
        if self.bsf_iterations < 1 or self.mesh_loss_stride < 1 or self.bsf_bone_noise_m < 0:
            raise ConfigError("bsf_iterations and mesh_loss_stride must be >= 1 and bsf_bone_noise_m >= 0, got "
                              f"{self.bsf_iterations}, {self.mesh_loss_stride}, {self.bsf_bone_noise_m}")

    @property
    def mid_frame(self) -> int:
        return self.window // 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ArtsConfig":
        """Build from a stored dict; unknown keys are an error (a newer checkpoint than this code)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"checkpoint config has settings this version does not know: {unknown}; "
                              "update the add-on or use a checkpoint made for this version")
        return cls(**data)
