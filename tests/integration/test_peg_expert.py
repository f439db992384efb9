"""The scripted expert solves peg insertion through the normalised action alone."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from userl.config.schema import Config  # noqa: E402
from userl.envs.factory import make_env  # noqa: E402

pytestmark = pytest.mark.integration


def expert_success_rate(episodes: int) -> float:
    env = make_env(Config(), seed=0)
    successes = 0
    for seed in range(episodes):
        env.reset(seed=seed)
        while True:
            action = env.expert_action()
            assert action.shape == (7,) and np.all(np.abs(action) <= 1.0)
            _, reward, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        successes += int(info["success"])
        assert reward == float(info["success"])
    env.close()
    return successes / episodes


def test_expert_succeeds_on_20_seeded_episodes():
    assert expert_success_rate(20) >= 0.95


@pytest.mark.slow
def test_expert_succeeds_on_50_seeded_episodes():
    assert expert_success_rate(50) >= 0.95
