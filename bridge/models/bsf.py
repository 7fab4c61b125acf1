"""Bone-guided Shape Fitting (paper Sec. 3.3.2, Eqs. 6–9): bone lengths (B, 23) metres -> β_init (B, 10).

1. J_mean = W T̄ (Eq. 6 with β_mean = 0): the body model's template rest joints.
2. Bone-aligned rest skeleton (Eq. 7): walk the kinematic tree from the root (kept at J_mean's root), placing
   each joint at its parent's ALIGNED position plus the bone length along the template bone's direction, so
   every bone has exactly the requested length.
3. β_init = FC_{S^-1}(FC_{W^-1}(J_aligned) - T̄) (Eq. 9), two trainable linear layers.

Initialisation (why not the plain pseudo-inverses). The paper initialises FC_{W^-1} with pinv(W) and
FC_{S^-1} with pinv(S). Two things stop that from returning β even from noise-free bones:
(a) pinv(W) returns the minimum-norm mesh whose joints are J, not T̄ + Sβ: W has a huge null space (all the
    mesh changes the 24 joints do not see). The exact linear inverse of joints is pinv(W S)(J - W T̄), defined
    because W S (72 x 10) is injective on β (rank 10, checked at construction).
(b) Eq. 7's skeleton has the right bone LENGTHS but the template's bone DIRECTIONS, and the true body's differ
    slightly. W S is ill-conditioned (on the free model some shape directions move the joints by ~2 mm per
    unit β), so a least-squares fit over all 72 joint coordinates turns those direction errors into β
    errors of tens of units. Only the components along the bones carry information.
So FC_{W^-1} is initialised with the pseudo-inverse of W restricted to the shape space and read through the
template's bone directions, S pinv(E W S) E, bias T̄ - S pinv(E W S) E W T̄, where E (23 x 72) takes each
bone's component along its template direction; FC_{S^-1} with pinv(S). Their composition is
pinv(E W S) E (J - W T̄): on Eq. 7's skeleton E J = B exactly, so the first pass is the bone-length equation
linearised at the template; it needs E W S (bone lengths per β) to have rank 10.

Noise. E W S is itself ill-conditioned (free model: singular values 0.077 down to 0.00024 m per unit β), so
the exact inverse turns 1 cm of bone-length error into β errors of ~40. With an expected bone error σ
(`bone_noise_m`) the pseudo-inverse becomes the ridge inverse (DᵀD + σ²I)⁻¹Dᵀ, D = E W S: the maximum a
posteriori β under SMPL's prior β ~ N(0, I), which keeps what the bones determine and shrinks the rest
towards the mean shape. σ = 0 gives the exact pseudo-inverse.

Passes. β also turns bones slightly, so one pass is exact only to first order. `iterations` > 1 repeats the
alignment with the rest skeleton of the current estimate, J(β) = W T̄ + (W S) β, through the same two layers:
a chord (frozen-Jacobian Newton) iteration on the bone lengths whose fixed point is the true β. Direction
errors enter it only at second order, so it converges fast: on the free model with σ = 0, max |β error| over
N(0, 1) bodies falls 0.8, 0.12, 0.012, 1e-3, 1e-4 after 1–5 passes (with σ > 0 the fixed point is the
regularised estimate). iterations = 1 is the paper's single pass.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..skeleton import NUM_BETAS, NUM_JOINTS, SMPL_PARENTS


class ShapeSpaceError(ValueError):
    """The body model's shape directions cannot be recovered from its joints."""


