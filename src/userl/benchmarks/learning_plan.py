"""The learning benchmark's plan: its options, the (setting, task) pairs to run with their
seeds and budgets, and each run's name and `userl train` overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from userl.benchmarks.learning_report import SECONDS_PER_MINUTE
from userl.benchmarks.learning_settings import (
    MATRICES,
    SETTINGS,
    SHORT,
    SHORT_OVERRIDES,
    Setting,
)
from userl.benchmarks.options import split_options
from userl.core.errors import ConfigError

DEFAULTS = {
    "settings": ",".join(SETTINGS),
    "matrix": "",
    "tasks": "peg_insertion",
    "seeds": "3",
    "first_seed": "0",
    "curve_every": "2000",
    "curve_episodes": "10",
    "short": "false",
    "stop_at_target": "false",
    "root": "runs/bench-learning",
    "plots": "",
    "classifier_episodes": "20",
    "classifier_epochs": "12",
    "report": "",
}


@dataclass(frozen=True)
class Planned:
    """One setting on one task, with its budget in robot-minutes (0: the setting's own)."""

    setting: str
    task: str
    robot_minutes: float = 0.0


def parse_options(arguments: list[str]) -> tuple[dict[str, str], list[str]]:
    """Benchmark options, and the remaining key=value config overrides for every run."""
    given, overrides = split_options(arguments, DEFAULTS, "learning")
    if given.get("matrix", "") not in ("", *MATRICES):
        raise ConfigError(
            f"unknown learning matrix {given['matrix']!r}; choose from {', '.join(MATRICES)}"
        )
    options = {**DEFAULTS, **given}
    if options["short"].lower() == "true":
        options = {**DEFAULTS, **SHORT, **given}
        overrides = [*SHORT_OVERRIDES, *overrides]
    if options["matrix"]:  # settings= and tasks= narrow the matrix; unset, they take all of it
        options |= {"settings": given.get("settings", ""), "tasks": given.get("tasks", "")}
    if options["tasks"] == "all":
        import userl.tasks  # noqa: F401  (registers every task)
        from userl.core.registry import TASKS

        options["tasks"] = ",".join(TASKS.names())
    unknown = [name for name in names(options["settings"]) if name not in SETTINGS]
    if unknown:
        raise ConfigError(
            f"unknown learning setting(s) {', '.join(unknown)}; choose from {', '.join(SETTINGS)}"
        )
    return options, overrides


def seeds(options: dict[str, str]) -> range:
    """The seeds to run: `seeds` of them from `first_seed`."""
    first, count = int(options["first_seed"]), int(options["seeds"])
    if first < 0 or count < 1:
        raise ConfigError(f"first_seed={first} seeds={count}: need first_seed >= 0 and seeds >= 1")
    return range(first, first + count)


def names(listed: str) -> list[str]:
    """The names in a comma-separated option (none for an empty one)."""
    return [name for name in listed.split(",") if name]


def plan(options: dict[str, str]) -> list[Planned]:
    """What to run, in order: a named matrix (narrowed to the settings and tasks given), or
    every setting on every task."""
    if not options["matrix"]:
        return [
            Planned(setting, task)
            for setting in names(options["settings"])
            for task in names(options["tasks"])
        ]
    planned = [
        Planned(entry.setting, task, entry.robot_minutes)
        for entry in MATRICES[options["matrix"]]
        for task in entry.tasks
    ]
    settings, tasks = names(options["settings"]), names(options["tasks"])
    narrowed = [
        p
        for p in planned
        if (not settings or p.setting in settings) and (not tasks or p.task in tasks)
    ]
    missing = sorted(
        {*settings} - {p.setting for p in narrowed} | {*tasks} - {p.task for p in narrowed}
    )
    if missing:
        raise ConfigError(
            f"matrix {options['matrix']!r} has no run of "
            f"{', '.join(missing)} among settings={options['settings']} "
            f"tasks={options['tasks']}; drop it or pick another matrix"
        )
    return narrowed


def control_hz(task: str) -> float:
    """The task's control rate, from its config preset."""
    from userl.config.loader import load_config

    return load_config([f"task={task}"]).task.control_hz


def env_steps_override(overrides: Sequence[str]) -> int | None:
    """The last `run.env_steps=` among these overrides, if any."""
    given = [o.partition("=")[2] for o in overrides if o.startswith("run.env_steps=")]
    return int(given[-1]) if given else None


def budget_env_steps(
    setting: Setting, planned: Planned, hz: float, overrides: Sequence[str] = ()
) -> int:
    """The online budget in env steps (0 when the setting counts episodes): a `run.env_steps=`
    among the benchmark's overrides, else the plan's robot-minutes, else the setting's own."""
    given = env_steps_override(overrides)
    if given is not None:
        return given
    if planned.robot_minutes:
        return round(planned.robot_minutes * SECONDS_PER_MINUTE * hz)
    return setting.env_steps


def run_name(planned: Planned, seed: int) -> str:
    """A run's name, and its record's: `<setting>-<task>-seed<k>`."""
    return f"{planned.setting}-{planned.task}-seed{seed}"


def run_overrides(
    setting: Setting,
    planned: Planned,
    seed: int,
    budget: int,
    options: dict[str, str],
    root: Path,
) -> list[str]:
    """The `userl train` overrides of one seed's run at `budget` env steps (0: the setting's
    episode budget), evaluated along the way at the benchmark's curve options."""
    limits = [f"run.env_steps={budget}"] if budget else [f"run.episodes={setting.episodes}"]
    if options["stop_at_target"].lower() == "true" and setting.target_success:
        limits.append(f"run.stop_at_eval_success={setting.target_success}")
    return [
        f"task={planned.task}",
        *setting.overrides,
        *limits,
        "run.grad_steps=0",
        "run.wall_s=0",
        f"run.seed={seed}",
        f"run.root={root}",
        f"run.name={run_name(planned, seed)}",
        "eval.at_start=true",
        f"eval.curve_every_env_steps={options['curve_every']}",
        f"eval.curve_episodes={options['curve_episodes']}",
        f"eval.episodes={options['curve_episodes']}",
        "eval.video_every_s=0",
        "run.log_every_s=30",
    ]
