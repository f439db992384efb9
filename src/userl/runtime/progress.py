"""What the driver does between a pipeline's steps: the console progress (a bar toward the
binding budget on a terminal, a line every `run.log_every_s` elsewhere), periodic
checkpoints, and the safe point where Ctrl-C stops the run."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import ray

from userl.config.schema import Config
from userl.runtime.budget_progress import binding_budget
from userl.runtime.cluster import Cluster
from userl.runtime.signals import GracefulStop
from userl.telemetry.progress import ClosedOnExit, ConsoleProgress, training_line

RATE_STATS = {"env_steps": "env_steps_per_s", "grad_steps": "updates_per_s", "episodes": ""}
"""The counters whose pace the reporter measures, with the name the console line gives it."""


class SessionRates:
    """Env steps, updates and episodes per second over this session so far: the counters'
    growth since the first stats seen, over the time since. Measured on the driver over the
    whole session, so a slow policy whose episodes arrive seconds apart still shows its pace
    (a short sliding window would read 0 between two episodes); episodes reloaded on resume
    are in the first stats, so they are not counted as this session's."""

    def __init__(self) -> None:
        self.first: tuple[float, Mapping[str, float]] | None = None

    def rates(self, stats: Mapping[str, float], now: float) -> dict[str, float]:
        """Per second of each of `RATE_STATS` (0 until some time has passed)."""
        if self.first is None:
            self.first = (now, dict(stats))
        since, first = self.first
        span_s = now - since
        return {
            stat: (stats.get(stat, 0.0) - first.get(stat, 0.0)) / span_s if span_s > 0 else 0.0
            for stat in RATE_STATS
        }


class ProgressReporter(ClosedOnExit):
    """Called by a pipeline between its steps with the learner's stats: shows the progress
    (`ConsoleProgress`: the bar, or a line every `run.log_every_s`), asks for a checkpoint
    every `run.checkpoint_every_s` (one at a time, never waited for), and raises
    `StopRequested` once Ctrl-C was pressed. `earlier_train_s`: the training seconds of the
    run's earlier sessions, which the wall-clock budget counts. A context manager: leaving it
    closes the bar."""

    def __init__(
        self,
        config: Config,
        cluster: Cluster,
        started: float,
        stop: GracefulStop,
        earlier_train_s: float = 0.0,
    ) -> None:
        self.config, self.cluster, self.started, self.stop = config, cluster, started, stop
        self.earlier_train_s = earlier_train_s
        self.train_started = time.monotonic()
        self.last_checkpoint = self.train_started
        self._checkpointing: Any = None
        self.session = SessionRates()
        self.console = ConsoleProgress("train", config.run.log_every_s)

    def __call__(self, stats: dict[str, float]) -> None:
        self.stop.check()  # Ctrl-C lands here, between remote calls
        now = time.monotonic()
        self.show(stats, now)
        every_s = self.config.run.checkpoint_every_s
        due = every_s and now - self.last_checkpoint >= every_s
        if due and (self._checkpointing is None or ray.wait([self._checkpointing], timeout=0)[0]):
            self.last_checkpoint = now
            self._checkpointing = self.cluster.learner.save_checkpoint.remote()

    def show(self, stats: Mapping[str, float], now: float) -> None:
        """The progress toward the binding budget (`budget_progress.binding_budget`)."""
        rates = self.session.rates(stats, now)
        train_s = self.earlier_train_s + now - self.train_started
        figures = {**stats, "train_s": train_s}
        budget = binding_budget(self.config.run, figures, {**rates, "train_s": 1.0})
        shown = {name: rates[stat] for stat, name in RATE_STATS.items() if name}
        text = budget.describe() if budget else "no budget: runs until Ctrl-C"
        line = training_line(stats, shown, now - self.started, text)
        if budget is None:
            self.console.show(stats.get("env_steps", 0.0), None, line)
        else:
            self.console.show(budget.fraction, 1.0, line)

    def close(self) -> None:
        self.console.close()
