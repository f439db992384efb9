"""How far a run is toward its budgets, and which one binds: the budget that, at the pace of
this session so far, is reached first; with its share done and the time left to it.

Pure (no Ray, no clock of its own): the progress reporter gives it the learner's counters,
the training seconds and the rates it measured."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from userl.config.schema import RunConfig
from userl.runtime.budgets import BUDGETS
from userl.telemetry.progress import duration, number


@dataclass(frozen=True)
class BudgetProgress:
    """One budget now: its `run.` field, the figure it counts and its limit, and the seconds
    left at the current pace (inf: no pace yet, or a budget no pace forecasts, such as
    `run.stop_at_eval_success`)."""

    key: str
    figure: float
    limit: float
    eta_s: float

    @property
    def fraction(self) -> float:
        return min(max(self.figure / self.limit, 0.0), 1.0)

    def describe(self) -> str:
        """'run.grad_steps=6000 53% eta 2m10s'."""
        return f"run.{self.key}={number(self.limit)} {self.fraction:.0%} eta {duration(self.eta_s)}"


def budgets_progress(
    run: RunConfig, figures: Mapping[str, float], rates: Mapping[str, float]
) -> list[BudgetProgress]:
    """Every budget that is set. `figures`: the learner's stats and `train_s` (training
    seconds over all sessions); `rates`: per second of each stat that has one (`env_steps`,
    `grad_steps`, `episodes`, and `train_s` itself at 1)."""
    found = []
    for key, stat in BUDGETS.values():
        limit = float(getattr(run, key))
        if not limit:
            continue
        figure, rate = float(figures.get(stat, 0.0)), float(rates.get(stat, 0.0))
        eta_s = max(limit - figure, 0.0) / rate if rate > 0 else math.inf
        found.append(BudgetProgress(key, figure, limit, eta_s))
    return found


def binding_budget(
    run: RunConfig, figures: Mapping[str, float], rates: Mapping[str, float]
) -> BudgetProgress | None:
    """The budget reached first at the current pace; before any pace is known, the one
    furthest along. None when no budget is set (the run goes on until Ctrl-C)."""
    found = budgets_progress(run, figures, rates)
    return min(found, key=lambda b: (b.eta_s, -b.fraction)) if found else None
