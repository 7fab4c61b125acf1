"""Which bone of someone else's rig plays each ARTS (SMPL) bone: built-in presets, detection by bone names,
and shareable JSON presets. No bpy.

An ARTS rig's bones are named after the SMPL joint at their head, so "left_shoulder" is the upper arm,
"left_collar" the clavicle, "left_hip" the thigh, "left_ankle" the foot and "left_foot" the toes.
"left_hand"/"right_hand" (a bone past the wrist) and fingers, face and twist bones have no counterpart
and are left out. Rigify maps to its deform (DEF-) bones, and to the metarig's plain names for a metarig;
a generated Rigify rig is then keyed through its FK controls (RIGIFY_FK_CONTROLS, retarget/rigify.py),
which its deform bones follow.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

#: The ARTS bones a retarget carries, in an order where every parent comes first.
SOURCE_BONES: tuple[str, ...] = (
    "pelvis", "spine1", "spine2", "spine3", "neck", "head",
    "left_hip", "left_knee", "left_ankle", "left_foot", "right_hip", "right_knee", "right_ankle", "right_foot",
    "left_collar", "left_shoulder", "left_elbow", "left_wrist",
    "right_collar", "right_shoulder", "right_elbow", "right_wrist",
)
#: Bone roles in readable words (also the keys a user's JSON preset may use instead of SMPL names).
ROLES: dict[str, str] = {
    "pelvis": "hips", "spine1": "spine", "spine2": "chest", "spine3": "upper_chest", "neck": "neck",
    "head": "head", "left_hip": "left_thigh", "left_knee": "left_shin", "left_ankle": "left_foot",
    "left_foot": "left_toes", "right_hip": "right_thigh", "right_knee": "right_shin", "right_ankle": "right_foot",
    "right_foot": "right_toes", "left_collar": "left_clavicle", "left_shoulder": "left_upper_arm",
    "left_elbow": "left_forearm", "left_wrist": "left_hand", "right_collar": "right_clavicle",
    "right_shoulder": "right_upper_arm", "right_elbow": "right_forearm", "right_wrist": "right_hand",
}


def _sided(pattern: dict[str, str], left: str, right: str) -> dict[str, str]:
    """Expand {smpl 'side_x': target with '{s}'} to both sides."""
    out = {}
    for source, target in pattern.items():
        if source.startswith("side_"):
            out["left_" + source[5:]] = target.format(s=left)
            out["right_" + source[5:]] = target.format(s=right)
        else:
            out[source] = target
    return out


PRESETS: dict[str, dict[str, str]] = {
    "SMPL": {bone: bone for bone in SOURCE_BONES},
    "MIXAMO": _sided({
        "pelvis": "mixamorig:Hips", "spine1": "mixamorig:Spine", "spine2": "mixamorig:Spine1",
        "spine3": "mixamorig:Spine2", "neck": "mixamorig:Neck", "head": "mixamorig:Head",
        "side_hip": "mixamorig:{s}UpLeg", "side_knee": "mixamorig:{s}Leg", "side_ankle": "mixamorig:{s}Foot",
        "side_foot": "mixamorig:{s}ToeBase", "side_collar": "mixamorig:{s}Shoulder",
        "side_shoulder": "mixamorig:{s}Arm", "side_elbow": "mixamorig:{s}ForeArm", "side_wrist": "mixamorig:{s}Hand",
    }, "Left", "Right"),
    "UNREAL": _sided({
        "pelvis": "pelvis", "spine1": "spine_01", "spine2": "spine_02", "spine3": "spine_03", "neck": "neck_01",
        "head": "head", "side_hip": "thigh_{s}", "side_knee": "calf_{s}", "side_ankle": "foot_{s}",
        "side_foot": "ball_{s}", "side_collar": "clavicle_{s}", "side_shoulder": "upperarm_{s}",
        "side_elbow": "lowerarm_{s}", "side_wrist": "hand_{s}",
    }, "l", "r"),
    "UNITY": _sided({
        "pelvis": "Hips", "spine1": "Spine", "spine2": "Chest", "spine3": "UpperChest", "neck": "Neck",
        "head": "Head", "side_hip": "{s}UpperLeg", "side_knee": "{s}LowerLeg", "side_ankle": "{s}Foot",
        "side_foot": "{s}Toes", "side_collar": "{s}Shoulder", "side_shoulder": "{s}UpperArm",
        "side_elbow": "{s}LowerArm", "side_wrist": "{s}Hand",
    }, "Left", "Right"),
    "VRM": _sided({  # VRoid Studio's names, as Blender's VRM importer keeps them
        "pelvis": "J_Bip_C_Hips", "spine1": "J_Bip_C_Spine", "spine2": "J_Bip_C_Chest",
        "spine3": "J_Bip_C_UpperChest", "neck": "J_Bip_C_Neck", "head": "J_Bip_C_Head",
        "side_hip": "J_Bip_{s}_UpperLeg", "side_knee": "J_Bip_{s}_LowerLeg", "side_ankle": "J_Bip_{s}_Foot",
        "side_foot": "J_Bip_{s}_ToeBase", "side_collar": "J_Bip_{s}_Shoulder", "side_shoulder": "J_Bip_{s}_UpperArm",
        "side_elbow": "J_Bip_{s}_LowerArm", "side_wrist": "J_Bip_{s}_Hand",
    }, "L", "R"),
    "RIGIFY": _sided({  # the generated rig's deform bones
        "pelvis": "DEF-spine", "spine1": "DEF-spine.001", "spine2": "DEF-spine.002", "spine3": "DEF-spine.003",
        "neck": "DEF-spine.004", "head": "DEF-spine.006", "side_hip": "DEF-thigh.{s}", "side_knee": "DEF-shin.{s}",
        "side_ankle": "DEF-foot.{s}", "side_foot": "DEF-toe.{s}", "side_collar": "DEF-shoulder.{s}",
        "side_shoulder": "DEF-upper_arm.{s}", "side_elbow": "DEF-forearm.{s}", "side_wrist": "DEF-hand.{s}",
    }, "L", "R"),
    "RIGIFY_METARIG": _sided({
        "pelvis": "spine", "spine1": "spine.001", "spine2": "spine.002", "spine3": "spine.003",
        "neck": "spine.004", "head": "spine.006", "side_hip": "thigh.{s}", "side_knee": "shin.{s}",
        "side_ankle": "foot.{s}", "side_foot": "toe.{s}", "side_collar": "shoulder.{s}",
        "side_shoulder": "upper_arm.{s}", "side_elbow": "forearm.{s}", "side_wrist": "hand.{s}",
    }, "L", "R"),
}
#: A generated Rigify rig is moved through its FK controls (its deform bones follow them through constraints):
#: ORG bone (the full-length copy of a metarig bone, whose rest the motion is solved for) -> the control keyed.
#: spine.001 has no control of its own: the pelvis and it ride one FK control (Rigify's hip FK chain hangs
#: down from spine_fk.001), and its deform bone stretches from the hips' side to the chest's.
RIGIFY_FK_CONTROLS: dict[str, str] = {
    "ORG-spine": "spine_fk", "ORG-spine.002": "spine_fk.002", "ORG-spine.003": "spine_fk.003", "ORG-spine.004": "neck", "ORG-spine.006": "head",
    **{f"ORG-{part}.{s}": control.format(s=s) for s in ("L", "R") for part, control in (
        ("shoulder", "shoulder.{s}"), ("upper_arm", "upper_arm_fk.{s}"), ("forearm", "forearm_fk.{s}"),
        ("hand", "hand_fk.{s}"), ("thigh", "thigh_fk.{s}"), ("shin", "shin_fk.{s}"), ("foot", "foot_fk.{s}"),
        ("toe", "toe_fk.{s}"))},
}
#: Rigify's IK/FK switches (custom properties on these pose bones; 1.0 = FK), and the control that moves the body.
RIGIFY_FK_SWITCHES: tuple[str, ...] = ("upper_arm_parent.L", "upper_arm_parent.R", "thigh_parent.L", "thigh_parent.R")
RIGIFY_TORSO = "torso"
#: Bones a rig may lack and still use a preset (the mapping then skips them): toes, clavicles, upper chest.
OPTIONAL: frozenset[str] = frozenset({"left_foot", "right_foot", "left_collar", "right_collar", "spine3"})
#: Share of a preset's required bones a rig must have for the preset to be detected.
MIN_COVERAGE = 0.9


@dataclass
class Mapping:
    """source ARTS bone -> target bone name, for the bones the target has; `preset` names where it came from."""

    preset: str
    bones: dict[str, str]

    def missing(self) -> list[str]:
        """ARTS bones this mapping does not carry."""
        return [bone for bone in SOURCE_BONES if bone not in self.bones]

    def to_json(self) -> str:
        return json.dumps({"format": "arts-retarget-map/1", "preset": self.preset,
                           "bones": {ROLES[s]: t for s, t in self.bones.items()}}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Mapping:
        """A preset a user saved or wrote: keys are roles (hips, left_thigh, ...) or ARTS bone names."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != "arts-retarget-map/1":
            raise ValueError("not an ARTS retarget preset (format 'arts-retarget-map/1')")
        by_role = {role: bone for bone, role in ROLES.items()}
        bones = {}
        for key, target in dict(data.get("bones", {})).items():
            source = by_role.get(key, key)
            if source not in ROLES or not isinstance(target, str):
                raise ValueError(f"unknown bone role {key!r} in the preset; roles are {', '.join(ROLES.values())}")
            bones[source] = target
        return cls(preset=str(data.get("preset", "custom")), bones=bones)


