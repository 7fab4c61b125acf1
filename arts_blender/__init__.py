"""ARTS Mocap: turn a video of a person into an editable, animated SMPL rig.

The add-on never imports torch: it drives the bridge process (`python -m bridge serve`, in its own Python
environment) and reads the results file it writes. Extension metadata lives in blender_manifest.toml.
The bpy modules are imported in register() only, so the pure ones (rig_math, keyframes, bridge_client,
export_presets) import anywhere, e.g. in tests and build scripts without Blender.
"""
from __future__ import annotations


def _modules():
    from . import operators, panels, preferences, properties, retarget_operators
    return operators, panels, preferences, properties, retarget_operators


def register() -> None:
    import bpy
    operators, panels, preferences, properties, retarget_operators = _modules()
    for cls in (*preferences.CLASSES, *properties.CLASSES, *operators.CLASSES, *retarget_operators.CLASSES,
                *panels.CLASSES):
        bpy.utils.register_class(cls)
    preferences.register_properties()
    properties.register_properties()
    bpy.types.TOPBAR_MT_file_import.append(operators.menu_import)


def unregister() -> None:
    import bpy
    operators, panels, preferences, properties, retarget_operators = _modules()
    bpy.types.TOPBAR_MT_file_import.remove(operators.menu_import)
    properties.unregister_properties()
    preferences.unregister_properties()
    for cls in reversed((*preferences.CLASSES, *properties.CLASSES, *operators.CLASSES, *retarget_operators.CLASSES,
                         *panels.CLASSES)):
        bpy.utils.unregister_class(cls)
