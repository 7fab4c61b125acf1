"""noise_calibration's whole-body turn: the per-clip part and the spread within a clip, in camera axes."""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from scripts.synth.noise_calibration import clip_turn


def _clip(turns_deg: np.ndarray, valid: np.ndarray | None = None) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    truth = np.broadcast_to(rng.uniform(-0.4, 0.4, (33, 3)), (len(turns_deg), 33, 3)).copy()
    world = np.einsum("fij,fnj->fni", Rotation.from_rotvec(np.deg2rad(turns_deg)).as_matrix(), truth)
    return {"mp_world": world.astype(np.float32), "mp_world_clean": truth.astype(np.float32),
            "valid": np.ones(len(turns_deg), bool) if valid is None else valid}


def test_a_held_heading_turn_is_all_per_clip():
    mean, spread = clip_turn(_clip(np.tile([0.0, 12.0, 0.0], (60, 1))))
    np.testing.assert_allclose(mean, [0.0, 12.0, 0.0], atol=1e-3)
    np.testing.assert_allclose(spread, 0.0, atol=1e-3)


def test_a_wandering_lean_is_spread_and_confusions_are_left_out():
    lean = np.zeros((80, 3))
    lean[:, 0] = 5.0 * np.sin(np.arange(80) / 5.0)
    lean[::10, 1] = 170.0  # depth mirrors or swaps: not a turn
    mean, spread = clip_turn(_clip(lean))
    assert abs(mean[0]) < 1.0 and 3.0 < spread[0] < 4.0 and spread[1] < 1e-3
    assert clip_turn(_clip(lean, valid=np.arange(80) < 19)) is None  # too few detected frames


def test_the_crop_views_turn_is_taken_out_of_real_clips_only():
    """A real clip whose world skeleton is the truth seen from a crop off to the side: in camera axes (as the
    network reads it) there is no turn left; a simulated clip is never turned."""
    from bridge.crop_view import LEAN_SHARE, ray_rotations
    from scripts.synth.clip_file import world_in_camera_axes

    clip = _clip(np.zeros((30, 3)))
    image = np.zeros((30, 33, 4), np.float32)
    image[:, :, :2] = [560.0, 300.0]  # hips (and all) 240 px right of centre, focal 500: a 26-degree ray
    view = ray_rotations(np.array([560.0, 300.0]), 500.0, (640, 480), lean_share=LEAN_SHARE)  # as MediaPipe's is
    crop = np.einsum("ji,fkj->fki", view, clip["mp_world_clean"])
    real = {**clip, "mp_world": crop.astype(np.float32), "mp_image": image, "focal_px": np.float32(500.0),
            "image_size": np.array([640, 480]), "landmark_source": np.array("mediapipe")}
    assert np.linalg.norm(clip_turn(real)[0]) > 20.0
    np.testing.assert_allclose(clip_turn(world_in_camera_axes(real))[0], 0.0, atol=1e-3)
    simulated = {**real, "landmark_source": np.array("simulated")}
    assert world_in_camera_axes(simulated) is simulated
