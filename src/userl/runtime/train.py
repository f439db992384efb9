"""`userl train`: wire env workers and the learner on Ray, run a pipeline, evaluate, summarise."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import ray

from userl.config.cells import cell_config
from userl.config.loader import to_yaml
from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.core.registry import PIPELINES
from userl.data.checkpoint import CheckpointRefused
from userl.data.store import EpisodeStore
from userl.envs.cells import cell_bindings, lay_out_episode
from userl.rollout.episode import CONFUSION_KEYS
from userl.rollout.evaluation import results_of, reward_confusion
from userl.runtime import pipelines  # noqa: F401  (registers the pipeline modes)
from userl.runtime.env_worker import EnvWorker
from userl.runtime.errors import RunFailed
from userl.runtime.inference import INFERENCE_NAME, InferenceServer
from userl.runtime.learner import Learner
from userl.runtime.placement import actor_options
from userl.runtime.ray_session import ray_for
from userl.runtime.signals import GracefulStop, StopRequested
from userl.telemetry.progress import progress_line


def new_run_dir(config: Config) -> Path:
    """`runs/<name>/` for a new run (named by the time if unnamed); an existing run is never
    overwritten. Nothing is created yet."""
    if not config.run.name:
        config.run.name = datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{config.task.name}"
    run_dir = Path(config.run.root) / config.run.name
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(
            f"run {run_dir} already exists; continue it with resume=true or choose another "
            "run.name= (nothing was overwritten)"
        )
    return run_dir


def create_run_dir(run_dir: Path, config: Config) -> None:
    """The run's folder with its config, once Ray is up (a failed start leaves nothing)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(to_yaml(config))


def existing_run_dir(config: Config) -> Path:
    """The folder of a run to resume; it must hold the run's config."""
    if not config.run.name:
        raise ConfigError("resume=true needs run.name= of the run to continue")
    run_dir = Path(config.run.root) / config.run.name
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError(
            f"nothing to resume at {run_dir}: no config.yaml there; check run.name= and run.root="
        )
    return run_dir


def robot_seed(config: Config, index: int, episodes_done: int = 0) -> int:
    """Each robot's first episode seed; a resumed run continues past the episodes it has."""
    return config.run.seed * 1_000_003 + index * 100_000 + episodes_done


LEARNER_NAME = "learner"


def worker_name(robot_id: str) -> str:
    """Ray actor names, so tools (and fault injection) can find the workers of a run."""
    return f"env_worker/{robot_id}"


@dataclass
class Cluster:
    learner: Any
    workers: list[Any]
    inference: Any = None  # the remote inference server, when pipeline.inference=remote
    cells: list[str] = field(default_factory=list)  # several cells: worker i runs cells[i]

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
    start_s = config.run.start_timeout_s  # the first calls wait for the workers to be built
    spec = ray.get(workers[0].observation_spec.remote(), timeout=start_s)
    action_dim = ray.get(workers[0].action_dim.remote(), timeout=start_s)
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
    ids = ray.get([a.node_id.remote() for a in actors.values()], timeout=config.run.start_timeout_s)
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
    ray.get([w.use_inference.remote(server) for w in workers], timeout=config.run.remote_timeout_s)
    return server


INFERENCE_PLACEMENTS: dict[str, Callable[..., Any]] = {
    "local": local_inference,
    "remote": remote_inference,
}


