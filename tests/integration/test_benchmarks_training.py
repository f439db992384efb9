"""The benchmarks that train (several tasks, several robots, the VLA table), once each at
their smallest settings through `userl bench` as a user runs them; a file of their own so the
suite's test processes share the long ones (tests/integration/test_benchmarks.py has the
rest)."""

import json
from pathlib import Path

import pytest
import yaml

from userl.config.loader import load_config

pytestmark = pytest.mark.integration
# three trainings each (two tasks alone and together): past the suite's per-test bound on a
# busy machine
TRAINING_TIMEOUT_S = 600


@pytest.mark.slow  # three trainings: minutes; `make bench` runs it (and the full benchmark)
@pytest.mark.timeout(TRAINING_TIMEOUT_S)
def test_bench_multitask(tmp_path: Path, bench) -> None:
    """Two tasks alone, then together, with real-time robots and 10-step episodes, a few
    episodes each: every figure exists (threshold 0: reached at the first evaluation; the
    README's ratio comes from the full-length run)."""
    figures = bench(
        "multitask",
        "threshold=0.0",
        "env_steps_per_cell=40",
        "curve_every_per_cell=20",
        "curve_episodes=1",
        "eval_episodes=1",
        "threads=1",
        "task.episode_steps=10",
        "demos.episodes=1",
        "algo.batch_size=16",
        "algo.num_critics=2",
        "policy.hidden_dims=[32,32]",
        "algo.critic_hidden_dims=[32,32]",
        f"root={tmp_path}/runs",
    )
    assert figures["cells"] == ["franka_peg", "franka_charger"]
    # together, the cells share one budget (40 env steps per cell): how it splits between
    # them depends on each robot's pace, so only the sum is known
    assert sum(figures["together"][cell]["env_steps"] for cell in figures["cells"]) >= 80
    for cell in figures["cells"]:
        alone, together = figures["alone"][cell], figures["together"][cell]
        assert alone["env_steps"] >= 40 and together["env_steps"] > 0
        assert alone["time_to_threshold_s"] > 0 and together["time_to_threshold_s"] > 0
        assert 0 < together["env_steps_to_threshold"] <= together["env_steps"]
        assert figures["ratio"][cell] == pytest.approx(
            together["time_to_threshold_s"] / alone["time_to_threshold_s"]
        )
    assert figures["together_all_s"] > 0 and figures["ratio_all"] > 0
    assert 0 < figures["utd_together"] <= 1.05
    assert (tmp_path / "runs" / "together" / "summary.json").is_file()


@pytest.mark.slow  # real-time trainings with 1 and 2 robots: minutes; `make bench` runs it
def test_bench_multirobot(tmp_path: Path, bench) -> None:
    """1 and 2 real-time robots for a few seconds each: the figures exist and are sane (the
    README's speedup comes from a longer run; a few episodes say little of it)."""
    figures = bench(
        "multirobot",
        "robots=1,2",
        "wall_s=3",
        "task.episode_steps=10",
        "demos.episodes=1",
        "algo.batch_size=16",
        "algo.num_critics=2",
        "policy.hidden_dims=[32,32]",
        "algo.critic_hidden_dims=[32,32]",
        f"root={tmp_path}/runs",
    )
    rows = {row["robots"]: row for row in figures["rows"]}
    assert set(rows) == {1, 2} and rows[1]["speedup"] == 1.0
    utd_max = load_config(["algo=rlpd"]).algo.utd_max
    for row in rows.values():
        assert row["episodes"] >= row["robots"] and row["env_steps"] > 0
        # paced to real time: never faster than the robots' control rate allows
        assert 0 < row["env_steps_per_s"] <= row["robots"] * row["control_hz"] * 1.1
        # the learner's ceiling: gradient steps per env step never above algo=rlpd's utd_max
        assert 0.0 <= row["utd"] <= utd_max and 0.0 <= row["online_success_rate"] <= 1.0
    assert figures["speedup_2"] == rows[2]["speedup"] > 0
    from userl.benchmarks.multirobot import table

    assert table(figures).splitlines()[3].startswith("| 2 |")  # the README's table


def test_bench_vla_short(tmp_path: Path, bench) -> None:
    """The CI version of the VLA table: a real pi0_tiny HG-DAgger run at a budget of a
    minute (its success figures say nothing of learning at this size), on table_cleanup
    (tests/integration/test_vla.py trains pick_place)."""
    pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")
    figures = bench(
        "vla", "short=true", "tasks=table_cleanup", "pipelines=sync", f"root={tmp_path}/runs"
    )
    rows = {row["task"]: row for row in figures["rows"]}
    assert set(rows) == {"table_cleanup"}
    for row in rows.values():
        assert row["pipeline"] == "sync" and row["episodes"] == 2 and row["eval_episodes"] == 2
        assert 0.0 <= row["bc_success"] <= 1.0 and 0.0 <= row["online_success"] <= 1.0
        assert row["gain"] == row["online_success"] - row["bc_success"]
        assert row["interventions_per_episode"] > 0  # the operator took over
        assert row["generation_s_per_episode"] > 0 and row["training_s_per_update"] > 0


