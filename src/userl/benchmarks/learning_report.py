"""The learning benchmark's report: per-setting figures over seeds, the summary table (env
steps and robot-minutes to each success threshold, final success, human effort), and one
plot per task with a curve per setting against env steps and against robot-minutes."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from userl.benchmarks.results.markdown import minutes as minutes_cell
from userl.benchmarks.results.markdown import table as table_lines

THRESHOLDS = (0.8, 0.9)  # success rates whose time to reach the table reports
SECONDS_PER_MINUTE = 60.0


def first_reaching(curve: list[dict[str, float]], target: float) -> dict[str, float] | None:
    """The first curve point whose success reached `target`."""
    return next((p for p in curve if p["success_rate"] >= target), None)


def reached_at(curve: list[dict[str, float]], target: float) -> int | None:
    """The first evaluated env step at which success reached `target`."""
    point = first_reaching(curve, target)
    return None if point is None else int(point["env_steps"])


def robot_minutes(env_steps: float, control_hz: float) -> float:
    """Robot time that many env steps take at the task's control rate."""
    return env_steps / control_hz / SECONDS_PER_MINUTE


def effort_per_episode(curve: list[dict[str, float]]) -> list[dict[str, float]]:
    """Human effort between consecutive curve points: takeovers and intervened steps per
    online episode in each interval (points without the effort counters are skipped)."""
    points = [p for p in curve if "online_episodes" in p]
    intervals = []
    for before, after in zip(points, points[1:], strict=False):
        episodes = after["online_episodes"] - before["online_episodes"]
        if episodes > 0:
            intervals.append(
                {
                    "env_steps": after["env_steps"],
                    "takeovers_per_episode": (after["takeovers"] - before["takeovers"]) / episodes,
                    "intervened_steps_per_episode": (
                        after["intervened_steps"] - before["intervened_steps"]
                    )
                    / episodes,
                }
            )
    return intervals


def run_effort(curve: list[dict[str, float]]) -> dict[str, float]:
    """The whole run's takeovers and intervened steps per online episode, from its last
    point that carries the counters (zeros when nobody intervened or nothing was counted)."""
    last = next((p for p in reversed(curve) if p.get("online_episodes")), None)
    if last is None:
        return {"takeovers_per_episode": 0.0, "intervened_steps_per_episode": 0.0}
    return {
        "takeovers_per_episode": last["takeovers"] / last["online_episodes"],
        "intervened_steps_per_episode": last["intervened_steps"] / last["online_episodes"],
    }


def aggregate(
    runs: list[dict[str, Any]], target_success: float | None, target_gain: float | None
) -> dict[str, Any]:
    """One setting on one task over its seeds: final and best success, the gain over the
    first evaluation, each threshold's time to reach it, human effort, and the targets."""
    finals = [r["final_success"] for r in runs]
    gains = [r["final_success"] - r["initial_success"] for r in runs]
    control_hz = runs[0]["control_hz"]
    result: dict[str, Any] = {
        "final_success_mean": float(np.mean(finals)),
        "final_success_min": float(np.min(finals)),
        "gain_mean": float(np.mean(gains)),
        "best_success_mean": float(
            np.mean([max(p["success_rate"] for p in r["curve"]) for r in runs])
        ),
        "control_hz": control_hz,
        "to_success": {f"{t:g}": _time_to(runs, t, control_hz) for t in THRESHOLDS},
        **{
            key: float(np.mean([run_effort(r["curve"])[key] for r in runs]))
            for key in ("takeovers_per_episode", "intervened_steps_per_episode")
        },
    }
    if target_success is not None:
        reached = [reached_at(r["curve"], target_success) for r in runs]
        result["target_success"] = target_success
        result["seeds_reaching_target"] = sum(x is not None for x in reached)
        result["reached_target_at_env_steps"] = reached
    if target_gain is not None:
        result["target_gain"] = target_gain
        result["seeds_above_gain"] = sum(g > target_gain for g in gains)
    return result


def _time_to(runs: list[dict[str, Any]], threshold: float, control_hz: float) -> dict[str, Any]:
    """Each seed's env steps and robot-minutes to `threshold`; the slowest seed's when every
    seed reached it (the figure a user can count on), else None."""
    steps = [reached_at(r["curve"], threshold) for r in runs]
    every = all(s is not None for s in steps)
    return {
        "env_steps": steps,
        "robot_minutes": [None if s is None else robot_minutes(s, control_hz) for s in steps],
        "seeds_reaching": sum(s is not None for s in steps),
        "slowest_robot_minutes": robot_minutes(max(s for s in steps if s is not None), control_hz)
        if every and steps
        else None,
    }


def compared(
    entry: dict[str, Any], other: dict[str, Any] | None, target_gap: float | None, compare_to: str
) -> dict[str, Any]:
    """The final-success gap to the entry it is compared with, when that one ran first."""
    if other is None:
        return {}
    gap = entry["final_success_mean"] - other["final_success_mean"]
    return {
        "compared_to": compare_to,
        "gap_to_ground_truth": gap,
        "target_gap": target_gap,
        "within_target_gap": target_gap is None or gap >= -target_gap,
    }


