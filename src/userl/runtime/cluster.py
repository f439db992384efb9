"""A run's Ray actors: one env worker per robot, the learner and (optionally) the remote
inference server; how they are started, where they land, and how they are stopped.

The actors are named (`env_worker/<robot_id>`, `learner`, `inference`) so that tools and
fault injection can find the actors of a running run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray

from userl.config.cells import cell_config
from userl.config.schema import Config
from userl.envs.cells import cell_bindings
from userl.runtime.env_worker import EnvWorker
from userl.runtime.inference import INFERENCE_NAME, InferenceServer
from userl.runtime.learner import Learner
from userl.runtime.learner_ranks import check_ranks
from userl.runtime.placement import actor_options
from userl.runtime.remote import call, call_each

LEARNER_NAME = "learner"


def worker_name(robot_id: str) -> str:
    """Ray actor names, so tools (and fault injection) can find the workers of a run."""
    return f"env_worker/{robot_id}"


def robot_seed(config: Config, index: int, episodes_done: int = 0) -> int:
    """Each robot's first episode seed; a resumed run continues past the episodes it has."""
    return config.run.seed * 1_000_003 + index * 100_000 + episodes_done


@dataclass
class Cluster:
    """Handles to a run's actors: worker i runs `cells[i]` when the run has several cells."""

    learner: Any
    workers: list[Any]
    inference: Any = None  # the remote inference server, when pipeline.inference=remote
    cells: list[str] = field(default_factory=list)  # several cells: worker i runs cells[i]

    @property
    def weight_consumers(self) -> list[Any]:
        """Whoever acts with the learner's weights: the workers, and the inference server."""
        return [*self.workers, *([self.inference] if self.inference is not None else [])]

    def stop(self) -> None:
        """Kill this run's actors (they are named: a Ray that outlives the run, a lab cluster
        or a shared test cluster, must be free for the next run's names)."""
        for actor in [*self.workers, self.learner, self.inference]:
            if actor is not None:
                with contextlib.suppress(ray.exceptions.RayError):  # already dead is fine
                    ray.kill(actor, no_restart=True)


def start_workers(config: Config, run_dir: Path, episodes_done: int = 0) -> Cluster:
    """One env worker per robot (restarted by Ray when its process dies), then the learner."""
    # Ray's stubs lack the actor options of `ray.remote(...)`; the calls are as documented.
    worker_actor = ray.remote(
        max_concurrency=2,  # type: ignore[call-overload]
        max_restarts=config.run.max_worker_restarts,
    )(EnvWorker)
    learner_actor = ray.remote(max_concurrency=8)(Learner)  # type: ignore[call-overload]
    bindings = cell_bindings(config)  # several cells: one worker each, in the run's layout
    workers = [
        worker_actor.options(name=worker_name(robot_id), **options).remote(
            worker_config,
            robot_id,
            robot_seed(config, i, episodes_done),
            str(run_dir / "spool" / robot_id),
            bindings[i] if bindings else None,
        )
        for i, (robot_id, worker_config, options) in enumerate(worker_plan(config))
    ]
    check_ranks(config)  # learner.devices: the batch splits, the GPUs are there
    start_s = config.run.start_timeout_s  # the first calls wait for the workers to be built
    spec = call(workers[0].observation_spec, timeout_s=start_s)
    action_dim = call(workers[0].action_dim, timeout_s=start_s)
    learner = learner_actor.options(name=LEARNER_NAME, **actor_options(config, "learner")).remote(
        config, spec, action_dim, str(run_dir)
    )
    inference = INFERENCE_PLACEMENTS[config.pipeline.inference](
        config, spec, action_dim, learner, workers
    )
    return Cluster(learner, workers, inference, [cell.name for cell in config.cells])


def worker_plan(config: Config) -> list[tuple[str, Config, dict[str, Any]]]:
    """Each env worker's id, config and Ray options: one per cell (its robot's resource,
    `robot:<ray_robot>` or the layout's i-th robot), or `run.num_robots` copies of one cell."""
    if not config.cells:
        return [
            (f"robot_{i}", config, actor_options(config, "env_worker", f"robot_{i}"))
            for i in range(config.run.num_robots)
        ]
    return [
        (
            f"robot_{i}",
            cell_config(config, cell),
            actor_options(config, "env_worker", cell.ray_robot or f"robot_{i}"),
        )
        for i, cell in enumerate(config.cells)
    ]


def placement_of(config: Config, cluster: Cluster) -> dict[str, str]:
    """Which Ray node each actor runs on (by node id), as the actors themselves report it;
    the first call to each, so it waits for all of them to be built."""
    actors = {f"robot_{i}": w for i, w in enumerate(cluster.workers)}
    actors["learner"] = cluster.learner
    if cluster.inference is not None:
        actors["inference"] = cluster.inference
    ids = call_each([a.node_id for a in actors.values()], timeout_s=config.run.start_timeout_s)
    placement = dict(zip(actors, ids, strict=True))
    print(
        "placement: "
        + ", ".join(f"{actor} on node {node[:12]}" for actor, node in placement.items()),
        flush=True,
    )
    return placement


def local_inference(
    config: Config, spec: Any, action_dim: int, learner: Any, workers: list[Any]
) -> None:
    """`pipeline.inference=local`: each env worker acts with its own policy copy."""
    return None


def remote_inference(
    config: Config, spec: Any, action_dim: int, learner: Any, workers: list[Any]
) -> Any:
    """`pipeline.inference=remote`: one batching inference actor serves every env worker."""
    server = (
        ray.remote(max_concurrency=64)(  # type: ignore[call-overload]
            InferenceServer
        )
        .options(name=INFERENCE_NAME, **actor_options(config, "inference"))
        .remote(config, spec, action_dim, learner)
    )
    call_each([w.use_inference for w in workers], server, timeout_s=config.run.remote_timeout_s)
    return server


INFERENCE_PLACEMENTS: dict[str, Callable[..., Any]] = {
    "local": local_inference,
    "remote": remote_inference,
}


def sync_weights(config: Config, cluster: Cluster) -> int:
    """Blocking push of the learner's newest snapshot to every worker (setup and evaluation)."""
    timeout_s = config.run.remote_timeout_s
    snapshot = call(cluster.learner.latest_weights, 0, True, timeout_s=timeout_s)
    call_each([c.set_weights for c in cluster.weight_consumers], snapshot, timeout_s=timeout_s)
    return int(snapshot.version)
