"""Pipeline modes: the same env workers and learner, in two orders."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import ray

from userl.config.schema import Config
from userl.core.registry import PIPELINES

ProgressHook = Callable[[dict[str, float]], None]


def _budget_left(config: Config, stats: dict[str, float], started: float) -> bool:
    if config.run.env_steps and stats["env_steps"] >= config.run.env_steps:
        return False
    if config.run.grad_steps and stats["grad_steps"] >= config.run.grad_steps:
        return False
    return not (config.run.wall_s and time.monotonic() - started >= config.run.wall_s)


@PIPELINES.register("async")
def run_async(config: Config, learner: Any, workers: list[Any], progress: ProgressHook) -> None:
    """Env workers act and ship episodes while the learner trains; nobody waits on anybody."""
    timeout_s = config.run.remote_timeout_s
    started = time.monotonic()
    training = learner.run_async.remote()
    acting = [worker.run.remote(learner) for worker in workers]
    try:
        while True:
            stats = ray.get(learner.stats.remote(), timeout=timeout_s)
            progress(stats)
            if not _budget_left(config, stats, started):
                break
            finished, _ = ray.wait(acting + [training], num_returns=1, timeout=0.5)
            if finished:  # a worker or the learner ended on its own: surface its error
                ray.get(finished)
                break
    finally:
        for worker in workers:
            worker.stop.remote()
        ray.get(acting, timeout=timeout_s)
        ray.get([worker.flush.remote(timeout_s) for worker in workers], timeout=timeout_s)
        learner.stop.remote()
        ray.get(training, timeout=timeout_s)


@PIPELINES.register("sync")
def run_sync(config: Config, learner: Any, workers: list[Any], progress: ProgressHook) -> None:
    """Collect an episode per worker, train on it (UTD x its steps), sync weights, repeat."""
    timeout_s = config.run.remote_timeout_s
    started = time.monotonic()
    while True:
        stats = ray.get(learner.stats.remote(), timeout=timeout_s)
        progress(stats)
        if not _budget_left(config, stats, started):
            break
        episodes = ray.get([w.collect.remote(1, "policy") for w in workers], timeout=timeout_s)
        steps = 0
        for batch in episodes:
            for episode in batch:
                ray.get(learner.add_episode.remote(episode), timeout=timeout_s)
                steps += len(episode)
        ray.get(learner.train.remote(config.algo.utd * steps), timeout=timeout_s)
        version = ray.get(learner.publish_weights.remote(), timeout=timeout_s)
        snapshot = ray.get(learner.latest_weights.remote(version - 1), timeout=timeout_s)
        ray.get([w.set_weights.remote(version, snapshot[1]) for w in workers], timeout=timeout_s)
