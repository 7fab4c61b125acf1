"""A detector-error model that turns clean landmarks into what MediaPipe's PoseLandmarker reports.

Real detections differ from the truth in structured ways, and a lifter trained on clean input fails on them.
Modelled here, per clip:
- systematic image offsets the real detector makes on every body (hips higher and closer together, elbows
  and wrists nearer the midline, shins and feet shorter), as fractions of the 2D torso length;
- gaussian jitter scaled with the person's size in the image, larger for hands and feet and for occluded
  landmarks, plus a larger, slow drift (AR(1)) per landmark and for the whole body: real MediaPipe output
  errs mostly slowly (its frame-to-frame jitter is about a tenth of its total error; noise_calibration.py);
- single landmarks that are lost for a few frames (a wild guess with low visibility);
- left/right swaps of an arm, a leg or the whole body for a few frames (more likely when the person shows
  the camera their back or side);
- whole frames with no detection (bursts; certain when most of the body is out of the image or behind the
  camera), filled by linear interpolation and flagged invalid, as the bridge fills them;
- truncation: landmarks outside the image are still predicted (MediaPipe extrapolates) but noisier and with
  low presence;
- world landmarks with depth noise larger than lateral noise, a large slow pose error, a per-clip scale that
  is too small on average, depth flattened towards the image plane, the same swaps, and bursts where the
  limbs' depth is reflected about the hips
  (the image cannot tell a limb reaching towards the camera from one reaching away);
- visibility and presence confidences that fall with occlusion, truncation and the error actually made.
numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter
from scipy.spatial.transform import Rotation

from bridge.keypoints import (MEDIAPIPE_FLIP, MEDIAPIPE_SIDE, NUM_MEDIAPIPE, mediapipe_body_frame_2d,
                             mediapipe_limb_directions)

#: Base 2D jitter per landmark as a fraction of the person's size in the image (bounding-box height).
_FACE, _TORSO, _MID, _END, _HAND = 0.008, 0.010, 0.0115, 0.0135, 0.022
JITTER_FRACTION = np.array(
    [_FACE] * 11 + [_TORSO, _TORSO, _MID, _MID, _END, _END] + [_HAND] * 6
    + [_TORSO, _TORSO, _MID, _MID, _END, _END, _END, _END, _END, _END])
#: Weight of the slow 3D pose error per landmark (NoiseConfig.world_pose_error_m): torso 0.3, face 0.7,
#: elbows and knees 1.05, wrists and ankles 1.6, hands, heels and toes 2.3 (the further down a limb, the larger;
#: fitted with the whole-body turn (world_turn_*) so each group's median world error, turn included, matches
#: MediaPipe's on detected_clips.py's clips within 5 %; the turn carries much of the torso's error).
WORLD_POSE_ERROR_WEIGHT = np.array([0.7] * 11 + [0.3, 0.3, 1.05, 1.05, 1.6, 1.6] + [2.3] * 6
                                   + [0.3, 0.3, 1.05, 1.05, 1.6, 1.6] + [2.3] * 4)


def _per_landmark(values: dict[tuple[int, ...], float]) -> np.ndarray:
    table = np.zeros(NUM_MEDIAPIPE)
    for landmarks, value in values.items():
        table[list(landmarks)] = value
    return table


#: Systematic image offsets of MediaPipe against the clean landmarks, fractions of the 2D torso length (hip
#: midpoint to shoulder midpoint), rounded from eval_rendered.py's calibration tables on both rendered sets
#: (2,200-2,750 frames per group each, the two sets agreeing within about 1 %): up = towards the shoulders;
#: out = away from the body's midline; limb = along parent -> landmark.
BIAS_UP = _per_landmark({(23, 24): 0.035})
BIAS_OUT = _per_landmark({(23, 24): -0.035, (11, 12): -0.015, (13, 14, 15, 16): -0.025})
BIAS_LIMB = _per_landmark({(13, 14): -0.03, (27, 28, 29, 30): -0.04, (31, 32): -0.06})
#: Landmark groups that swap sides together: left arm, left leg (the right side follows by MEDIAPIPE_FLIP).
_LEFT_ARM = (11, 13, 15, 17, 19, 21)
_LEFT_LEG = (23, 25, 27, 29, 31)


@dataclass(frozen=True)
class NoiseConfig:
    """Rates and scales of the error model. The defaults were fitted to MediaPipe Pose "full" on rendered clips
    with random looks (noise_calibration.py against detected_clips.py; the table is in README.md): errors
    mostly slow (jitter about a tenth of the total), world depth flattened, left/right confusions in a few
    per cent of frames, most of them in a few clips where they last for seconds."""

    jitter_scale: float = 0.12  # multiplies JITTER_FRACTION (frame-to-frame jitter)
    difficulty_sigma: float = 0.35  # log-normal spread of a per-clip noise multiplier
    drift_ratio: float = 9.5  # stationary std of the AR(1) drift relative to the jitter
    drift_rho: tuple[float, float] = (0.96, 0.995)  # AR(1) coefficient range per clip
    body_drift_fraction: float = 0.006  # whole-body drift, fraction of person size
    lost_landmark_rate: float = 0.002  # per landmark and frame: a loss starts (x4 when occluded)
    lost_landmark_frames: float = 4.0  # mean length of a loss
    swap_rate_per_s: float = 0.10  # left/right swaps starting per second (x4 when back- or side-on)
    swap_frames: tuple[int, int] = (2, 12)
    long_swap_share: float = 0.3  # share of swaps that last long (real ones can hold for seconds)
    long_swap_frames: float = 60.0  # mean length of a long swap
    depth_flip_rate_per_s: float = 0.05  # world-landmark depth reflections starting per second (x4 back/side-on)
    depth_flip_frames: float = 12.0  # mean length of a reflection
    miss_rate: float = 0.004  # per frame: a run of missed frames starts
    miss_frames: float = 4.0  # mean length of a run
    world_lateral_m: float = 0.0015  # world-landmark jitter std across the image plane
    world_depth_m: float = 0.003  # world-landmark jitter std along the viewing axis
    world_scale_mean: float = 0.95  # MediaPipe's world skeletons are a little smaller than the rendered bodies
    world_scale_sigma: float = 0.08  # per-clip log-normal spread of that scale
    #: Slow per-landmark error of MediaPipe's 3D pose estimate (std, m, across the image plane; twice that in
    #: depth; times WORLD_POSE_ERROR_WEIGHT). Real world landmarks on rendered video sit 6 cm (torso) to
    #: 19 cm (hands, feet) from the truth, almost all of it slow (noise_calibration.py), part of it the
    #: whole-body turn below.
    world_pose_error_m: float = 0.029
    world_pose_rho: float = 0.98
    #: MediaPipe flattens the body towards the image plane: its hip-relative depths are about 0.64x the
    #: truth's where its offsets across the image are 0.87x (noise_calibration.py's gains, rendered clips).
    #: Per clip, depth offsets are scaled by a gain ~ N(mean, sigma) clipped to [0.3, 1.1]; the mean is above
    #: 0.64 because the scale and the noise lower the measured gain (0.76 measures 0.62, as real clips do).
    world_depth_gain: float = 0.76
    world_depth_gain_sigma: float = 0.1
    #: Per-clip multiplier ~ N(1, sigma), clipped at 0, of the systematic image offsets (BIAS_*); 0 turns them off.
    bias_scale: float = 1.0
    bias_sigma: float = 0.3
    #: Per-clip shift ~ N(mean, sigma) of the visibility logit: real clips differ widely in how sure the
    #: detector says it is (mean visibility 0.80 +- 0.12 per clip, against 0.84 +- 0.06 without it).
    visibility_shift: float = -0.6
    visibility_sigma: float = 1.2
    #: MediaPipe's world skeleton is turned as a whole against the truth, and the turn holds: per clip a
    #: constant ~ N(0, world_turn_deg) about each camera axis (x: leaning towards or away from the camera,
    #: y: heading, z: roll in the image) plus a slow AR(1) wander of std world_turn_wander_deg. Without it the
    #: simulated world landmarks pointed the body the right way, and nothing taught the network to doubt their
    #: orientation: its whole-body turn on the rendered sets follows MediaPipe's (per-clip correlation 0.82 in
    #: lean and heading). A fine-tune with it follows MediaPipe less from frame to frame but keeps its per-clip
    #: heading error, which the 2D view carries too (model card world_turn_noise_v20_not_shipped). Fitted with
    #: noise_calibration.py's turn rows against detected_s7: per-clip rms 7.1 / 9.2 / 2.5 degrees real,
    #: 7.2 / 8.6 / 2.5 simulated (4.2 / 5.9 / 1.7 without the turn).
    world_turn_deg: tuple[float, float, float] = (6.0, 7.0, 1.8)
    world_turn_wander_deg: tuple[float, float, float] = (4.0, 5.5, 2.0)
    world_turn_rho: float = 0.98


@dataclass
class Detections:
    """Noisy detector output for one clip of F frames."""

    image: np.ndarray  # (F, 33, 4) x_px, y_px, visibility, presence
    world: np.ndarray  # (F, 33, 3) metres, hip-centred, camera axes
    valid: np.ndarray  # (F,) bool, False where the detector found nobody (values interpolated)


def person_size_px(clean_px: np.ndarray) -> np.ndarray:
    """(F, 33, 2) clean pixels -> (F,) the larger side of each frame's landmark bounding box, px."""
    extent = clean_px.max(axis=1) - clean_px.min(axis=1)
    return np.maximum(extent.max(axis=-1), 1.0)


