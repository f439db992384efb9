"""Learning curves: evaluation success against online env steps, for each learning setting
on each task, over several seeds; JSON figures and a PNG plot.

Usage: userl bench learning [settings=rlpd_state,rlpd_bc_operator,sac_flow_g,sac_flow_t,rlpd_image,rlpd_image_classifier,hg_dagger]
       [tasks=peg_insertion|all|T1,T2] [seeds=3] [curve_every=2000] [curve_episodes=10] [short=false]
       [stop_at_target=false] [root=runs/bench-learning] [plot=ROOT/learning_curves.png]
       [classifier_episodes=20] [classifier_epochs=12] [key=value ...] out=F.json

Each run is a real `userl train` (Ray workers, the async or sync pipeline) with periodic
evaluations on fixed seeds (`eval.curve_every_env_steps`); extra key=value overrides go to
every run. `stop_at_target=true` ends a run at the first evaluation that reaches its
setting's target success (time-to-success figures; the curve stops there). `short=true` is the CI version: RLPD with 2 critics (64-wide networks, batch 128) on
peg insertion, 2 seeds, 6,000 env steps, evaluated every 1,500 on 5 episodes; it is short, but its curves are measured, not drawn.

`rlpd_image_classifier` is `rlpd_image` rewarded by a learned success classifier instead of
the simulator: before its runs, each task gets one (`classifier_episodes` expert and as many
noisy-expert episodes labelled with `collect label=auto`, `train-reward`, written under
ROOT/reward-<task>/); its evaluations still count the simulator's success, and its final
success is compared with `rlpd_image`'s (`gap_to_ground_truth`, the target within 0.1).
"""

from __future__ import annotations

import json
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from userl.core.registry import Registry


@dataclass(frozen=True)
class Setting:
    """One learning setting: config overrides, an online budget and the issue's target."""

    overrides: tuple[str, ...]
    env_steps: int = 0  # online env-step budget (0: use `episodes`)
    episodes: int = 0  # online episode budget
    target_success: float | None = None  # the success the setting should reach in budget
    target_gain: float | None = None  # or the rise over the initial evaluation
    notes: str = ""
    prepare: str = ""  # a registered preparation (PREPARATIONS), run once per task first
    compare_to: str = ""  # a setting whose final success this one should come close to
    target_gap: float | None = None  # ... within this many points (0.1 = 10 points)


PREPARATIONS: Registry = Registry("learning-setting preparation")
"""name -> (task, root, options) -> extra config overrides for the setting's runs."""


@PREPARATIONS.register("reward_classifier")
def reward_classifier(task: str, root: Path, options: dict[str, str]) -> list[str]:
    """A success classifier for `task` at the image preset's views; its reward overrides."""
    from userl.tools.train_reward import prepare_classifier

    path = prepare_classifier(task, root / f"reward-{task}", CLASSIFIER_VIEWS,
                              int(options["classifier_episodes"]),
                              int(options["classifier_epochs"]))
    return ["reward=classifier", f"reward.checkpoint={path}"]


# Each simulated robot waits for the learner (utd_min) and the learner never runs far
# ahead (utd_max), so env steps on the x axis mean the same amount of training everywhere.
PACED = ("algo.utd_min=1", "algo.utd_max=1")
SETTINGS: dict[str, Setting] = {
    "rlpd_state": Setting(("algo=rlpd", "policy=mlp", "demos.episodes=20", *PACED),
                          env_steps=20_000, target_success=0.9,
                          notes="RLPD, 10 critics, state, 20 expert demos"),
    "rlpd_bc_operator": Setting(("algo=rlpd", "policy=mlp", "demos.episodes=20",
                                 "algo.demo_bc_weight=1", "teleop=expert", *PACED),
                                env_steps=12_000, target_success=0.9,
                                notes="RLPD + Q-filtered demo BC, state, 20 expert demos, "
                                      "simulated operator"),
    "sac_flow_g": Setting(("algo=sac_flow", "policy=flow_g", "demos.episodes=20", *PACED),
                          env_steps=20_000, target_success=0.8,
                          notes="SAC Flow, Flow-G, state, 20 expert demos"),
    "sac_flow_t": Setting(("algo=sac_flow", "policy=flow_t", "demos.episodes=20", *PACED),
                          env_steps=20_000, target_success=0.8,
                          notes="SAC Flow, Flow-T, state, 20 expert demos"),
    "rlpd_image": Setting(("algo=rlpd", "obs=image", "policy=cnn_small", "demos.episodes=20",
                           "algo.batch_size=128", "algo.utd_min=0.5", "algo.utd_max=0.5"),
                          env_steps=8_000, target_gain=0.0,
                          notes="RLPD, CNN on two 64x64 views + state (CPU preset, batch 128)"),
    "rlpd_image_classifier": Setting(
        ("algo=rlpd", "obs=image", "policy=cnn_small", "demos.episodes=20",
         "algo.batch_size=128", "algo.utd_min=0.5", "algo.utd_max=0.5"),
        env_steps=8_000, target_gain=0.0, prepare="reward_classifier", compare_to="rlpd_image",
        target_gap=0.1, notes="rlpd_image rewarded by a success classifier (no ground truth)"),
    "hg_dagger": Setting(("algo=hg_dagger", "policy=mlp", "teleop=expert", "pipeline=sync",
                          "demos.episodes=5"),
                         episodes=30, target_gain=0.3,
                         notes="HG-DAgger from BC on 5 demos, simulated operator"),
}
CLASSIFIER_VIEWS = ("obs=image", "robot.image_height_px=64", "robot.image_width_px=64")  # cnn_small
SHORT = {"settings": "rlpd_state", "seeds": "2", "curve_every": "1500", "curve_episodes": "5"}
# The CI version learns with narrower networks (64 wide, batch 128): the same RLPD, demos,
# pipeline and UTD pacing, about a third of the compute (2 seeds reached 0.4 and 0.6 final
# success, one of them 1.0 on its curve, in 85 s each on a loaded 2-core machine).
SHORT_OVERRIDES = ("algo.num_critics=2", "run.env_steps=6000", "policy.hidden_dims=[64,64]",
                   "algo.critic_hidden_dims=[64,64]", "algo.batch_size=128")
