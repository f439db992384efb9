"""`userl bench learning`: options, the matrix, resuming, targets, thresholds, human effort,
the table and the plots, on made-up runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from userl.benchmarks import learning_plan, learning_report, learning_runs, load_benchmark
from userl.benchmarks.learning_settings import SETTINGS
from userl.core.errors import ConfigError

learning = load_benchmark("learning")


def test_short_version_defaults_and_overrides_pass_through():
    options, overrides = learning_plan.parse_options(["short=true", "seeds=3", "algo.gamma=0.9"])
    assert options["settings"] == "rlpd_state" and options["seeds"] == "3"
    assert overrides[-1] == "algo.gamma=0.9" and "run.env_steps=6000" in overrides
    options, _ = learning_plan.parse_options(["tasks=all"])
    assert "peg_insertion" in options["tasks"].split(",") and "charger" in options["tasks"]


def test_first_seed_splits_the_seeds_over_processes():
    options, _ = learning_plan.parse_options(["seeds=1", "first_seed=1"])
    assert list(learning_plan.seeds(options)) == [1]
    assert list(learning_plan.seeds(learning_plan.parse_options(["seeds=2"])[0])) == [0, 1]
    with pytest.raises(ConfigError, match="first_seed=-1"):
        learning_plan.seeds(learning_plan.parse_options(["first_seed=-1"])[0])


def test_unknown_setting_is_a_one_line_error():
    with pytest.raises(ConfigError, match="unknown learning setting"):
        learning_plan.parse_options(["settings=rlpd_state,ppo"])


def curve(*points, effort=None):
    """Curve points (env steps, success); `effort` adds cumulative (episodes, takeovers)."""
    return [
        {
            "env_steps": s,
            "grad_steps": s,
            "success_rate": r,
            "mean_return": r,
            "episodes": 10,
            **(
                {
                    "online_episodes": effort[i][0],
                    "takeovers": effort[i][1],
                    "intervened_steps": 10 * effort[i][1],
                }
                if effort
                else {}
            ),
        }
        for i, (s, r) in enumerate(points)
    ]


def made_up_runs(control_hz=10.0):
    return [
        {
            "curve": curve(
                (0, 0.0),
                (2000, 0.5),
                (4000, 0.9),
                (6000, 0.8),
                effort=[(0, 0), (20, 30), (40, 40), (60, 42)],
            ),
            "initial_success": 0.0,
            "final_success": 0.8,
            "control_hz": control_hz,
        },
        {
            "curve": curve(
                (0, 0.0),
                (2000, 0.3),
                (4000, 0.8),
                (6000, 0.3),
                effort=[(0, 0), (20, 20), (40, 30), (60, 30)],
            ),
            "initial_success": 0.0,
            "final_success": 0.3,
            "control_hz": control_hz,
        },
    ]


def test_targets_thresholds_and_effort_over_seeds():
    runs = made_up_runs()
    result = learning_report.aggregate(runs, target_success=0.9, target_gain=None)
    assert result["reached_target_at_env_steps"] == [4000, None]
    assert result["seeds_reaching_target"] == 1
    assert result["final_success_mean"] == pytest.approx(0.55)
    # 0.8: both seeds at 4,000 steps = 6.67 robot-minutes at 10 Hz; 0.9: one seed only
    assert result["to_success"]["0.8"]["env_steps"] == [4000, 4000]
    assert result["to_success"]["0.8"]["slowest_robot_minutes"] == pytest.approx(4000 / 600)
    assert result["to_success"]["0.9"]["seeds_reaching"] == 1
    assert result["to_success"]["0.9"]["slowest_robot_minutes"] is None
    assert result["takeovers_per_episode"] == pytest.approx((42 / 60 + 30 / 60) / 2)
    gains = learning_report.aggregate(runs, target_success=None, target_gain=0.3)
    assert gains["seeds_above_gain"] == 1  # +0.8 counts, +0.3 is not above 0.3
    at_5_hz = learning_report.aggregate(made_up_runs(5.0), None, None)
    assert at_5_hz["to_success"]["0.8"]["slowest_robot_minutes"] == pytest.approx(4000 / 300)


def test_takeovers_per_episode_between_evaluations():
    intervals = learning_report.effort_per_episode(made_up_runs()[0]["curve"])
    assert [i["env_steps"] for i in intervals] == [2000, 4000, 6000]
    assert [i["takeovers_per_episode"] for i in intervals] == pytest.approx([1.5, 0.5, 0.1])
    assert intervals[0]["intervened_steps_per_episode"] == pytest.approx(15.0)
    assert learning_report.effort_per_episode(curve((0, 0.0), (2000, 0.5))) == []


def test_summary_table_and_one_plot_per_task(tmp_path):
    runs = made_up_runs()
    results = {"overrides": [], "results": {}}
    for setting, task in (
        ("rlpd_operator", "peg_insertion"),
        ("sac_state", "peg_insertion"),
        ("rlpd_operator", "charger"),
    ):
        planned = learning_plan.Planned(setting, task, 20.0)
        results["results"][f"{setting}/{task}"] = learning.entry(
            planned, runs, 12_000, ["run.seed=1"], results["results"]
        )
    rows = learning_report.summary_rows(results)
    assert [(r["setting"], r["task"]) for r in rows] == [
        ("rlpd_operator", "peg_insertion"),
        ("sac_state", "peg_insertion"),
        ("rlpd_operator", "charger"),
    ]
    assert rows[0]["budget_robot_minutes"] == pytest.approx(20.0)
    assert rows[0]["robot_minutes_to_0.8"] == pytest.approx(4000 / 600)
    assert rows[0]["robot_minutes_to_0.9"] is None and rows[0]["env_steps_to_0.9"] == [4000, None]
    paths = learning_report.plot_tasks(results, tmp_path)
    assert sorted(Path(p).name for p in paths) == [
        "learning_charger.png",
        "learning_peg_insertion.png",
    ]
    for path in paths:
        assert Path(path).read_bytes()[:4] == b"\x89PNG"
    results["plots"] = paths
    text = learning_report.table(results)
    assert (
        "| rlpd_operator | peg_insertion | 2 | 20.0 | 6.7 | — | 0.55 / 0.30 | 0.60 | 6.0 |" in text
    )


def test_the_paper_matrix_budgets_in_robot_minutes():
    options, _ = learning_plan.parse_options(["matrix=paper"])
    plan = learning_plan.plan(options)
    rlpd = {p.task: p for p in plan if p.setting == "rlpd_operator"}
    assert set(rlpd) == {
        "peg_insertion",
        "charger",
        "pick_place",
        "cap_tightening",
        "table_cleanup",
    }
    setting = SETTINGS["rlpd_operator"]
    assert learning_plan.budget_env_steps(setting, rlpd["peg_insertion"], 10.0) == 12_000
    assert learning_plan.budget_env_steps(setting, rlpd["cap_tightening"], 5.0) == 6_000
    assert learning_plan.budget_env_steps(setting, rlpd["table_cleanup"], 10.0) == 24_000
    assert (
        learning_plan.budget_env_steps(setting, rlpd["peg_insertion"], 10.0, ["run.env_steps=3000"])
        == 3000
    )  # an override wins
    assert learning_plan.control_hz("cap_tightening") == 5.0
    assert {p.setting for p in plan if p.task == "table_cleanup"} >= {
        "hg_dagger",
        "sac_state",
        "sac_flow_g",
    }
    assert [p.task for p in plan if p.setting == "rlpd_image_operator"] == ["pick_place"]
    rewards = learning_plan.plan(learning_plan.parse_options(["matrix=rewards"])[0])
    assert {(p.setting, p.task) for p in rewards} == {
        (s, t)
        for s in ("rlpd_image", "rlpd_image_classifier")
        for t in ("peg_insertion", "pick_place")
    }
    assert {learning_plan.budget_env_steps(SETTINGS[p.setting], p, 10.0) for p in rewards} == {
        12_000
    }  # the settings' own budget, the same for both
    narrowed = learning_plan.plan(
        learning_plan.parse_options(
            ["matrix=paper", "settings=sac_state,sac_flow_g", "tasks=charger,cap_tightening"]
        )[0]
    )
    assert [(p.setting, p.task, p.robot_minutes) for p in narrowed] == [
        ("sac_state", "charger", 20.0),
        ("sac_state", "cap_tightening", 20.0),
        ("sac_flow_g", "charger", 20.0),
        ("sac_flow_g", "cap_tightening", 20.0),
    ]
    with pytest.raises(ConfigError, match="has no run of rlpd_image_operator, table_cleanup"):
        learning_plan.plan(
            learning_plan.parse_options(
                ["matrix=paper", "settings=rlpd_image_operator", "tasks=table_cleanup"]
            )[0]
        )
    with pytest.raises(ConfigError, match="unknown learning matrix 'nope'"):
        learning_plan.parse_options(["matrix=nope"])


def test_runs_are_resumable_and_never_mixed(tmp_path, monkeypatch):
    """A finished run is read back, a run cut short continues (resume), and a name used with
    other overrides is refused."""
    calls = []

    def fake_train(overrides, root, name, resume):
        calls.append(resume)
        (root / name).mkdir(exist_ok=True)
        (root / name / "config.yaml").write_text("{}")
        return {
            "eval_curve": curve((0, 0.0), (2000, 1.0)),
            "env_steps": 2000,
            "episodes": 20,
            "grad_steps": 2000,
            "initial_eval_success_rate": 0.0,
            "eval_success_rate": 1.0,
            "run": str(root / name),
        }

    monkeypatch.setattr(learning_runs, "train_run", fake_train)
    overrides = ["task=peg_insertion", "run.seed=0"]
    first = learning_runs.one_run(overrides, tmp_path, "r", 10.0)
    again = learning_runs.one_run(overrides, tmp_path, "r", 10.0)
    assert calls == [False] and again == first and first["final_success"] == 1.0
    record = json.loads((tmp_path / "r.bench.json").read_text())  # provenance beside the result
    assert set(record["machine"]) == {"cpu", "cores", "gpu", "torch", "bf16_matmuls_native"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["date"])
    with pytest.raises(ConfigError, match="was run with other overrides"):
        learning_runs.one_run(["task=charger", "run.seed=0"], tmp_path, "r", 10.0)
    # cut short: the record has no result, the run folder has its config -> resume
    (tmp_path / "r.bench.json").write_text(json.dumps({"overrides": overrides, "result": None}))
    assert learning_runs.one_run(overrides, tmp_path, "r", 10.0)["resumed"] is True
    assert calls == [False, True]


def test_a_run_stopped_by_the_user_is_left_to_continue(tmp_path, monkeypatch):
    """Ctrl-C during a run: its summary has no final evaluation; the benchmark says how to
    continue and keeps the record open (no result), so the same command resumes it."""

    def interrupted(overrides, root, name, resume):
        (root / name).mkdir(exist_ok=True)
        (root / name / "config.yaml").write_text("{}")
        return {"run": str(root / name), "interrupted": True, "env_steps": 2036}

    monkeypatch.setattr(learning_runs, "train_run", interrupted)
    with pytest.raises(KeyboardInterrupt, match="run the benchmark again to continue"):
        learning_runs.one_run(["task=charger"], tmp_path, "r", 10.0)
    assert json.loads((tmp_path / "r.bench.json").read_text())["result"] is None


def test_the_classifier_setting_is_compared_with_ground_truth():
    setting = SETTINGS["rlpd_image_classifier"]
    ground = SETTINGS["rlpd_image"]
    assert setting.prepare in learning.PREPARATIONS and setting.compare_to == "rlpd_image"
    assert set(ground.overrides) <= set(setting.overrides)  # the same run but the reward
    entry = {"final_success_mean": 0.4}
    compared = learning_report.compared(entry, {"final_success_mean": 0.55}, 0.1, "rlpd_image")
    assert compared["gap_to_ground_truth"] == pytest.approx(-0.15)
    assert not compared["within_target_gap"]
    assert learning_report.compared(entry, {"final_success_mean": 0.45}, 0.1, "rlpd_image")[
        "within_target_gap"
    ]
    assert learning_report.compared(entry, None, 0.1, "rlpd_image") == {}  # not run: no claim


def test_report_plots_and_tabulates_recorded_runs_without_running(tmp_path, monkeypatch):
    """report=ROOT,ROOT reads every finished record (a run cut short is left out), groups
    the seeds by setting and task, and trains nothing."""
    monkeypatch.setattr(
        learning_runs, "train_run", lambda *_: pytest.fail("report= must not train")
    )
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, name, run in (
        (first, "sac_state-charger-seed0", made_up_runs()[0]),
        (second, "sac_state-charger-seed1", made_up_runs()[1]),
        (first, "rlpd_operator-charger-seed0", made_up_runs()[0]),
    ):
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.bench.json").write_text(
            json.dumps({"overrides": ["task=charger", "run.env_steps=6000"], "result": run})
        )
    (first / "sac_flow_g-charger-seed0.bench.json").write_text(
        json.dumps({"overrides": [], "result": None})
    )  # still running
    results = learning.run([f"report={first},{second}", f"plots={tmp_path / 'out'}"])
    assert list(results["results"]) == ["rlpd_operator/charger", "sac_state/charger"]
    sac = results["results"]["sac_state/charger"]
    assert sac["final_success_mean"] == pytest.approx(0.55) and len(sac["runs"]) == 2
    assert sac["budget_env_steps"] == 6000
    assert [Path(p).name for p in results["plots"]] == ["learning_charger.png"]
    table = json.loads((tmp_path / "out" / "learning_table.json").read_text())
    assert [row["seeds"] for row in table] == [1, 2]
    (first / "ppo-charger-seed0.bench.json").write_text("{}")
    with pytest.raises(
        ConfigError,
        match=r"ppo-charger-seed0\.bench\.json is not named "
        r"<setting>-<task>-seed<k>\.bench\.json with a "
        r"setting among",
    ):
        learning.run([f"report={first}"])
    (first / "ppo-charger-seed0.bench.json").unlink()
    (first / "charger-seed0.bench.json").write_text("{}")  # no setting in the name
    with pytest.raises(ConfigError, match=r"charger-seed0\.bench\.json is not named"):
        learning.run([f"report={first}"])
    with pytest.raises(ConfigError, match="no finished run recorded"):
        learning.run([f"report={tmp_path / 'out'}"])
