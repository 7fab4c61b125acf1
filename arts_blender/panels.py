"""The Mocap tab in the 3D viewport's sidebar: video, options, progress, edit and export."""
from __future__ import annotations

import bpy

from . import export_presets, rig_builder
from .operators import draw_import_options
from .retarget_operators import draw_rows


class ARTS_PT_mocap(bpy.types.Panel):
    bl_label = "Video to SMPL"
    bl_idname = "ARTS_PT_mocap"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Mocap"

    def draw(self, context):
        settings = context.scene.arts_mocap
        layout = self.layout
        layout.prop(settings, "video_path")
        row = layout.row()
        row.enabled = not settings.running
        row.operator("arts.find_people", icon="COMMUNITY")
        draw_import_options(layout, settings)
        if settings.running:
            layout.progress(factor=settings.progress, text=settings.status or "Working…")
            layout.operator("arts.cancel_job", icon="CANCEL")
        else:
            op = layout.operator("arts.import_video", text="Import video as SMPL animation", icon="ARMATURE_DATA")
            op.use_panel_video = True
            if settings.status:
                box = layout.box()
                for line in _wrap(settings.status, 48):
                    box.label(text=line, icon="ERROR" if settings.status.startswith("Failed") else "NONE")
        layout.operator("arts.import_results", icon="FILE")


class ARTS_PT_edit(bpy.types.Panel):
    bl_label = "Edit and export"
    bl_idname = "ARTS_PT_edit"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Mocap"

    @classmethod
    def poll(cls, context):
        return rig_builder.arts_rig_of(context.active_object) is not None

    def draw(self, context):
        settings = context.scene.arts_mocap
        layout = self.layout
        col = layout.column()
        col.prop(settings, "smooth_preset")
        col.prop(settings, "smooth_selected_only")
        col.prop(settings, "smooth_use_range")
        row = col.row(align=True)
        row.enabled = settings.smooth_use_range
        row.prop(settings, "smooth_frame_start")
        row.prop(settings, "smooth_frame_end")
        col.operator("arts.smooth_keys", icon="SMOOTHCURVE")
        col.operator("arts.relock_feet", icon="SNAP_ON")
        col.separator()
        col.prop(settings, "retarget_target")
        draw_rows(col, settings)
        col.prop(settings, "retarget_in_place")
        col.operator("arts.retarget", icon="ARMATURE_DATA")
        col.separator()
        col.prop(settings, "export_target")
        col.prop(settings, "export_armature_name")
        fbx = settings.export_target in export_presets.FBX_PRESETS
        row = col.row()
        row.enabled = fbx  # the root bone, engine names and units are made for FBX engine exports
        row.prop(settings, "export_bone_naming")
        row = col.row()
        row.enabled = fbx
        row.prop(settings, "export_in_place")
        col.operator("arts.export", icon="EXPORT")


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


CLASSES = (ARTS_PT_mocap, ARTS_PT_edit)
