"""The sync pipeline's waits, against Ray actors that stand in for the learner and a robot:
a learning-curve evaluation is bounded per episode, not by one worker call's bound."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import ray

from userl.config.loader import load_config
from userl.config.schema import Config
from userl.runtime.pipelines import curve_evaluation_timeout_s, run_sync
from userl.runtime.ray_session import local_ray

EPISODE_STEPS = 5
REMOTE_TIMEOUT_S = 3.0  # one worker call's bound in these runs
READY_TIMEOUT_S = 120.0  # the stand-ins' start (process and imports), outside the runs' bounds


def started(*actors: object) -> None:
    ray.get([actor.__ray_ready__.remote() for actor in actors], timeout=READY_TIMEOUT_S)  # type: ignore[attr-defined]


@ray.remote
class StandInLearner:
    """Counts what the sync pipeline gives it; trains instantly."""

    def __init__(self) -> None:
        # the pipeline runs functions of its own module in this actor (`__ray_call__`):
        # imported here, before the run, not inside the first such call's short bound
        import userl.runtime.pipelines  # noqa: F401

        self.env_steps = 0
        self.episodes = 0
        self.version = 0

    def stats(self) -> dict[str, float]:
        return {
            "env_steps": self.env_steps,
            "grad_steps": 0,
            "episodes": self.episodes,
            "curve_success_rate": 0.0,
        }

    def add_episode(self, episode: list[int]) -> None:
        self.env_steps += len(episode)
        self.episodes += 1

    def train(self, updates: int) -> int:
        return updates

    def publish_weights(self) -> int:
        self.version += 1
        return self.version

    def latest_weights(self, known_version: int, complete: bool) -> int:
        return self.version


@ray.remote
class StandInRobot:
    """Collects instantly; a due curve evaluation takes `evaluation_s`."""

    def __init__(self, evaluation_s: float) -> None:
        self.evaluation_s = evaluation_s
        self.evaluations = 0

    def collect(self, episodes: int, source: str) -> list[list[int]]:
        return [[0] * EPISODE_STEPS for _ in range(episodes)]

    def episode_bytes(self) -> int:
        return EPISODE_STEPS

    def set_weights(self, snapshot: int) -> int:
        return snapshot

    def evaluate_for_curve(self, learner: object) -> bool:
        time.sleep(self.evaluation_s)
        self.evaluations += 1
        return True

    def evaluated(self) -> int:
        return self.evaluations


@pytest.fixture
def private_ray() -> Iterator[None]:
    """A Ray of each test's own: a module-wide one was found shut down by the time the second
    test ran (its actor creation then waited on Ray's auto-init for the test's whole bound)."""
    with local_ray(num_cpus=2):
        assert ray.is_initialized()
        yield


def _config(curve_episodes: int) -> Config:
    return load_config(
        [
            "pipeline=sync",
            "run.env_steps=1",
            f"run.remote_timeout_s={REMOTE_TIMEOUT_S}",
            "eval.curve_every_env_steps=1",
            f"eval.curve_episodes={curve_episodes}",
        ]
    )


def test_a_curve_evaluation_may_take_its_episodes_bound(private_ray: None) -> None:
    """Four evaluation episodes taking 2x one call's bound in all still finish the run."""
    config = _config(curve_episodes=4)
    assert curve_evaluation_timeout_s(config) == 4 * REMOTE_TIMEOUT_S
    learner, robot = StandInLearner.remote(), StandInRobot.remote(2 * REMOTE_TIMEOUT_S)
    started(learner, robot)
    run_sync(config, learner, [robot], progress=lambda stats: None)
    assert ray.get(robot.evaluated.remote(), timeout=60) == 1
    assert ray.get(learner.stats.remote(), timeout=60)["env_steps"] == EPISODE_STEPS


def test_a_hung_curve_evaluation_still_stops_the_run(private_ray: None) -> None:
    """One evaluation episode gets one call's bound: an evaluation hung past it is an error."""
    config = _config(curve_episodes=1)
    learner, robot = StandInLearner.remote(), StandInRobot.remote(3 * REMOTE_TIMEOUT_S)
    started(learner, robot)
    with pytest.raises(ray.exceptions.GetTimeoutError):
        run_sync(config, learner, [robot], progress=lambda stats: None)