DEFAULTS = {"settings": ",".join(SETTINGS), "tasks": "peg_insertion", "seeds": "3",
            "curve_every": "2000", "curve_episodes": "10", "short": "false",
            "stop_at_target": "false", "root": "runs/bench-learning", "plot": "",
            "classifier_episodes": "20", "classifier_epochs": "12"}


def _parse(arguments: list[str]) -> tuple[dict[str, str], list[str]]:
    """Benchmark options, and the remaining key=value config overrides for every run."""
    from userl.core.errors import ConfigError

    given, overrides = {}, []
    for argument in arguments:
        key, sep, value = argument.partition("=")
        if not sep:
            raise ConfigError(f"benchmark option {argument!r} needs key=value; known: "
                              f"{', '.join(f'{k}=' for k in DEFAULTS)} or config overrides")
        if key in DEFAULTS:
            given[key] = value
        else:
            overrides.append(argument)
    options = {**DEFAULTS, **given}
    if options["short"].lower() == "true":
        options = {**DEFAULTS, **SHORT, **given}
        overrides = [*SHORT_OVERRIDES, *overrides]
    if options["tasks"] == "all":
        import userl.tasks  # noqa: F401  (registers every task)
        from userl.core.registry import TASKS

        options["tasks"] = ",".join(TASKS.names())
    unknown = [name for name in options["settings"].split(",") if name not in SETTINGS]
    if unknown:
        raise ConfigError(f"unknown learning setting(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(SETTINGS)}")
    return options, overrides


def _run_overrides(setting: Setting, task: str, seed: int, options: dict[str, str],
                   root: Path, name: str) -> list[str]:
    budget = ([f"run.env_steps={setting.env_steps}"] if setting.env_steps
              else [f"run.episodes={setting.episodes}"])
    if options["stop_at_target"].lower() == "true" and setting.target_success:
        budget.append(f"run.stop_at_eval_success={setting.target_success}")
    return [f"task={task}", *setting.overrides, *budget, "run.grad_steps=0", "run.wall_s=0",
            f"run.seed={seed}", f"run.root={root}", f"run.name={name}", "eval.at_start=true",
            f"eval.curve_every_env_steps={options['curve_every']}",
            f"eval.curve_episodes={options['curve_episodes']}",
            f"eval.episodes={options['curve_episodes']}", "eval.video_every_s=0",
            "run.log_every_s=30"]


def _one_run(overrides: list[str]) -> dict[str, Any]:
    from userl.config.loader import load_config
    from userl.runtime.train import train

    started = time.monotonic()
    summary = train(load_config(overrides))
    return {"curve": summary["eval_curve"], "env_steps": summary["env_steps"],
            "episodes": summary["episodes"], "grad_steps": summary["grad_steps"],
            "initial_success": summary["initial_eval_success_rate"],
            "final_success": summary["eval_success_rate"],
            "wall_s": time.monotonic() - started, "run": summary["run"]}


def _reached_at(curve: list[dict[str, float]], target: float) -> int | None:
    """The first evaluated env step at which success reached `target`."""
    return next((int(p["env_steps"]) for p in curve if p["success_rate"] >= target), None)


