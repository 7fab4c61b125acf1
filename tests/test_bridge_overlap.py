"""Windows run ahead during detection: only windows whose frames are final, each exactly as the model stage
would run it."""
from __future__ import annotations

import numpy as np

from bridge.overlap import WindowsAhead
from bridge.windows import gather_windows, window_indices


class Summing:
    """A stand-in network: each window's 'pose' is a fixed function of all its inputs."""

    window = 8

    def __init__(self):
        self.calls = []

    def predict_windows(self, image, world, image_size, flip_average=False):
        self.calls.append(len(image))
        total = image.sum(axis=(1, 2, 3)) + 2.0 * world.sum(axis=(1, 2, 3))
        return {"pose_aa": np.repeat(total[:, None, None], 24, 1).repeat(3, 2), "betas": np.zeros((len(image), 10))}


def test_only_windows_with_final_frames_run_ahead_and_they_match_the_model_stage():
    rng = np.random.default_rng(0)
    frames = 60
    image = rng.normal(size=(frames, 33, 4)).astype(np.float32)
    world = rng.normal(size=(frames, 33, 3)).astype(np.float32)
    valid = np.ones(frames, bool)
    valid[30:33] = False  # nobody found: these frames are filled in later, so no window over them runs ahead
    net = Summing()
    ahead = WindowsAhead(net, (640, 480), batch_size=5)
    for k in range(frames):
        ahead.add(image[k], world[k], valid[k])
    results = ahead.stop()
    assert set(net.calls) == {5}  # whole batches only
    centres = np.array(sorted(results))
    windows = window_indices(np.arange(frames), frames, 8)
    final = valid[windows].all(axis=1) & (np.arange(frames) + 3 < frames)  # the end's windows wait for the end
    # whole batches of the model stage (0-4, 5-9, ...) whose windows are all final; the one over the gap and
    # the clip's last (its end windows repeat the last frame) are left to the model stage
    expected = [c for b in range(0, frames, 5) if final[b:b + 5].all() and b + 5 <= frames for c in range(b, b + 5)]
    assert list(centres) == expected and len(expected) >= 40
    direct = net.predict_windows(gather_windows(image, windows[centres]), gather_windows(world, windows[centres]),
                                 (640, 480))
    np.testing.assert_allclose(np.array([results[c][0] for c in centres]), direct["pose_aa"], rtol=1e-6)


def test_a_failing_network_is_reported_not_raised_in_the_thread():
    class Broken(Summing):
        def predict_windows(self, *args, **kwargs):
            raise RuntimeError("out of memory")

    ahead = WindowsAhead(Broken(), (640, 480), batch_size=2)
    for _ in range(20):
        ahead.add(np.zeros((33, 4)), np.zeros((33, 3)), True)
    assert ahead.stop() == {} and isinstance(ahead.error, RuntimeError)
