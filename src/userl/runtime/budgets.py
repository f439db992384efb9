"""A run's budgets: which are set, which one ended the run, and the line that says so.

Pure (no Ray, no clock of its own): the pipelines check it between their steps, and
`resume=true` checks it against the saved summary before it starts anything. Every budget
counts the whole run, over all its sessions; the wall-clock budget counts training seconds.
"""

from __future__ import annotations

from collections.abc import Mapping

from userl.config.schema import RunConfig

# stop reason -> (its `run.` field, the learner stat it is compared with); in check order
BUDGETS: dict[str, tuple[str, str]] = {
    "env_steps": ("env_steps", "env_steps"),
    "grad_steps": ("grad_steps", "grad_steps"),
    "episodes": ("episodes", "episodes"),
    "eval_success": ("stop_at_eval_success", "curve_success_rate"),
    "wall_s": ("wall_s", "train_s"),
}
INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM, not a budget


def budgets_set(run: RunConfig) -> dict[str, float]:
    """Every budget that is on (not 0), by its `run.` field, with its value."""
    values = {key: getattr(run, key) for key, _ in BUDGETS.values()}
    return {key: value for key, value in values.items() if value}


def stop_reason(run: RunConfig, stats: Mapping[str, float], train_s: float) -> str | None:
    """The first budget that `stats` (the learner's counters) and `train_s` (training
    seconds over all sessions) have reached, or None while every budget has room left."""
    figures = {**stats, "train_s": train_s}
    for reason, (key, stat) in BUDGETS.items():
        limit = getattr(run, key)
        if limit and figures.get(stat, 0.0) >= limit:
            return reason
    return None


def describe(run: RunConfig, reason: str) -> str:
    """A stop reason in words: the budget and its value ("run.grad_steps=6000"), or the
    reason itself when it is not a budget."""
    if reason not in BUDGETS:
        return reason
    key = BUDGETS[reason][0]
    value = float(getattr(run, key))
    return f"run.{key}={int(value) if value.is_integer() else value}"


def stop_line(run: RunConfig, reason: str) -> str:
    """The console line that ends a run: why it stopped."""
    if reason in BUDGETS:
        return f"stopped: {describe(run, reason)} reached"
    return f"stopped: {reason}"


def reached_line(run: RunConfig, reason: str, then: str) -> str:
    """The console line the moment a budget is reached, and what happens next ("budget
    reached (run.env_steps=5000); finishing the episode in progress"): the figures then pass
    the budget by what is finished, and the line says so."""
    return f"budget reached ({describe(run, reason)}); {then}"