def apply_detector_noise(clean_px: np.ndarray, world_clean: np.ndarray, depth_m: np.ndarray,
                         visibility_true: np.ndarray, back_facing: np.ndarray, image_size: tuple[int, int],
                         fps: float, rng: np.random.Generator, config: NoiseConfig = NoiseConfig()) -> Detections:
    """Corrupt one clip's clean landmarks.

    clean_px (F, 33, 2) projected surface landmarks, px; world_clean (F, 33, 3) MediaPipe-style world
    landmarks, metres; depth_m (F, 33) camera-space depth; visibility_true (F, 33) in [0, 1], how visible
    each landmark really is (self-occlusion); back_facing (F,) in [0, 1], how much the torso turns away or
    sideways from the camera; image_size (width, height) px.
    """
    num_frames = clean_px.shape[0]
    width, height = image_size
    size = _smooth(person_size_px(clean_px), 9)[:, None, None]  # (F, 1, 1) px
    occluded = 1.0 - np.clip(visibility_true, 0.0, 1.0)
    inside = ((clean_px[..., 0] >= 0) & (clean_px[..., 0] < width) & (clean_px[..., 1] >= 0)
              & (clean_px[..., 1] < height) & (depth_m > 0.1))
    truncated = ~inside

    difficulty = float(np.exp(rng.normal(0.0, config.difficulty_sigma)))
    sigma = (config.jitter_scale * difficulty * JITTER_FRACTION[None, :, None] * size
             * (1.0 + 2.0 * occluded[..., None] + 1.5 * truncated[..., None]))  # (F, 33, 1) px
    rho = rng.uniform(*config.drift_rho)
    drift = _ar1(rng, (num_frames, NUM_MEDIAPIPE, 2), rho) * config.drift_ratio
    body_drift = _ar1(rng, (num_frames, 1, 2), rho) * config.body_drift_fraction * size
    error = sigma * (rng.standard_normal((num_frames, NUM_MEDIAPIPE, 2)) + drift) + body_drift

    lost = _bursts(rng, (num_frames, NUM_MEDIAPIPE),
                   config.lost_landmark_rate * (1.0 + 3.0 * occluded), config.lost_landmark_frames)
    wild = 0.12 * _ar1(rng, (num_frames, NUM_MEDIAPIPE, 2), 0.9) * size  # a wrong guess that wanders slowly
    error = np.where(lost[..., None], wild, error)
    bias_gain = config.bias_scale * max(0.0, float(rng.normal(1.0, config.bias_sigma)))
    image_xy = clean_px + error + bias_gain * systematic_offsets(clean_px)

    scale = config.world_scale_mean * float(np.exp(rng.normal(0.0, config.world_scale_sigma)))
    world_sigma = np.array([config.world_lateral_m, config.world_lateral_m, config.world_depth_m])
    world_factor = difficulty * (1.0 + occluded + truncated)[..., None]
    world_err = world_factor * world_sigma * (rng.standard_normal((num_frames, NUM_MEDIAPIPE, 3))
                                              + _ar1(rng, (num_frames, NUM_MEDIAPIPE, 3), rho))
    pose_error = _ar1(rng, (num_frames, NUM_MEDIAPIPE, 3), config.world_pose_rho) * np.array([1.0, 1.0, 2.0])
    world_err = world_err + config.world_pose_error_m * difficulty * WORLD_POSE_ERROR_WEIGHT[None, :, None] * pose_error
    world_err = np.where(lost[..., None], rng.normal(0.0, 0.15, world_err.shape), world_err)
    depth_gain = float(np.clip(rng.normal(config.world_depth_gain, config.world_depth_gain_sigma), 0.3, 1.1))
    world = scale * world_clean * np.array([1.0, 1.0, depth_gain]) + world_err

    swapped = _swap_masks(rng, back_facing, fps, config)
    image_xy, world = _apply_swaps(image_xy, world, swapped)
    reflected = _bursts(rng, (num_frames,), _event_rate(back_facing, fps, config.depth_flip_rate_per_s),
                        config.depth_flip_frames)
    world = _reflect_depth(world, reflected)

    typical = sigma[..., 0] * np.hypot(1.0, config.drift_ratio)
    err_norm = np.linalg.norm(error, axis=-1) / typical  # ~1.2 for typical errors, large when lost
    clip_shift = rng.normal(config.visibility_shift, config.visibility_sigma)
    vis_logit = (7.0 * (1.0 - occluded) - 2.2 + clip_shift - 0.4 * err_norm - 2.0 * truncated
                 + rng.normal(0, 0.6, lost.shape))
    visibility = _sigmoid(vis_logit)
    outside_px = _distance_outside(clean_px, width, height)
    pres_logit = 3.5 - 10.0 * outside_px / size[..., 0] - 5.5 * truncated + rng.normal(0, 0.5, lost.shape)
    presence = _sigmoid(pres_logit)

    inside_fraction = inside.mean(axis=1)
    missed = _bursts(rng, (num_frames,), np.full(num_frames, config.miss_rate), config.miss_frames)
    missed |= inside_fraction < 0.3
    missed |= (inside_fraction < 0.6) & (rng.random(num_frames) < 0.5)
    missed |= (depth_m < 0.1).any(axis=1)
    valid = ~missed
    image = np.concatenate([image_xy, visibility[..., None], presence[..., None]], axis=-1)
    image, world = _fill_missed(image, world, valid)
    hips = 0.5 * (world[:, 23] + world[:, 24])
    world = world - hips[:, None, :]  # MediaPipe re-centres its world landmarks on the hips it found
    world = np.einsum("fij,fnj->fni", _whole_body_turn(rng, num_frames, config), world)  # about the hips
    return Detections(image.astype(np.float32), world.astype(np.float32), valid)


