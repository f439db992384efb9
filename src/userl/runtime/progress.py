"""What the driver does between a pipeline's steps: the console line, periodic checkpoints,
and the safe point where Ctrl-C stops the run."""

from __future__ import annotations

import time
from typing import Any

import ray

from userl.config.schema import Config
from userl.runtime.cluster import Cluster
from userl.runtime.signals import GracefulStop
from userl.telemetry.progress import progress_line


class ProgressReporter:
    """Called by a pipeline between its steps with the learner's stats: prints the console
    line every `run.log_every_s`, asks for a checkpoint every `run.checkpoint_every_s` (one
    at a time, never waited for), and raises `StopRequested` once Ctrl-C was pressed."""

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
