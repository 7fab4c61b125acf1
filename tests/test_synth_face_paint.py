"""Painted faces on the rendered body: the texture, where dress.py lays it, and how plans draw it."""
from __future__ import annotations

import dataclasses

import numpy as np

from bridge.keypoints import MEDIAPIPE_LANDMARK_NAMES
from scripts.synth.appearance import sample_appearance
from scripts.synth.dress import FACE, HAIR, SKIN, dress
from scripts.synth.face_paint import EYE_HALF_SPACING_M, EYE_TO_MOUTH_M, EYE_V, FACE_TILE_M, sample_face
from scripts.synth.landmarks import landmark_vertex_ids
from scripts.synth.textures import pattern_image


def _face(seed: int = 0):
    outfit = sample_appearance(np.random.default_rng([11, seed])).outfit
    return outfit, sample_face(np.random.default_rng(seed), outfit.skin, outfit.hair.colours[0], outfit.bald)


def _pixel(image: np.ndarray, x_m: float, y_m: float) -> np.ndarray:
    """The texture's colour at a point of the layout (metres from the eyes' midpoint)."""
    size = len(image)
    col = int((0.5 + x_m / FACE_TILE_M) * size)
    row = int((EYE_V + y_m / FACE_TILE_M) * size)
    return image[row, col, :3]


def test_face_texture_has_features_on_plain_skin():
    outfit, face = _face()
    image = pattern_image(face)
    assert image.shape[2] == 4 and image.dtype == np.float32 and 0.0 <= image.min() and image.max() <= 1.0
    np.testing.assert_array_equal(image, pattern_image(face))
    skin = np.asarray(outfit.skin.colours[0])
    border = np.concatenate([image[:4].reshape(-1, 4), image[-4:].reshape(-1, 4), image[:, :4].reshape(-1, 4),
                             image[:, -4:].reshape(-1, 4)])[:, :3]
    np.testing.assert_allclose(border.mean(axis=0), skin, atol=0.03)  # meets the rest of the skin
    # The irises are darker than the skin, the lips differ from it, the cheeks are skin.
    for side in (-1.0, 1.0):
        assert _pixel(image, side * EYE_HALF_SPACING_M, 0.0).mean() < 0.8 * skin.mean()
    assert np.abs(_pixel(image, 0.0, -EYE_TO_MOUTH_M + 0.004) - skin).max() > 0.05
    np.testing.assert_allclose(_pixel(image, 0.05, -0.04), skin, atol=0.1)
    others = {pattern_image(_face(k)[1]).tobytes() for k in range(1, 4)}
    assert len(others) == 3 and image.tobytes() not in others


def test_dress_lays_the_face_on_the_front_of_the_head_by_the_bodys_landmarks(free_body):
    outfit, face = _face()
    outfit = dataclasses.replace(outfit, bald=False)
    bare, painted = dress(free_body, outfit), dress(free_body, dataclasses.replace(outfit, face=face))
    assert not np.any(bare.face_region == FACE)
    assert painted.patterns[FACE] == face and bare.patterns[FACE] == outfit.skin
    changed = painted.face_region == FACE
    assert changed.sum() > 1000 and np.all(bare.face_region[changed] == SKIN)
    assert np.mean(bare.face_region[~changed] == painted.face_region[~changed]) > 0.999  # a seam's triangles
    assert np.any(painted.face_region == HAIR)
    mesh_faces = np.asarray(free_body.faces)
    dominant = np.asarray(free_body.weights).argmax(axis=1)
    assert np.all(dominant[mesh_faces[changed]].max(axis=1) <= 15)  # head (and neck) only
    # The body's eye landmarks sit where the texture paints the eyes.
    ids = landmark_vertex_ids(free_body)
    for name, x_m in (("left_eye", EYE_HALF_SPACING_M), ("right_eye", -EYE_HALF_SPACING_M)):
        vertex = ids[MEDIAPIPE_LANDMARK_NAMES.index(name)]
        corners = np.argwhere((mesh_faces[: len(changed)] == vertex) & changed[:, None])
        assert len(corners)
        uv = painted.loop_uv[corners[:, 0], corners[:, 1]].mean(axis=0)
        np.testing.assert_allclose(uv, (0.5 + x_m / FACE_TILE_M, EYE_V), atol=0.01)
    same = bare.face_region == painted.face_region
    np.testing.assert_array_equal(bare.loop_uv[same], painted.loop_uv[same])


def test_faces_change_nothing_else_about_a_plan(free_body):
    from scripts.synth import detected_clips

    bare = detected_clips.RunConfig(clips=1, seconds=1.0, seed=6)
    faces = dataclasses.replace(bare, face_share=0.5)
    before = [detected_clips.plan_clip(k, bare, []) for k in range(16)]
    after = [detected_clips.plan_clip(k, faces, []) for k in range(16)]
    assert all(p.appearance.outfit.face is None for p in before)
    painted = sum(p.appearance.outfit.face is not None for p in after)
    assert 3 <= painted <= 13
    unpainted = [dataclasses.replace(p, appearance=dataclasses.replace(
        p.appearance, outfit=dataclasses.replace(p.appearance.outfit, face=None))) for p in after]
    assert unpainted == before and [p.clip_id for p in after] == [p.clip_id for p in before]
    plain = dataclasses.replace(faces, look="plain")
    assert all(detected_clips.plan_clip(k, plain, []).appearance.outfit.face is None for k in range(4))
    defining = detected_clips.defining_settings(faces, free_body)
    assert defining["face_share"] == 0.5 and "face_share" not in detected_clips.defining_settings(bare, free_body)
    rebuilt = detected_clips.config_of(defining)
    assert rebuilt == dataclasses.replace(faces, clips=rebuilt.clips)
