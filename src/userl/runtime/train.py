"""`userl train`: a run from start to end. Its folder, Ray, the cluster of actors, the run
loop on it (`run_loop.py`), and the summary it leaves in `summary.json`."""

from __future__ import annotations

import time
from typing import Any

from userl.config.schema import Config
from userl.data.store import EpisodeStore
from userl.runtime.cluster import placement_of, start_workers
from userl.runtime.ray_session import ray_for
from userl.runtime.run_dir import create_run_dir, run_dir_for
from userl.runtime.run_loop import run_on
from userl.runtime.summary import RunSummary


def train(config: Config) -> dict[str, Any]:
    """Run a whole training (or continue one with `resume=true`); return its summary."""
    run_dir = run_dir_for(config)
    started = time.monotonic()
    summary = RunSummary(run=str(run_dir), pipeline=config.pipeline.name)
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
    return summary.write(run_dir)
