"""Training losses: the lifter's 3D joint loss (stage 1) and Eq. 11 for the whole network (stage 2).

Distances are in metres. L_mesh and L_joint are mean Euclidean distances over vertices / joints after
putting each body's pelvis at the origin (root-relative, as the lifter predicts); L_pose is the mean squared
error of the local rotation matrices, L_shape that of β. L_pose and the lifter loss cover all T frames; the
SMPL-layer losses (L_mesh, L_joint) one frame in `mesh_loss_stride`, because skinning the full mesh for every
frame dominates a CPU training step: the mid frame and a fresh random draw of the others each step. (A fixed
every-4th-frame pattern left frames 1-3 from the mid frame trained by L_pose alone, while the bridge uses
every window's answers for the frames up to 3 from its mid frame, bridge/windows.py.)
An auxiliary twist loss (HybriK-style; not in Eq. 11) supervises TIK's (cos, sin) twists with the twists of
the true rotations about the same template bones, weighted by `lambda_twist`. An optional depth term
(`lambda_limb_depth`, not in Eq. 11) weighs the limb joints' error along the camera's axis once more, for both
the lifter's and the SMPL layer's joints: the error the network keeps is mostly there, where a limb reaching
towards the camera and one reaching away draw the same picture (bridge.metrics.depth_order_errors).
"""
from __future__ import annotations

import torch

from ..geometry.analytic_ik import twist_angles_from_rotmats
from ..skeleton import LIMB_BONES, NUM_JOINTS, SMPL_PARENTS
from .config import ArtsConfig
from .tik import twist_mask
from .vertex_subset import VertexSubsetSkinner


def joint_distance(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance of root-relative points, (..., N, 3) each -> scalar metres."""
    return (pred - gt).norm(dim=-1).mean()


#: Shoulders, elbows, wrists, hips, knees and ankles: the joints at the ends of skeleton.LIMB_BONES.
LIMB_JOINTS: tuple[int, ...] = tuple(sorted({joint for bone in LIMB_BONES for joint in bone}))


def limb_depth_error(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Mean |depth error| of LIMB_JOINTS, (..., 24, 3) camera-axes pelvis-relative joints each -> scalar metres."""
    return (pred[..., LIMB_JOINTS, 2] - gt[..., LIMB_JOINTS, 2]).abs().mean()


def lifter_loss(pred_joints: torch.Tensor, gt_joints: torch.Tensor) -> torch.Tensor:
    """Stage-1 3D joint loss: lifter joints vs truth, both (B, T, 24, 3) pelvis-relative metres."""
    return joint_distance(pred_joints, gt_joints - gt_joints[..., :1, :])


def smpl_mesh(smpl_layer: torch.nn.Module, rotmats: torch.Tensor, betas: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Pelvis-relative vertices (N, V, 3) and joints (N, 24, 3) of local rotmats (N, 24, 3, 3) and betas (N, 10).
    smpl_layer: an smplx.SMPL layer, or a VertexSubsetSkinner of one (every n-th vertex, the same joints)."""
    if isinstance(smpl_layer, VertexSubsetSkinner):
        vertices, joints = smpl_layer(rotmats, betas)
    else:
        output = smpl_layer(betas=betas, global_orient=rotmats[:, :1], body_pose=rotmats[:, 1:], pose2rot=False)
        vertices, joints = output.vertices, output.joints[:, :NUM_JOINTS]
    pelvis = joints[:, :1]
    return vertices - pelvis, joints - pelvis


def twist_loss(pred_twist: torch.Tensor, gt_rotmats: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
    """Squared error of unit (cos, sin) twists (B, T, 23, 2) against the true rotations' twists (B, T, 24, 3, 3)."""
    angles = twist_angles_from_rotmats(gt_rotmats, rest_joints, SMPL_PARENTS)
    target = torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1)
    mask = twist_mask().to(pred_twist.device)[:, None]
    return (((pred_twist - target) ** 2) * mask).sum(dim=-1).mean() * mask.numel() / mask.sum()


def mesh_loss_frames(window: int, stride: int) -> torch.Tensor:
    """The frames (sorted) the SMPL-layer losses see this step: the mid frame and ceil(T / stride) - 1 others
    drawn at random (torch's generator)."""
    count = -(-window // stride)
    mid = window // 2
    others = torch.randperm(window - 1)[:count - 1]
    others = others + (others >= mid).long()  # skip the mid frame
    return torch.sort(torch.cat([torch.tensor([mid]), others])).values


def arts_loss(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], smpl_layer: torch.nn.Module,
              config: ArtsConfig, rest_joints: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Eq. 11 (+ the lifter's joint loss and TIK's twist loss). Returns (total, {part: value}).

    out: ArtsModel output; batch: rotmats (B, T, 24, 3, 3), betas (B, 10), joints (B, T, 24, 3) metres.
    rest_joints (24, 3): the template skeleton TIK's twists refer to (needed with use_tik).
    """
    t = out["rotmats"].shape[1]
    frames = mesh_loss_frames(t, config.mesh_loss_stride)
    n = len(frames)
    pred_vertices, pred_joints = smpl_mesh(smpl_layer, out["rotmats"][:, frames].flatten(0, 1),
                                           out["betas"].repeat_interleave(n, dim=0))
    with torch.no_grad():
        gt_vertices, _ = smpl_mesh(smpl_layer, batch["rotmats"][:, frames].flatten(0, 1),
                                   batch["betas"].repeat_interleave(n, dim=0))
    gt_joints = batch["joints"][:, frames] - batch["joints"][:, frames, :1]
    parts = {
        "mesh": joint_distance(pred_vertices, gt_vertices),
        "joint": joint_distance(pred_joints, gt_joints.flatten(0, 1)),
        "pose": ((out["rotmats"] - batch["rotmats"]) ** 2).mean(),
        "shape": ((out["betas"] - batch["betas"]) ** 2).mean(),
        "lifter": lifter_loss(out["joints"], batch["joints"]),
    }
    total = (config.lambda_mesh * parts["mesh"] + config.lambda_joint * (parts["joint"] + parts["lifter"])
             + config.lambda_pose * parts["pose"] + config.lambda_shape * parts["shape"])
    if config.lambda_limb_depth > 0:
        lifter_gt = batch["joints"] - batch["joints"][..., :1, :]
        parts["limb_depth"] = (limb_depth_error(pred_joints, gt_joints.flatten(0, 1))
                               + limb_depth_error(out["joints"], lifter_gt))
        total = total + config.lambda_limb_depth * parts["limb_depth"]
    if "twist" in out and config.lambda_twist > 0:
        parts["twist"] = twist_loss(out["twist"], batch["rotmats"], rest_joints)
        total = total + config.lambda_twist * parts["twist"]
    return total, {name: float(value.detach()) for name, value in parts.items()}
