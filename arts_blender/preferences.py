"""Add-on preferences: the bridge's Python interpreter (or the private environment), device, body model, checkpoint."""

from pathlib import Path

import bpy

from .env_setup import venv_python

ADDON_ID = __package__


def user_dir(*parts: str) -> Path:
    """A folder the add-on may write to: the extension's user directory, or Blender's user config for a
    source checkout enabled as a legacy add-on."""
    try:
        base = Path(bpy.utils.extension_path_user(ADDON_ID, create=True))
    except (ValueError, AttributeError):
        base = Path(bpy.utils.user_resource("CONFIG", path="arts_mocap", create=True))
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


class ArtsPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    python_path: bpy.props.StringProperty(
        name="Bridge Python", subtype="FILE_PATH",
        description="Python 3.11 interpreter with the bridge's requirements installed. Leave empty to use the "
                    "private environment this add-on creates")
    env_dir: bpy.props.StringProperty(
        name="Private environment", subtype="DIR_PATH",
        description="Where 'Create private environment' installs the bridge (empty: the add-on's user folder)")
    wheels_dir: bpy.props.StringProperty(
        name="Offline packages", subtype="DIR_PATH",
        description="A folder made by scripts/build_bridge_pack.py for this platform and Blender's Python: "
                    "the environment is then created without network access (empty: download, or the "
                    "folder bundled in a platform build of the extension)")
    device: bpy.props.EnumProperty(
        name="Device", default="AUTO",
        items=[("AUTO", "Automatic", "CUDA when the bridge finds a GPU, else CPU"),
               ("CPU", "CPU", "Always run the model on the CPU"),
               ("CUDA", "CUDA", "Run the model on an NVIDIA GPU (the environment needs a CUDA torch build)")])
    body_model_path: bpy.props.StringProperty(
        name="Body model", subtype="FILE_PATH",
        description="Empty: the bundled free body model. Or your own SMPL_NEUTRAL.pkl (SMPL's licence applies)")
    threads: bpy.props.IntProperty(
        name="CPU threads", min=0, max=256, default=0,
        description="Threads the bridge may use, for its model and for finding the person in several parts of "
                    "a long video at once; 0: the CPUs it may run on. Fewer keeps Blender and other jobs "
                    "responsive while it works")
    checkpoint_path: bpy.props.StringProperty(
        name="Checkpoint", subtype="FILE_PATH",
        description="Empty: the bundled ARTS model. Or a checkpoint file made by the project's training script")

    def environment_dir(self) -> Path:
        return Path(bpy.path.abspath(self.env_dir)) if self.env_dir else user_dir("bridge_env")

    def draw(self, context):
        layout = self.layout
        col = layout.column()
        col.prop(self, "python_path")
        row = col.row(align=True)
        row.prop(self, "env_dir")
        col.prop(self, "wheels_dir")
        env_python = venv_python(self.environment_dir())
        box = col.box()
        if self.python_path:
            box.label(text=f"Using {self.python_path}", icon="CHECKMARK")
        elif env_python.exists():
            box.label(text=f"Private environment ready: {env_python}", icon="CHECKMARK")
        else:
            online = getattr(bpy.app, "online_access", True)
            box.label(text="No bridge environment yet: create one "
                      + ("(downloads about 1 GB of packages)" if online else "from an offline package folder"),
                      icon="ERROR")
        state = context.window_manager.arts_env_setup
        if state.running:
            box.progress(factor=state.progress, text=state.status or "Installing…")
        else:
            box.operator("arts.setup_environment", icon="CONSOLE")
            if state.status:
                box.label(text=state.status)
        col.prop(self, "device")
        col.prop(self, "threads")
        col.prop(self, "body_model_path")
        col.prop(self, "checkpoint_path")


class ArtsEnvSetupState(bpy.types.PropertyGroup):
    """Progress of 'Create private environment' (window-manager level: not saved in .blend files)."""

    running: bpy.props.BoolProperty(default=False)
    progress: bpy.props.FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    status: bpy.props.StringProperty(default="")


def get_prefs(context=None) -> ArtsPreferences:
    context = context or bpy.context
    addon = context.preferences.addons.get(ADDON_ID)
    if addon is None:
        raise RuntimeError(f"the add-on '{ADDON_ID}' is not enabled; enable it in Preferences > Add-ons")
    return addon.preferences


def resolve_python(prefs: ArtsPreferences) -> str:
    """The interpreter that runs the bridge; a clear error when there is none yet."""
    if prefs.python_path:
        path = Path(bpy.path.abspath(prefs.python_path))
        if not path.is_file():
            raise RuntimeError(f"the bridge Python '{path}' does not exist; fix it in the add-on preferences")
        return str(path)
    env_python = venv_python(prefs.environment_dir())
    if not env_python.exists():
        raise RuntimeError("no bridge environment: open Preferences > Add-ons > ARTS Mocap and click "
                           "'Create private environment', or set 'Bridge Python' to an interpreter that has "
                           "the bridge's requirements")
    return str(env_python)


CLASSES = (ArtsEnvSetupState, ArtsPreferences)


def register_properties() -> None:
    bpy.types.WindowManager.arts_env_setup = bpy.props.PointerProperty(type=ArtsEnvSetupState)


def unregister_properties() -> None:
    del bpy.types.WindowManager.arts_env_setup