@pytest.mark.slow  # a BC start and online HG-DAgger on two tasks: minutes; `make bench` runs it
def test_bench_vla_short_multitask_trains_one_policy_on_both_tasks(tmp_path: Path, bench) -> None:
    """`multitask=true` (the default): one run of a cell per task under one
    instruction-conditioned pi0; each task's row comes from its own cell (its start and final
    evaluation, its episodes and interventions)."""
    pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")
    figures = bench("vla", "short=true", "pipelines=sync", f"root={tmp_path}/runs")
    rows = {row["task"]: row for row in figures["rows"]}
    assert list(rows) == ["pick_place", "table_cleanup"]
    runs = {row["run"] for row in rows.values()}
    assert len(runs) == 1  # one run, one policy
    summary = json.loads((Path(runs.pop()) / "summary.json").read_text())
    assert set(summary["cells"]) == set(rows)
    for task, row in rows.items():
        cell = summary["cells"][task]
        assert row["pipeline"] == "sync" and row["episodes"] == cell["episodes"] >= 2
        assert row["eval_episodes"] == 2 and row["online_success"] == cell["eval_success_rate"]
        assert row["bc_success"] == cell["eval_curve"][0]["success_rate"]
        assert row["interventions_per_episode"] == cell["interventions"] / cell["episodes"] > 0
    assert summary["episodes"] == 4  # 2 online episodes per task
    cells = yaml.safe_load((Path(figures["root"]) / "cells.yaml").read_text())
    assert cells == {
        "pick_place": {"task": "pick_place", "weight": 1.0},  # task_weights'
        "table_cleanup": {"task": "table_cleanup", "weight": 2.0},
    }  # default


def test_bench_vla_step_times_on_the_cpu_with_the_tiny_preset(bench) -> None:
    """`device=cuda` times the full-size preset; the same code times `pi0_tiny` here: one
    chunk for one robot, one HG-DAgger update on masked chunk labels."""
    pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")
    from userl.benchmarks import load_benchmark

    options, _ = load_benchmark("vla").parse(["device=cuda"])
    assert options["step_times"] == "pi0"  # the published sizes, only where asked for
    figures = bench("vla", "step_times=pi0_tiny", "step_batch=2", "step_repeats=1")
    times = figures["step_times"]
    assert times["preset"] == "pi0_tiny" and times["device"] == "cpu"
    assert times["view_px"] == 32 and times["chunk_steps"] == 10 and times["views"] == 2
    assert 0 < times["trainable_parameters"] <= times["parameters"]
    assert times["chunk_ms"] > 0 and times["update_s"] > 0
    assert "rows" not in figures  # no simulator runs


@pytest.mark.slow  # a base and five short runs of pi0_tiny: minutes; `make bench` runs it
def test_bench_vla_rl_rows_from_one_base(tmp_path: Path, bench) -> None:
    """`algos=`: HG-DAgger and DSRL from one behaviour-cloned pi0_tiny base, with and
    without the operator; residual SAC cannot adapt pi0 and is skipped with the loader's
    line."""
    pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")
    figures = bench(
        "vla",
        "short=true",
        "tasks=pick_place",
        "pipelines=sync",
        "algos=hg_dagger,dsrl,residual_sac",
        f"root={tmp_path}/runs",
    )
    rows = [(row["algo"], row["operator"]) for row in figures["rows"]]
    assert rows == [
        ("bc_base", ""),
        ("hg_dagger", "with"),
        ("hg_dagger", "without"),
        ("dsrl", "with"),
        ("dsrl", "without"),
    ]
    assert "residual_adapter cannot adapt" in figures["skipped"]["pick_place/residual_sac"]
    by = {(row["algo"], row["operator"]): row for row in figures["rows"]}
    assert by["hg_dagger", "without"]["operator_steps_per_episode"] == 0
    assert by["dsrl", "without"]["operator_steps_per_episode"] == 0
    assert 0 < by["dsrl", "with"]["trained_share"] < 1 == by["hg_dagger", "with"]["trained_share"]
    summary = json.loads((Path(by["dsrl", "with"]["run"]) / "summary.json").read_text())
    assert summary["adapter"]["base_unchanged"]
    assert summary["adapter"]["base"] == by["bc_base", ""]["run"]
