"""scripts/foot_report.py on a results file whose feet are known."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scripts.foot_report import foot_report
from test_results import make_result

SOLES = {7: 0.08, 8: 0.08, 10: 0.03, 11: 0.03}


def test_a_planted_foot_and_a_skating_one():
    frames = 60
    world = np.zeros((frames, 24, 3))
    world[..., 2] = 0.5
    world[:, [7, 10], 2] = [0.08, 0.03]  # left foot resting on the floor, still
    world[:, [8, 11], 2] = [0.08, 0.01]  # right foot 2 cm into the floor, sliding 0.3 m/s
    world[:, [8, 11], 0] = 0.3 * np.arange(frames)[:, None] / 30.0
    contacts = np.zeros((frames, 4))
    contacts[:45, :2] = 0.9  # left planted for three quarters of the clip
    contacts[:, 2:] = 0.8
    result = dataclasses.replace(make_result(frames), joints_world_m=world, contacts=contacts,
                                 valid=np.ones(frames, bool))
    report = foot_report(result, SOLES)
    assert report["left contact %"] == pytest.approx(75.0) and report["right contact %"] == pytest.approx(100.0)
    assert report["left skate cm/s"] == pytest.approx(0.0) and report["right skate cm/s"] == pytest.approx(30.0)
    assert report["left lowest toe cm"] == pytest.approx(0.0) and report["right lowest toe cm"] == pytest.approx(-2.0)
    assert report["floor tilt deg"] < 1.0  # the right toe's 2 cm dip is level along its path too
    with pytest.raises(ValueError, match="world frame"):
        foot_report(make_result(frames, world=False), SOLES)
