"""The USER paper's VLA table in simulation: online HG-DAgger of pi0 (`pi0_tiny`, CPU) on
pick_place and table_cleanup — success of the behaviour-cloned start and after the online
episodes, interventions per episode, generation s/episode and training s/update, for the
sync and async pipelines.

    userl bench vla [tasks=pick_place,table_cleanup] [pipelines=sync,async] [seed=0]
                    [demos=10] [pretrain=300] [episodes=40] [eval_episodes=20]
                    [multitask=true] [task_weights=table_cleanup:2] [short=true]
                    [root=bench-vla] [key=value ...] out=F.json
    userl bench vla device=cuda [step_times=pi0] [step_batch=32] [step_repeats=5] out=F.json
    userl bench vla chunking=rtc [inference_delay_ms=300] [prefetch_steps=5] out=F.json
    userl bench vla algos=hg_dagger,dsrl,residual_sac [operators=with,without]
                    [base_policy=pi0_tiny] out=F.json     # RL beside HG-DAgger (`vla_rl`)

Each run is a real `userl train policy=pi0_tiny algo=hg_dagger teleop=expert` run with fixed
seeds and deterministic evaluation on fixed seeds before (`eval.at_start`) and after.
With two or more tasks (`multitask=true`, the default) one instruction-conditioned policy
learns every task at once: one run per pipeline of several robot cells, a simulated robot per
task, each cell named after its task (the `cells=` file is written into the bench's root);
`demos` expert episodes and `episodes` online episodes per task (`run.episodes` = episodes x
tasks), `pretrain` updates in all, each task evaluated by its own cell. `task_weights` gives a
task's share of each batch relative to the others' (its cell's `weight`; tasks not run are
ignored): table_cleanup, the longer task, gets twice pick_place's. `multitask=false` trains
one policy per task instead, one run each. The rows are per task and pipeline.
`short=true` is the CI version: the same runs at a budget of minutes (2 demos, 2 online
episodes of 30 steps, 2 evaluation episodes; its success figures say nothing of learning).
Other `key=value` arguments override the runs' config (e.g. `policy=pi0` on a GPU cluster).
The runs train one update per collected env step (`algo.utd_max=1`), as the HG-DAgger Flow-G
setting of `bench learning` does: the preset's 4 over-trains a few thousand labels.

`device=cuda` measures the full-size preset's step times instead (no simulator; see
`vla_step_times`): one chunk for one robot, one update on a batch of chunk labels.
`step_times=PRESET` does so on any device (e.g. `step_times=pi0_tiny device=cpu`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from userl.benchmarks import vla_chunking, vla_rl
from userl.benchmarks.vla_rows import figures, multitask_rows

DEFAULTS = {
    "tasks": "pick_place,table_cleanup",
    "pipelines": "sync,async",
    "seed": "0",
    "demos": "10",
    "pretrain": "300",
    "episodes": "40",
    "eval_episodes": "20",
    "multitask": "true",
    "task_weights": "table_cleanup:2",
    "short": "false",
    "root": "bench-vla",
    "device": "cpu",
    "step_times": "",
    "step_batch": "32",
    "step_repeats": "5",
    **vla_chunking.CHUNKING_DEFAULTS,
    **vla_rl.RL_DEFAULTS,
}
FULL_SIZE_PRESET = "pi0"  # what `device=cuda` times
SHORT = {"demos": "2", "pretrain": "10", "episodes": "2", "eval_episodes": "2"}
SHORT_OVERRIDES = ["task.episode_steps=30", "algo.batch_size=8", "algo.utd_max=0.5"]
BASE = [
    "policy=pi0_tiny",
    "algo=hg_dagger",
    "teleop=expert",
    "eval.at_start=true",
    "eval.video_every_s=0",
    "run.grad_steps=0",
    "run.wall_s=0",
    "run.log_every_s=30",
    "algo.batch_size=32",
    "algo.utd_max=1",
]


def parse(arguments: list[str]) -> tuple[dict[str, str], list[str]]:
    """The benchmark's options (with defaults; `short=true` shrinks them) and the rest,
    which are config overrides for every run."""
    options = dict(DEFAULTS)
    overrides = []
    for argument in arguments:
        key, sep, value = argument.partition("=")
        if not sep:
            raise ValueError(f"argument {argument!r} is not key=value")
        if key in DEFAULTS:
            options[key] = value
        else:
            overrides.append(argument)
    if options["device"] != "cpu" and not options["step_times"]:
        options["step_times"] = FULL_SIZE_PRESET
    vla_chunking.check(options, task_weights)  # malformed options: errors before any run
    vla_rl.check(options)
    if options["short"].lower() == "true":
        given = {a.partition("=")[0] for a in arguments}
        options |= {k: v for k, v in SHORT.items() if k not in given}
        overrides = [*SHORT_OVERRIDES, *overrides]
    return options, overrides


def run_overrides(options: dict[str, str], task: str, pipeline: str, root: Path) -> list[str]:
    return [*BASE, f"task={task}", *_shared(options, pipeline, 1, root, f"{task}-{pipeline}")]


def _shared(options: dict[str, str], pipeline: str, tasks: int, root: Path, name: str) -> list[str]:
    return [
        f"pipeline={pipeline}",
        f"run.seed={options['seed']}",
        f"demos.episodes={options['demos']}",
        f"algo.pretrain_updates={options['pretrain']}",
        f"run.episodes={int(options['episodes']) * tasks}",
        f"eval.episodes={options['eval_episodes']}",
        f"run.root={root}",
        f"run.name={name}",
    ]


def multitask_overrides(
    options: dict[str, str], tasks: list[str], pipeline: str, root: Path
) -> list[str]:
    """One run of a cell per task (the cells file written into `root`), one policy."""
    weights = task_weights(options["task_weights"])
    cells = root / "cells.yaml"
    cell_specs = {task: {"task": task, "weight": weights.get(task, 1.0)} for task in tasks}
    cells.write_text(yaml.safe_dump(cell_specs, sort_keys=False))
    return [
        *BASE,
        f"cells={cells}",
        *_shared(options, pipeline, len(tasks), root, f"multitask-{pipeline}"),
    ]


def task_weights(value: str) -> dict[str, float]:
    """`task_weights=table_cleanup:2,pick_place:1` as task -> weight ("" = all equal)."""
    from userl.core.errors import ConfigError

    weights = {}
    for item in filter(None, value.split(",")):
        task, _, weight = item.partition(":")
        try:
            weights[task] = float(weight)
        except ValueError:
            weights[task] = float("nan")  # not a number: the error below names the item
        if not task or not weights[task] > 0:
            raise ConfigError(
                f"bench vla: task_weights item {item!r} is not TASK:WEIGHT with "
                "a weight > 0, e.g. task_weights=table_cleanup:2"
            )
    return weights


def train_run(overrides: list[str]) -> tuple[dict[str, Any], float]:
    """A `userl train` run's summary and wall seconds."""
    from userl.config.loader import load_config
    from userl.runtime.train import train

    started = time.monotonic()
    return train(load_config(overrides)), time.monotonic() - started


