"""The run's evaluations from the driver: the deterministic policy on fixed seeds, spread
over the env workers, before training and after it; the learner logs each as a point of the
learning curve. (The curve's evaluations during training are the workers' own.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import ray

from userl.config.schema import Config
from userl.rollout.evaluation import results_of, reward_confusion
from userl.runtime.cluster import Cluster, sync_weights
from userl.runtime.remote import call


def evaluation_groups(cluster: Cluster) -> list[tuple[str, list[Any]]]:
    """Who evaluates: each cell on its own worker (several cells), or every worker of the
    one cell sharing the seeds."""
    if cluster.cells:
        return [
            (name, [worker]) for name, worker in zip(cluster.cells, cluster.workers, strict=True)
        ]
    return [("", cluster.workers)]


def evaluate(config: Config, cluster: Cluster) -> dict[str, Any]:
    """Deterministic policy on fixed evaluation seeds, spread over the workers; with several
    cells, every cell evaluates on the same seeds (`cells` in the results, one per cell)."""
    sync_weights(config, cluster)
    seeds = [config.eval.seed_offset + i for i in range(config.eval.episodes)]
    calls: dict[str, list[Any]] = {}
    for cell, workers in evaluation_groups(cluster):
        shares = np.array_split(np.asarray(seeds), len(workers))
        calls[cell] = [
            worker.collect.remote(
                len(share),
                "policy",
                config.eval.deterministic,
                int(share[0]),
                record_first=not calls and index == 0 and bool(config.eval.video_every_s),
            )
            for index, (worker, share) in enumerate(zip(workers, shares, strict=True))
            if len(share)
        ]
    per_cell = {
        cell: [e for batch in ray.get(batches) for e in batch] for cell, batches in calls.items()
    }
    episodes = [e for cell_episodes in per_cell.values() for e in cell_episodes]
    if episodes and episodes[0].frames:
        cluster.learner.log_video.remote(episodes[0].frames, bool(episodes[0].success))
    results = results_of(episodes)
    if not cluster.cells:
        log_evaluation(config, cluster, results, episodes)
        return results
    results["cells"] = {}  # each cell's point; the learner pools them into the run's curve
    for cell, cell_episodes in per_cell.items():
        cell_results = results_of(cell_episodes)
        results["cells"][cell] = {
            key: cell_results[key] for key in ("success_rate", "mean_return", "episodes")
        }
        log_evaluation(config, cluster, cell_results, cell_episodes, cell)
    return results


def log_evaluation(
    config: Config, cluster: Cluster, results: dict[str, Any], episodes: list[Any], cell: str = ""
) -> None:
    """One evaluation (of one cell, with `cell`) as a point of the learner's learning curve,
    with the reward source's confusion counts where the episodes have ground truth."""
    call(
        cluster.learner.log_evaluation,
        results["success_rate"],
        results["mean_return"],
        results["episodes"],
        reward_confusion(episodes),
        cell,
        timeout_s=config.run.remote_timeout_s,
    )


def point_before_training(curve: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A learning curve's evaluation at env step 0 (the initial one), if it has one."""
    return next((point for point in curve if point["env_steps"] == 0), None)


def initial_evaluation(config: Config, cluster: Cluster) -> dict[str, Any]:
    """The evaluation before training. A resumed run keeps its first start's (the restored
    curve's point at env step 0) rather than evaluating the policy as trained so far."""
    if config.resume:
        curve = call(cluster.learner.evaluation_curve, timeout_s=config.run.remote_timeout_s)
        before = point_before_training(curve)
        if before is not None:
            return before
    return evaluate(config, cluster)
