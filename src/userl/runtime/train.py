"""`userl train`: a run from start to end. Its folder, Ray, the cluster of actors, the run
loop on it (`run_loop.py`), and the summary it leaves in `summary.json`, with the budget
that ended it."""

from __future__ import annotations

import time
from typing import Any

from userl.config.schema import Config
from userl.data.store import EpisodeStore
from userl.runtime.budgets import budgets_set, describe, stop_line, stop_reason
from userl.runtime.cluster import placement_of, start_workers
from userl.runtime.ray_session import ray_for
from userl.runtime.run_dir import create_run_dir, run_dir_for
from userl.runtime.run_loop import run_on
from userl.runtime.summary import RunSummary, saved_counters, saved_summary, saved_train_s


def train(config: Config) -> dict[str, Any]:
    """Run a whole training (or continue one with `resume=true`); return its summary. A
    resumed run whose saved summary shows a budget already reached starts nothing, changes
    nothing on disk and returns that summary."""
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
    with ray_for(config):
        if not config.resume:
            create_run_dir(run_dir, config)
        print(f"run: {run_dir}  (tensorboard --logdir {run_dir.parent})", flush=True)
        episodes_done = len(EpisodeStore(run_dir / "episodes").files()) if config.resume else 0
        cluster = start_workers(config, run_dir, episodes_done)
        try:
            summary.placement = placement_of(config, cluster)
            stats = run_on(config, cluster, run_dir, summary, started)
        finally:
            cluster.stop()
    summary.record_training(stats, time.monotonic() - started)
    if summary.stop_reason:
        print(stop_line(config.run, summary.stop_reason), flush=True)
    return summary.write(run_dir)


def nothing_left(config: Config, saved: dict[str, Any], reason: str) -> dict[str, Any]:
    """`resume=true` with a budget already reached: one line; returns the saved summary as
    this session's (which was not interrupted: it did nothing)."""
    print(
        f"nothing left to do: {describe(config.run, reason)} already reached; "
        "raise it (resume=true ... run.<budget>=N) to train on",
        flush=True,
    )
    return {key: value for key, value in saved.items() if key != "interrupted"}
