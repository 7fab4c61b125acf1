"""SMPL-format body model arrays: the bundled free model or a user's own `SMPL_NEUTRAL.pkl`.

Numpy only (no torch, no scipy) so the add-on can build rigs from the same arrays inside Blender.
Both sources come out in one form, `BodyModelArrays`, in SMPL's canonical frame (Y up, body faces
+Z, +X = the person's left, metres), so BSF's pseudo-inverse initialisation, the metrics and the
rig builder work the same with either.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .keypoints import MEDIAPIPE_LANDMARK_NAMES, NUM_MEDIAPIPE
from .skeleton import NUM_BETAS, NUM_JOINTS, SMPL_PARENTS

#: The free model shipped with the project (built by scripts/build_body_model.py).
FREE_MODEL_PATH = Path(__file__).resolve().parent / "assets" / "body_model_free.npz"
NUM_POSE_BASIS = 207  # 23 joints x 9 rotation-matrix entries

#: Vertex ids smplx's VertexJointSelector reads to add its 21 extra joints; these are SMPL's
#: published ids for its 6,890-vertex mesh (a fact about SMPL's topology).
SMPL_EXTRA_VERTEX_IDS: dict[str, int] = {
    "nose": 332, "reye": 6260, "leye": 2800, "rear": 4071, "lear": 583,
    "LBigToe": 3216, "LSmallToe": 3226, "LHeel": 3387, "RBigToe": 6617, "RSmallToe": 6624, "RHeel": 6787,
    "lthumb": 2746, "lindex": 2319, "lmiddle": 2445, "lring": 2556, "lpinky": 2673,
    "rthumb": 6191, "rindex": 5782, "rmiddle": 5905, "rring": 6016, "rpinky": 6133,
}
EXTRA_VERTEX_KEYS: tuple[str, ...] = tuple(SMPL_EXTRA_VERTEX_IDS)

#: MediaPipe landmarks with a known SMPL surface vertex (the same points smplx uses); the
#: others (eye corners, mouth, knuckles, limb joints) have none and stay -1.
_SMPL_MEDIAPIPE_VERTEX = {
    "nose": "nose", "left_eye": "leye", "right_eye": "reye", "left_ear": "lear", "right_ear": "rear",
    "left_heel": "LHeel", "right_heel": "RHeel", "left_foot_index": "LBigToe", "right_foot_index": "RBigToe",
}

SETTING_HINT = ("Set the 'Body model' preference of the add-on (bridge option --body-model) to your "
                "SMPL_NEUTRAL.pkl, or leave it empty to use the bundled free model.")


class BodyModelError(ValueError):
    """A body model file is missing, unreadable or not in SMPL's format."""


@dataclass(frozen=True)
class BodyModelArrays:
    """One body model in SMPL's array layout (float32 arrays, metres).

    v_template (V, 3) rest mesh for beta = 0; shapedirs (V, 3, 10) offset per unit beta;
    posedirs (V, 3, 207) pose-corrective offsets (zeros for the free model); J_regressor (24, V)
    dense, joints = J_regressor @ vertices; weights (V, 24) LBS weights; kintree_table (2, 24)
    parents (root -1) over joint ids; faces (F, 3) int32; extra_vertex_ids: smplx's extra-joint
    vertex per name; mediapipe_vertex_ids (33,) surface vertex per MediaPipe landmark, -1 if none.
    """

    v_template: np.ndarray
    shapedirs: np.ndarray
    posedirs: np.ndarray
    J_regressor: np.ndarray
    weights: np.ndarray
    kintree_table: np.ndarray
    faces: np.ndarray
    extra_vertex_ids: dict[str, int]
    mediapipe_vertex_ids: np.ndarray
    model_id: str
    meta: dict = field(default_factory=dict)

    @property
    def num_vertices(self) -> int:
        return int(self.v_template.shape[0])

    @property
    def parents(self) -> np.ndarray:
        """(24,) int64 parent of each joint, -1 for the root."""
        return self.kintree_table[0].astype(np.int64)

    def smpl_struct_arrays(self) -> dict[str, np.ndarray]:
        """The arrays smplx reads from a model file, under SMPL's own names (for smplx.utils.Struct)."""
        return {
            "v_template": self.v_template, "shapedirs": self.shapedirs, "posedirs": self.posedirs,
            "J_regressor": self.J_regressor, "weights": self.weights,
            "kintree_table": self.kintree_table, "f": self.faces,
        }