def _whole_body_turn(rng: np.random.Generator, num_frames: int, config: NoiseConfig) -> np.ndarray:
    """(F, 3, 3) the world skeleton's turn per frame: a per-clip constant plus a slow wander (rotation vectors in
    camera axes). Drawn last, so the other errors of a seeded clip do not depend on it."""
    constant = rng.normal(0.0, 1.0, 3) * np.asarray(config.world_turn_deg)
    wander = _ar1(rng, (num_frames, 3), config.world_turn_rho) * np.asarray(config.world_turn_wander_deg)
    return Rotation.from_rotvec(np.deg2rad(constant + wander)).as_matrix()


def systematic_offsets(clean_px: np.ndarray) -> np.ndarray:
    """(F, 33, 2) clean pixels -> (F, 33, 2) px: the BIAS_* offsets in each frame's body frame (the frame
    eval_rendered.py measures them in). The inward (`out`) offsets fade out as the body turns side-on, where
    the image no longer shows its width."""
    torso, up, left, width = mediapipe_body_frame_2d(clean_px)
    shown = np.clip(width / torso / 0.5, 0.0, 1.0)  # 1 when the body faces the camera
    inward = (BIAS_OUT * MEDIAPIPE_SIDE)[None, :, None] * (shown * left)[:, None]
    along = BIAS_LIMB[None, :, None] * mediapipe_limb_directions(clean_px)
    offsets = BIAS_UP[None, :, None] * up[:, None] + inward + along
    return offsets * torso[:, None]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Running median of a (F,) series, so the person-size scale does not itself jitter."""
    pad = window // 2
    padded = np.pad(values, pad, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=-1)


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], rho: float) -> np.ndarray:
    """Unit-variance AR(1) noise along axis 0 (frames), started from its stationary distribution."""
    noise = rng.standard_normal(shape)
    noise[0] /= np.sqrt(1.0 - rho * rho)
    return lfilter([np.sqrt(1.0 - rho * rho)], [1.0, -rho], noise, axis=0)


def _bursts(rng: np.random.Generator, shape: tuple[int, ...], start_prob: np.ndarray,
            mean_frames: float) -> np.ndarray:
    """Boolean mask of runs along axis 0: a run starts where a uniform draw is below `start_prob` (shape or
    broadcastable) and lasts a geometric number of frames with mean `mean_frames`."""
    mask = np.zeros(shape, dtype=bool)
    starts = np.argwhere(rng.random(shape) < start_prob)
    lengths = rng.geometric(1.0 / mean_frames, size=len(starts))
    for (t, *rest), length in zip(starts, lengths):
        mask[(slice(t, t + length), *rest)] = True
    return mask


def _swap_masks(rng: np.random.Generator, back_facing: np.ndarray, fps: float,
                config: NoiseConfig) -> dict[str, np.ndarray]:
    """Frames where the arms, the legs or the whole body are reported with left and right exchanged."""
    num_frames = back_facing.shape[0]
    rate = _event_rate(back_facing, fps, config.swap_rate_per_s)
    masks = {group: np.zeros(num_frames, dtype=bool) for group in ("arms", "legs", "body")}
    for t in np.flatnonzero(rng.random(num_frames) < rate):
        group = ("arms", "legs", "body")[rng.choice(3, p=(0.4, 0.4, 0.2))]
        if rng.random() < config.long_swap_share:
            length = int(rng.geometric(1.0 / config.long_swap_frames))
        else:
            length = int(rng.integers(config.swap_frames[0], config.swap_frames[1] + 1))
        masks[group][t:t + length] = True
    return masks


def _event_rate(back_facing: np.ndarray, fps: float, rate_per_s: float) -> np.ndarray:
    """Per-frame start probability of a confusion, four times higher when the person is back- or side-on."""
    return rate_per_s / fps * (1.0 + 3.0 * np.clip(back_facing, 0.0, 1.0))


def _reflect_depth(world: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Mirror the world landmarks' depth about the hips' depth on the given frames."""
    world = world.copy()
    hips_z = 0.5 * (world[frames, 23, 2] + world[frames, 24, 2])
    world[frames, :, 2] = 2.0 * hips_z[:, None] - world[frames, :, 2]
    return world


