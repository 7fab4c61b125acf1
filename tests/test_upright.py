"""The lean a window is shown at after the test-time roll (bridge/upright.py): unchanged within the tolerance;
beyond it at the tolerance (the clamp), or with the ramp continuous in the body's tilt all the way round."""
from __future__ import annotations

import numpy as np
import pytest

from bridge.upright import body_tilt, roll_image_landmarks, upright_roll

SIZE = (640, 480)


def body_at(tilt_deg: np.ndarray) -> np.ndarray:
    """(B, 5, 33, 4) pixel landmarks of a still body 200 px tall whose ankles-to-shoulders line is turned
    tilt_deg from the image's up (positive: shoulders towards +x), around the image centre."""
    rng = np.random.default_rng(0)
    base = np.concatenate([rng.uniform(-60, 60, (33, 2)), np.ones((33, 2))], -1)
    base[[11, 12], :2] = [[-20, -100], [20, -100]]  # shoulders above...
    base[[27, 28], :2] = [[-15, 100], [15, 100]]  # ...the ankles
    base[:, :2] += 0.5 * np.asarray(SIZE)
    upright = np.repeat(base[None, None], 5, axis=1).repeat(len(tilt_deg), axis=0)
    return roll_image_landmarks(upright, np.radians(tilt_deg), SIZE)


def shown(tilt_deg: np.ndarray, tolerance: float, ramp: bool) -> np.ndarray:
    image = body_at(tilt_deg)
    return np.degrees(body_tilt(roll_image_landmarks(image, upright_roll(image, tolerance, ramp), SIZE)))


@pytest.mark.parametrize("ramp", [False, True])
@pytest.mark.parametrize("tolerance", [20.0, 45.0])
def test_a_body_within_the_tolerance_is_shown_as_it_is(tolerance, ramp):
    tilts = np.linspace(-tolerance + 0.5, tolerance - 0.5, 9)
    np.testing.assert_allclose(np.degrees(body_tilt(body_at(tilts))), tilts, atol=1e-6)
    np.testing.assert_array_equal(upright_roll(body_at(tilts), tolerance, ramp), 0.0)


@pytest.mark.parametrize("tolerance", [20.0, 45.0])
def test_the_clamp_shows_a_body_past_the_tolerance_at_it(tolerance):
    np.testing.assert_allclose(shown(np.array([90.0, -120.0, 179.9]), tolerance, ramp=False),
                               [tolerance, -tolerance, tolerance], atol=1e-6)


@pytest.mark.parametrize("tolerance", [20.0, 45.0])
def test_the_ramp_never_jumps_as_a_body_turns_a_full_circle(tolerance):
    # A cartwheel: the tilt goes round through upside down (179.9 is next to -179.9, where the sweep closes). The
    # clamp jumps there by 2 x tolerance; the ramp never steps by more than the tilt does.
    tilts = np.linspace(-179.9, 179.9, 3599)  # 0.1 degree steps

    def steps(lean):
        return np.abs(np.diff(np.append(lean, lean[0])))

    assert steps(shown(tilts, tolerance, ramp=False)).max() > 2 * tolerance - 1e-3
    lean = shown(tilts, tolerance, ramp=True)
    assert np.abs(lean).max() <= tolerance + 1e-6
    assert steps(lean).max() < 0.2
    np.testing.assert_allclose(shown(np.array([179.9, -179.9]), tolerance, True), [0.0, 0.0], atol=0.1)
    np.testing.assert_allclose(shown(np.array([90.0]), tolerance, True), [tolerance * 90 / (180 - tolerance)],
                               atol=1e-6)


@pytest.mark.parametrize("ramp", [False, True])
def test_a_tolerance_of_half_a_turn_or_more_never_rolls(ramp):
    np.testing.assert_allclose(upright_roll(body_at(np.array([120.0, -170.0])), 180.0, ramp), 0.0, atol=1e-12)
