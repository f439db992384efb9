"""`userl bench vla algos=hg_dagger,dsrl,residual_sac`: reinforcement learning of the VLA
beside HG-DAgger, from one behaviour-cloned base, with and without the simulated operator.

Per task, first the base: a `base_policy` run (default `pi0_tiny`) of HG-DAgger's behaviour
cloning alone (`pretrain` updates on `demos` expert demos, no online episode), evaluated on
the benchmark's fixed seeds. Then, for each algorithm of `algos` and each of `operators`
(`with`: `teleop=expert`, the simulated operator takes over when the robot stalls;
`without`: `teleop=none`, the simulator's success is the only signal), one run of `episodes`
online episodes at the same budget, evaluated before (`eval.at_start`) and after:
- `hg_dagger` repeats the base's behaviour cloning (same seed, demos and updates) and goes on
  online, training the whole policy;
- an adapter (`dsrl`, `residual_sac`) acts through the frozen base (`policy.base=` the base
  run); DSRL's actor starts at the base's behaviour (its preset's `policy.start_at_base`).
An algorithm that cannot train over the base (`userl algorithms`) is not run: `skipped` holds
the loader's one line for it. A row says success before and after, online episodes, the
operator's steps and takeovers per episode, updates, and the trained share of the base's
parameters (1 for HG-DAgger's whole policy, the adapter's size over the base's otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from userl.core.errors import ConfigError

RL_DEFAULTS = {"algos": "", "operators": "with,without", "base_policy": "pi0_tiny"}
ADAPTERS = ("dsrl", "residual_sac")  # algorithms that act through a frozen base
OPERATOR_TELEOP = {"with": "teleop=expert", "without": "teleop=none"}
# What an adapter run adds to the benchmark's runs (HG-DAgger's BASE): its own algorithm,
# policy and operator replace those, and its actor starts at the base's behaviour.
BASE_GRAD_STEPS = 1  # the base run's update budget: reached by its behaviour cloning
ADAPTER_KEYS = ("algo=", "policy=", "algo.pretrain_updates=")


def check(options: dict[str, str]) -> None:
    """The RL rows' malformed options as one-line `ConfigError`s, before any run."""
    from userl.config.preset_files import preset_names

    algos = [a for a in options["algos"].split(",") if a]
    for algo in algos:
        if algo != "hg_dagger" and algo not in ADAPTERS:
            known = ",".join(("hg_dagger", *ADAPTERS))
            raise ConfigError(f"bench vla: algos names {algo!r}; use some of {known}")
    for operator in options["operators"].split(","):
        if operator not in OPERATOR_TELEOP:
            raise ConfigError(
                f"bench vla: operators names {operator!r}; use operators=with,without "
                "(or one of them)"
            )
    if algos and options["base_policy"] not in preset_names("policy"):
        raise ConfigError(
            f"bench vla: base_policy={options['base_policy']} is not a policy preset; use one "
            f"of {','.join(preset_names('policy'))}"
        )


def base_overrides(run_overrides: list[str], base_policy: str) -> list[str]:
    """The base: the benchmark's HG-DAgger run of `base_policy`, stopped once behaviour
    cloning is done (its pretrain updates are past any `run.grad_steps` budget below them);
    its evaluation at the start (after the cloning) is the BC success."""
    return [*run_overrides, f"policy={base_policy}", f"run.grad_steps={BASE_GRAD_STEPS}"]


def adapter_overrides(run_overrides: list[str], algo: str, base: Path) -> list[str]:
    """An adapter run: the benchmark's run with the adapter's algorithm over the base, on
    the base's observations."""
    from userl.policies.frozen_base import base_run_config

    kept = [a for a in run_overrides if not a.startswith(ADAPTER_KEYS)]
    obs = base_run_config(str(base)).get("obs")
    return [*kept, f"algo={algo}", f"policy.base={base}", f"obs={obs}"]


