"""Learning curves: evaluation success against online env steps and robot-minutes, for each
learning setting on each task, over several seeds; a summary table (JSON) and a plot per task.

Usage: userl bench learning [settings=rlpd_state,...|matrix=paper] [tasks=peg_insertion|all|T1,T2]
       [seeds=3] [first_seed=0] [curve_every=2000] [curve_episodes=10] [short=false]
       [stop_at_target=false] [root=runs/bench-learning] [plots=ROOT] [classifier_episodes=20]
       [classifier_epochs=12] [key=value ...] out=F.json
       userl bench learning report=ROOT[,ROOT...] [plots=DIR] out=F.json

Each run is a real `userl train` (Ray workers, the async or sync pipeline) with periodic
evaluations on fixed seeds (`eval.curve_every_env_steps`); extra key=value overrides go to
every run. `settings=` x `tasks=` runs every setting on every task at the setting's own
budget; `matrix=NAME` runs a named plan instead (MATRICES: each setting on its tasks at a
budget in robot-minutes, converted to env steps at each task's control rate). `matrix=paper` is
the paper's figure: RLPD with the simulated operator (with and without the demo BC term), SAC
and SAC Flow-G on all five tasks, RLPD on images with the operator on pick_place, HG-DAgger on
table_cleanup; `matrix=rewards` compares RLPD on images rewarded by the simulator and by a
classifier;
`settings=` and `tasks=` beside `matrix=` narrow it to those runs (the same run names and
budgets, so parts of a matrix can run in parallel processes under one root); `first_seed=K`
runs seeds K..K+seeds-1, so the seeds of one setting can be split over processes too.
`report=ROOT,...` trains nothing: it plots and tabulates every finished run recorded in those
roots (a matrix split over several roots or machines, or runs still going elsewhere).

Resumable: every run is `ROOT/<setting>-<task>-seed<k>`, and `ROOT/<that name>.bench.json`
records its overrides and, once it ends, its result, the machine and the date
(`provenance`). Run the same command again and finished
runs are read back, not rerun; a run cut short continues from its checkpoint
(`resume=true`); a name already used with other overrides is a one-line error (use another
root=). `stop_at_target=true` ends a run at the first evaluation that reaches its setting's
target success (time-to-success figures; the curve stops there). `short=true` is the CI
version: RLPD with 2 critics (64-wide networks, batch 128) on peg insertion, 2 seeds, 6,000
env steps, evaluated every 1,500 on 5 episodes; it is short, but its curves are measured, not
drawn.

Every curve point carries the human effort so far (online episodes, intervened steps,
takeovers), so the table reports takeovers per episode and each task's plot shows them over
time. `rlpd_image_classifier` is `rlpd_image` rewarded by a learned success classifier
instead of the simulator: before its runs, each task gets one (`classifier_episodes` expert,
as many noisy-expert and near-miss episodes and twice as many halted-expert ones, labelled
with `collect label=auto`, `train-reward`, written under ROOT/reward-<task>/; peg's sees
only the board's close-up `hole_side` view, read for the reward alone: CLASSIFIER_CAMERAS);
its evaluations still count the simulator's success, and its final success is compared with
`rlpd_image`'s (`gap_to_ground_truth`, the target within 0.1).

The parts: `learning_settings` (the settings and matrices), `learning_plan` (options, runs,
budgets, overrides), `learning_runs` (one run and its record), `learning_report` (figures over
seeds, the table, the plots); this module runs them and prepares the classifier settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from userl.benchmarks import learning_report as report
from userl.benchmarks.learning_plan import (
    Planned,
    budget_env_steps,
    control_hz,
    names,
    parse_options,
    plan,
    run_name,
    run_overrides,
    seeds,
)
from userl.benchmarks.learning_runs import one_run, recorded_runs
from userl.benchmarks.learning_settings import (
    CLASSIFIER_HOLD_STEPS,
    CLASSIFIER_THRESHOLD,
    SETTINGS,
)
from userl.core.registry import Registry

PREPARATIONS: Registry = Registry("learning-setting preparation")
"""name -> (task, root, options) -> extra config overrides for the setting's runs."""
CLASSIFIER_VIEWS = ("obs=image", "robot.image_height_px=64", "robot.image_width_px=64")  # cnn_small
# A task's classifier views other than the policy's (read for the reward only). Peg: the
# board's close-up side camera. From the policy's two 64 px views a classifier cannot tell a
# peg jammed a centimetre or two short from an inserted one (1 cm is about 1.3 px in the
# front view), and a policy learns to stop there (records in
# docs/learning/rewards-policy-views*).
CLASSIFIER_CAMERAS: dict[str, list[str]] = {"peg_insertion": ["hole_side"]}


