"""The retarget mapping in the panel: find it for the chosen character, edit its rows, save and load it as a
shareable JSON preset. The rows live in the scene settings (`retarget_map`), made for one character
(`retarget_map_for`); "Apply to character" uses them when they were made for the character it keys."""
from __future__ import annotations

import bpy
from bpy_extras.io_utils import ExportHelper, ImportHelper

from .retarget.mapping import ROLES, SOURCE_BONES, Mapping, load, save


def rows_mapping(settings) -> Mapping | None:
    """The panel's mapping when its rows were made for the chosen character, else None (detect anew)."""
    target = settings.retarget_target
    if target is None or not settings.retarget_map or settings.retarget_map_for != target.name:
        return None
    bones = {row.source: row.target for row in settings.retarget_map if row.target in target.data.bones}
    return Mapping(preset=settings.retarget_map_preset or "custom", bones=bones)


def fill_rows(settings, mapping: Mapping, target: bpy.types.Object) -> None:
    settings.retarget_map.clear()
    for source in SOURCE_BONES:
        row = settings.retarget_map.add()
        row.source, row.role, row.target = source, ROLES[source].replace("_", " "), mapping.bones.get(source, "")
    settings.retarget_map_for = target.name
    settings.retarget_map_preset = mapping.preset


class _CharacterChosen:
    @classmethod
    def poll(cls, context):
        return context.scene.arts_mocap.retarget_target is not None


class ARTS_OT_retarget_map_find(_CharacterChosen, bpy.types.Operator):
    """Find which of the character's bones plays each ARTS bone (by name presets, else by the skeleton's shape)"""

    bl_idname = "arts.retarget_map_find"
    bl_label = "Find bone mapping"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        from .retarget.bake import RetargetError, find_mapping

        settings = context.scene.arts_mocap
        try:
            mapping = find_mapping(settings.retarget_target)
        except RetargetError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        fill_rows(settings, mapping, settings.retarget_target)
        self.report({"INFO"}, f"{len(mapping.bones)} of {len(SOURCE_BONES)} bones mapped ({mapping.preset}); "
                              "check the rows and fix any by picking another bone")
        return {"FINISHED"}


class ARTS_OT_retarget_map_save(_CharacterChosen, ExportHelper, bpy.types.Operator):
    """Save the mapping rows as a JSON preset to share or reuse on other characters with these bone names"""

    bl_idname = "arts.retarget_map_save"
    bl_label = "Save mapping"
    filename_ext = ".json"
    filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context):
        mapping = rows_mapping(context.scene.arts_mocap)
        if mapping is None:
            self.report({"ERROR"}, "find or load a mapping for this character first")
            return {"CANCELLED"}
        save(mapping, self.filepath)
        self.report({"INFO"}, f"Saved {self.filepath}")
        return {"FINISHED"}


class ARTS_OT_retarget_map_load(_CharacterChosen, ImportHelper, bpy.types.Operator):
    """Load a JSON mapping preset into the rows for the chosen character"""

    bl_idname = "arts.retarget_map_load"
    bl_label = "Load mapping"
    filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context):
        settings = context.scene.arts_mocap
        try:
            mapping = load(self.filepath)
        except (OSError, ValueError) as exc:
            self.report({"ERROR"}, f"cannot read {self.filepath}: {exc}")
            return {"CANCELLED"}
        target = settings.retarget_target
        absent = [b for b in mapping.bones.values() if b not in target.data.bones]
        fill_rows(settings, mapping, target)
        if absent:
            self.report({"WARNING"}, f"'{target.name}' has no bone {', '.join(absent[:3])}"
                                     f"{' ...' if len(absent) > 3 else ''}: those rows are ignored")
        return {"FINISHED"}


def draw_rows(layout, settings) -> None:
    """The mapping rows under the character picker (when they were made for the chosen character)."""
    target = settings.retarget_target
    row = layout.row(align=True)
    row.operator("arts.retarget_map_find", icon="VIEWZOOM")
    row.operator("arts.retarget_map_load", text="", icon="FILEBROWSER")
    row.operator("arts.retarget_map_save", text="", icon="FILE_TICK")
    if target is None or settings.retarget_map_for != target.name or not settings.retarget_map:
        return
    box = layout.box()
    box.label(text=f"Bone mapping ({settings.retarget_map_preset})")
    for pair in settings.retarget_map:
        box.prop_search(pair, "target", target.data, "bones", text=pair.role)


CLASSES = (ARTS_OT_retarget_map_find, ARTS_OT_retarget_map_save, ARTS_OT_retarget_map_load)
