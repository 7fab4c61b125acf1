"""Test-time roll towards upright: a window whose body lies far from upright in the picture (a cartwheel, a
flip, a handstand) is shown to the network as a camera rolled about its optical axis would have seen it, with
the body brought to within UPRIGHT_TOLERANCE_DEG of upright, and the answer is rolled back.

Why: training cameras roll a few degrees and the bodies mostly stand, so a body upside down in the picture is
far outside what the network has seen (the flips and cartwheels of the unseen kinds scored 160-210 mm), while
the same pose through a rolled camera is not. Rolling a camera turns pixel landmarks about the principal point
(the image centre) and camera-axes points and orientations about the optical axis z; the network's answer
for the rolled view, rolled back, answers the real view. The body's direction is its feet-to-shoulders line
(ankles' midpoint to shoulders' midpoint), which leans far less than the trunk when someone bends over: on the
rendered evaluation sets only the flips and cartwheels went past the tolerance (every other clip's result was
unchanged). Only the excess is rolled, so windows either side of the tolerance do not jump.

Beyond the tolerance there are two ways (the network's ArtsConfig.upright_ramp says which it trained with). The
clamp (every network before session 44) shows the body at the tolerance; a body passing through upside down is
then shown leaning one way and, a frame later, the other (2 x tolerance apart), and the answers jump with it. The
ramp shows a lean falling linearly from the tolerance back to 0 at upside down, continuous all the way round.
With the session-43 network, trained on clamped windows, the ramp lowered Accel on the unseen-kinds cartwheel clip
from 48.9 to 42.3 mm/frame^2 and on the tumbled choosing set from 31.8 to 30.8, but cost 0.9 mm MPJPE-14 there:
it is for networks trained on ramped windows.

The tolerance is the network's (ArtsConfig.upright_tolerance_deg: 45 for networks trained on windows as they
come); one trained with scripts/train_arts.py --upright-windows saw every training window rolled this same way,
so it is only ever shown bodies within its tolerance of upright. numpy.
"""
from __future__ import annotations

import numpy as np

#: The tolerance of every network trained on windows as they come (ArtsConfig's default).
UPRIGHT_TOLERANCE_DEG = 45.0
#: MediaPipe landmarks: shoulders and ankles (left, right).
SHOULDERS, ANKLES = (11, 12), (27, 28)
#: Frames either side of the window's mid frame whose body direction is averaged.
DIRECTION_HALF_SPAN = 2


def roll_matrix(angle_rad: np.ndarray | float) -> np.ndarray:
    """(..., 3, 3) rotations about the camera's z axis (x right, y down: a positive angle turns x towards y)."""
    angle = np.asarray(angle_rad, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(angle), np.ones_like(angle)
    return np.stack([np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)], -2)


def body_tilt(image_landmarks: np.ndarray) -> np.ndarray:
    """(B, T, 33, C>=2) pixel landmarks -> (B,) angle (rad, in (-pi, pi]) of each window's feet-to-shoulders
    line from the image's up, around its mid frame; positive where the shoulders lean towards +x."""
    mid = image_landmarks.shape[1] // 2
    span = image_landmarks[:, max(mid - DIRECTION_HALF_SPAN, 0):mid + DIRECTION_HALF_SPAN + 1]
    up = (span[:, :, list(SHOULDERS), :2].mean(axis=2) - span[:, :, list(ANKLES), :2].mean(axis=2)).sum(axis=1)
    return np.arctan2(up[:, 0], -up[:, 1])


def upright_roll(image_landmarks: np.ndarray, tolerance_deg: float, ramp: bool = False) -> np.ndarray:
    """(B,) camera roll (rad) that brings each window's body to within `tolerance_deg` of upright (0 inside it):
    to the tolerance, or with `ramp` to a lean falling to 0 at upside down.

    A network is answered as it was trained (ArtsConfig.upright_tolerance_deg, ArtsConfig.upright_ramp)."""
    tilt = body_tilt(np.asarray(image_landmarks, dtype=np.float64))
    tolerance = np.radians(tolerance_deg)
    if not ramp or tolerance >= np.pi:
        return np.clip(tilt, -tolerance, tolerance) - tilt
    lean = np.abs(tilt)
    return np.where(lean <= tolerance, tilt, np.sign(tilt) * tolerance * (np.pi - lean) / (np.pi - tolerance)) - tilt


def roll_image_landmarks(image_landmarks: np.ndarray, angles: np.ndarray, image_size: tuple[int, int]
                         ) -> np.ndarray:
    """(B, T, 33, C) pixel landmarks as the camera rolled by (B,) angles sees them (about the image centre)."""
    centre = 0.5 * np.asarray(image_size, dtype=np.float64)
    turn = roll_matrix(angles)[:, None, :2, :2]  # (B, 1, 2, 2)
    out = np.array(image_landmarks, dtype=np.float64, copy=True)
    out[..., :2] = np.einsum("btij,btkj->btki", turn, out[..., :2] - centre) + centre
    return out.astype(np.asarray(image_landmarks).dtype)


def roll_points(points: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(B, ..., 3) camera-axes points (or directions) turned by (B,) roll angles."""
    turn = roll_matrix(angles).reshape((len(angles),) + (1,) * (np.ndim(points) - 2) + (3, 3))
    return np.einsum("b...ij,b...j->b...i", turn, points).astype(np.asarray(points).dtype)
