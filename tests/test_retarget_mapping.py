"""Retarget bone mapping: presets, detection by bone names, JSON presets (no bpy)."""
from __future__ import annotations

import pytest

from arts_blender.retarget import mapping


@pytest.mark.parametrize("preset", sorted(mapping.PRESETS))
def test_each_preset_is_detected_from_its_own_names_with_extra_bones(preset):
    names = list(mapping.PRESETS[preset].values()) + ["finger_01_l", "twist_01", "eye.L", "root"]
    found = mapping.detect(names)
    assert found is not None and found.preset == preset and found.missing() == []


def test_a_rig_without_toes_or_clavicles_still_maps_and_says_what_it_lacks():
    names = [t for s, t in mapping.PRESETS["MIXAMO"].items() if s not in ("left_foot", "right_foot")]
    found = mapping.detect(names)
    assert found.preset == "MIXAMO" and found.missing() == ["left_foot", "right_foot"]
    assert found.bones["left_shoulder"] == "mixamorig:LeftArm"  # SMPL's 'shoulder' bone is the upper arm


@pytest.mark.parametrize("prefix", ["mixamorig1:", "Armature|mixamorig:", "Hero:", ""])
def test_namespaces_are_seen_through_and_the_rigs_own_names_are_kept(prefix):
    """Mixamo numbers its namespace when a scene holds several of its characters (mixamorig1:, ...); other
    exporters add their own. The preset is still found, and the mapping names the bones as the rig does."""
    names = [prefix + t.split(":")[-1] for t in mapping.PRESETS["MIXAMO"].values()]
    found = mapping.detect(names)
    assert found is not None and found.preset == "MIXAMO" and found.missing() == []
    assert found.bones["pelvis"] == prefix + "Hips" and set(found.bones.values()) <= set(names)


def test_unknown_rigs_are_not_forced_into_a_preset():
    assert mapping.detect(["Bone", "Bone.001", "Bone.002"]) is None


def test_presets_round_trip_through_json_by_role(tmp_path):
    found = mapping.detect(list(mapping.PRESETS["UNREAL"].values()))
    path = tmp_path / "mannequin.json"
    mapping.save(found, path)
    assert '"left_upper_arm": "upperarm_l"' in path.read_text()
    assert mapping.load(path) == found
    with pytest.raises(ValueError, match="unknown bone role 'tail'"):
        mapping.Mapping.from_json('{"format": "arts-retarget-map/1", "bones": {"tail": "tail_01"}}')
