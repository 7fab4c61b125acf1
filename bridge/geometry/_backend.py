"""Pick numpy or torch from the input type, so each geometry function is written once.

torch is never imported here: a tensor can only exist if the caller has already imported torch,
so looking it up in `sys.modules` is enough. This keeps the geometry importable inside Blender,
where torch is absent. Only operations whose numpy and torch spellings differ live here; the
rest (indexing, arithmetic, `@`, `.reshape`, comparisons) is written directly against the arrays.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

#: Floor for squared norms before dividing, so degenerate inputs give finite values and gradients.
TINY = 1e-24


def is_tensor(value: Any) -> bool:
    """True when `value` is a torch tensor (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


class NumpyOps:
    """numpy spellings of the operations the geometry needs (float64 unless given another float)."""

    def asarray(self, value: Any) -> np.ndarray:
        array = np.asarray(value)
        return array if np.issubdtype(array.dtype, np.floating) else array.astype(np.float64)

    sqrt = staticmethod(np.sqrt)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    atan2 = staticmethod(np.arctan2)
    where = staticmethod(np.where)
    cumprod = staticmethod(np.cumprod)

    @staticmethod
    def broadcast(*arrays: np.ndarray) -> list[np.ndarray]:
        return list(np.broadcast_arrays(*arrays))

    @staticmethod
    def stack(arrays: list, axis: int) -> np.ndarray:
        return np.stack(np.broadcast_arrays(*arrays), axis=axis)

    @staticmethod
    def concat(arrays: list, axis: int) -> np.ndarray:
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def sum(array: np.ndarray, axis: int, keepdims: bool = False) -> np.ndarray:
        return np.sum(array, axis=axis, keepdims=keepdims)

    @staticmethod
    def argmax(array: np.ndarray, axis: int) -> np.ndarray:
        return np.argmax(array, axis=axis)

    @staticmethod
    def clamp_min(array: np.ndarray, minimum: float) -> np.ndarray:
        return np.maximum(array, minimum)

    @staticmethod
    def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.broadcast_arrays(a, b)
        return np.cross(a, b, axis=-1)

    @staticmethod
    def transpose(matrices: np.ndarray) -> np.ndarray:
        """Swap the last two axes (matrix transpose)."""
        return np.swapaxes(matrices, -1, -2)

    @staticmethod
    def svd(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(U, S, Vh) with matrices = U @ diag(S) @ Vh."""
        return np.linalg.svd(matrices)

    det = staticmethod(np.linalg.det)

    @staticmethod
    def ones_like(array: np.ndarray) -> np.ndarray:
        return np.ones_like(array)

    @staticmethod
    def zeros_like(array: np.ndarray) -> np.ndarray:
        return np.zeros_like(array)

    def eye(self, like: np.ndarray) -> np.ndarray:
        """3x3 identity with the dtype of `like`."""
        return np.eye(3, dtype=like.dtype)


class TorchOps:
    """torch spellings; every array is converted to the dtype and device of the first tensor given."""

    def __init__(self, torch: Any, reference: Any):
        self.torch = torch
        self.dtype = reference.dtype if reference.is_floating_point() else torch.get_default_dtype()
        self.device = reference.device

    def asarray(self, value: Any) -> Any:
        return self.torch.as_tensor(value, dtype=self.dtype, device=self.device)

    def sqrt(self, x: Any) -> Any:
        return self.torch.sqrt(x)

    def sin(self, x: Any) -> Any:
        return self.torch.sin(x)

    def cos(self, x: Any) -> Any:
        return self.torch.cos(x)

    def atan2(self, y: Any, x: Any) -> Any:
        return self.torch.atan2(y, x)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        return self.torch.where(condition, a, b)

    def cumprod(self, x: Any, axis: int) -> Any:
        return self.torch.cumprod(x, dim=axis)

    def broadcast(self, *tensors: Any) -> list[Any]:
        return list(self.torch.broadcast_tensors(*tensors))

    def stack(self, arrays: list, axis: int) -> Any:
        return self.torch.stack(self.torch.broadcast_tensors(*arrays), dim=axis)

    def concat(self, arrays: list, axis: int) -> Any:
        return self.torch.cat(arrays, dim=axis)

    def sum(self, x: Any, axis: int, keepdims: bool = False) -> Any:
        return self.torch.sum(x, dim=axis, keepdim=keepdims)

    def argmax(self, x: Any, axis: int) -> Any:
        return self.torch.argmax(x, dim=axis)

    def clamp_min(self, x: Any, minimum: float) -> Any:
        return self.torch.clamp(x, min=minimum)

    def cross(self, a: Any, b: Any) -> Any:
        a, b = self.torch.broadcast_tensors(a, b)
        return self.torch.linalg.cross(a, b, dim=-1)

    def transpose(self, matrices: Any) -> Any:
        """Swap the last two axes (matrix transpose)."""
        return matrices.transpose(-1, -2)

    def svd(self, matrices: Any) -> tuple[Any, Any, Any]:
        """(U, S, Vh) with matrices = U @ diag(S) @ Vh."""
        return self.torch.linalg.svd(matrices)

    def det(self, matrices: Any) -> Any:
        return self.torch.linalg.det(matrices)

    def ones_like(self, x: Any) -> Any:
        return self.torch.ones_like(x)

    def zeros_like(self, x: Any) -> Any:
        return self.torch.zeros_like(x)

    def eye(self, like: Any) -> Any:
        """3x3 identity with the dtype and device of `like`."""
        return self.torch.eye(3, dtype=like.dtype, device=like.device)


_NUMPY = NumpyOps()


def unit_vectors(vectors: Any, ops: NumpyOps | TorchOps) -> Any:
    """Unit vectors along the last axis (zero vectors stay zero); `vectors` already converted by `ops`."""
    return vectors / ops.sqrt(ops.clamp_min(ops.sum(vectors * vectors, -1, keepdims=True), TINY))


def backend(*values: Any) -> NumpyOps | TorchOps:
    """torch ops if any of `values` is a tensor (referencing the first one), numpy ops otherwise."""
    for value in values:
        if is_tensor(value):
            return TorchOps(sys.modules["torch"], value)
    return _NUMPY
