"""`userl train`: wire env workers and the learner on Ray, run a pipeline, evaluate, summarise."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import ray

from userl.config.loader import ConfigError, to_yaml
from userl.config.schema import Config
from userl.core.registry import PIPELINES
from userl.data.store import EpisodeStore
from userl.runtime import pipelines  # noqa: F401  (registers the pipeline modes)
from userl.runtime.env_worker import EnvWorker
from userl.runtime.evaluation import results_of
from userl.runtime.learner import Learner
from userl.runtime.ray_session import local_ray
from userl.telemetry.progress import progress_line


def prepare_run_dir(config: Config) -> Path:
    """Create `runs/<name>/`; an existing run is never overwritten."""
    if not config.run.name:
        config.run.name = datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{config.task.name}"
    run_dir = Path(config.run.root) / config.run.name
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(
            f"run {run_dir} already exists; choose another run.name= (nothing was overwritten)"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(to_yaml(config))
    return run_dir


def robot_seed(config: Config, index: int) -> int:
    return config.run.seed * 1_000_003 + index * 100_000


@dataclass
class Cluster:
    learner: Any
    workers: list[Any]


def start_workers(config: Config, run_dir: Path) -> Cluster:
    worker_actor = ray.remote(num_cpus=1, max_concurrency=2)(EnvWorker)
    learner_actor = ray.remote(num_cpus=1, max_concurrency=4)(Learner)
    workers = [
        worker_actor.options(name=None).remote(config, f"robot_{i}", robot_seed(config, i))
        for i in range(config.run.num_robots)
    ]
    timeout_s = config.run.remote_timeout_s
    spec = ray.get(workers[0].observation_spec.remote(), timeout=timeout_s)
    action_dim = ray.get(workers[0].action_dim.remote(), timeout=timeout_s)
    learner = learner_actor.remote(config, spec, action_dim, str(run_dir))
    sync_weights(config, Cluster(learner, workers))
    return Cluster(learner, workers)


def sync_weights(config: Config, cluster: Cluster) -> int:
    """Blocking push of the learner's newest snapshot to every worker (setup and evaluation)."""
    timeout_s = config.run.remote_timeout_s
    version, reference = ray.get(cluster.learner.latest_weights.remote(0), timeout=timeout_s)
    ray.get([w.set_weights.remote(version, reference) for w in cluster.workers], timeout=timeout_s)
    return version


def evaluate(config: Config, cluster: Cluster) -> dict[str, Any]:
    """Deterministic policy on fixed evaluation seeds, spread over the workers."""
    sync_weights(config, cluster)
    seeds = [config.eval.seed_offset + i for i in range(config.eval.episodes)]
    shares = np.array_split(np.asarray(seeds), len(cluster.workers))
    calls = [
        worker.collect.remote(len(share), "policy", config.eval.deterministic, int(share[0]))
        for worker, share in zip(cluster.workers, shares, strict=True) if len(share)
    ]
    return results_of([e for batch in ray.get(calls) for e in batch])


def load_demos(config: Config, cluster: Cluster) -> int:
    """Demonstrations from `demos.path`, else `demos.episodes` scripted-expert episodes."""
    timeout_s = config.run.remote_timeout_s
    if config.demos.path:
        path = Path(config.demos.path)
        if not path.is_dir():
            raise ConfigError(f"demos.path={path} is not a folder; give an episode store "
                              "written by `userl collect`, or set demos.episodes=N instead")
        report = EpisodeStore(path).load()
        for name, reason in report.unreadable:
            print(f"warning: skipped unreadable demo file {name}: {reason}")
        return ray.get(cluster.learner.add_demos.remote(report.episodes), timeout=timeout_s)
    if config.demos.episodes <= 0:
        return 0
    shares = np.array_split(np.arange(config.demos.episodes), len(cluster.workers))
    calls = [w.collect.remote(len(s), "expert") for w, s in zip(cluster.workers, shares, strict=True)
             if len(s)]
    episodes = [e for batch in ray.get(calls) for e in batch]
    return ray.get(cluster.learner.add_demos.remote(episodes), timeout=timeout_s)


def train(config: Config) -> dict[str, Any]:
    """Run a whole training and return (and write) its summary."""
    pipeline = PIPELINES.get(config.pipeline.name)
    run_dir = prepare_run_dir(config)
    print(f"run: {run_dir}  (tensorboard --logdir {run_dir.parent})", flush=True)
    started = time.monotonic()
    summary: dict[str, Any] = {"run": str(run_dir), "pipeline": config.pipeline.name}
    with local_ray(num_cpus=config.run.num_robots + 2):
        cluster = start_workers(config, run_dir)
        if config.eval.at_start:
            initial = evaluate(config, cluster)
            summary["initial_eval_success_rate"] = initial["success_rate"]
            print(f"initial evaluation: success {initial['success_rate']:.2f}", flush=True)
        demo_transitions = load_demos(config, cluster)
        print(f"demo transitions: {demo_transitions}", flush=True)
        last_print, last_checkpoint = [0.0], [time.monotonic()]

        def progress(stats: dict[str, float]) -> None:
            """Called by the pipeline between its steps: console line, periodic checkpoint."""
            now = time.monotonic()
            if now - last_print[0] >= config.run.log_every_s:
                last_print[0] = now
                print(progress_line(stats, now - started), flush=True)
            if config.run.checkpoint_every_s and now - last_checkpoint[0] >= config.run.checkpoint_every_s:
                last_checkpoint[0] = now
                cluster.learner.save_checkpoint.remote()

        train_started = time.monotonic()
        pipeline(config, cluster.learner, cluster.workers, progress)
        train_s = time.monotonic() - train_started
        timeout_s = config.run.remote_timeout_s
        stats = ray.get(cluster.learner.stats.remote(), timeout=timeout_s)
        print(progress_line(stats, time.monotonic() - started), flush=True)
        ray.get(cluster.learner.save_checkpoint.remote(), timeout=timeout_s)
        final = evaluate(config, cluster)
        ray.get(cluster.learner.close.remote(), timeout=timeout_s)
        ray.get([w.close.remote() for w in cluster.workers], timeout=timeout_s)
    summary.update({
        "eval_success_rate": final["success_rate"],
        "eval_episodes": final["episodes"],
        "eval_results": final["results"],
        "env_steps": int(stats["env_steps"]),
        "grad_steps": int(stats["grad_steps"]),
        "episodes": int(stats["episodes"]),
        "interventions": int(stats["interventions"]),
        "demo_transitions": int(demo_transitions),
        "train_wall_s": train_s,
        "env_steps_per_s": stats["env_steps"] / max(train_s, 1e-9),
        "updates_per_s": stats["grad_steps"] / max(train_s, 1e-9),
        "wall_s": time.monotonic() - started,
    })
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "eval_results"}), flush=True)
    return summary
