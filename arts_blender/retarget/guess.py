"""Map a humanoid rig whose bone names match no preset, by its hierarchy and rest geometry (no bpy).

A humanoid skeleton branches three ways at the hips (two legs down, the spine up) and three ways again at
the chest (two arms out, the neck up). From the rest pose:
- the spine is the chain from the hips that branches again (the chest); up is from the hips to the chest;
- the legs are the two longest chains that leave the hips downwards; the neck is the chest's branch that
  goes most upwards, the arms the two others;
- along a chain, the continuation is the child with the deepest subtree, so twist, roll and helper bones
  hanging off a limb are skipped, and bones too short to be a limb segment (under 2 % of the height) are
  merged into the next;
- left and right come from the names when they say (".L", "_l", "Left", "L_", ...), else from the side
  of the body the chain is on, taking the rig to face -Y as Blender's characters do (its left is +X).
The result is a Mapping with preset "GUESSED"; the panel shows it for the user to check and save.
"""
from __future__ import annotations

import re

import numpy as np

from .mapping import Mapping
from .solve import RigRest

#: Bones shorter than this share of the body's height are not limb segments (end, helper or offset bones).
MIN_SEGMENT = 0.02
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


class GuessError(ValueError):
    """The rig does not look like a humanoid; the message says what was missing."""


def _side_from_name(name: str) -> str | None:
    """'left', 'right' or None from a bone name's words (thigh_l, LeftUpLeg, J_Bip_R_UpperLeg, Bip01 L Thigh)."""
    words = {w.lower() for part in re.split(r"[._\-\s:|]+", name) for w in _WORDS.findall(part)}
    left, right = bool(words & {"l", "left"}), bool(words & {"r", "right"})
    return "left" if left and not right else "right" if right and not left else None


def _children(rest: RigRest) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {name: [] for name in rest.matrix}
    for name, parent in rest.parent.items():
        if parent is not None:
            out[parent].append(name)
    return out


def _depths(rest: RigRest, children: dict[str, list[str]]) -> dict[str, float]:
    """Longest head-to-leaf distance below each bone (its subtree's reach)."""
    out: dict[str, float] = {}
    for name in reversed(rest.order()):
        head = rest.matrix[name][:3, 3]
        out[name] = max((np.linalg.norm(rest.matrix[c][:3, 3] - head) + out[c] for c in children[name]),
                        default=rest.length[name])
    return out


def _chain(start: str, children: dict[str, list[str]], depth: dict[str, float]) -> list[str]:
    """`start` and its deepest descendants, one per generation."""
    chain = [start]
    while children[chain[-1]]:
        chain.append(max(children[chain[-1]], key=lambda c: depth[c]))
    return chain


def _segments(chain: list[str], rest: RigRest, height: float) -> list[str]:
    """The bones of a chain long enough to be limb segments."""
    return [b for b in chain if rest.length[b] >= MIN_SEGMENT * height]


def _branch_point(start: str, children: dict[str, list[str]], depth: dict[str, float], reach: float) -> str | None:
    """The first bone from `start` down its deepest chain with three children reaching further than `reach`."""
    for bone in _chain(start, children, depth):
        if len([c for c in children[bone] if depth[c] > reach]) >= 3:
            return bone
    return None


def guess(rest: RigRest) -> Mapping:
    """The ARTS bone -> target bone mapping of an unknown humanoid rig (see the module docstring)."""
    if len(rest.matrix) < 15:
        raise GuessError(f"{len(rest.matrix)} bones are too few for a humanoid's legs, spine and arms")
    children = _children(rest)
    depth = _depths(rest, children)
    heads = {n: m[:3, 3] for n, m in rest.matrix.items()}
    height = float(np.ptp(np.array(list(heads.values())), axis=0).max())
    roots = [n for n, p in rest.parent.items() if p is None]
    if not roots:
        raise GuessError("the rig has no root bone")
    hips = _branch_point(max(roots, key=lambda r: depth[r]), children, depth, 0.25 * height)
    if hips is None:
        raise GuessError("no bone branches into two legs and a spine; map this rig by hand")
    branches = [c for c in children[hips] if depth[c] > 0.25 * height]
    chests = {c: _branch_point(c, children, depth, 0.05 * height) for c in branches}
    spine_root = next((c for c in branches if chests[c] is not None), None)
    if spine_root is None:
        raise GuessError("no chain from the hips branches into two arms and a neck; map this rig by hand")
    chest = chests[spine_root]
    up = heads[chest] - heads[hips]
    up /= np.linalg.norm(up)
    legs = sorted((c for c in branches if c != spine_root
                   and (heads[_chain(c, children, depth)[-1]] - heads[hips]) @ up < 0), key=lambda c: -depth[c])[:2]
    if len(legs) < 2:
        raise GuessError("fewer than two chains go down from the hips; map this rig by hand")
    bones = {"pelvis": hips}
    _assign_limbs(bones, [_chain(c, children, depth) for c in legs], ("hip", "knee", "ankle", "foot"), rest, heads,
                  hips, height)
    spine = []
    bone = spine_root
    while bone != chest:
        spine.append(bone)
        bone = max(children[bone], key=lambda c: depth[c])
    for name, segment in zip(("spine1", "spine2"), _segments(spine, rest, height)):
        bones[name] = segment
    bones["spine3"] = chest
    out = [c for c in children[chest] if depth[c] > 0.05 * height]
    neck_root = max(out, key=lambda c: _unit(heads[_chain(c, children, depth)[-1]] - heads[chest]) @ up)
    neck_chain = _chain(neck_root, children, depth)
    neck = next((b for b in neck_chain if rest.length[b] >= MIN_SEGMENT * height), neck_chain[0])
    bones["neck"] = neck
    after = neck_chain[neck_chain.index(neck) + 1:]
    bones["head"] = after[0] if after else neck  # the head may be a short bone; what follows it is an end bone
    arm_roots = sorted((c for c in out if c != neck_root), key=lambda c: -depth[c])[:2]
    if len(arm_roots) < 2:
        raise GuessError("the chest has fewer than two arm chains; map this rig by hand")
    _assign_limbs(bones, [_chain(c, children, depth) for c in arm_roots], ("collar", "shoulder", "elbow", "wrist"),
                  rest, heads, chest, height)
    return Mapping(preset="GUESSED", bones=bones)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _assign_limbs(bones: dict[str, str], chains: list[list[str]], joints: tuple[str, str, str, str], rest: RigRest,
                  heads: dict[str, np.ndarray], origin: str, height: float) -> None:
    """Name two limb chains left and right and map their segments to `joints` (arms: a clavicle only when the
    chain has four segments; legs: toes only then)."""
    sides = [_side_from_name(" ".join(ch[:3])) for ch in chains]
    if sorted(s or "" for s in sides) != ["left", "right"]:
        x = [float(np.mean([heads[b][0] for b in ch]) - heads[origin][0]) for ch in chains]
        sides = ["left", "right"] if x[0] > x[1] else ["right", "left"]
    for side, chain in zip(sides, chains):
        segments = _segments(chain, rest, height)
        arm = joints[0] == "collar"
        names = joints if len(segments) >= 4 else (joints[1:] if arm else joints[:3])
        for joint, bone in zip(names, segments):
            bones[f"{side}_{joint}"] = bone