def sync_weights(config: Config, cluster: Cluster) -> int:
    """Blocking push of the learner's newest snapshot to every worker (setup and evaluation)."""
    timeout_s = config.run.remote_timeout_s
    snapshot = ray.get(cluster.learner.latest_weights.remote(0, True), timeout=timeout_s)
    consumers = [*cluster.workers, *([cluster.inference] if cluster.inference else [])]
    ray.get([c.set_weights.remote(snapshot) for c in consumers], timeout=timeout_s)
    return snapshot.version


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
    if cluster.cells:  # each cell's point; the learner pools them into the run's curve
        results["cells"] = {}
        for cell, cell_episodes in per_cell.items():
            cell_results = results_of(cell_episodes)
            results["cells"][cell] = {
                key: cell_results[key] for key in ("success_rate", "mean_return", "episodes")
            }
            ray.get(
                cluster.learner.log_evaluation.remote(
                    cell_results["success_rate"],
                    cell_results["mean_return"],
                    cell_results["episodes"],
                    reward_confusion(cell_episodes),
                    cell,
                ),
                timeout=config.run.remote_timeout_s,
            )
        return results
    ray.get(
        cluster.learner.log_evaluation.remote(
            results["success_rate"],
            results["mean_return"],
            results["episodes"],
            reward_confusion(episodes),
        ),
        timeout=config.run.remote_timeout_s,
    )
    return results


