"""A run on a started cluster, in its order: resume or load demos, pretrain, evaluate, run the
pipeline until its budget is spent (or Ctrl-C), checkpoint, evaluate again, collect the
figures into the run's summary and close the actors."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import ray

from userl.config.schema import Config
from userl.core.registry import PIPELINES
from userl.data.checkpoint import CheckpointRefused
from userl.runtime import pipelines  # noqa: F401  (registers the pipeline modes)
from userl.runtime.budgets import INTERRUPTED
from userl.runtime.cluster import Cluster, sync_weights
from userl.runtime.demos import demos_and_pretraining
from userl.runtime.disk_space import DiskShort
from userl.runtime.errors import RunFailed
from userl.runtime.evaluation import evaluate, initial_evaluation
from userl.runtime.progress import ProgressReporter
from userl.runtime.remote import call, call_each
from userl.runtime.signals import GracefulStop, StopRequested
from userl.runtime.summary import NO_TIME_S, RunSummary, cell_summary
from userl.telemetry.progress import training_line

# `OSError: [Errno 30] Read-only file system: '/runs/x'`, a traceback's last line
RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Failed|Diverged|Refused): .+")
ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")  # Ray colours the actor names it quotes


def run_on(
    config: Config,
    cluster: Cluster,
    run_dir: Path,
    summary: RunSummary,
    started: float,
    started_up: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    """Resume or load demos, pretrain, evaluate, run the pipeline, evaluate again; fills
    `summary` and returns the learner's final stats. `started_up` is called before the run's
    first episode or update (`demos_and_pretraining`): a failure before it is a failed start."""
    if config.resume:
        summary.resumed_from = resume(config, cluster)
    demos_and_pretraining(config, cluster, started_up)
    sync_weights(config, cluster)
    if config.eval.at_start:
        initial = initial_evaluation(config, cluster)
        summary.record_initial_evaluation(initial)
        print(f"initial evaluation: success {initial['success_rate']:.2f}", flush=True)
    train_started = time.monotonic()
    run_pipeline(config, cluster, run_dir, summary, started)
    summary.train_wall_s = time.monotonic() - train_started
    return finish(config, cluster, summary, started)


def resume(config: Config, cluster: Cluster) -> dict[str, int]:
    """The learner reloads the run's episodes and its last checkpoint; a checkpoint it
    refuses to load ends the run with that one line."""
    try:
        restored: dict[str, int] = call(
            cluster.learner.restore, timeout_s=config.run.remote_timeout_s
        )
    except ray.exceptions.RayTaskError as error:  # a refused checkpoint: one line
        if isinstance(error.cause, CheckpointRefused):
            raise CheckpointRefused(str(error.cause)) from None
        raise
    print(f"resumed: {json.dumps(restored)}", flush=True)
    return restored


def run_pipeline(
    config: Config, cluster: Cluster, run_dir: Path, summary: RunSummary, started: float
) -> None:
    """`pipeline.name` until a budget is spent (its stop reason goes into `summary`). Ctrl-C
    (or SIGTERM) stops it at a safe point; a failure ends the run with how to continue it."""
    pipeline = PIPELINES.get(config.pipeline.name)
    try:
        with (
            GracefulStop() as stop,
            ProgressReporter(config, cluster, started, stop, summary.earlier_train_s) as progress,
        ):
            results = pipeline(
                config, cluster.learner, cluster.workers, progress, summary.earlier_train_s
            )
            summary.stop_reason = results.pop("stop_reason", None)
            summary.pipeline_results = results
    except (StopRequested, KeyboardInterrupt):
        summary.interrupted = True
        summary.stop_reason = INTERRUPTED
        print("interrupted: every episode is stored; writing a final checkpoint", flush=True)
    except (ray.exceptions.RayError, RuntimeError) as error:
        reason = failure_line(error)
        # a robot that could not write an episode named it in `reason`: the rest are kept
        other = " other" if isinstance(error, DiskShort) and error.unwritten else ""
        raise RunFailed(
            f"{reason} -- every{other} finished episode is in {run_dir}/episodes or a "
            f"robot's spool; continue with: userl train resume=true "
            f"run.name={config.run.name} run.root={config.run.root}"
        ) from error


def failure_line(error: BaseException) -> str:
    """The first line of what went wrong: an actor's own error (e.g. the learner's
    `TrainingDiverged`, an `OSError` with its errno text and path), not Ray's wrapper around
    it, nor the description of an actor whose creation raised it."""
    prefix = ""
    while isinstance(error, ray.exceptions.RayTaskError) and error.cause not in (None, error):
        error = error.cause
        prefix = f"{type(error).__name__}: "
    if isinstance(error, ray.exceptions.RayActorError) and (cause := raised_line(str(error))):
        return cause
    text = str(error).strip()
    return prefix + text.splitlines()[0] if text else repr(error)


def raised_line(text: str) -> str | None:
    """The last `SomeError: message` line of a traceback quoted in `text` (Ray quotes an actor
    creation's traceback in its `ActorDiedError`), without terminal colours; None if none."""
    lines = [RAISED.match(ANSI_CODE.sub("", line).strip()) for line in text.splitlines()]
    found = [match.group(0) for match in lines if match]
    return found[-1] if found else None


def final_line(stats: dict[str, float], summary: RunSummary, elapsed_s: float) -> str:
    """The last progress line: the final counters, with the rates over the training time of
    all the run's sessions (as `summary.json` has them)."""
    train_s = max(summary.earlier_train_s + summary.train_wall_s, NO_TIME_S)
    rates = {
        "env_steps_per_s": stats.get("env_steps", 0.0) / train_s,
        "updates_per_s": stats.get("grad_steps", 0.0) / train_s,
    }
    return training_line(stats, rates, elapsed_s)


def finish(
    config: Config, cluster: Cluster, summary: RunSummary, started: float
) -> dict[str, float]:
    """After the pipeline: the learner's figures, a final checkpoint, the final evaluation
    (not after Ctrl-C), the learning curves; then the actors close. Returns the learner's
    final stats."""
    timeout_s = config.run.remote_timeout_s
    learner = cluster.learner
    stats: dict[str, float] = call(learner.stats, timeout_s=timeout_s)
    timing = call(learner.pipeline_timing, timeout_s=timeout_s)
    summary.training_s_per_update = timing["training_s_per_update"]
    summary.generation_s_per_episode = timing["generation_s_per_episode"]
    if cluster.inference is not None:
        summary.inference = call(cluster.inference.stats, timeout_s=timeout_s)
    print(final_line(stats, summary, time.monotonic() - started), flush=True)
    call(learner.save_checkpoint, timeout_s=timeout_s)
    if not summary.interrupted:
        summary.record_final_evaluation(evaluate(config, cluster))
    summary.eval_curve = call(learner.evaluation_curve, timeout_s=timeout_s)
    summary.adapter = call(learner.algorithm_report, timeout_s=timeout_s).get("adapter")
    if cluster.cells:
        summary.cells = cell_summary(
            call(learner.cell_stats, timeout_s=timeout_s),
            summary.eval_results_by_cell or {},
            summary.train_wall_s,
        )
        curves = call(learner.cell_evaluation_curves, timeout_s=timeout_s)
        for name, curve in curves.items():
            summary.cells[name]["eval_curve"] = curve
    call(learner.close, timeout_s=timeout_s)
    call_each([w.close for w in cluster.workers], timeout_s=timeout_s)
    return stats
