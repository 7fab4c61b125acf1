"""Skinning of every n-th vertex of an SMPL layer, for a cheaper L_mesh in training.

Why: on a CPU, skinning the whole mesh for the prediction and the truth (forward and backward) is the
largest part of a training step. L_mesh is a mean over vertices of a dense mesh, so the mean over a fixed
spread-out subset estimates it closely while the pose-blend and skinning products shrink with the subset.
Joints still come from the whole mesh (the joint regressor is linear in β, so it is folded into a joint
template and joint shape directions once), so L_joint is unchanged.
"""
from __future__ import annotations

import torch
from smplx.lbs import batch_rigid_transform
from torch import nn

from ..skeleton import NUM_JOINTS


class VertexSubsetSkinner(nn.Module):
    """Pelvis-free SMPL skinning of vertices 0, n, 2n, ... of an smplx.SMPL layer (no translation)."""

    def __init__(self, layer: nn.Module, vertex_stride: int) -> None:
        super().__init__()
        if vertex_stride < 1:
            raise ValueError(f"the vertex stride must be >= 1, got {vertex_stride}")
        self.vertex_stride = vertex_stride
        num_vertices = layer.v_template.shape[0]
        keep = torch.arange(0, num_vertices, vertex_stride, device=layer.v_template.device)
        self.register_buffer("v_template", layer.v_template[keep])
        self.register_buffer("shapedirs", layer.shapedirs[keep])
        posedirs = layer.posedirs.reshape(layer.posedirs.shape[0], num_vertices, 3)  # (207, V * 3) in smplx
        self.register_buffer("posedirs", posedirs[:, keep].reshape(posedirs.shape[0], -1))
        self.register_buffer("lbs_weights", layer.lbs_weights[keep])
        self.register_buffer("joint_template", layer.J_regressor @ layer.v_template)
        self.register_buffer("joint_shapedirs", torch.einsum("jv,vcb->jcb", layer.J_regressor, layer.shapedirs))
        self.register_buffer("parents", layer.parents.clone())

    def forward(self, rotmats: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Local rotmats (N, 24, 3, 3), betas (N, 10) -> vertices (N, V / n, 3), joints (N, 24, 3), in the
        layer's frame (what smplx.SMPL returns for the same pose without transl)."""
        n = rotmats.shape[0]
        shaped = self.v_template + torch.einsum("vcb,nb->nvc", self.shapedirs, betas)
        joints = self.joint_template + torch.einsum("jcb,nb->njc", self.joint_shapedirs, betas)
        eye = torch.eye(3, dtype=rotmats.dtype, device=rotmats.device)
        pose_feature = (rotmats[:, 1:] - eye).reshape(n, -1)
        posed = shaped + (pose_feature @ self.posedirs).reshape(n, -1, 3)
        posed_joints, transforms = batch_rigid_transform(rotmats, joints, self.parents)
        per_vertex = (self.lbs_weights @ transforms.reshape(n, NUM_JOINTS, 16)).reshape(n, -1, 4, 4)
        vertices = (per_vertex[..., :3, :3] @ posed[..., None])[..., 0] + per_vertex[..., :3, 3]
        return vertices, posed_joints
