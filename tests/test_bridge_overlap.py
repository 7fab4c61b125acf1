"""Windows run ahead during detection: only windows whose frames are final, each exactly as the model stage
would run it."""
from __future__ import annotations

import numpy as np
import pytest

from bridge import tracking
from bridge.overlap import WindowsAhead
from bridge.windows import answer_offsets, gather_windows, window_centres, window_indices


class Summing:
    """A stand-in network: each window's 'pose' is a fixed function of all its inputs."""

    window = 8

    def __init__(self):
        self.calls = []

    def predict_windows(self, image, world, image_size, flip_average=False, offsets=(0,), focal_px=None):
        self.calls.append(len(image))
        total = image.sum(axis=(1, 2, 3)) + 2.0 * world.sum(axis=(1, 2, 3))
        answers = total[:, None] + np.asarray(offsets)[None, :]  # (B, P): each answered frame its own value
        return {"pose_aa": np.repeat(answers[:, :, None, None], 24, 2).repeat(3, 3),
                "betas": np.zeros((len(image), 10))}


@pytest.mark.parametrize("stride", [1, 2])
def test_only_windows_with_final_frames_run_ahead_and_they_match_the_model_stage(stride):
    rng = np.random.default_rng(0)
    frames = 60 * stride
    image = rng.normal(size=(frames, 33, 4)).astype(np.float32)
    world = rng.normal(size=(frames, 33, 3)).astype(np.float32)
    valid = np.ones(frames, bool)
    valid[30:33] = False  # nobody found: these frames are filled in later, so no window over them runs ahead
    net = Summing()
    ahead = WindowsAhead(net, (640, 480), batch_size=5, stride=stride)
    for k in range(frames):
        ahead.add(k, image[k], world[k], valid[k])
    results = ahead.stop()
    assert set(net.calls) == {5}  # whole batches only
    centres = np.array(sorted(results))
    all_centres = window_centres(frames, stride)
    windows = window_indices(all_centres, frames, 8)
    final = valid[windows].all(axis=1) & (all_centres + 3 < frames)  # the end's windows wait for the end
    # whole batches of the model stage (windows 0-4, 5-9, ...) whose windows are all final; the one over the gap
    # and the clip's last (its end windows repeat the last frame) are left to the model stage
    expected = [c for b in range(0, len(all_centres), 5) if final[b:b + 5].all() and b + 5 <= len(all_centres)
                for c in all_centres[b:b + 5]]
    assert list(centres) == expected and len(expected) >= 0.6 * len(all_centres)
    chosen = windows[centres // stride]
    direct = net.predict_windows(gather_windows(image, chosen), gather_windows(world, chosen), (640, 480),
                                 offsets=answer_offsets(stride))
    np.testing.assert_allclose(np.array([results[c][0] for c in centres]), direct["pose_aa"], rtol=1e-6)


def test_a_failing_network_is_reported_not_raised_in_the_thread():
    class Broken(Summing):
        def predict_windows(self, *args, **kwargs):
            raise RuntimeError("out of memory")

    ahead = WindowsAhead(Broken(), (640, 480), batch_size=2)
    for k in range(20):
        ahead.add(k, np.zeros((33, 4)), np.zeros((33, 3)), True)
    assert ahead.stop() == {} and isinstance(ahead.error, RuntimeError)


def test_frames_out_of_order_run_the_same_batches_and_a_shorter_clip_drops_those_past_its_end():
    """Pieces of the clip tracked side by side hand frames over interleaved; a damaged file may end before
    frames already handed over, and batches reaching past its real end are not kept."""
    rng = np.random.default_rng(1)
    frames = 120
    image = rng.normal(size=(frames, 33, 4)).astype(np.float32)
    world = rng.normal(size=(frames, 33, 3)).astype(np.float32)
    ahead = WindowsAhead(Summing(), (640, 480), batch_size=4, stride=2)
    for k in range(frames):
        ahead.add(k, image[k], world[k], True)
    expected = ahead.stop()
    ahead = WindowsAhead(Summing(), (640, 480), batch_size=4, stride=2)
    for a, b in zip(range(60), range(60, 120)):  # two pieces found side by side
        ahead.add(b, image[b], world[b], True)
        ahead.add(a, image[a], world[a], True)
    results = ahead.stop()
    assert sorted(results) == sorted(expected) and len(expected) == 56  # 14 whole batches of 4 windows
    for centre in expected:
        np.testing.assert_array_equal(results[centre][0], expected[centre][0])
    # the clip turned out to end at frame 75: batch b (centres 8b .. 8b + 6) reads frames up to 8b + 9
    track = tracking.TrackedClip(np.arange(75), image[:75].copy(), world[:75].copy(), np.ones(75, bool))
    assert sorted(ahead.stop(track=track)) == [c for c in sorted(expected) if 8 * (c // 8) + 9 < 75]
    # and was tracked again with other landmarks from frame 40 on: only batches before it are kept
    track.image_landmarks[40:] += 1.0
    assert sorted(ahead.stop(track=track)) == [c for c in sorted(expected) if 8 * (c // 8) + 9 < 40]
