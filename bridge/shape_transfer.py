"""Carry a body shape from the body model ARTS was trained with to another SMPL-format model (a user's
SMPL_NEUTRAL.pkl), through the skeleton: the only thing both models measure the same way.

β coefficients are private to a body model, so the network's β (free model) mean nothing to SMPL. Bone
lengths do carry over, but not absolutely: the models place joint centres differently (the free model's hips
are ~4 cm wider than SMPL's, its collars sit near the sternum), so copying lengths would give SMPL the free
model's conventions. Each bone is therefore carried as a ratio to its own model's template bone:

    L*_b = L_target,b(β=0) · L_source,b(β_source) / L_source,b(β=0)

and the target's β are the maximum a posteriori fit of those lengths under SMPL's prior β ~ N(0, I),

    min_β  Σ_b ((L_b(β) - L*_b) / σ)² + |β|²,

solved by Gauss-Newton (lengths are norms, so the linearisation is refreshed each pass). Shape directions
the skeleton does not see (girth, mostly) stay at the target's mean: the animation only needs the skeleton.
Numpy only, so it runs anywhere the results are made.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .skeleton import NUM_BETAS, SMPL_BONES

#: Tolerated bone-length misfit: a few mm, so the fit follows the proportions closely but a shape space that
#: cannot reproduce them exactly does not push β far outside the population.
BONE_SIGMA_M = 0.005


@dataclass(frozen=True)
class ShapeTransfer:
    betas: np.ndarray  # (10,) the target model's coefficients
    bone_rms_mm: float  # misfit of the target's bones to the carried-over lengths


def _joint_model(body: Any) -> tuple[np.ndarray, np.ndarray]:
    """Template joints (24, 3) and joint shape directions (24, 3, n ≤ 10) of a body model, float64."""
    regressor = np.asarray(body.J_regressor, np.float64)
    shapedirs = np.asarray(body.shapedirs, np.float64)[..., :NUM_BETAS]
    template = regressor @ np.asarray(body.v_template, np.float64)
    return template, np.einsum("jv,vcb->jcb", regressor, shapedirs)


def _bones(joints: np.ndarray) -> np.ndarray:
    """(24, 3) -> (23, 3) bone vectors, parent to child."""
    parents, childs = np.array(SMPL_BONES).T
    return joints[childs] - joints[parents]


def transfer_betas(source: Any, betas: np.ndarray, target: Any, sigma_m: float = BONE_SIGMA_M,
                   iterations: int = 8) -> ShapeTransfer:
    """β of `source` -> β of `target` with the same skeleton proportions. Bodies: anything with v_template,
    shapedirs and J_regressor (BodyModelArrays, a checkpoint's body arrays)."""
    source_template, source_dirs = _joint_model(source)
    target_template, target_dirs = _joint_model(target)
    coefficients = np.zeros(source_dirs.shape[2])
    given = np.asarray(betas, np.float64).reshape(-1)[:coefficients.size]
    coefficients[:given.size] = given
    source_lengths = np.linalg.norm(_bones(source_template + source_dirs @ coefficients), axis=-1)
    ratio = source_lengths / np.linalg.norm(_bones(source_template), axis=-1)
    wanted = ratio * np.linalg.norm(_bones(target_template), axis=-1)

    bone_dirs = _bones(target_dirs)  # (23, 3, n): how each bone vector moves per unit β
    n = bone_dirs.shape[2]
    beta = np.zeros(n)
    for _ in range(iterations):
        vectors = _bones(target_template + target_dirs @ beta)
        lengths = np.linalg.norm(vectors, axis=-1)
        jacobian = np.einsum("bc,bcn->bn", vectors / lengths[:, None], bone_dirs) / sigma_m
        residual = (lengths - wanted) / sigma_m
        step = np.linalg.solve(jacobian.T @ jacobian + np.eye(n), -(jacobian.T @ residual + beta))
        beta = beta + step
    lengths = np.linalg.norm(_bones(target_template + target_dirs @ beta), axis=-1)
    out = np.zeros(NUM_BETAS, np.float32)
    out[:n] = beta
    return ShapeTransfer(out, float(np.sqrt(np.mean((lengths - wanted) ** 2)) * 1000.0))