def result(
    options: dict[str, str],
    overrides: list[str],
    root: Path,
    run_overrides: Callable[[dict[str, str], str, str, Path], list[str]],
    one_run: Callable[[list[str]], dict[str, Any]],
) -> dict[str, Any]:
    """The benchmark's result: its rows (in the first of its pipelines) and what was
    skipped. `run_overrides`: the benchmark's HG-DAgger run of a task."""
    pipeline = options["pipelines"].split(",")[0]

    def task_run(task: str, name: str) -> list[str]:
        return [*run_overrides(options, task, pipeline, root), f"run.name={name}"]

    rows, skipped = rl_rows(options, task_run, overrides, one_run)
    return {
        "options": options,
        "overrides": overrides,
        "root": str(root),
        "rl": True,
        "pipeline": pipeline,
        "rows": rows,
        "skipped": skipped,
    }


def rl_rows(
    options: dict[str, str],
    run_overrides: Callable[[str, str], list[str]],
    overrides: list[str],
    one_run: Callable[[list[str]], dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Per task: the base's row, then one per algorithm and operator; and the skipped
    algorithms' reasons. `run_overrides(task, name)`: the benchmark's HG-DAgger run."""
    from userl.config.loader import load_config

    rows, skipped = [], {}
    algos = [a for a in options["algos"].split(",") if a]
    for task in options["tasks"].split(","):
        base_run = [*run_overrides(task, f"{task}-base"), *overrides]
        base = one_run(base_overrides(base_run, options["base_policy"]))
        rows.append(row(task, "bc_base", "", base, share=1.0))
        for algo in algos:
            for operator in options["operators"].split(","):
                name = f"{task}-{algo}-{operator}"
                arguments = [
                    *run_overrides(task, name),
                    f"policy={options['base_policy']}",
                    OPERATOR_TELEOP[operator],
                    *overrides,
                ]
                if algo in ADAPTERS:
                    arguments = adapter_overrides(arguments, algo, Path(base["run"]))
                try:
                    load_config(arguments)
                except ConfigError as error:
                    skipped[f"{task}/{algo}"] = str(error)
                    break
                figures = one_run(arguments)
                rows.append(row(task, algo, operator, figures, share=trained_share(figures)))
    return rows, skipped


def trained_share(figures: dict[str, Any]) -> float:
    """The adapter's trainable parameters over its base's (1: the whole policy trains)."""
    import json

    summary = json.loads((Path(figures["run"]) / "summary.json").read_text())
    return float(summary.get("adapter", {}).get("trainable_fraction", 1.0))


def row(
    task: str,
    algo: str,
    operator: str,
    figures: dict[str, Any],
    share: float,
) -> dict[str, Any]:
    """One row: the run's figures under the RL table's names."""
    import json

    summary = json.loads((Path(figures["run"]) / "summary.json").read_text())
    episodes = max(int(figures["episodes"]), 1)
    curve = summary.get("eval_curve") or [{}]
    return {
        "task": task,
        "algo": algo,
        "operator": operator,
        "before": figures["bc_success"],
        "after": figures["online_success"],
        "gain": figures["gain"],
        "episodes": int(figures["episodes"]),
        "env_steps": int(summary.get("env_steps", 0)),
        "operator_steps_per_episode": figures["interventions_per_episode"],
        "takeovers_per_episode": float(curve[-1].get("takeovers", 0)) / episodes,
        "grad_steps": figures["grad_steps"],
        "trained_share": share,
        "run": figures["run"],
    }


def rl_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'task':>14} {'algo':>12} {'operator':>8} {'before':>6} {'after':>6} {'gain':>6} "
        f"{'episodes':>8} {'op steps/ep':>11} {'takeovers/ep':>12} {'updates':>7} {'share':>7}"
    ]
    for r in rows:
        lines.append(
            f"{r['task']:>14} {r['algo']:>12} {r['operator']:>8} {r['before']:6.2f} "
            f"{r['after']:6.2f} {r['gain']:+6.2f} {r['episodes']:8d} "
            f"{r['operator_steps_per_episode']:11.1f} {r['takeovers_per_episode']:12.2f} "
            f"{r['grad_steps']:7d} {r['trained_share']:7.4f}"
        )
    return "\n".join(lines)
