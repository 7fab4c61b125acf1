"""Mapping rigs whose bone names match no preset, by hierarchy and geometry: renamed Mixamo, Unreal, VRM and
Unity skeletons (A-posed, other proportions, twist bones) are mapped as their presets would map them."""
from __future__ import annotations

import numpy as np
import pytest

from arts_blender.retarget.guess import GuessError, _side_from_name, guess
from arts_blender.retarget.mapping import PRESETS
from arts_blender.retarget.solve import RigRest
from scripts.retarget_rigs import a_posed_rest, arts_rest


def scrambled(rest: RigRest, seed: int = 0) -> tuple[RigRest, dict[str, str]]:
    """The rig with meaningless bone names (bone_017, ...) in a shuffled order, and old name -> new name."""
    rng = np.random.default_rng(seed)
    names = list(rest.matrix)
    new = {old: f"bone_{i:03d}" for old, i in zip(names, rng.permutation(len(names)))}
    order = [names[i] for i in rng.permutation(len(names))]
    return RigRest(matrix={new[n]: rest.matrix[n] for n in order}, length={new[n]: rest.length[n] for n in order},
                   parent={new[n]: (new[rest.parent[n]] if rest.parent[n] else None) for n in order}), new


@pytest.mark.parametrize("preset", ["MIXAMO", "UNREAL", "VRM", "UNITY"])
def test_renamed_rigs_are_mapped_as_their_preset_would_be(preset):
    rig = a_posed_rest(arts_rest(), preset)
    renamed, new = scrambled(rig, seed=len(preset))
    mapping = guess(renamed)
    expected = {source: new[target] for source, target in PRESETS[preset].items()}
    assert mapping.preset == "GUESSED" and mapping.bones == expected


def test_the_arts_rig_itself_is_mapped_to_its_own_bones():
    mapping = guess(arts_rest())
    assert mapping.bones == {b: b for b in PRESETS["SMPL"]}


@pytest.mark.parametrize("name,side", [("thigh_l", "left"), ("LeftUpLeg", "left"), ("J_Bip_R_UpperLeg", "right"),
                                       ("upper_arm.L", "left"), ("Bip01 R Thigh", "right"), ("hand.R.001", "right"),
                                       ("spine_01", None), ("Hips", None), ("Pelvis", None), ("clavicle_r", "right")])
def test_sides_are_read_from_names(name, side):
    assert _side_from_name(name) == side


def test_a_chain_is_not_a_humanoid():
    eye = np.eye(4)
    matrices = {}
    for k in range(20):
        m = eye.copy()
        m[2, 3] = 0.1 * k
        matrices[f"b{k}"] = m
    chain = RigRest(matrix=matrices, length={n: 0.1 for n in matrices},
                    parent={f"b{k}": (f"b{k - 1}" if k else None) for k in range(20)})
    with pytest.raises(GuessError, match="map this rig by hand"):
        guess(chain)
    few = RigRest(matrix=dict(list(matrices.items())[:5]), length={f"b{k}": 0.1 for k in range(5)},
                  parent={f"b{k}": (f"b{k - 1}" if k else None) for k in range(5)})
    with pytest.raises(GuessError, match="too few"):
        guess(few)
