"""`userl bench vla chunking=rtc inference_delay_ms=300`: real-time chunking beside prefetch
under an injected inference delay, while HG-DAgger learns.

Per task, three runs of the `vla` benchmark's async setting, paced to wall-clock time
(`robot.realtime=true`, so control steps take their real period): `prefetch` without a
delay (the reference success), `prefetch` with `inference_delay_ms`, and `chunking` (rtc)
with it; the next chunk is asked for `prefetch_steps` actions ahead. Each row adds, over the
run's online episodes (read back from its episode store): `action_wait_ms_p99` (the largest
episode p99 of `time/action_wait_ms`; it includes each episode's first chunk, which the arm
waits for at rest, the whole delay), `action_wait_ms_running_p99` (the same over the chunks
asked for in motion: the stalls real-time execution must avoid) and `boundary_jump_max`
(the largest change between consecutive executed actions where chunks join; its mean per
episode as `boundary_jump_mean`). `summary` compares rtc with prefetch at the same delay.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from userl.data.store import EpisodeStore

CHUNKING_DEFAULTS = {"chunking": "", "inference_delay_ms": "300", "prefetch_steps": "5"}


def check(options: dict[str, str], task_weights: Callable[[str], object]) -> None:
    """The benchmark's malformed options as one-line `ConfigError`s, before any run:
    `task_weights` (the benchmark's own check) and the chunking options."""
    from userl.core.errors import ConfigError
    from userl.rollout.chunking import CHUNKING

    task_weights(options["task_weights"])
    if not options["chunking"]:
        return
    if options["chunking"] not in CHUNKING.names() or options["chunking"] == "prefetch":
        raise ConfigError(
            f"bench vla: chunking={options['chunking']} is not a chunking to compare with "
            "prefetch; use chunking=rtc"
        )
    for key, kind in (("inference_delay_ms", float), ("prefetch_steps", int)):
        try:
            ok = kind(options[key]) >= 0
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(
                f"bench vla: {key}={options[key]} must be a number >= 0, e.g. "
                f"{key}={CHUNKING_DEFAULTS[key]}"
            )


def chunking_runs(options: dict[str, str]) -> list[tuple[str, float]]:
    """(chunking, delay ms) of each run: the reference, then prefetch and the chosen mode."""
    delay = float(options["inference_delay_ms"])
    return [("prefetch", 0.0), ("prefetch", delay), (options["chunking"], delay)]


def executed_figures(run_dir: Path) -> dict[str, float]:
    """The action waits and chunk-boundary jumps of a run's online episodes."""
    episodes = EpisodeStore(run_dir / "episodes").load().episodes
    waits = [float(e.info.get("action_wait_ms_p99", 0.0)) for e in episodes]
    running = [float(e.info.get("action_wait_ms_running_p99", 0.0)) for e in episodes]
    jumps = [float(e.info.get("chunk_boundary_jump", 0.0)) for e in episodes]
    return {
        "action_wait_ms_p99": max(waits, default=0.0),
        "action_wait_ms_running_p99": max(running, default=0.0),
        "boundary_jump_max": max(jumps, default=0.0),
        "boundary_jump_mean": float(np.mean(jumps)) if jumps else 0.0,
    }


def chunking_rows(
    options: dict[str, str],
    base_overrides: Callable[[str], list[str]],
    overrides: list[str],
    one_run: Callable[[list[str]], dict[str, Any]],
) -> list[dict[str, Any]]:
    """One row per task and run; `base_overrides(task)`: the benchmark's async run."""
    rows = []
    for task in options["tasks"].split(","):
        for chunking, delay in chunking_runs(options):
            name = f"{task}-{chunking}-{delay:g}ms"
            run = [
                *base_overrides(task),
                "robot.realtime=true",
                f"pipeline.chunking={chunking}",
                f"pipeline.inference_delay_ms={delay}",
                f"pipeline.chunk_prefetch_steps={options['prefetch_steps']}",
                f"run.name={name}",
                *overrides,
            ]
            row = one_run(run)
            row |= executed_figures(Path(row["run"]))
            rows.append({"task": task, "chunking": chunking, "delay_ms": delay, **row})
    return rows


def chunking_summary(rows: list[dict[str, Any]], chunking: str) -> dict[str, Any]:
    """Per task: the chosen mode's wait p99, its jump relative to prefetch's at the same delay
    (1 - ratio: the reduction), and its success against the run without a delay."""
    out: dict[str, Any] = {}
    for task in dict.fromkeys(row["task"] for row in rows):
        mine = [r for r in rows if r["task"] == task]
        reference, prefetch, chosen = mine[0], mine[1], mine[2]
        out[task] = {
            "action_wait_ms_p99": chosen["action_wait_ms_p99"],
            "action_wait_ms_running_p99": chosen["action_wait_ms_running_p99"],
            "jump_reduction": 1.0
            - chosen["boundary_jump_max"] / max(prefetch["boundary_jump_max"], 1e-9),
            "success_vs_no_delay": chosen["online_success"] - reference["online_success"],
            "mode": chunking,
        }
    return out


def result(
    options: dict[str, str],
    overrides: list[str],
    root: Path,
    run_overrides: Callable[[dict[str, str], str, str, Path], list[str]],
    one_run: Callable[[list[str]], dict[str, Any]],
) -> dict[str, Any]:
    """The benchmark's result: its rows and, per task, `chunking_summary`."""
    rows = chunking_rows(
        options, lambda task: run_overrides(options, task, "async", root), overrides, one_run
    )
    return {
        "options": options,
        "overrides": overrides,
        "root": str(root),
        "rows": rows,
        "chunking": chunking_summary(rows, options["chunking"]),
    }


def chunking_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'task':>14} {'chunking':>9} {'delay ms':>8} {'online':>6} "
        f"{'wait p99 ms':>11} {'in motion':>9} {'jump max':>8} {'jump mean':>9}"
    ]
    for row in rows:
        lines.append(
            f"{row['task']:>14} {row['chunking']:>9} {row['delay_ms']:8.0f} "
            f"{row['online_success']:6.2f} {row['action_wait_ms_p99']:11.1f} "
            f"{row['action_wait_ms_running_p99']:9.1f} "
            f"{row['boundary_jump_max']:8.3f} {row['boundary_jump_mean']:9.3f}"
        )
    return "\n".join(lines)
