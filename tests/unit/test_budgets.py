"""The budget check: which budget ends a run, the budgets a summary lists, the stop line."""

import pytest

from userl.config.schema import RunConfig
from userl.runtime.budgets import budgets_set, stop_line, stop_reason

ZERO = {"env_steps": 0.0, "grad_steps": 0.0, "episodes": 0.0, "curve_success_rate": -1.0}


@pytest.mark.parametrize(
    ("budget", "stats", "train_s", "reason"),
    [
        ({"env_steps": 100}, {"env_steps": 100.0}, 0.0, "env_steps"),
        ({"grad_steps": 50}, {"grad_steps": 51.0}, 0.0, "grad_steps"),
        ({"episodes": 3}, {"episodes": 3.0}, 0.0, "episodes"),
        ({"stop_at_eval_success": 0.8}, {"curve_success_rate": 0.9}, 0.0, "eval_success"),
        ({"wall_s": 15.0}, {}, 15.0, "wall_s"),
    ],
)
def test_each_budget_names_itself_once_reached(
    budget: dict[str, float], stats: dict[str, float], train_s: float, reason: str
) -> None:
    run = RunConfig(**{"grad_steps": 0, **budget})  # type: ignore[arg-type]
    assert stop_reason(run, {**ZERO, **stats}, train_s) == reason
    assert stop_reason(run, ZERO, 0.0) is None  # not reached yet


def test_no_budget_reached_and_budgets_off_never_stop() -> None:
    run = RunConfig(env_steps=0, grad_steps=0, episodes=0, wall_s=0.0)
    assert stop_reason(run, {**ZERO, "env_steps": 1e9, "grad_steps": 1e9}, 1e9) is None
    assert budgets_set(run) == {}


def test_budgets_lists_every_budget_set_with_its_value() -> None:
    run = RunConfig(env_steps=5000, grad_steps=6000, wall_s=15.0)
    assert budgets_set(run) == {"env_steps": 5000, "grad_steps": 6000, "wall_s": 15.0}


def test_the_stop_line_names_the_budget_and_its_value() -> None:
    run = RunConfig(grad_steps=6000, wall_s=15.0)
    assert stop_line(run, "grad_steps") == "stopped: run.grad_steps=6000 reached"
    assert stop_line(run, "wall_s") == "stopped: run.wall_s=15 reached"
    assert stop_line(run, "interrupted") == "stopped: interrupted"


def test_wall_clock_is_off_by_default_and_the_update_budget_is_on() -> None:
    run = RunConfig()
    assert run.wall_s == 0.0
    assert budgets_set(run) == {"grad_steps": run.grad_steps}
