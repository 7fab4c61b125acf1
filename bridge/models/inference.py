"""ArtsPredictor: the trained ARTS network behind the bridge's sliding windows (numpy in, numpy out).

Each window of T frames yields SMPL parameters for its mid frame (index T // 2), or for several frames around
it (`offsets`; the bridge blends them across windows, bridge/windows.py). With flip averaging on, each window
also runs mirrored (left and right exchanged, the image flipped) and the two answers are averaged in the
unmirrored frame: a test-time flip, which cancels errors the network makes differently for a pose and its
mirror image, at twice the model time.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..crop_view import crop_to_camera_axes
from ..geometry.rotations import matrix_to_axis_angle
from ..geometry.rotations import matrix_to_quaternion, quaternion_to_matrix
from ..hashing import sha256_file
from ..mirror import mirror_image_landmarks, mirror_rotmats, mirror_smpl_points, mirror_world_landmarks
from ..upright import roll_image_landmarks, roll_matrix, roll_points, upright_roll
from .arts import ArtsModel
from .checkpoint import CheckpointError, body_arrays, build_model, load_checkpoint
from .config import ArtsConfig
from .inputs import landmark_frame_vector, lifter_keypoints
from .registry import DEFAULT_CHECKPOINT, DEFAULT_MODEL_ID, DEFAULT_SHA256


class ArtsPredictor:
    def __init__(self, model: ArtsModel, model_id: str, body: Any, device: str = "cpu",
                 chunk_size: int = 64) -> None:
        self.model = model.to(device).eval()
        self.model_id = model_id
        self.body = body  # the body model the network's β belong to (checkpoint.body_arrays)
        self.body_model_id = str(body.model_id)
        self.device = device
        self.chunk_size = chunk_size

    @property
    def window(self) -> int:
        """T, the window length the network was trained with."""
        return self.model.config.window

    @classmethod
    def load(cls, checkpoint: Path | None = None, device: str = "cpu") -> "ArtsPredictor":
        """The shipped default (checkpoint None, sha256-verified) or a user checkpoint file.

        Raises CheckpointMissingError (a FileNotFoundError) or CheckpointError with advice.
        """
        path = DEFAULT_CHECKPOINT if checkpoint is None else Path(checkpoint)
        expected = (DEFAULT_SHA256 or None) if checkpoint is None else None
        loaded = load_checkpoint(path, expected_sha256=expected)
        if (checkpoint is not None and not loaded.has_digest and loaded.model_id == DEFAULT_MODEL_ID
                and DEFAULT_SHA256 and sha256_file(path) != DEFAULT_SHA256):
            # A copy of the shipped file (saved before checkpoints carried a digest) that is not byte-identical.
            raise CheckpointError(f"{path} calls itself '{DEFAULT_MODEL_ID}' but is not the shipped file and carries "
                                  "no digest: it is damaged or was modified. Use the shipped model (leave the "
                                  "checkpoint setting empty) or a checkpoint written by scripts/train_arts.py")
        return cls(build_model(loaded, device), loaded.model_id, loaded.body, device)

    @classmethod
    def from_config(cls, config: ArtsConfig, device: str = "cpu", body: Any = None) -> "ArtsPredictor":
        """An untrained network (tests, training); `body` defaults to the bundled free body model."""
        if body is None:
            from ..body_model import load_body_model_arrays

            body = load_body_model_arrays()
        arrays = body_arrays(body)
        return cls(ArtsModel(config, arrays), "arts-untrained", arrays, device)

    @torch.inference_mode()
    def predict_windows(self, image_landmarks: np.ndarray, world_landmarks: np.ndarray,
                        image_size: tuple[int, int], crops: np.ndarray | None = None,
                        flip_average: bool = False, offsets: Sequence[int] | None = None,
                        focal_px: float | None = None) -> dict[str, np.ndarray]:
        """Mid-frame SMPL parameters for B windows (with flip_average, the average with the mirrored windows').

        image_landmarks (B, T, 33, 4) [x_px, y_px, visibility, presence]; world_landmarks (B, T, 33, 3)
        MediaPipe metric, hip-centred; image_size (width, height) px; crops (B, T, 3, H, W) RGB in [0, 1],
        only for a network with feature_source "resnet50".
        Returns pose_aa (B, 24, 3) local axis-angle radians, joint 0 = orientation in camera axes;
        betas (B, 10); joints_3d (B, 24, 3) SMPL joints of (pose, betas), pelvis at the origin, camera axes,
        metres; lifter_joints (B, 24, 3) the lifter's skeleton for the same frame.
        With `offsets` (P frame offsets from the mid frame), the answers for those frames of each window instead:
        pose_aa, joints_3d and lifter_joints gain a P axis after B, (B, P, 24, 3); betas stay one per window.
        focal_px: the video's focal length, with world landmarks as MediaPipe gives them (seen from a crop around
        the person): a network that reads them in camera axes (config world_frame "camera") gets them turned so
        (bridge/crop_view.py). None: the world landmarks are taken as they are (simulated ones).
        """
        image_landmarks = np.asarray(image_landmarks, dtype=np.float32)
        world_landmarks = np.asarray(world_landmarks, dtype=np.float32)
        if image_landmarks.ndim != 4 or image_landmarks.shape[2:] != (33, 4):
            raise ValueError(f"image_landmarks must be (B, T, 33, 4), got {image_landmarks.shape}")
        if world_landmarks.shape != image_landmarks.shape[:3] + (3,):
            raise ValueError(f"world_landmarks must be {image_landmarks.shape[:3] + (3,)}, got {world_landmarks.shape}")
        if image_landmarks.shape[1] < 2:
            raise ValueError("windows need at least 2 frames")
        resnet = self.model.config.feature_source == "resnet50"
        if resnet and crops is None:
            raise ValueError("this ARTS network reads person crops (feature_source 'resnet50'): pass crops")
        window = image_landmarks.shape[1]
        columns = window // 2 + np.asarray((0,) if offsets is None else offsets, dtype=np.int64)
        if columns.ndim != 1 or not len(columns) or columns.min() < 0 or columns.max() >= window:
            raise ValueError(f"offsets {offsets} must lie inside the {window}-frame window around its mid frame")
        if focal_px is not None and self.model.config.world_frame == "camera":
            world_landmarks = crop_to_camera_axes(world_landmarks, image_landmarks, focal_px, image_size,
                                                  self.model.config.world_lean_share)
        # Bodies far from upright in the picture are seen through a rolled camera (bridge/upright.py).
        roll = (np.zeros(len(image_landmarks)) if resnet else
                upright_roll(image_landmarks, self.model.config.upright_tolerance_deg, self.model.config.upright_ramp))
        rolled = roll != 0.0
        if rolled.any():
            image_landmarks, world_landmarks = image_landmarks.copy(), world_landmarks.copy()
            image_landmarks[rolled] = roll_image_landmarks(image_landmarks[rolled], roll[rolled], image_size)
            world_landmarks[rolled] = roll_points(world_landmarks[rolled], roll[rolled])
        keypoints = lifter_keypoints(image_landmarks, image_size)
        frame_input = crops if resnet else landmark_frame_vector(image_landmarks, world_landmarks, image_size)
        results: dict[str, list[np.ndarray]] = {"pose_aa": [], "betas": [], "joints_3d": [], "lifter_joints": []}
        for start in range(0, len(keypoints), self.chunk_size):
            part = slice(start, start + self.chunk_size)
            keys, inputs = keypoints[part], np.asarray(frame_input[part], np.float32)
            if flip_average:  # the mirrored windows run in the same batch
                flipped_image = mirror_image_landmarks(image_landmarks[part], float(image_size[0]))
                flipped_input = (np.ascontiguousarray(inputs[..., ::-1]) if resnet else
                                 landmark_frame_vector(flipped_image, mirror_world_landmarks(world_landmarks[part]),
                                                       image_size))
                keys = np.concatenate([keys, lifter_keypoints(flipped_image, image_size)])
                inputs = np.concatenate([inputs, np.asarray(flipped_input, np.float32)])
            rotmats, betas, lifter = self._run(keys, inputs, columns)
            if flip_average:
                n = len(keys) // 2
                rotmats = _rotation_midpoint(rotmats[:n], mirror_rotmats(rotmats[n:]))
                betas = 0.5 * (betas[:n] + betas[n:])
                lifter = 0.5 * (lifter[:n] + mirror_smpl_points(lifter[n:]))
            if rolled[part].any():  # the answers for the rolled views, rolled back
                back = torch.as_tensor(roll_matrix(-roll[part]), dtype=rotmats.dtype, device=rotmats.device)
                rotmats = torch.cat([(back[:, None] @ rotmats[:, :, 0])[:, :, None], rotmats[:, :, 1:]], dim=2)
                lifter = torch.einsum("bij,bpkj->bpki", back, lifter)
            results["pose_aa"].append(matrix_to_axis_angle(rotmats).cpu().numpy())
            results["betas"].append(betas.cpu().numpy())
            results["joints_3d"].append(self.model.posed_joints(rotmats, betas).cpu().numpy())
            results["lifter_joints"].append(lifter.cpu().numpy())
        out = {name: np.concatenate(parts).astype(np.float32) for name, parts in results.items()}
        if offsets is None:
            out = {name: value if name == "betas" else value[:, 0] for name, value in out.items()}
        return out

    def _run(self, keypoints: np.ndarray, frame_input: np.ndarray,
             columns: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One forward pass -> rotation matrices (B, P, 24, 3, 3), β (B, 10) and lifter joints (B, P, 24, 3) of
        the window's frames `columns` (P,)."""
        out = self.model(torch.as_tensor(keypoints, device=self.device),
                         torch.as_tensor(frame_input, device=self.device))
        index = torch.as_tensor(columns, device=self.device)
        return out["rotmats"][:, index], out["betas"], out["joints"][:, index]


def _rotation_midpoint(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The rotation half-way between a and b on the shortest path (..., 3, 3): the normalised sum of their
    quaternions taken in the same hemisphere."""
    qa, qb = matrix_to_quaternion(a), matrix_to_quaternion(b)
    qb = torch.where((qa * qb).sum(-1, keepdim=True) < 0, -qb, qb)
    return quaternion_to_matrix(qa + qb)