def _apply_swaps(image_xy: np.ndarray, world: np.ndarray,
                 swapped: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    flip = np.array(MEDIAPIPE_FLIP)
    image_xy, world = image_xy.copy(), world.copy()
    for group, frames in swapped.items():
        if not frames.any():
            continue
        if group == "body":
            index = flip
        else:
            index = np.arange(NUM_MEDIAPIPE)
            left = np.array(_LEFT_ARM if group == "arms" else _LEFT_LEG)
            index[left], index[flip[left]] = flip[left], left
        image_xy[frames] = image_xy[frames][:, index]
        world[frames] = world[frames][:, index]
    return image_xy, world


def _distance_outside(px: np.ndarray, width: int, height: int) -> np.ndarray:
    """(F, 33, 2) -> (F, 33) distance in px from each point to the image rectangle (0 inside)."""
    dx = np.maximum(np.maximum(-px[..., 0], px[..., 0] - width), 0.0)
    dy = np.maximum(np.maximum(-px[..., 1], px[..., 1] - height), 0.0)
    return np.hypot(dx, dy)


def _fill_missed(image: np.ndarray, world: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill frames without a detection by linear interpolation between detected frames (held at the
    ends; zeros when nothing was detected) and give them zero visibility and presence."""
    image, world = image.copy(), world.copy()
    frames = np.arange(valid.shape[0])
    if not valid.any():
        image[:] = 0.0
        world[:] = 0.0
        return image, world
    if valid.all():
        return image, world
    for data, channels in ((image, 2), (world, 3)):
        flat = data[..., :channels].reshape(len(frames), -1)
        for c in range(flat.shape[1]):
            flat[~valid, c] = np.interp(frames[~valid], frames[valid], flat[valid, c])
        data[..., :channels] = flat.reshape(data[..., :channels].shape)
    image[~valid, :, 2:] = 0.0
    return image, world