def align_rest_skeleton(bone_lengths: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
    """Eq. 7 along the kinematic tree: bone_lengths (B, 23) metres, rest_joints (24, 3) or (B, 24, 3) -> (B, 24, 3).

    Bone n joins SMPL_PARENTS[n + 1] to joint n + 1 (bridge.skeleton.SMPL_BONES order).
    """
    rest = rest_joints.expand(bone_lengths.shape[0], NUM_JOINTS, 3)
    aligned = [rest[:, 0]]
    for joint in range(1, NUM_JOINTS):
        parent = int(SMPL_PARENTS[joint])
        direction = nn.functional.normalize(rest[:, joint] - rest[:, parent], dim=-1, eps=1e-9)
        aligned.append(aligned[parent] + bone_lengths[:, joint - 1, None] * direction)
    return torch.stack(aligned, dim=1)


def bone_direction_operator(rest_joints: np.ndarray) -> np.ndarray:
    """E (23, 72): row n takes bone n's component along its direction in `rest_joints` (24, 3)."""
    operator = np.zeros((NUM_JOINTS - 1, NUM_JOINTS, 3))
    for joint in range(1, NUM_JOINTS):
        parent = int(SMPL_PARENTS[joint])
        direction = rest_joints[joint] - rest_joints[parent]
        direction = direction / np.linalg.norm(direction)
        operator[joint - 1, joint] += direction
        operator[joint - 1, parent] -= direction
    return operator.reshape(NUM_JOINTS - 1, NUM_JOINTS * 3)


def shape_space_inverse(v_template: np.ndarray, shapedirs: np.ndarray, j_regressor: np.ndarray,
                        bone_noise_m: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial (weight, bias) of FC_{W^-1} (V*3 x 72, V*3) and weight of FC_{S^-1} (10 x V*3), float64.

    v_template (V, 3), shapedirs (V, 3, 10), j_regressor (24, V); bone_noise_m the expected bone-length
    error (0: exact pseudo-inverse). See the module docstring.
    """
    v_template = np.asarray(v_template, np.float64)
    j_regressor = np.asarray(j_regressor, np.float64)
    s = np.asarray(shapedirs, np.float64)[..., :NUM_BETAS]
    joint_shapedirs = np.einsum("jv,vcb->jcb", j_regressor, s).reshape(NUM_JOINTS * 3, NUM_BETAS)
    template_joints = j_regressor @ v_template
    bones = bone_direction_operator(template_joints)
    for name, matrix in (("joints", joint_shapedirs), ("bone lengths", bones @ joint_shapedirs)):
        rank = np.linalg.matrix_rank(matrix)
        if rank < NUM_BETAS:
            raise ShapeSpaceError(f"the body model's {name} see only {rank} of its {NUM_BETAS} shape directions, "
                                  "so bone lengths cannot determine its shape; use a body model whose shape "
                                  "directions all change its bone lengths")
    s = s.reshape(-1, NUM_BETAS)
    lengths_per_beta = bones @ joint_shapedirs  # D (23, 10)
    if bone_noise_m > 0:
        inverse = np.linalg.solve(lengths_per_beta.T @ lengths_per_beta + bone_noise_m ** 2 * np.eye(NUM_BETAS),
                                  lengths_per_beta.T)
    else:
        inverse = np.linalg.pinv(lengths_per_beta)
    w_inv = s @ inverse @ bones  # (V*3, 72)
    w_inv_bias = v_template.reshape(-1) - w_inv @ template_joints.reshape(-1)
    return w_inv, w_inv_bias, np.linalg.pinv(s)


class BoneGuidedShapeFitting(nn.Module):
    """Bone lengths (B, 23) metres -> β_init (B, 10); also returns the aligned rest skeleton (B, 24, 3)."""

    def __init__(self, v_template: np.ndarray, shapedirs: np.ndarray, j_regressor: np.ndarray,
                 iterations: int = 1, bone_noise_m: float = 0.0) -> None:
        super().__init__()
        self.iterations = iterations
        w_inv, w_inv_bias, s_inv = shape_space_inverse(v_template, shapedirs, j_regressor, bone_noise_m)
        num_coords = v_template.size
        self.fc_w_inv = nn.Linear(NUM_JOINTS * 3, num_coords)
        self.fc_s_inv = nn.Linear(num_coords, NUM_BETAS)
        with torch.no_grad():
            self.fc_w_inv.weight.copy_(torch.from_numpy(w_inv))
            self.fc_w_inv.bias.copy_(torch.from_numpy(w_inv_bias))
            self.fc_s_inv.weight.copy_(torch.from_numpy(s_inv))
            self.fc_s_inv.bias.zero_()
        template_joints = j_regressor.astype(np.float64) @ v_template.astype(np.float64)
        joint_shapedirs = np.einsum("jv,vcb->jcb", j_regressor, shapedirs[..., :NUM_BETAS])
        self.register_buffer("v_template", torch.from_numpy(v_template.reshape(-1)).float())
        self.register_buffer("template_joints", torch.from_numpy(template_joints).float())  # J_mean (24, 3)
        self.register_buffer("joint_shapedirs", torch.from_numpy(joint_shapedirs).float())  # W S (24, 3, 10)
        self._composed_cache: tuple[tuple, tuple[torch.Tensor, torch.Tensor]] | None = None

    def rest_joints(self, betas: torch.Tensor) -> torch.Tensor:
        """Rest skeleton of shape β: W T̄ + (W S) β; (B, 10) -> (B, 24, 3) metres."""
        return self.template_joints + torch.einsum("jcb,nb->njc", self.joint_shapedirs, betas)

    def fit(self, aligned: torch.Tensor) -> torch.Tensor:
        """Eq. 9: aligned rest skeleton (B, 24, 3) -> β (B, 10)."""
        flat = aligned.reshape(aligned.shape[0], -1)
        if torch.is_grad_enabled():
            return self.fc_s_inv(self.fc_w_inv(flat) - self.v_template)
        weight, bias = self._composed()
        return nn.functional.linear(flat, weight.to(flat.dtype), bias.to(flat.dtype))

    def _composed(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 9's two layers as one 72 -> 10 map, for inference. Both are linear, and the first maps to all
        V x 3 mesh coordinates: composed, a pass reads a 72 x 10 matrix instead of a 6 MB one (on the bridge's
        CPU that was a sixth of the network's time). Built in float64 from the layers' current weights, and
        rebuilt whenever one of them changes (an optimiser step or a loaded state bumps its version)."""
        layers = (self.fc_w_inv.weight, self.fc_w_inv.bias, self.fc_s_inv.weight, self.fc_s_inv.bias,
                  self.v_template)
        key = tuple((id(t), t._version, t.device, t.dtype) for t in layers)
        if self._composed_cache is None or self._composed_cache[0] != key:
            w_inv, w_bias, s_inv, s_bias, template = (t.detach().double() for t in layers)
            self._composed_cache = (key, (s_inv @ w_inv, s_inv @ (w_bias - template) + s_bias))
        return self._composed_cache[1]

    def forward(self, bone_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """bone_lengths (B, 23) metres -> (β_init (B, 10), J_aligned (B, 24, 3) of the first pass)."""
        first = align_rest_skeleton(bone_lengths, self.template_joints)
        betas = self.fit(first)
        for _ in range(self.iterations - 1):
            betas = self.fit(align_rest_skeleton(bone_lengths, self.rest_joints(betas)))
        return betas, first
