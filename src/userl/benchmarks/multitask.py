"""Several tasks at once against each alone: the wall time a run of several robot cells (one
robot per task, one learner, one policy) takes to bring every task to a success threshold,
against the time each task's own single-task run takes, with the robots paced to real time.

Usage: userl bench multitask [cells=franka_peg,franka_charger] [threshold=0.9]
       [env_steps_per_cell=16000] [curve_every_per_cell=2000] [curve_episodes=10]
       [eval_episodes=20] [threads=2] [root=DIR] [key=value ...] out=F.json

Every run is RLPD on state with the simulated operator (`teleop=expert`), robots paced to
real time (`robot.realtime=true`) and one update per env step (`algo.utd_min=algo.utd_max=1`),
so the robots, not the learner, set the pace as on real hardware (the learner must keep up
with every robot: `threads` torch threads, the same in every run). First each cell's task
and robot run alone for `env_steps_per_cell` env steps, then all cells together for that many
per cell. Evaluations on `curve_episodes` fixed seeds come every `curve_every_per_cell` env
steps of a task (every cell evaluates its own task in the joint run), and a run stops once
every task's newest evaluation reached `threshold` (`run.stop_at_eval_success`), then
evaluates each task on `eval_episodes`. The runs go one after another, each alone on the
machine; with the defaults the three take about 50 minutes.

Figures per task: seconds and env steps (of that task) to the threshold, alone and together,
and `ratio` = together / alone (the target: <= 1.2); `ratio_all`: the time until every task
reached it together over the slowest task alone; final success.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from userl.benchmarks.learning_report import first_reaching

TARGET_RATIO = 1.2  # the bar: together within 1.2x the time each task takes alone
SHARED = (
    "algo=rlpd",
    "policy=mlp",
    "obs=state",
    "algo.utd_min=1",
    "algo.utd_max=1",
    "robot.realtime=true",
    "teleop=expert",
    "run.grad_steps=0",
    "run.wall_s=0",
    "eval.video_every_s=0",
    "run.log_every_s=30",
)
DEFAULTS = {
    "cells": "franka_peg,franka_charger",
    "threshold": "0.9",
    "env_steps_per_cell": "16000",
    "curve_every_per_cell": "2000",
    "curve_episodes": "10",
    "eval_episodes": "20",
    "threads": "2",
    "root": "",
}


def _options(arguments: list[str]) -> tuple[dict[str, str], list[str]]:
    from userl.benchmarks.options import split_options
    from userl.core.errors import ConfigError

    given, overrides = split_options(arguments, DEFAULTS, "multitask")
    options = {**DEFAULTS, **given}
    if len(options["cells"].split(",")) < 2:
        raise ConfigError(
            "bench multitask: give two or more cells, e.g. cells=franka_peg,franka_charger"
        )
    return options, overrides


def _common(
    options: dict[str, str],
    overrides: list[str],
    root: Path,
    name: str,
    env_steps: int,
    curve_every: int,
) -> list[str]:
    return [
        *SHARED,
        f"run.env_steps={env_steps}",
        f"eval.curve_every_env_steps={curve_every}",
        f"eval.curve_episodes={options['curve_episodes']}",
        f"eval.episodes={options['eval_episodes']}",
        f"run.stop_at_eval_success={options['threshold']}",
        f"run.torch_threads={options['threads']}",
        f"run.root={root}",
        f"run.name={name}",
        *overrides,
    ]


def alone_overrides(cell: str) -> list[str]:
    """A cell's task and robot as a plain single-task run."""
    from userl.config.loader import load_config

    config = load_config([f"cells=[{cell}]"])
    return [f"task={config.task.name}", f"robot={config.robot.name}"]


def task_figures(curve: list[dict[str, float]], threshold: float) -> dict[str, Any]:
    """Seconds and env steps of this task (a cell's own steps in a joint run) to
    `threshold`, and the curve."""
    point = first_reaching(curve, threshold)
    return {
        "time_to_threshold_s": None if point is None else float(point["time_s"]),
        "env_steps_to_threshold": None
        if point is None
        else int(point.get("cell_env_steps", point["env_steps"])),
        "curve": [
            {
                "env_steps": int(p.get("cell_env_steps", p["env_steps"])),
                "time_s": p["time_s"],
                "success_rate": p["success_rate"],
            }
            for p in curve
        ],
    }


