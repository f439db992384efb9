"""The R5's adapter (shared by the real driver and the simulated R5): the reach shell is
around the arm's mount, wherever the poses' frame puts it."""

import numpy as np
import pytest

from userl.hardware.r5_projection import R5Projection
from userl.hardware.sim.arx_r5 import SimArxR5Config


def test_shell_is_centred_on_the_mount_and_distance_is_reported() -> None:
    config = SimArxR5Config(min_reach_m=0.1, max_reach_m=0.5)
    mount = np.array([0.25, 0.0, 0.15])
    projection = R5Projection(config, mount)
    target = np.array([0.25 + 0.8, 0.0, 0.15, 1.0, 0.0, 0.0, 0.0])
    projected = projection(target)
    np.testing.assert_allclose(projected[:3], mount + [0.5, 0.0, 0.0])
    assert R5Projection.distance(projected, target) == pytest.approx((0.3, 0.0))
    near = np.array([0.3, 0.0, 0.15, 1.0, 0.0, 0.0, 0.0])  # 5 cm from the mount
    np.testing.assert_allclose(projection(near)[:3], mount + [0.1, 0.0, 0.0])
    inside = np.array([0.5, 0.1, 0.05, 1.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(projection(inside), inside)