def summary_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary table, one row per setting and task (`learning_table.json`)."""
    rows = []
    for key, entry in results["results"].items():
        rows.append(
            {
                "setting": entry["setting"],
                "task": entry["task"],
                "seeds": len(entry["runs"]),
                "budget_env_steps": entry["budget_env_steps"],
                "budget_robot_minutes": robot_minutes(
                    entry["budget_env_steps"], entry["control_hz"]
                )
                if entry["budget_env_steps"]
                else None,
                **{
                    f"env_steps_to_{t}": entry["to_success"][t]["env_steps"]
                    for t in entry["to_success"]
                },
                **{
                    f"robot_minutes_to_{t}": entry["to_success"][t]["slowest_robot_minutes"]
                    for t in entry["to_success"]
                },
                "final_success_mean": entry["final_success_mean"],
                "final_success_min": entry["final_success_min"],
                "takeovers_per_episode": entry["takeovers_per_episode"],
                "intervened_steps_per_episode": entry["intervened_steps_per_episode"],
                "key": key,
            }
        )
    return rows


def table(result: dict[str, Any]) -> str:
    """The summary table as Markdown (the console's; `bench report` writes docs/results.md),
    then where the plots are."""
    thresholds = [f"{t:g}" for t in THRESHOLDS]
    header = [
        "setting",
        "task",
        "seeds",
        "budget (robot-min)",
        *[f"robot-min to {t} (slowest seed)" for t in thresholds],
        "final success (mean / min)",
        "takeovers / episode",
        "intervened steps / episode",
    ]
    rows = [
        [
            row["setting"],
            row["task"],
            str(row["seeds"]),
            minutes_cell(row["budget_robot_minutes"]),
            *[minutes_cell(row[f"robot_minutes_to_{t}"]) for t in thresholds],
            f"{row['final_success_mean']:.2f} / {row['final_success_min']:.2f}",
            f"{row['takeovers_per_episode']:.2f}",
            f"{row['intervened_steps_per_episode']:.1f}",
        ]
        for row in summary_rows(result)
    ]
    lines = table_lines(header, rows)
    for entry in result["results"].values():
        if "gap_to_ground_truth" in entry:
            lines.append(
                f"{entry['setting']}/{entry['task']}: gap to {entry['compared_to']} "
                f"{entry['gap_to_ground_truth']:+.2f} (target within "
                f"{entry['target_gap']})"
            )
    lines.extend(f"curves: {path}" for path in result.get("plots", []))
    return "\n".join(lines)


def _band(
    curves: list[list[dict[str, float]]], key: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Env steps (mean over seeds), and the mean, min and max of `key` at each evaluation,
    over the seeds' common length."""
    length = min(len(c) for c in curves)
    steps = np.mean([[p["env_steps"] for p in c[:length]] for c in curves], axis=0)
    values = np.array([[p[key] for p in c[:length]] for c in curves])
    return steps, values.mean(axis=0), values.min(axis=0), values.max(axis=0)


def plot_task(task: str, entries: list[dict[str, Any]], path: Path) -> None:
    """One task: a curve per setting (mean over seeds, min–max band) of success against
    env steps and against robot-minutes, and takeovers per online episode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_steps, by_minutes, effort) = plt.subplots(1, 3, figsize=(16, 4.2))
    for entry in entries:
        curves = [r["curve"] for r in entry["runs"] if r["curve"]]
        if not curves:
            continue
        label = f"{entry['setting']} ({len(curves)} seed{'s' if len(curves) > 1 else ''})"
        steps, mean, low, high = _band(curves, "success_rate")
        minutes = steps / entry["control_hz"] / SECONDS_PER_MINUTE
        for axis, x in ((by_steps, steps), (by_minutes, minutes)):
            (line,) = axis.plot(x, mean, marker=".", label=label)
            axis.fill_between(x, low, high, color=line.get_color(), alpha=0.2)
        intervals = [effort_per_episode(c) for c in curves]
        if all(intervals):
            steps, mean, low, high = _band(intervals, "takeovers_per_episode")
            (line,) = effort.plot(steps, mean, marker=".", label=label)
            effort.fill_between(steps, low, high, color=line.get_color(), alpha=0.2)
    targets = {e["target_success"] for e in entries if e.get("target_success") is not None}
    for axis, xlabel in (
        (by_steps, "online env steps"),
        (by_minutes, "robot-minutes (at the task's control rate)"),
    ):
        for target in sorted(targets):
            axis.axhline(target, color="red", linestyle="--", linewidth=0.8)
        axis.set_xlabel(xlabel)
        axis.set_ylabel("evaluation success rate")
        axis.set_ylim(-0.05, 1.05)
        axis.legend(fontsize=7)
    effort.set_xlabel("online env steps")
    effort.set_ylabel("takeovers per online episode")
    if effort.get_legend_handles_labels()[0]:
        effort.legend(fontsize=7)
    overrides = " ".join(entries[0].get("extra_overrides", [])) if entries else ""
    figure.suptitle("\n".join([task, *textwrap.wrap(overrides, 140)]), fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_tasks(results: dict[str, Any], folder: Path) -> list[str]:
    """`learning_<task>.png` in `folder` for every task in the results; their paths."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for entry in results["results"].values():
        by_task.setdefault(entry["task"], []).append(entry)
    paths = []
    for task, entries in by_task.items():
        path = folder / f"learning_{task}.png"
        plot_task(task, entries, path)
        paths.append(str(path))
    return paths