@PREPARATIONS.register("reward_classifier")
def reward_classifier(task: str, root: Path, options: dict[str, str]) -> list[str]:
    """A success classifier for `task` at the image preset's views; its reward overrides."""
    from userl.tools.train_reward import prepare_classifier

    cameras = CLASSIFIER_CAMERAS.get(task, [])
    path = prepare_classifier(
        task,
        root / f"reward-{task}",
        CLASSIFIER_VIEWS,
        int(options["classifier_episodes"]),
        int(options["classifier_epochs"]),
        cameras=cameras,
    )
    views = [f"robot.reward_camera_names=[{','.join(cameras)}]"] if cameras else []
    return [
        "reward=classifier",
        f"reward.checkpoint={path}",
        *views,
        f"reward.threshold_probability={CLASSIFIER_THRESHOLD}",
        f"reward.hold_steps={CLASSIFIER_HOLD_STEPS}",
    ]


def entry(
    planned: Planned,
    runs: list[dict[str, Any]],
    budget: int,
    extra: list[str],
    done: dict[str, Any],
) -> dict[str, Any]:
    """One setting on one task over its seeds' runs: the figures `learning_report.aggregate`
    takes from them, and the gap to the setting it is compared with when that one is `done`."""
    setting = SETTINGS[planned.setting]
    figures = {
        "setting": planned.setting,
        "task": planned.task,
        "notes": setting.notes,
        "overrides": [*setting.overrides, *extra],
        "extra_overrides": extra,
        "budget_env_steps": budget,
        "runs": runs,
        **report.aggregate(runs, setting.target_success, setting.target_gain),
    }
    if setting.compare_to:
        figures.update(
            report.compared(
                figures,
                done.get(f"{setting.compare_to}/{planned.task}"),
                setting.target_gap,
                setting.compare_to,
            )
        )
    return figures


def write_plots_and_table(results: dict[str, Any], plots: Path, table: Path) -> None:
    """A PNG per task in `plots`, `learning_table.json` in `table`; both into `results`."""
    results["plots"] = report.plot_tasks(results, plots)
    results["table"] = report.summary_rows(results)
    (table / "learning_table.json").write_text(json.dumps(results["table"], indent=2))


def report_only(options: dict[str, str]) -> dict[str, Any]:
    """Plots and the table from runs already recorded (`report=ROOT,...`); runs nothing."""
    folders = names(options["report"])
    order = list(SETTINGS)
    results: dict[str, Any] = {"options": options, "report": folders, "results": {}}
    recorded = recorded_runs(folders)
    for setting, task in sorted(recorded, key=lambda key: (order.index(key[0]), key[1])):
        runs = recorded[setting, task]
        results["results"][f"{setting}/{task}"] = entry(
            Planned(setting, task),
            [r.result for r in runs],
            runs[0].budget_env_steps,
            [],
            results["results"],
        )
    out = Path(options["plots"] or folders[0])
    write_plots_and_table(results, out, out)
    return results


def run(arguments: list[str]) -> dict[str, Any]:
    """The benchmark: every planned setting on its task over the seeds (or, with `report=`,
    the plots and table of runs already recorded)."""
    options, overrides = parse_options(arguments)
    if options["report"]:
        return report_only(options)
    root = Path(options["root"])
    root.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "options": options,
        "overrides": overrides,
        "root": str(root),
        "results": {},
    }
    for planned in plan(options):
        setting = SETTINGS[planned.setting]
        hz = control_hz(planned.task)
        budget = budget_env_steps(setting, planned, hz, overrides)
        prepared = (
            PREPARATIONS.get(setting.prepare)(planned.task, root, options)
            if setting.prepare
            else []
        )
        extra = [*prepared, *overrides]
        runs = [
            one_run(
                [*run_overrides(setting, planned, seed, budget, options, root), *extra],
                root,
                run_name(planned, seed),
                hz,
            )
            for seed in seeds(options)
        ]
        key = f"{planned.setting}/{planned.task}"
        results["results"][key] = entry(planned, runs, budget, extra, results["results"])
        (root / "learning_curves.json").write_text(json.dumps(results, indent=2))
    write_plots_and_table(results, Path(options["plots"] or root), root)
    (root / "learning_curves.json").write_text(json.dumps(results, indent=2))
    return results


def table(result: dict[str, Any]) -> str:
    """The console table (Markdown)."""
    return report.table(result)