def point_before_training(curve: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A learning curve's evaluation at env step 0 (the initial one), if it has one."""
    return next((point for point in curve if point["env_steps"] == 0), None)


def initial_evaluation(config: Config, cluster: Cluster) -> dict[str, Any]:
    """The evaluation before training. A resumed run keeps its first start's (the restored
    curve's point at env step 0) rather than evaluating the policy as trained so far."""
    if config.resume:
        curve = ray.get(
            cluster.learner.evaluation_curve.remote(), timeout=config.run.remote_timeout_s
        )
        before = point_before_training(curve)
        if before is not None:
            return before
    return evaluate(config, cluster)


def load_demos(config: Config, cluster: Cluster) -> int:
    """Demonstrations from `demos.path`, else `demos.episodes` scripted-expert episodes;
    with several cells, each cell's own (its `demos_path`, else `demos.episodes` by its own
    expert)."""
    if not config.cells:
        return load_cell_demos(config, cluster, config.demos.path, cluster.workers, None)
    cells = list(zip(config.cells, cluster.workers, strict=True))
    collecting = [
        worker.collect.remote(config.demos.episodes, "expert")  # all cells at once
        for cell, worker in cells
        if not cell.demos_path and config.demos.episodes
    ]
    added = sum(
        load_cell_demos(config, cluster, cell.demos_path, [worker], index)
        for index, (cell, worker) in enumerate(cells)
        if cell.demos_path
    )
    for episodes in ray.get(collecting):  # each worker's episodes carry its cell
        added += ray.get(
            cluster.learner.add_demos.remote(episodes), timeout=config.run.remote_timeout_s
        )
    return added


def load_cell_demos(
    config: Config, cluster: Cluster, demos_path: str, workers: list[Any], cell: int | None
) -> int:
    """One cell's demonstrations: from `demos_path`, or collected by its workers' expert."""
    timeout_s = config.run.remote_timeout_s
    if demos_path:
        path = Path(demos_path)
        if not path.is_dir():
            raise ConfigError(
                f"demos path {path} is not a folder; give an episode store "
                "written by `userl collect` or a LeRobot dataset, or set "
                "demos.episodes=N instead"
            )
        from userl.data.interop import read_episodes  # a store or a LeRobot dataset

        worker = workers[0]
        spec = ray.get(worker.observation_spec.remote(), timeout=timeout_s)
        action_dim = ray.get(worker.action_dim.remote(), timeout=timeout_s)
        report = read_episodes(path, config.demos.lerobot, spec, action_dim)
        for name, reason in report.unreadable:
            print(f"warning: skipped unreadable demo file {name}: {reason}")
        bindings = cell_bindings(config)
        episodes = (
            report.episodes
            if bindings is None or cell is None
            else [lay_out_episode(episode, bindings[cell]) for episode in report.episodes]
        )
        return ray.get(cluster.learner.add_demos.remote(episodes, cell), timeout=timeout_s)
    if config.demos.episodes <= 0:
        return 0
    shares = np.array_split(np.arange(config.demos.episodes), len(workers))
    calls = [
        w.collect.remote(len(s), "expert") for w, s in zip(workers, shares, strict=True) if len(s)
    ]
    episodes = [e for batch in ray.get(calls) for e in batch]
    return ray.get(cluster.learner.add_demos.remote(episodes), timeout=timeout_s)


PRETRAIN_CHUNK_UPDATES = 100  # pretraining asks the learner for this many at a time


def pretrain(config: Config, cluster: Cluster) -> int:
    """`algo.pretrain_updates` on the demos before going online, in chunks (bounded waits)."""
    done = 0
    while chunk := ray.get(
        cluster.learner.pretrain.remote(PRETRAIN_CHUNK_UPDATES), timeout=config.run.remote_timeout_s
    ):
        done += chunk
    if done:
        print(f"pretrained on the demos: {done} updates", flush=True)
    return done


def run_on(
    config: Config, cluster: Cluster, run_dir: Path, summary: dict[str, Any], started: float
) -> dict[str, float]:
    """Resume or load demos, pretrain, evaluate, run the pipeline, evaluate again; fills
    `summary` and returns the learner's final stats."""
    timeout_s = config.run.remote_timeout_s
    pipeline = PIPELINES.get(config.pipeline.name)
    if config.resume:
        try:
            restored = ray.get(cluster.learner.restore.remote(), timeout=timeout_s)
        except ray.exceptions.RayTaskError as error:  # a refused checkpoint: one line
            if isinstance(error.cause, CheckpointRefused):
                raise CheckpointRefused(str(error.cause)) from None
            raise
        summary["resumed_from"] = restored
        print(f"resumed: {json.dumps(restored)}", flush=True)
    has_demos = ray.get(cluster.learner.has_demos.remote(), timeout=timeout_s)
    demo_transitions = 0 if has_demos else load_demos(config, cluster)
    print(f"demo transitions added: {demo_transitions}", flush=True)
    pretrain(config, cluster)
    sync_weights(config, cluster)
    if config.eval.at_start:
        initial = initial_evaluation(config, cluster)
        summary["initial_eval_success_rate"] = initial["success_rate"]
        summary["initial_eval_mean_return"] = initial["mean_return"]
        print(f"initial evaluation: success {initial['success_rate']:.2f}", flush=True)
    train_started = time.monotonic()
    try:
        with GracefulStop() as stop:
            progress = ProgressReporter(config, cluster, started, stop)
            summary.update(pipeline(config, cluster.learner, cluster.workers, progress) or {})
    except (StopRequested, KeyboardInterrupt):
        summary["interrupted"] = True
        print("interrupted: every episode is stored; writing a final checkpoint", flush=True)
    except (ray.exceptions.RayError, RuntimeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise RunFailed(
            f"{reason} -- every finished episode is in {run_dir}/episodes or a robot's "
            f"spool; continue with: userl train resume=true run.name={config.run.name} "
            f"run.root={config.run.root}"
        ) from error
    train_s = time.monotonic() - train_started
    stats = ray.get(cluster.learner.stats.remote(), timeout=timeout_s)
    summary.update(ray.get(cluster.learner.pipeline_timing.remote(), timeout=timeout_s))
    if cluster.inference is not None:
        summary["inference"] = ray.get(cluster.inference.stats.remote(), timeout=timeout_s)
    print(progress_line(stats, time.monotonic() - started), flush=True)
    ray.get(cluster.learner.save_checkpoint.remote(), timeout=timeout_s)
    if not summary.get("interrupted"):
        final = evaluate(config, cluster)
        summary.update(
            {
                "eval_success_rate": final["success_rate"],
                "eval_mean_return": final["mean_return"],
                "eval_episodes": final["episodes"],
                "eval_results": final["results"],
                **({"eval_results_by_cell": final["cells"]} if "cells" in final else {}),
                **{k: final[k] for k in CONFUSION_KEYS if k in final},
            }
        )
    summary["eval_curve"] = ray.get(cluster.learner.evaluation_curve.remote(), timeout=timeout_s)
    if cluster.cells:
        summary["cells"] = cell_summary(
            ray.get(cluster.learner.cell_stats.remote(), timeout=timeout_s),
            summary.get("eval_results_by_cell", {}),
            train_s,
        )
        curves = ray.get(cluster.learner.cell_evaluation_curves.remote(), timeout=timeout_s)
        for name, curve in curves.items():
            summary["cells"][name]["eval_curve"] = curve
    ray.get(cluster.learner.close.remote(), timeout=timeout_s)
    ray.get([w.close.remote() for w in cluster.workers], timeout=timeout_s)
    summary["train_wall_s"] = train_s
    return stats


def train(config: Config) -> dict[str, Any]:
    """Run a whole training (or continue one with `resume=true`); return its summary."""
    run_dir = existing_run_dir(config) if config.resume else new_run_dir(config)
    started = time.monotonic()
    summary: dict[str, Any] = {"run": str(run_dir), "pipeline": config.pipeline.name}
    with ray_for(config):
        if not config.resume:
            create_run_dir(run_dir, config)
        print(f"run: {run_dir}  (tensorboard --logdir {run_dir.parent})", flush=True)
        episodes_done = len(EpisodeStore(run_dir / "episodes").files()) if config.resume else 0
        cluster = start_workers(config, run_dir, episodes_done)
        try:
            summary["placement"] = placement_of(config, cluster)
            stats = run_on(config, cluster, run_dir, summary, started)
        finally:
            cluster.stop()
    summary.update(
        {
            "env_steps": int(stats["env_steps"]),
            "grad_steps": int(stats["grad_steps"]),
            "episodes": int(stats["episodes"]),
            "interventions": int(stats["interventions"]),
            "demo_transitions": int(stats["demo_transitions"]),
            "env_steps_per_s": stats["env_steps"] / max(summary["train_wall_s"], 1e-9),
            "updates_per_s": stats["grad_steps"] / max(summary["train_wall_s"], 1e-9),
            "wall_s": time.monotonic() - started,
        }
    )
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(
        json.dumps({k: v for k, v in summary.items() if k not in ("eval_results", "eval_curve")}),
        flush=True,
    )
    return summary


def cell_summary(
    stats: dict[str, dict[str, float]], evaluation: dict[str, dict[str, Any]], train_s: float
) -> dict[str, dict[str, Any]]:
    """summary.json `cells`: per cell its online env steps, episodes, success rate and
    intervened steps, its mean data rate over the training, and its final evaluation."""
    cells: dict[str, dict[str, Any]] = {}
    for name, cell in stats.items():
        result = evaluation.get(name, {})
        cells[name] = {
            "env_steps": int(cell["env_steps"]),
            "episodes": int(cell["episodes"]),
            "success_rate": cell["success_rate"],
            "interventions": int(cell["interventions"]),
            "env_steps_per_s": cell["env_steps"] / max(train_s, 1e-9),
            "demo_transitions": int(cell["demo_transitions"]),
            **(
                {
                    "eval_success_rate": result["success_rate"],
                    "eval_mean_return": result["mean_return"],
                    "eval_episodes": result["episodes"],
                }
                if result
                else {}
            ),
        }
    return cells


class ProgressReporter:
    """Called by a pipeline between its steps: the console line and periodic checkpoints."""

    def __init__(
        self, config: Config, cluster: Cluster, started: float, stop: GracefulStop
    ) -> None:
        self.config, self.cluster, self.started, self.stop = config, cluster, started, stop
        self.last_print = 0.0
        self.last_checkpoint = time.monotonic()
        self._checkpointing: Any = None

    def __call__(self, stats: dict[str, float]) -> None:
        self.stop.check()  # Ctrl-C lands here, between remote calls
        now = time.monotonic()
        if now - self.last_print >= self.config.run.log_every_s:
            self.last_print = now
            print(progress_line(stats, now - self.started), flush=True)
        every_s = self.config.run.checkpoint_every_s
        due = every_s and now - self.last_checkpoint >= every_s
        if due and (self._checkpointing is None or ray.wait([self._checkpointing], timeout=0)[0]):
            self.last_checkpoint = now
            self._checkpointing = self.cluster.learner.save_checkpoint.remote()
