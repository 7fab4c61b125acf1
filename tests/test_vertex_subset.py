"""VertexSubsetSkinner: every n-th vertex of the SMPL layer's own skinning, and the same joints."""
from __future__ import annotations

import pytest
import torch

from bridge.geometry.rotations import axis_angle_to_matrix
from bridge.models.losses import smpl_mesh
from bridge.models.vertex_subset import VertexSubsetSkinner


def _pose(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    rotmats = axis_angle_to_matrix(0.5 * torch.randn(count, 24, 3, generator=gen, dtype=torch.float64)).float()
    return rotmats, torch.randn(count, 10, generator=gen)


@pytest.mark.parametrize("stride", [1, 3])
def test_the_subset_is_the_layers_own_mesh_at_every_nth_vertex(free_smpl_layer, stride):
    rotmats, betas = _pose(3, stride)
    full_vertices, full_joints = smpl_mesh(free_smpl_layer, rotmats, betas)
    vertices, joints = smpl_mesh(VertexSubsetSkinner(free_smpl_layer, stride), rotmats, betas)
    assert vertices.shape == (3, -(-full_vertices.shape[1] // stride), 3)
    torch.testing.assert_close(vertices, full_vertices[:, ::stride], atol=2e-5, rtol=0)
    torch.testing.assert_close(joints, full_joints, atol=2e-5, rtol=0)


def test_the_subset_mesh_loss_estimates_the_whole_one_and_trains_the_pose(free_smpl_layer):
    rotmats, betas = _pose(4, 7)
    wrong = (rotmats @ axis_angle_to_matrix(torch.full((4, 24, 3), 0.1, dtype=torch.float64)).float()).requires_grad_()
    subset = VertexSubsetSkinner(free_smpl_layer, 4)
    losses = {}
    for name, layer in (("whole", free_smpl_layer), ("subset", subset)):
        pred, _ = smpl_mesh(layer, wrong, betas)
        with torch.no_grad():
            truth, _ = smpl_mesh(layer, rotmats, betas)
        losses[name] = (pred - truth).norm(dim=-1).mean()
    assert losses["subset"].item() == pytest.approx(losses["whole"].item(), rel=0.05)
    losses["subset"].backward()
    assert wrong.grad is not None and wrong.grad.abs().sum() > 0


def test_a_stride_below_one_is_refused(free_smpl_layer):
    with pytest.raises(ValueError, match="vertex stride"):
        VertexSubsetSkinner(free_smpl_layer, 0)
