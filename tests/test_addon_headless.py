"""The headless script's choice of preview frame: a detected frame near the middle, in scene frames."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.results import write_results
from tests.test_results import make_result

pytestmark = pytest.mark.blender


@pytest.fixture(scope="module")
def video_to_blend():
    from scripts import video_to_blend  # imports bpy

    return video_to_blend


def test_preview_skips_undetected_frames(video_to_blend, tmp_path) -> None:
    result = make_result(frames=7)
    result.valid = np.array([False, False, False, False, True, True, False])
    path = write_results(tmp_path / "clip.npz", result)
    assert video_to_blend.preview_frame(str(path), scene_fps=30.0) == (4, 14)  # frame_indices start at 10
    assert video_to_blend.preview_frame(str(path), scene_fps=60.0) == (8, 14)


def test_preview_falls_back_to_the_middle_when_nothing_was_detected(video_to_blend, tmp_path) -> None:
    result = make_result(frames=5)
    result.valid = np.zeros(5, dtype=bool)
    path = write_results(tmp_path / "clip.npz", result)
    assert video_to_blend.preview_frame(str(path), scene_fps=30.0) == (2, 12)


def test_headless_retarget_writes_the_characters_blend_and_fbx(video_to_blend, tmp_path) -> None:
    """`video_to_blend.py --results R --target-rig CHARACTER.blend`: both rigs in the .blend, the FBX of the
    character (a Mixamo-named rig in A-pose, turned and scaled as Mixamo imports)."""
    import addon_utils
    import bpy

    from addon_fixtures import clean_scene, known_clip
    from arts_blender.importer import ImportOptions, import_clip
    from arts_blender.retarget.bake import rig_rest
    from bridge import body_model
    from test_addon_retarget import OBJECT, build_armature
    from test_retarget_solve import a_posed_mixamo

    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    arrays = body_model.load_body_model_arrays()
    clean_scene(bpy)
    clip = known_clip(arrays, frames=6, source="dance.mp4")
    ref = import_clip(bpy.context, clip, ImportOptions(add_camera=False)).armature
    rest = a_posed_mixamo(rig_rest(ref))
    clean_scene(bpy)
    build_armature("hero", rest, OBJECT)
    character = tmp_path / "hero.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(character), copy=True)  # a separate file, as a user's is
    results = write_results(tmp_path / "dance.npz", clip)
    out = tmp_path / "out"
    assert video_to_blend.main(["--results", str(results), "--out", str(out), "--target-rig", str(character),
                                "--no-preview", "--export", "UNREAL"]) == 0
    assert (out / "dance_hero_unreal.fbx").stat().st_size > 1000
    bpy.ops.wm.open_mainfile(filepath=str(out / "dance.blend"))
    hero = bpy.data.objects["hero"]
    arts = next(o for o in bpy.data.objects if o.get("arts_rig"))
    assert hero.animation_data.action.get("arts_retarget_preset") == "MIXAMO"
    assert arts.animation_data.action.name == "dance"