def load_body_model_arrays(path: str | Path | None = None) -> BodyModelArrays:
    """Load the free model (`path=None`), a model `.npz` in SMPL's layout, or a user's SMPL `.pkl`.

    Official SMPL pickles are read with a restricted unpickler (no code runs, chumpy arrays become
    numpy). Raises BodyModelError with the setting to change when the file is missing or wrong.
    """
    resolved = FREE_MODEL_PATH if path is None or str(path) == "" else Path(path).expanduser()
    if not resolved.is_file():
        if path is None:
            raise BodyModelError(f"The bundled body model is missing ({resolved}); reinstall the "
                                 "extension or rebuild it with scripts/build_body_model.py.")
        raise BodyModelError(f"Body model file not found: {resolved}. {SETTING_HINT}")
    suffix = resolved.suffix.lower()
    if suffix == ".npz":
        return _load_npz(resolved)
    if suffix == ".pkl":
        return _load_smpl_pickle(resolved)
    raise BodyModelError(f"Unsupported body model file {resolved.name!r}: expected a .npz or an SMPL .pkl. "
                         f"{SETTING_HINT}")


def shaped_rest(arrays: BodyModelArrays, betas: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Rest (unposed) mesh and joints for shape `betas`.

    betas (<=10,) or None (zeros); missing trailing coefficients are zero.
    Returns vertices (V, 3) and joints (24, 3), float64 metres, in the model's canonical frame.
    """
    coefficients = np.zeros(NUM_BETAS)
    if betas is not None:
        b = np.asarray(betas, dtype=np.float64).reshape(-1)
        if b.size > arrays.shapedirs.shape[2]:
            raise ValueError(f"got {b.size} shape coefficients, the model has {arrays.shapedirs.shape[2]}")
        coefficients[:b.size] = b
    n = min(NUM_BETAS, arrays.shapedirs.shape[2])
    vertices = arrays.v_template.astype(np.float64) + arrays.shapedirs[:, :, :n].astype(np.float64) @ coefficients[:n]
    joints = arrays.J_regressor.astype(np.float64) @ vertices
    return vertices, joints


# --------------------------------------------------------------------------- file formats

_NPZ_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")


def _load_npz(path: Path) -> BodyModelArrays:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in _NPZ_KEYS if k not in data.files]
            if missing:
                raise BodyModelError(f"{path.name} is not an SMPL-format body model (missing {missing}). {SETTING_HINT}")
            arrays = {k: data[k] for k in data.files}
    except BodyModelError:
        raise
    except (OSError, ValueError) as error:
        raise BodyModelError(f"Cannot read body model {path}: {error}. {SETTING_HINT}") from error

    meta = json.loads(str(arrays["meta"])) if "meta" in arrays else {}
    if "extra_vertex_names" in arrays and "extra_vertex_ids" in arrays:
        extra = {str(n): int(i) for n, i in zip(arrays["extra_vertex_names"], arrays["extra_vertex_ids"])}
    else:
        extra = {}
    mediapipe = arrays.get("mediapipe_vertex_ids", np.full(NUM_MEDIAPIPE, -1))
    model_id = str(meta.get("model_id") or f"npz:{_file_digest(path)}")
    return _validated(path, arrays["v_template"], arrays["shapedirs"], arrays["posedirs"],
                      arrays["J_regressor"], arrays["weights"], arrays["kintree_table"], arrays["f"],
                      extra, mediapipe, model_id, meta)


def _load_smpl_pickle(path: Path) -> BodyModelArrays:
    from .safe_pickle import UnsafePickleError, load_pickle

    try:
        data = load_pickle(path)
    except UnsafePickleError as error:
        raise BodyModelError(f"Refused to load {path.name}: {error}. {SETTING_HINT}") from error
    except Exception as error:  # a corrupt pickle can raise almost anything; report it, do not crash
        raise BodyModelError(f"Cannot read body model {path}: {error}. {SETTING_HINT}") from error
    if not isinstance(data, dict):
        raise BodyModelError(f"{path.name} does not contain an SMPL model dictionary. {SETTING_HINT}")
    missing = [k for k in _NPZ_KEYS if k not in data]
    if missing:
        raise BodyModelError(f"{path.name} is not an SMPL model file (missing {missing}). {SETTING_HINT}")
    n_vertices = np.asarray(data["v_template"]).shape[0]
    extra = dict(SMPL_EXTRA_VERTEX_IDS) if n_vertices == 6890 else {}
    mediapipe = np.full(NUM_MEDIAPIPE, -1, dtype=np.int32)
    if extra:
        for i, name in enumerate(MEDIAPIPE_LANDMARK_NAMES):
            if name in _SMPL_MEDIAPIPE_VERTEX:
                mediapipe[i] = extra[_SMPL_MEDIAPIPE_VERTEX[name]]
    shapedirs = np.asarray(data["shapedirs"])[:, :, :NUM_BETAS]
    return _validated(path, data["v_template"], shapedirs, data["posedirs"], data["J_regressor"],
                      data["weights"], data["kintree_table"], data["f"], extra, mediapipe,
                      f"smpl-pkl:{_file_digest(path)}", {"source": path.name})


def _validated(path: Path, v_template, shapedirs, posedirs, j_regressor, weights, kintree, faces,
               extra: dict[str, int], mediapipe, model_id: str, meta: dict) -> BodyModelArrays:
    """Check shapes and the kinematic tree; convert to float32/int arrays."""
    def fail(problem: str) -> BodyModelError:
        return BodyModelError(f"{path.name} is not a usable SMPL-format body model: {problem}. {SETTING_HINT}")

    v_template = np.asarray(v_template, dtype=np.float32)
    if v_template.ndim != 2 or v_template.shape[1] != 3:
        raise fail(f"v_template has shape {v_template.shape}, expected (V, 3)")
    n = v_template.shape[0]
    shapedirs = np.asarray(shapedirs, dtype=np.float32)
    if shapedirs.shape[:2] != (n, 3) or shapedirs.ndim != 3 or shapedirs.shape[2] < 1:
        raise fail(f"shapedirs has shape {shapedirs.shape}, expected ({n}, 3, 10)")
    posedirs = np.asarray(posedirs, dtype=np.float32)
    if posedirs.size != n * 3 * NUM_POSE_BASIS:
        raise fail(f"posedirs has shape {posedirs.shape}, expected ({n}, 3, {NUM_POSE_BASIS})")
    posedirs = posedirs.reshape(n, 3, NUM_POSE_BASIS)
    j_regressor = np.asarray(j_regressor, dtype=np.float32)
    if j_regressor.shape != (NUM_JOINTS, n):
        raise fail(f"J_regressor has shape {j_regressor.shape}, expected ({NUM_JOINTS}, {n})")
    weights = np.asarray(weights, dtype=np.float32)
    if weights.shape != (n, NUM_JOINTS):
        raise fail(f"weights has shape {weights.shape}, expected ({n}, {NUM_JOINTS})")
    kintree = np.asarray(kintree).astype(np.int64)
    if kintree.shape != (2, NUM_JOINTS):
        raise fail(f"kintree_table has shape {kintree.shape}, expected (2, {NUM_JOINTS})")
    parents = kintree[0].copy()
    parents[kintree[1] == 0] = -1  # SMPL stores the root's parent as 2**32 - 1
    if not np.array_equal(kintree[1], np.arange(NUM_JOINTS)) or not np.array_equal(parents, SMPL_PARENTS):
        raise fail("its kinematic tree is not SMPL's 24-joint tree")
    kintree = np.stack([parents, kintree[1]])
    faces = np.asarray(faces).astype(np.int64)
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.min() < 0 or faces.max() >= n:
        raise fail(f"faces have shape {faces.shape} or reference missing vertices")
    mediapipe = np.asarray(mediapipe).astype(np.int32).reshape(-1)
    if mediapipe.shape != (NUM_MEDIAPIPE,) or mediapipe.max() >= n or mediapipe.min() < -1:
        raise fail("mediapipe_vertex_ids must hold 33 vertex ids (-1 where none)")
    bad = {k: i for k, i in extra.items() if not 0 <= i < n}
    if bad:
        raise fail(f"extra vertex ids out of range: {bad}")
    return BodyModelArrays(
        v_template=v_template, shapedirs=shapedirs, posedirs=posedirs, J_regressor=j_regressor,
        weights=weights, kintree_table=kintree, faces=faces.astype(np.int32),
        extra_vertex_ids=dict(extra), mediapipe_vertex_ids=mediapipe, model_id=model_id, meta=meta)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


__all__ = ["BodyModelArrays", "BodyModelError", "EXTRA_VERTEX_KEYS", "FREE_MODEL_PATH",
           "SMPL_EXTRA_VERTEX_IDS", "load_body_model_arrays", "shaped_rest"]
