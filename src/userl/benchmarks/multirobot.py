"""Many robots, one learner: data throughput, time to a success threshold and the learner's
update-to-data ratio with 1, 2 (and 4, where the cores allow) simulated robots paced to real
time (`robot.realtime=true`), each setting the same RLPD state-policy training for the same
wall time.

Usage: userl bench multirobot [robots=1,2] [wall_s=90] [success_threshold=0.8]
       [success_window=5] [key=value ...] out=F.json

Figures per robot count, from the run's stored online episodes:
- `env_steps_per_s`: online env steps over the span from the first episode's start to the
  last one's end (startup and the final evaluation excluded), all robots together;
- `speedup`: that throughput over the one-robot row's (the target with 2 robots: >= 1.8x);
- `time_to_threshold_s`: from the first online episode's start until the success rate of the
  last `success_window` finished episodes first reaches `success_threshold` (null: never);
- `utd`: the learner's gradient steps per online env step.
A robot count above `os.cpu_count() - 2` (one core each for the learner and the driver) is
skipped when `robots` is not given.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_ROBOTS = (1, 2, 4)
CORES_BESIDE_ROBOTS = 2  # the learner and the driver
TARGET_SPEEDUP_2 = 1.8  # the bar: 2 real-time robots give >= 1.8x one robot's data
SHARED = [
    "robot.realtime=true",
    "obs=state",
    "algo=rlpd",
    "policy=mlp",
    "eval.episodes=2",
    "eval.video_every_s=0",
    "run.grad_steps=0",
    "run.env_steps=0",
    "run.log_every_s=15",
    "demos.episodes=4",
]


def default_robots() -> list[int]:
    """The default robot counts this machine's cores allow (1 and 2 always)."""
    allowed = max(2, (os.cpu_count() or 1) - CORES_BESIDE_ROBOTS)
    return [n for n in DEFAULT_ROBOTS if n <= allowed]


def episode_figures(episodes: list[Any], threshold: float, window: int) -> dict[str, Any]:
    """Throughput and time to threshold of a run's online episodes (see the module doc)."""
    if not episodes:
        return {
            "env_steps": 0,
            "episodes": 0,
            "env_steps_per_s": 0.0,
            "time_to_threshold_s": None,
            "online_success_rate": 0.0,
        }
    starts = np.asarray([float(e.info["started_at_s"]) for e in episodes])
    ends = starts + np.asarray([float(e.info["wall_s"]) for e in episodes])
    order = np.argsort(ends)
    successes = np.asarray([float(e.success) for e in episodes])[order]
    steps = int(sum(len(e) for e in episodes))
    span_s = float(ends.max() - starts.min())
    reached = None
    for last in range(window - 1, len(order)):
        if successes[last - window + 1 : last + 1].mean() >= threshold:
            reached = float(ends[order[last]] - starts.min())
            break
    return {
        "env_steps": steps,
        "episodes": len(episodes),
        "env_steps_per_s": steps / max(span_s, 1e-9),
        "time_to_threshold_s": reached,
        "online_success_rate": float(successes.mean()),
    }


def measure(
    robots: int, arguments: list[str], root: Path, wall_s: float, threshold: float, window: int
) -> dict[str, Any]:
    from userl.config.loader import load_config
    from userl.data.store import EpisodeStore
    from userl.runtime.train import train

    name = f"robots_{robots}"
    config = load_config(
        [
            *SHARED,
            *arguments,
            f"run.num_robots={robots}",
            f"run.wall_s={wall_s}",
            f"run.root={root}",
            f"run.name={name}",
        ]
    )
    summary = train(config)
    episodes = list(EpisodeStore(root / name / "episodes").iter_episodes())
    figures = episode_figures(episodes, threshold, window)
    return {
        "robots": robots,
        **figures,
        "grad_steps": int(summary["grad_steps"]),
        "utd": summary["grad_steps"] / max(summary["env_steps"], 1),
        "eval_success_rate": summary.get("eval_success_rate", 0.0),
        "control_hz": config.task.control_hz,
    }


def run(arguments: list[str]) -> dict[str, Any]:
    from userl.config.loader import load_config
    from userl.core.errors import ConfigError

    options = dict(argument.split("=", 1) for argument in arguments)
    try:
        robots = (
            [int(n) for n in options.pop("robots").split(",")]
            if "robots" in options
            else default_robots()
        )
        wall_s = float(options.pop("wall_s", "90"))
        threshold = float(options.pop("success_threshold", "0.8"))
        window = int(options.pop("success_window", "5"))
    except ValueError as error:
        raise ConfigError(
            f"bench multirobot: {error}; give robots=1,2 wall_s=90 "
            "success_threshold=0.8 success_window=5"
        ) from None
    if not robots or min(robots) < 1 or window < 1:
        raise ConfigError(
            "bench multirobot: robots must be counts >= 1 (e.g. robots=1,2) and success_window >= 1"
        )
    root = Path(options.pop("root", "") or tempfile.mkdtemp(prefix="userl-multirobot-"))
    overrides = [f"{k}={v}" for k, v in options.items()]
    task = load_config([*SHARED, *overrides, "run.wall_s=1"]).task.name  # bad keys: now
    rows = [measure(n, overrides, root, wall_s, threshold, window) for n in robots]
    base = next((row["env_steps_per_s"] for row in rows if row["robots"] == 1), 0.0)
    for row in rows:
        row["speedup"] = row["env_steps_per_s"] / base if base else None
    two = next((row["speedup"] for row in rows if row["robots"] == 2), None)
    return {
        "task": task,
        "wall_s_per_setting": wall_s,
        "success_threshold": threshold,
        "success_window": window,
        "rows": rows,
        "target_speedup_2": TARGET_SPEEDUP_2,
        "speedup_2": two,
        "target_met": None if two is None else two >= TARGET_SPEEDUP_2,
    }


def table(result: dict[str, Any]) -> str:
    """A Markdown table of the result."""
    lines = [
        "| robots | env steps/s | speedup | episodes | online success | "
        f"time to {result['success_threshold']:.0%} (s) | UTD |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        reached = row["time_to_threshold_s"]
        speedup = row["speedup"]
        lines.append(
            f"| {row['robots']} | {row['env_steps_per_s']:.2f} | "
            f"{'-' if speedup is None else f'{speedup:.2f}x'} | {row['episodes']} | "
            f"{row['online_success_rate']:.2f} | "
            f"{'not reached' if reached is None else f'{reached:.0f}'} | "
            f"{row['utd']:.2f} |"
        )
    if result["speedup_2"] is not None:
        lines.append(
            f"2 robots: {result['speedup_2']:.2f}x one robot's data (target >= "
            f"{result['target_speedup_2']}x: {'met' if result['target_met'] else 'not met'})"
        )
    return "\n".join(lines)