def _bare(name: str) -> str:
    """'Armature|mixamorig:Hips', 'mixamorig1:Hips' or 'Character1:Hips' -> 'hips': the bone's own name, after
    any namespace (Mixamo numbers its namespace when a scene holds several of its characters), any case."""
    return name.split("|")[-1].split(":")[-1].lower()


def detect(bone_names: list[str]) -> Mapping | None:
    """The preset whose bone names the rig has, namespaces and case aside (best coverage of its required
    bones, at least MIN_COVERAGE), restricted to the bones present and naming them as the rig does; None when
    no preset fits (map by hand or by geometry)."""
    present = {_bare(n): n for n in bone_names}
    best, best_score = None, 0.0
    for name, preset in PRESETS.items():
        found = {s: present[_bare(t)] for s, t in preset.items() if _bare(t) in present}
        required = [s for s in preset if s not in OPTIONAL]
        score = sum(s in found for s in required) / len(required)
        if score > best_score:
            best, best_score = Mapping(preset=name, bones=found), score
    return best if best_score >= MIN_COVERAGE else None


def rigify_org_mapping(mapping: Mapping) -> Mapping:
    """A RIGIFY (deform-bone) mapping turned into the ORG bones its FK controls move."""
    org = {s: "ORG-" + t.removeprefix("DEF-") for s, t in mapping.bones.items()}
    return Mapping(preset="RIGIFY", bones={s: t for s, t in org.items() if t in RIGIFY_FK_CONTROLS})


def load(path: str | Path) -> Mapping:
    return Mapping.from_json(Path(path).read_text(encoding="utf-8"))


def save(mapping: Mapping, path: str | Path) -> None:
    Path(path).write_text(mapping.to_json() + "\n", encoding="utf-8")