def one_run(overrides: list[str]) -> dict[str, Any]:
    summary, wall_s = train_run(overrides)
    return figures(
        summary,
        wall_s,
        bc_success=summary["initial_eval_success_rate"],
        online_success=summary["eval_success_rate"],
        eval_episodes=summary["eval_episodes"],
        episodes=summary["episodes"],
        interventions=summary["interventions"],
    )


def run(arguments: list[str]) -> dict[str, Any]:
    options, overrides = parse(arguments)
    if options["step_times"]:
        from userl.benchmarks.vla_step_times import step_times

        return {
            "options": options,
            "overrides": overrides,
            "step_times": step_times(
                options["step_times"],
                options["device"],
                int(options["step_batch"]),
                int(options["step_repeats"]),
                overrides,
            ),
        }
    root = Path(options["root"]) / time.strftime("%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    if options["chunking"]:
        return vla_chunking.result(options, overrides, root, run_overrides, one_run)
    if options["algos"]:
        return vla_rl.result(options, overrides, root, run_overrides, one_run)
    rows = []
    tasks = options["tasks"].split(",")
    for pipeline in options["pipelines"].split(","):
        if options["multitask"].lower() == "true" and len(tasks) > 1:
            summary, wall_s = train_run(
                [*multitask_overrides(options, tasks, pipeline, root), *overrides]
            )
            rows += [{**row, "pipeline": pipeline} for row in multitask_rows(summary, wall_s)]
            continue
        for task in tasks:
            figures = one_run([*run_overrides(options, task, pipeline, root), *overrides])
            rows.append({"task": task, "pipeline": pipeline, **figures})
    rows.sort(key=lambda row: tasks.index(row["task"]))
    result: dict[str, Any] = {
        "options": options,
        "overrides": overrides,
        "root": str(root),
        "rows": rows,
    }
    by = {(r["task"], r["pipeline"]): r for r in rows}
    result["sync_to_async"] = {
        task: {
            "generation": by[task, "sync"]["generation_s_per_episode"]
            / max(by[task, "async"]["generation_s_per_episode"], 1e-9),
            "training": by[task, "sync"]["training_s_per_update"]
            / max(by[task, "async"]["training_s_per_update"], 1e-9),
        }
        for task in options["tasks"].split(",")
        if (task, "sync") in by and (task, "async") in by
    }
    return result


def table(result: dict[str, Any]) -> str:
    if "step_times" in result:
        from userl.benchmarks import vla_step_times

        return vla_step_times.table(result["step_times"])
    if "chunking" in result:
        return vla_chunking.chunking_table(result["rows"])
    if "rl" in result:
        return vla_rl.rl_table(result["rows"])
    lines = [
        f"{'task':>14} {'pipeline':>8} {'BC':>5} {'online':>6} {'gain':>6} "
        f"{'interv/ep':>9} {'gen s/ep':>8} {'train s/upd':>11}"
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['task']:>14} {row['pipeline']:>8} {row['bc_success']:5.2f} "
            f"{row['online_success']:6.2f} {row['gain']:+6.2f} "
            f"{row['interventions_per_episode']:9.1f} "
            f"{row['generation_s_per_episode']:8.2f} "
            f"{row['training_s_per_update']:11.4f}"
        )
    return "\n".join(lines)
