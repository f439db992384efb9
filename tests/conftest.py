"""Fixtures shared by the test modules: a takeover episode, the expert's success rate, and a
franky-sim server for the tests that drive the real franky-control; and the two tiers' marker
(tests/unit is the fast tier, tests/integration and tests/e2e are `integration`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

from userl.core.types import Episode

# Property tests check behaviour, not speed: on a busy machine one example may take seconds.
settings.register_profile("userl", deadline=None)
settings.load_profile("userl")

TESTS = Path(__file__).parent
INTEGRATION_FOLDERS = {"integration", "e2e"}  # MuJoCo physics, Ray, subprocess trainings
# `slow` tests are full-length learning runs (`make bench`), each up to about half an hour on a
# small CPU machine: far past the suite's per-test bound (pyproject.toml), so they get this one
SLOW_TIMEOUT_S = 7200


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration and tests/e2e is `integration`, by where it lives:
    `make test-fast` deselects them (`-m "not integration"`), whatever a module declares. A
    `slow` test without a timeout of its own gets SLOW_TIMEOUT_S."""
    for item in items:
        if item.path.is_relative_to(TESTS):
            folder = item.path.relative_to(TESTS).parts[0]
            if folder in INTEGRATION_FOLDERS:
                item.add_marker(pytest.mark.integration)
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))


@dataclass(frozen=True)
class Takeover:
    """A state-only episode in which the operator took over for the last steps."""

    state_dim: int = 4
    action_dim: int = 7
    steps: int = 10
    first_human_step: int = 6
    human_action: float = 0.5
    policy_action: float = -0.25

    @property
    def human_steps(self) -> np.ndarray:
        return np.arange(self.steps) >= self.first_human_step

    def episode(self, success: bool = False) -> Episode:
        executed = np.where(self.human_steps[:, None], self.human_action, self.policy_action)
        executed = np.broadcast_to(executed, (self.steps, self.action_dim)).astype(np.float32)
        zeros = np.zeros(self.steps, bool)
        return Episode(
            robot_id="robot_0",
            task="peg_insertion",
            observations={"state": np.zeros((self.steps + 1, self.state_dim), np.float32)},
            actions=executed,
            policy_actions=np.full((self.steps, self.action_dim), self.policy_action, np.float32),
            rewards=np.zeros(self.steps, np.float32),
            terminated=zeros,
            truncated=zeros,
            intervened=self.human_steps.copy(),
            policy_versions=np.zeros(self.steps, np.int64),
            success=success,
        )


@pytest.fixture
def takeover() -> Takeover:
    return Takeover()


@pytest.fixture
def make_learner(takeover: Takeover) -> Callable[..., Any]:
    """`make_learner(run_dir, *overrides)`: an HG-DAgger learner (no Ray) on the takeover
    episode's state and action sizes, writing into `run_dir`."""
    from userl.config.loader import load_config
    from userl.core.specs import ObservationSpec
    from userl.runtime.learner import Learner

    def make(run_dir: Path, *overrides: str) -> Learner:
        config = load_config(
            ["algo=hg_dagger", "policy=mlp", "algo.batch_size=32", "algo.utd_max=2", *overrides]
        )
        return Learner(
            config, ObservationSpec(takeover.state_dim), takeover.action_dim, str(run_dir)
        )

    return make


def _expert_success_rate(task: str, episodes: int, *overrides: str) -> float:
    """The scripted expert's success over seeds 0..episodes-1, acting through the 7-D action
    (on the default simulated Franka unless `overrides` say e.g. robot=sim_arx_r5); the reward
    is the success flag at every step."""
    from userl.config.loader import load_config
    from userl.envs.factory import make_env

    env = make_env(load_config([f"task={task}", *overrides]), seed=0)
    successes = 0
    try:
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
    finally:
        env.close()
    return successes / episodes


@pytest.fixture
def expert_success_rate() -> Callable[..., float]:
    return _expert_success_rate


@pytest.fixture(scope="module")
def franky_sim() -> Iterator[str]:
    """The loopback address of a running franky-sim (a simulated Franka speaking libfranka's
    protocol), stopped after the module's last test: the server steps its physics in real
    time, about a third of a core, so it runs only while a module needs it."""
    pytest.importorskip(
        "franky", reason="franky-control is not installed (pip install 'userl[hardware]')"
    )
    pytest.importorskip(
        "franky_sim", reason="franky-sim is not installed (pip install 'userl[hardware]')"
    )
    from tests.franky_sim import FrankySim

    server = FrankySim()
    try:
        server.wait_ready()
        yield server.address
    finally:
        server.stop()
