"""A learning collection's section of the results page: its settings on its tasks over their
seeds (the matrix of finals, then each setting and task with its budget, time to each success
threshold, finals, human effort, machine and date), the comparisons between settings, each
seed's curve, and the plots. Figures come from `bench learning`'s own aggregation
(`learning.entry`), so the page and the benchmark's table agree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from userl.benchmarks.learning import entry
from userl.benchmarks.learning_plan import Planned
from userl.benchmarks.learning_report import THRESHOLDS, robot_minutes
from userl.benchmarks.learning_settings import EVERY_TASK, SETTINGS
from userl.benchmarks.results.markdown import (
    NONE,
    Machines,
    count,
    dates,
    kilo_steps,
    minutes,
    rate,
    signed,
    table,
)
from userl.benchmarks.results.records import Collection, LearningRun

Group = tuple[str, str]  # (setting, task)


def task_order(task: str) -> tuple[int, str]:
    """The tasks in the paper's order, others after them by name."""
    return (EVERY_TASK.index(task) if task in EVERY_TASK else len(EVERY_TASK), task)


def groups(runs: Iterable[LearningRun]) -> dict[Group, list[LearningRun]]:
    """The runs by setting (in `SETTINGS` order) and task, seeds in order."""
    found: dict[Group, list[LearningRun]] = {}
    for run in runs:
        found.setdefault((run.setting, run.task), []).append(run)
    order = list(SETTINGS)
    return {
        key: sorted(found[key], key=lambda r: r.seed)
        for key in sorted(found, key=lambda k: (order.index(k[0]), task_order(k[1])))
    }


def figures(grouped: dict[Group, list[LearningRun]]) -> dict[Group, dict[str, Any]]:
    """Each group's figures over its seeds, as `bench learning` computes them (a comparison
    with another setting where that setting's runs are in the same collection)."""
    done: dict[str, Any] = {}
    for (setting, task), runs in grouped.items():
        done[f"{setting}/{task}"] = entry(
            Planned(setting, task), [r.result for r in runs], runs[0].budget_env_steps, [], {}
        )
    for (setting, task), runs in grouped.items():  # again, now that every group is done
        done[f"{setting}/{task}"] = entry(
            Planned(setting, task), [r.result for r in runs], runs[0].budget_env_steps, [], done
        )
    return {key: done[f"{key[0]}/{key[1]}"] for key in grouped}


def record_links(runs: Iterable[LearningRun], prefix: str) -> str:
    """Links to each seed's record."""
    return ", ".join(f"[seed {r.seed}]({prefix}{r.record.path})" for r in runs)


def final_cell(figure: dict[str, Any]) -> str:
    """Final success over the seeds: mean / min, and the number of seeds."""
    return (
        f"{rate(figure['final_success_mean'])} / {rate(figure['final_success_min'])} "
        f"({len(figure['runs'])})"
    )


def matrix(grouped: dict[Group, list[LearningRun]], figured: dict[Group, Any]) -> list[str]:
    """Settings by tasks: final success mean / min (seeds)."""
    tasks = sorted({task for _, task in grouped}, key=task_order)
    settings = list(dict.fromkeys(setting for setting, _ in grouped))
    rows = [
        [
            setting,
            *(final_cell(figured[setting, t]) if (setting, t) in figured else "" for t in tasks),
        ]
        for setting in settings
    ]
    return table(["final success: mean / min (seeds)", *tasks], rows)


def to_threshold(figure: dict[str, Any], threshold: str) -> str:
    """Robot-minutes to a success threshold on the slowest seed, or how many seeds got there."""
    reached = figure["to_success"][threshold]
    if reached["slowest_robot_minutes"] is not None:
        return minutes(reached["slowest_robot_minutes"])
    if not reached["seeds_reaching"]:
        return NONE
    return f"{NONE} ({reached['seeds_reaching']} of {len(figure['runs'])} seeds)"


def span(values: list[float]) -> str:
    """One value, or the lowest and the highest."""
    low, high = minutes(min(values)), minutes(max(values))
    return low if low == high else f"{low}-{high}"


def summary(
    grouped: dict[Group, list[LearningRun]],
    figured: dict[Group, Any],
    machines: Machines,
    prefix: str,
) -> list[str]:
    """One row per setting and task."""
    thresholds = [f"{t:g}" for t in THRESHOLDS]
    header = [
        "setting",
        "task",
        "seeds",
        "budget (robot-min)",
        *[f"robot-min to {t} (slowest seed)" for t in thresholds],
        "final success (mean / min)",
        "finals by seed",
        "takeovers / episode",
        "intervened steps / episode",
        "wall min / run",
        "records",
        "machine",
        "date",
    ]
    rows = []
    for (setting, task), runs in grouped.items():
        figure = figured[setting, task]
        budget = figure["budget_env_steps"]
        walls = [r.result["wall_s"] / 60.0 for r in runs]
        rows.append(
            [
                setting,
                task,
                str(len(runs)),
                minutes(robot_minutes(budget, figure["control_hz"])) if budget else NONE,
                *[to_threshold(figure, t) for t in thresholds],
                f"{rate(figure['final_success_mean'])} / {rate(figure['final_success_min'])}",
                ", ".join(rate(r.result["final_success"]) for r in runs),
                f"{figure['takeovers_per_episode']:.2f}",
                f"{figure['intervened_steps_per_episode']:.1f}",
                span(walls),
                record_links(runs, prefix),
                machines.labels(r.record.machine for r in runs),
                dates(r.record.date for r in runs),
            ]
        )
    return table(header, rows)


