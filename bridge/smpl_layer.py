"""An smplx.SMPL layer for the project's body model (the free model or a user's SMPL pickle).

smplx only loads pickles by path; any other source goes in through `data_struct`, and its extra
joints (face, feet, fingertips) come from vertex ids that must belong to the mesh in use, so both
come from `BodyModelArrays`.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import smplx
import torch

from .body_model import BodyModelArrays, load_body_model_arrays


def make_smpl_layer(arrays_or_path: BodyModelArrays | str | Path | None = None,
                    device: str | torch.device = "cpu", batch_size: int = 1) -> smplx.SMPL:
    """smplx.SMPL (10 betas, float32) on `device` for a BodyModelArrays, a model path, or None (free model).

    Its forward returns vertices (B, V, 3) and joints (B, 24 + 21, 3): the 24 SMPL joints, then
    smplx's extra joints picked from the model's own `extra_vertex_ids`.
    """
    arrays = (arrays_or_path if isinstance(arrays_or_path, BodyModelArrays)
              else load_body_model_arrays(arrays_or_path))
    if not arrays.extra_vertex_ids:
        raise ValueError(f"body model {arrays.model_id} has no extra-joint vertex ids for smplx")
    # smplx prints a warning about models with only 10 betas; the bridge's stdout is its protocol
    # channel, so keep construction silent.
    with contextlib.redirect_stdout(io.StringIO()):
        layer = smplx.SMPL(
            model_path="", data_struct=smplx.utils.Struct(**arrays.smpl_struct_arrays()),
            num_betas=arrays.shapedirs.shape[2], vertex_ids=arrays.extra_vertex_ids,
            batch_size=batch_size, dtype=torch.float32)
    return layer.to(device)
