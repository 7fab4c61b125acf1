"""ARTS checkpoint files: weights + the config that built them + the body model they are tied to, sha256-checked.

A checkpoint is a torch file holding only tensors, strings and numbers (read with weights_only=True, so
loading one can never run code):
  format "arts-checkpoint/1", model_id, config (ArtsConfig.to_dict()), state_dict,
  body {model_id, v_template (V, 3), shapedirs (V, 3, 10), J_regressor (24, V)}: the body-model arrays the
  network was initialised from (BSF and TIK depend on them), so a checkpoint is self-contained,
  meta {free-form training facts: steps, data, time},
  digest: sha256 of the config, the weights and the body arrays (tensor_digest), written at save time and
  checked at load, so a damaged copy is refused even where no registry knows the file's own hash
  (files written before the digest existed load without that check).
Files are written atomically (temp file + os.replace).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from ..hashing import sha256_file
from .config import ArtsConfig, ConfigError

CHECKPOINT_FORMAT = "arts-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint is corrupt, of another format, or does not match what was expected."""


class CheckpointMissingError(CheckpointError, FileNotFoundError):
    """No checkpoint file where one was expected."""


@dataclass
class Checkpoint:
    config: ArtsConfig
    state_dict: dict[str, torch.Tensor]
    body: SimpleNamespace  # model_id, v_template, shapedirs, J_regressor (numpy)
    model_id: str
    meta: dict[str, Any] = field(default_factory=dict)
    has_digest: bool = False  # its tensors were checked against the digest written when it was saved


def body_arrays(body: Any) -> SimpleNamespace:
    """The body-model arrays a network depends on, as float32 numpy (from BodyModelArrays or a namespace)."""
    return SimpleNamespace(model_id=str(getattr(body, "model_id", "unknown")),
                           v_template=np.asarray(body.v_template, np.float32),
                           shapedirs=np.asarray(body.shapedirs, np.float32)[..., :10],
                           J_regressor=np.asarray(body.J_regressor, np.float32))


def tensor_digest(config: dict[str, Any], state_dict: dict[str, torch.Tensor], body: dict[str, Any]) -> str:
    """sha256 over the config (canonical JSON) and every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    tensors = {**{f"state/{k}": v for k, v in state_dict.items()},
               **{f"body/{k}": v for k, v in body.items() if isinstance(v, torch.Tensor)}}
    digest.update(str(body.get("model_id", "")).encode())
    for name in sorted(tensors):
        array = tensors[name].detach().cpu().contiguous().numpy()
        digest.update(f"{name}|{array.dtype.str}|{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_checkpoint(path: str | Path, model: torch.nn.Module, body: Any, model_id: str,
                    meta: dict[str, Any] | None = None) -> str:
    """Write `model` (an ArtsModel) to `path` atomically; returns the file's sha256."""
    path = Path(path)
    arrays = body_arrays(body)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model_id": model_id,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "body": {"model_id": arrays.model_id, **{k: torch.from_numpy(getattr(arrays, k))
                                                 for k in ("v_template", "shapedirs", "J_regressor")}},
        "meta": dict(meta or {}),
    }
    payload["digest"] = tensor_digest(payload["config"], payload["state_dict"], payload["body"])
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        torch.save(payload, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is a shipped, shared file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return sha256_file(path)


def load_checkpoint(path: str | Path, expected_sha256: str | None = None) -> Checkpoint:
    """Read and check a checkpoint; raises CheckpointMissingError / CheckpointError with what to do."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointMissingError(f"ARTS checkpoint not found: {path}. Reinstall the add-on (it ships "
                                     "bridge/assets/arts_default.pt) or train one with scripts/train_arts.py")
    if expected_sha256 is not None:
        actual = sha256_file(path)
        if actual != expected_sha256.lower():
            raise CheckpointError(f"ARTS checkpoint {path} is damaged or not the registered file: sha256 {actual} "
                                  f"!= expected {expected_sha256}. Reinstall the add-on or point the model "
                                  "setting at the right file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"{path} is not a readable ARTS checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path} is not an ARTS checkpoint of format {CHECKPOINT_FORMAT} (found {found!r})")
    try:
        config = ArtsConfig.from_dict(payload["config"])
        body = payload["body"]
        if "digest" in payload and tensor_digest(payload["config"], payload["state_dict"], body) != payload["digest"]:
            raise CheckpointError(f"ARTS checkpoint {path} is damaged: its weights no longer match the digest "
                                  "written when it was saved. Copy the file again or retrain it")
        arrays = SimpleNamespace(model_id=str(body["model_id"]),
                                 **{k: body[k].numpy() for k in ("v_template", "shapedirs", "J_regressor")})
    except (ConfigError, TypeError, KeyError, AttributeError) as exc:
        raise CheckpointError(f"{path} is not a well-formed ARTS checkpoint ({type(exc).__name__}: {exc})") from exc
    return Checkpoint(config=config, state_dict=payload["state_dict"], body=arrays,
                      model_id=str(payload["model_id"]), meta=dict(payload.get("meta", {})),
                      has_digest="digest" in payload)


def build_model(checkpoint: Checkpoint, device: str | torch.device = "cpu") -> torch.nn.Module:
    """An ArtsModel with the checkpoint's weights, in eval mode; a mismatch is a CheckpointError."""
    from .arts import ArtsModel

    try:
        model = ArtsModel(checkpoint.config, checkpoint.body)
        model.load_state_dict(checkpoint.state_dict, strict=True)
    except (RuntimeError, ValueError) as exc:  # ValueError: bsf.ShapeSpaceError from damaged body arrays
        raise CheckpointError(f"checkpoint '{checkpoint.model_id}' cannot build its network ({exc}); the file is "
                              "damaged or was written by a different version") from exc
    return model.to(device).eval()