def ratios(
    alone: dict[str, dict[str, Any]],
    together: dict[str, dict[str, Any]],
    together_all_s: float | None,
) -> dict[str, Any]:
    """Per task together / alone, and every task together over the slowest alone."""
    per_task = {}
    for cell, single in alone.items():
        a, t = single["time_to_threshold_s"], together[cell]["time_to_threshold_s"]
        per_task[cell] = None if a is None or t is None else t / a
    times = [s["time_to_threshold_s"] for s in alone.values()]
    slowest = None if None in times else max(times)
    ratio_all = None if together_all_s is None or slowest is None else together_all_s / slowest
    met = all(r is not None and r <= TARGET_RATIO for r in per_task.values())
    return {
        "ratio": per_task,
        "ratio_all": ratio_all,
        "target_ratio": TARGET_RATIO,
        "target_met": met,
    }


def run(arguments: list[str]) -> dict[str, Any]:
    from userl.config.loader import load_config
    from userl.runtime.train import train

    options, overrides = _options(arguments)
    cells = options["cells"].split(",")
    threshold = float(options["threshold"])
    per_cell, every = int(options["env_steps_per_cell"]), int(options["curve_every_per_cell"])
    root = Path(options["root"] or tempfile.mkdtemp(prefix="userl-multitask-"))
    alone: dict[str, dict[str, Any]] = {}
    for cell in cells:
        summary = train(
            load_config(
                [
                    *alone_overrides(cell),
                    *_common(options, overrides, root, f"alone_{cell}", per_cell, every),
                ]
            )
        )
        alone[cell] = {
            **task_figures(summary["eval_curve"], threshold),
            "final_success": summary["eval_success_rate"],
            "env_steps": summary["env_steps"],
        }
    summary = train(
        load_config(
            [
                f"cells=[{','.join(cells)}]",
                *_common(
                    options, overrides, root, "together", per_cell * len(cells), every * len(cells)
                ),
            ]
        )
    )
    together = {
        cell: {
            **task_figures(summary["cells"][cell]["eval_curve"], threshold),
            "final_success": summary["cells"][cell].get("eval_success_rate"),
            "env_steps": summary["cells"][cell]["env_steps"],
        }
        for cell in cells
    }
    everyone = next(
        (
            p
            for p in summary["eval_curve"]
            if all(_reached_by(together[c]["curve"], p, threshold) for c in cells)
        ),
        None,
    )
    together_all_s = None if everyone is None else float(everyone["time_s"])
    return {
        "cells": cells,
        "threshold": threshold,
        "options": options,
        "overrides": overrides,
        "root": str(root),
        "alone": alone,
        "together": together,
        "together_all_s": together_all_s,
        "utd_together": summary["grad_steps"] / max(summary["env_steps"], 1),
        **ratios(alone, together, together_all_s),
    }


def _reached_by(curve: list[dict[str, float]], point: dict[str, float], threshold: float) -> bool:
    """Whether the task's curve reached `threshold` by the time of the run's `point`."""
    return any(p["success_rate"] >= threshold and p["time_s"] <= point["time_s"] for p in curve)


def _seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.0f}"


def table(result: dict[str, Any]) -> str:
    """A Markdown table of the result."""
    threshold = result["threshold"]
    lines = [
        f"| task | alone: s to {threshold:g} | env steps | together: s to {threshold:g} | "
        "env steps | together / alone | final success alone / together |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for cell in result["cells"]:
        a, t, r = result["alone"][cell], result["together"][cell], result["ratio"][cell]
        lines.append(
            f"| {cell} | {_seconds(a['time_to_threshold_s'])} | "
            f"{a['env_steps_to_threshold']} | {_seconds(t['time_to_threshold_s'])} | "
            f"{t['env_steps_to_threshold']} | {'-' if r is None else f'{r:.2f}x'} | "
            f"{a['final_success']} / {t['final_success']} |"
        )
    ratio_all = result["ratio_all"]
    lines.append(
        f"every task together: {_seconds(result['together_all_s'])} s, "
        f"{'-' if ratio_all is None else f'{ratio_all:.2f}x'} the slowest alone; "
        f"target <= {result['target_ratio']}x per task: "
        f"{'met' if result['target_met'] else 'not met'}; "
        f"UTD together {result['utd_together']:.2f}"
    )
    return "\n".join(lines)