def _aggregate(setting: Setting, runs: list[dict[str, Any]]) -> dict[str, Any]:
    finals = [r["final_success"] for r in runs]
    gains = [r["final_success"] - r["initial_success"] for r in runs]
    result: dict[str, Any] = {
        "final_success_mean": float(np.mean(finals)), "final_success_min": float(np.min(finals)),
        "gain_mean": float(np.mean(gains)),
        "best_success_mean": float(np.mean([max(p["success_rate"] for p in r["curve"])
                                            for r in runs])),
    }
    if setting.target_success is not None:
        reached = [_reached_at(r["curve"], setting.target_success) for r in runs]
        result["target_success"] = setting.target_success
        result["seeds_reaching_target"] = sum(x is not None for x in reached)
        result["reached_target_at_env_steps"] = reached
    if setting.target_gain is not None:
        result["target_gain"] = setting.target_gain
        result["seeds_above_gain"] = sum(g > setting.target_gain for g in gains)
    return result


def _compared(setting: Setting, task: str, runs: list[dict[str, Any]],
              done: dict[str, Any]) -> dict[str, Any]:
    """The final-success gap to the setting it is compared with, when that one ran first."""
    other = done.get(f"{setting.compare_to}/{task}") if setting.compare_to else None
    if other is None:
        return {}
    gap = float(np.mean([r["final_success"] for r in runs])) - other["final_success_mean"]
    return {"compared_to": setting.compare_to, "gap_to_ground_truth": gap,
            "target_gap": setting.target_gap,
            "within_target_gap": setting.target_gap is None or gap >= -setting.target_gap}


def run(arguments: list[str]) -> dict[str, Any]:
    options, overrides = _parse(arguments)
    root = Path(options["root"]) / time.strftime("%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    seeds = range(int(options["seeds"]))
    results: dict[str, Any] = {"options": options, "overrides": overrides, "root": str(root),
                               "results": {}}
    for name in options["settings"].split(","):
        setting = SETTINGS[name]
        for task in options["tasks"].split(","):
            prepared = PREPARATIONS.get(setting.prepare)(task, root, options) \
                if setting.prepare else []
            runs = [_one_run([*_run_overrides(setting, task, seed, options, root,
                                              f"{name}-{task}-seed{seed}"), *prepared,
                              *overrides])
                    for seed in seeds]
            results["results"][f"{name}/{task}"] = {
                "setting": name, "task": task, "notes": setting.notes,
                "overrides": [*setting.overrides, *prepared, *overrides], "runs": runs,
                **_aggregate(setting, runs),
                **_compared(setting, task, runs, results["results"])}
            (root / "learning_curves.json").write_text(json.dumps(results, indent=2))
    plot_path = Path(options["plot"]) if options["plot"] else root / "learning_curves.png"
    plot_curves(results, plot_path)
    results["plot"] = str(plot_path)
    (root / "learning_curves.json").write_text(json.dumps(results, indent=2))
    return results


def plot_curves(results: dict[str, Any], path: Path) -> None:
    """One panel per setting and task: each seed's curve, their mean, and the target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = list(results["results"].items())
    columns = min(3, len(entries))
    rows = -(-len(entries) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows),
                                squeeze=False)
    for axis, (key, entry) in zip(axes.flat, entries, strict=False):
        curves = [r["curve"] for r in entry["runs"]]
        for seed, curve in enumerate(curves):
            axis.plot([p["env_steps"] for p in curve], [p["success_rate"] for p in curve],
                      alpha=0.35, marker=".", label=f"seed {seed}")
        length = min(len(c) for c in curves)
        if length and len(curves) > 1:
            steps = np.mean([[p["env_steps"] for p in c[:length]] for c in curves], axis=0)
            mean = np.mean([[p["success_rate"] for p in c[:length]] for c in curves], axis=0)
            axis.plot(steps, mean, color="black", linewidth=2, label="mean")
        if entry.get("target_success") is not None:
            axis.axhline(entry["target_success"], color="red", linestyle="--", label="target")
        title = "\n".join([key, entry["notes"], *textwrap.wrap(" ".join(results["overrides"]), 60)])
        axis.set_title(title, fontsize=8)
        axis.set_xlabel("online env steps")
        axis.set_ylabel("eval success rate")
        axis.set_ylim(-0.05, 1.05)
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(entries):]:
        axis.axis("off")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def table(result: dict[str, Any]) -> str:
    lines = [f"{'setting/task':32s} {'seeds':>5s} {'final':>6s} {'min':>5s} {'gain':>6s} "
             f"{'target':>8s} {'reached at env steps':>22s}"]
    for key, entry in result["results"].items():
        target = entry.get("target_success", entry.get("target_gain"))
        reached = entry.get("reached_target_at_env_steps", "")
        lines.append(f"{key:32s} {len(entry['runs']):5d} {entry['final_success_mean']:6.2f} "
                     f"{entry['final_success_min']:5.2f} {entry['gain_mean']:+6.2f} "
                     f"{'' if target is None else target:>8} {str(reached):>22s}")
        if "gap_to_ground_truth" in entry:
            lines.append(f"{'':32s} gap to {entry['compared_to']}: "
                         f"{entry['gap_to_ground_truth']:+.2f} (target within "
                         f"{entry['target_gap']})")
    lines.append(f"curves: {result['plot']}")
    return "\n".join(lines)
