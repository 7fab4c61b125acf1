"""Which skeleton-motion format a file is, and reading any of them for `retarget_bvh`.

BVH files find their RigMap by joint names (`retarget.RIG_MAPS`); the CMU exp-map and DeepMimic text
files carry no names, so they are recognised by where they lie (their skeleton file two folders up, as in
../shared/motion) and come with their own RigMap. `retarget.py` imports this module inside its functions
because this module builds on its RigMap.
"""
from __future__ import annotations

from pathlib import Path

from .bvh import BvhMotion
from .deepmimic import DEEPMIMIC, character_for, read_character, read_deepmimic
from .expmap import EXPMAP_CMU, read_expmap, read_skeleton, skeleton_for
from .retarget import RetargetError, RigMap, read_motion_bvh

#: BVH files that hold a skeleton, not motion (cmu_dance_martial/standard_skeleton.bvh: 3 rest-pose frames).
SKELETON_ONLY_BVH = frozenset({"standard_skeleton.bvh"})


def text_format(path: Path) -> str | None:
    """'expmap' or 'deepmimic' for a `.txt` motion file beside its skeleton file, else None."""
    if skeleton_for(path) is not None:
        return "expmap"
    if character_for(path) is not None:
        return "deepmimic"
    return None


def is_motion_file(path: Path) -> bool:
    """A file `load_retargeted` reads: BVH (but skeleton-only ones), AMASS-style npz, exp-map or DeepMimic text."""
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        return path.name not in SKELETON_ONLY_BVH
    return suffix == ".npz" or text_format(path) is not None


def skeleton_file(path: Path) -> Path | None:
    """The separate skeleton file a motion file needs (exp-map, DeepMimic), or None."""
    return skeleton_for(path) or character_for(path)


def read_skeleton_motion(path: Path) -> tuple[BvhMotion, RigMap | None]:
    """A motion file as a skeleton motion and its RigMap (None: find it by joint names). Raises
    RetargetError (BvhError for a malformed BVH) naming the file when it cannot be read."""
    skeleton = skeleton_for(path)
    if skeleton is not None:
        return read_expmap(path, read_skeleton(skeleton)), EXPMAP_CMU
    character = character_for(path)
    if character is not None:
        return read_deepmimic(path, read_character(character)), DEEPMIMIC
    if path.suffix.lower() != ".bvh":
        raise RetargetError(f"{path}: neither BVH nor an exp-map or DeepMimic file beside its skeleton file")
    return read_motion_bvh(path), None