def comparisons(figured: dict[Group, Any]) -> list[str]:
    """A line per setting compared with another one in the collection."""
    lines = []
    for (setting, task), figure in figured.items():
        if "gap_to_ground_truth" in figure:
            lines.append(
                f"- {setting} on {task}: final success {signed(figure['gap_to_ground_truth'])} "
                f"against {figure['compared_to']} (target: within {figure['target_gap']:g}; "
                f"{'met' if figure['within_target_gap'] else 'not met'})"
            )
    return lines


def short_rate(value: float) -> str:
    """A success rate in a curve: as few digits as it needs (`0`, `0.3`, `0.35`, `1`)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def curve_text(curve: list[dict[str, Any]]) -> str:
    """A curve as its evaluations: success @ env steps."""
    return " → ".join(
        f"{short_rate(p['success_rate'])} @{kilo_steps(p['env_steps'])}" for p in curve
    )


def curves(grouped: dict[Group, list[LearningRun]], prefix: str) -> list[str]:
    """One row per seed: its curve, best and final success, online episodes and wall time."""
    header = [
        "setting",
        "task",
        "seed",
        "success @ env steps",
        "best",
        "final",
        "online episodes",
        "wall min",
        "record",
    ]
    rows = [
        [
            run.setting,
            run.task,
            str(run.seed),
            curve_text(run.result["curve"]),
            rate(max(p["success_rate"] for p in run.result["curve"])),
            rate(run.result["final_success"]),
            str(run.result["episodes"]),
            minutes(run.result["wall_s"] / 60.0),
            f"[{run.record.path.rsplit('/', 1)[-1]}]({prefix}{run.record.path})",
        ]
        for runs in grouped.values()
        for run in runs
    ]
    return table(header, rows)


def plots(collection: Collection, prefix: str) -> list[str]:
    """The collection's plots, one image each."""
    return [f"![{p.rsplit('/', 1)[-1]}]({prefix}{p})" for p in collection.plots]


def override(run: LearningRun, key: str) -> str | None:
    """The last value the run's overrides give `key`, if any."""
    given = [o.partition("=")[2] for o in run.record.data["overrides"] if o.startswith(key + "=")]
    return given[-1] if given else None


def evaluations(grouped: dict[Group, list[LearningRun]]) -> list[str]:
    """How the runs were evaluated, from their overrides: a line per distinct schedule, and
    the settings stopped at their target."""
    schedules: dict[str, list[str]] = {}
    stopped = []
    for (setting, task), runs in grouped.items():
        for run in runs:
            every, episodes = (
                override(run, "eval.curve_every_env_steps"),
                override(run, "eval.curve_episodes"),
            )
            final = override(run, "eval.episodes")
            text = (
                f"every {count(float(every))} env steps on {episodes} fixed seeds, and after "
                f"the last update on {final}"
                if every and episodes and final
                else "not recorded"
            )
            schedules.setdefault(text, [])
            if f"{setting} on {task}" not in schedules[text]:
                schedules[text].append(f"{setting} on {task}")
            target = override(run, "run.stop_at_eval_success")
            if target and f"{setting} on {task} ({target})" not in stopped:
                stopped.append(f"{setting} on {task} ({target})")
    lines = [
        f"Evaluated {text}" + ("." if len(schedules) == 1 else f": {', '.join(keys)}.")
        for text, keys in schedules.items()
    ]
    if stopped:
        lines.append(f"Stopped at the first evaluation reaching the target: {', '.join(stopped)}.")
    return [" ".join(lines), ""]


def section(collection: Collection, machines: Machines, prefix: str = "") -> list[str]:
    """The collection's section (its heading is the page's)."""
    grouped = groups(collection.learning)
    figured = figures(grouped)
    lines: list[str] = evaluations(grouped)
    if len({task for _, task in grouped}) > 1:
        lines += ["**Finals**", "", *matrix(grouped, figured), ""]
    lines += ["**Settings and tasks**", "", *summary(grouped, figured, machines, prefix), ""]
    compared = comparisons(figured)
    if compared:
        lines += ["**Compared**", "", *compared, ""]
    lines += ["**Curves** (evaluation success on fixed seeds)", "", *curves(grouped, prefix), ""]
    drawn = plots(collection, prefix)
    if drawn:
        lines += ["**Plots**", "", *(line for p in drawn for line in (p, ""))]
    return lines


def setting_notes(setting: str) -> str:
    """What a setting is, in a few words."""
    return SETTINGS[setting].notes if setting in SETTINGS else setting
