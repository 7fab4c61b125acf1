"""Re-applying foot lock in Blender after a hand edit: the planted foot is pinned again, only the legs' keys in
the range change, and a rig without contacts is refused with the reason."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import addon_utils  # noqa: E402

from addon_fixtures import clean_scene, known_clip  # noqa: E402
from arts_blender import foot_relock  # noqa: E402
from arts_blender.importer import ImportOptions, import_clip  # noqa: E402
from arts_blender.keyframe_writer import fcurves_of, read_channel  # noqa: E402
from bridge import body_model  # noqa: E402

pytestmark = pytest.mark.blender
FRAMES = 16


def ankle_path(armature, side: str, frames) -> np.ndarray:
    scene = bpy.context.scene
    out = []
    for frame in frames:
        scene.frame_set(frame)
        out.append(np.array(armature.pose.bones[f"{side}_ankle"].head))
    return np.array(out)


@pytest.fixture()
def imported():
    addon_utils.enable("arts_blender", default_set=True, handle_error=None)
    arrays = body_model.load_body_model_arrays()
    clean_scene(bpy)
    clip = known_clip(arrays, frames=FRAMES, pose_scale=0.15)
    contacts = np.zeros((FRAMES, 4), np.float32)
    contacts[3:12, 0:2] = 1.0  # the left foot planted from frame 3 to 11
    return import_clip(bpy.context, dataclasses.replace(clip, contacts=contacts), ImportOptions(add_camera=False))


def test_an_edited_leg_is_pinned_again_and_nothing_else_changes(imported):
    rig = imported.armature
    start = imported.frame_start
    fcurves = fcurves_of(rig)
    # The animator's edit: the pelvis swings sideways through the contact, dragging the planted foot along.
    for i in range(3):
        curve = fcurves.find('pose.bones["pelvis"].location', index=i)
        keys = curve.keyframe_points
        for k, key in enumerate(keys):
            key.co[1] += 0.08 * np.sin(k / 3.0) * (i == 0)
        curve.update()
    contact = range(start + 4, start + 11)
    assert np.ptp(ankle_path(rig, "left", contact), axis=0).max() > 0.03
    untouched = {(fc.data_path, fc.array_index): read_channel(fc)[1].copy() for fc in fcurves
                 if not any(f'"{b}"' in fc.data_path for b in foot_relock.LEG_BONES)}
    planted = foot_relock.relock_feet(rig, (imported.frame_start, imported.frame_end), imported.fps)
    assert planted == 9
    # within a few mm: a nearly straight leg reaches softly (bridge.foot_lock.MAX_REACH), the hips stay put
    assert np.ptp(ankle_path(rig, "left", contact), axis=0).max() < 0.005
    for fc in fcurves_of(rig):
        key = (fc.data_path, fc.array_index)
        if key in untouched:
            np.testing.assert_array_equal(read_channel(fc)[1], untouched[key])


def test_a_rig_without_contacts_is_refused(imported):
    rig = imported.armature
    for fc in [fc for fc in fcurves_of(rig) if "arts_contact" in fc.data_path]:
        fcurves_of(rig).remove(fc)
    with pytest.raises(ValueError, match="no foot contacts"):
        foot_relock.relock_feet(rig, (imported.frame_start, imported.frame_end), imported.fps)
