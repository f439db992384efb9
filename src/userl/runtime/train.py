"""`userl train`: a run from start to end. Its folder, Ray, the cluster of actors, the run
loop on it (`run_loop.py`), and the summary it leaves in `summary.json`, with the budget
that ended it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import ray

from userl.config.schema import Config
from userl.data.store import EpisodeStore
from userl.runtime.budgets import budgets_set, describe, stop_line, stop_reason
from userl.runtime.cluster import placement_of, start_workers
from userl.runtime.errors import RunFailed
from userl.runtime.ray_session import ray_for
from userl.runtime.run_dir import StartUp, create_run_dir, run_dir_for, start_up
from userl.runtime.run_loop import failure_line, run_on
from userl.runtime.summary import RunSummary, saved_counters, saved_summary, saved_train_s


def train(config: Config) -> dict[str, Any]:
    """Run a whole training (or continue one with `resume=true`); return its summary. A
    resumed run whose saved summary shows a budget already reached starts nothing, changes
    nothing on disk and returns that summary. A new run that fails before its first episode
    leaves nothing behind (`run_dir.start_up`); a Ray or disk fault ends in one line."""
    run_dir = run_dir_for(config)
    started = time.monotonic()
    summary = RunSummary(run=str(run_dir), pipeline=config.pipeline.name)
    summary.budgets = budgets_set(config.run)
    saved = saved_summary(run_dir) if config.resume else None
    if saved is not None:
        summary.earlier_train_s = saved_train_s(saved)
        reason = stop_reason(config.run, saved_counters(saved), summary.earlier_train_s)
        if reason:
            return nothing_left(config, saved, reason)
    with start_up(run_dir, fresh=not config.resume) as start:
        try:
            stats = train_on_ray(config, run_dir, summary, started, start)
            summary.record_training(stats, time.monotonic() - started)
            if summary.stop_reason:
                print(stop_line(config.run, summary.stop_reason), flush=True)
            return summary.write(run_dir)
        except (ray.exceptions.RayError, OSError) as error:  # a fault: its cause, one line
            raise RunFailed(f"{failure_line(error)} -- {next_step(config, start)}") from error


def train_on_ray(
    config: Config, run_dir: Path, summary: RunSummary, started: float, start: StartUp
) -> dict[str, float]:
    """Ray up, the run's folder (a new run's), its actors, the run on them; the learner's
    final stats."""
    with ray_for(config):
        if not config.resume:
            create_run_dir(run_dir, config)
        print(f"run: {run_dir}  (tensorboard --logdir {run_dir.parent})", flush=True)
        episodes_done = len(EpisodeStore(run_dir / "episodes").files()) if config.resume else 0
        cluster = start_workers(config, run_dir, episodes_done)
        try:
            summary.placement = placement_of(config, cluster)
            return run_on(config, cluster, run_dir, summary, started, start.done)
        finally:
            cluster.stop()


def next_step(config: Config, start: StartUp) -> str:
    """What to do after a fault: run again (a start that left nothing) or resume."""
    if not start.kept:
        return "the run did not start and nothing of it was kept; fix that and run it again"
    return (
        f"continue with: userl train resume=true run.name={config.run.name} "
        f"run.root={config.run.root}"
    )


def nothing_left(config: Config, saved: dict[str, Any], reason: str) -> dict[str, Any]:
    """`resume=true` with a budget already reached: one line; returns the saved summary as
    this session's (which was not interrupted: it did nothing)."""
    print(
        f"nothing left to do: {describe(config.run, reason)} already reached; "
        "raise it (resume=true ... run.<budget>=N) to train on",
        flush=True,
    )
    return {key: value for key, value in saved.items() if key != "interrupted"}
