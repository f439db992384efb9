"""Every benchmark, once, at its smallest settings, through `userl bench` as a user runs it:
its JSON holds the figures the README quotes. `sim` runs as a new process from outside the
checkout (the benchmarks are a package); the others call the same `main` in this process,
from a scratch folder, which saves an interpreter start each. `learning` (real training runs,
minutes) is covered by `test_learning.py`'s short version through its entry function, `run`."""

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from userl.benchmarks import BENCHMARKS
from userl.cli import main
from userl.config.loader import load_config

pytestmark = pytest.mark.integration
CLI_TIMEOUT_S = 600
# three trainings each (two modes, or two tasks alone and together): past the suite's per-test
# bound on a busy machine
TRAINING_TIMEOUT_S = 600


def bench_process(tmp_path: Path, name: str, *arguments: str) -> dict[str, Any]:
    """`userl bench NAME ... out=F.json` in a fresh process, run from `tmp_path`."""
    out = tmp_path / f"{name}.json"
    result = subprocess.run(
        [sys.executable, "-m", "userl.cli", "bench", name, *arguments, f"out={out}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=CLI_TIMEOUT_S,
        env={**os.environ, "MUJOCO_GL": "egl"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "the benchmark prints its table"
    return json.loads(out.read_text())


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`bench(name, *arguments)`: `userl bench NAME ... out=F.json` through `main`, run from
    `tmp_path`; the figures from the JSON it writes."""
    monkeypatch.chdir(tmp_path)

    def run(name: str, *arguments: str) -> dict[str, Any]:
        out = tmp_path / f"{name}.json"
        assert main(["bench", name, *arguments, f"out={out}"]) == 0, capsys.readouterr().err
        assert capsys.readouterr().out.strip(), "the benchmark prints its table"
        return json.loads(out.read_text())

    return run


def test_every_benchmark_is_registered_and_importable() -> None:
    from userl.benchmarks import load_benchmark

    assert set(BENCHMARKS.names()) == {
        "control",
        "faults",
        "gpu",
        "learner",
        "learning",
        "multirobot",
        "multitask",
        "pipeline",
        "report",
        "sim",
        "sync",
        "vla",
    }
    for name in BENCHMARKS.names():
        module = load_benchmark(name)
        assert module.__name__ == f"userl.benchmarks.{name}"
        assert callable(module.run) and callable(module.table)


def test_unknown_benchmark_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "userl.cli", "bench", "nope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown benchmark 'nope'" in result.stderr and "learner" in result.stderr


def test_bench_sim(tmp_path: Path) -> None:
    figures = bench_process(tmp_path, "sim", "task=pick_place", "obs=image", "steps=5")
    for key in ("env_steps_per_s_state", "observations_per_s_image", "real_time_factor"):
        assert figures[key] > 0
    assert figures["task"] == "pick_place" and figures["views"] == 2
    assert np.isfinite(figures["renders_per_s_image"])


def test_bench_learner(tmp_path: Path, bench) -> None:
    """Every preset with 2 and 10 heads on the CPU (`device=cuda` runs the same code), and
    the ratio table against LeRobot's JSON lines (`compare=`)."""
    lerobot = tmp_path / "lerobot.jsonl"
    lerobot.write_text(
        "\n".join(
            json.dumps(row)
            for row in [
                {
                    "setting": "state20",
                    "num_critics": 2,
                    "threads": 1,
                    "compile": False,
                    "loop_per_s": 0.5,
                },
                {
                    "setting": "state20",
                    "num_critics": 2,
                    "threads": 1,
                    "compile": False,
                    "loop_per_s": 0.25,
                    "update_min_ms": 1500.0,
                    "sample_med_ms": 500.0,
                },
                {
                    "setting": "state20",
                    "num_critics": 2,
                    "threads": 2,
                    "compile": False,
                    "loop_per_s": 9.0,
                },  # another thread count: not compared
                {
                    "setting": "img64x2",
                    "num_critics": 10,
                    "threads": 1,
                    "compile": False,
                    "loop_per_s": 0.125,
                },
            ]
        )
        + "\n"
    )
    figures = bench(
        "learner",
        "policies=mlp,cnn_small,flow_g,flow_t",
        "heads=2,10",
        "seconds=0",
        "batch_size=8",
        "device=cpu",
        f"compare={lerobot}",
        "profile=1",
    )
    for row in figures["updates"]:  # where one update's time went
        profile = row["profile_ms_per_update"]
        assert profile["matrix_products"] > 0 and profile["optimizer"] > 0
        assert profile["polyak"] > 0 and profile["sampling"] > 0
        assert profile["wall_ms"] >= profile["matrix_products"]
    assert figures["state_dim"] == 20  # LeRobot's state setting
    compared = {(row["setting"], row["heads"]): row for row in figures["lerobot"]["rows"]}
    assert set(compared) == {("state20", 2), ("img64x2", 10)}
    state = compared["state20", 2]
    assert state["lerobot_loop_per_s"] == [0.25, 0.5]
    ours = state["userl_updates_per_s"]
    assert state["ratio_min"] == pytest.approx(ours / 0.5, abs=0.01)
    assert state["ratio_max"] == pytest.approx(ours / 0.25, abs=0.01)
    assert state["lerobot_best_loop_per_s"] == 0.5  # 1 / (1.5 s + 0.5 s)
    assert state["ratio_best"] == pytest.approx(state["userl_best_updates_per_s"] / 0.5, abs=0.01)
    assert "ratio_best" not in compared["img64x2", 10]  # that line has no fastest update
    rows = {(row["policy"], row["heads"]): row for row in figures["updates"]}
    assert set(rows) == {(p, h) for p in ("mlp", "cnn_small", "flow_g", "flow_t") for h in (2, 10)}
    assert all(
        row["updates_per_s"] > 0 and row["updates_per_s_median"] > 0 for row in rows.values()
    )
    assert rows["cnn_small", 2]["views"] == 2 and rows["cnn_small", 2]["view_px"] == 64
    assert set(figures["time_ratio_10_vs_2_heads"]) == {"mlp", "cnn_small", "flow_g", "flow_t"}
    memory = {row["view_px"]: row for row in figures["replay_memory"]}
    assert memory[128]["bytes_per_transition"] < memory[128]["naive_copy_bytes_per_transition"]


def test_bench_sync(tmp_path: Path, bench) -> None:
    """The publisher and subscriber are Ray actors defined in the benchmark module: their
    processes import it by name."""
    vla = importlib.util.find_spec("transformers") is not None
    figures = bench("sync", "sizes=1", "repeats=3", "pi0=pi0_tiny" if vla else "pi0=none")
    row, *pi0 = figures["rows"]
    assert row["parameters"] == 1_000_000 and row["mode"] == "full"
    assert 0 < row["latency_ms_p50"] <= row["latency_ms_p99"]
    if vla:  # the tiny preset trains everything that reaches the actions, in float32
        from userl.benchmarks.sync import pi0_spec

        (tiny,) = pi0
        assert tiny["model"] == "pi0_tiny trainable"
        assert tiny["parameters"] == sum(math.prod(s) for s, _ in pi0_spec("pi0_tiny").values())
        assert tiny["bytes_per_sync"] == 4 * tiny["parameters"]
        assert 0 < tiny["latency_ms_p50"] <= tiny["latency_ms_p99"]


def test_bench_control(tmp_path: Path, bench) -> None:
    """20 steps fit in one 100-step episode: 20 periods. The pacer's deadlines follow from one
    another, so a tick is early by at most one period (catching up after a late one) and only a
    late one deviates by more: without overruns (10 % late) no deviation exceeds the period,
    and an overrun is a deviation past a tenth of it. How late a tick is depends on the
    machine's load, which the test does not bound."""
    figures = bench("control", "steps=20", "learner_threads=1")
    period_ms = 1000.0 / figures["control_hz"]
    for name in ("alone", "under_learner_load"):
        row = figures[name]
        assert row["periods"] == 20, row
        assert 0.0 <= row["deviation_ms_p50"] <= row["deviation_ms_p99"], row
        assert row["deviation_ms_p99"] <= row["deviation_ms_max"], row
        assert 0 <= row["overruns"] <= row["periods"], row
        if row["overruns"]:
            assert row["deviation_ms_max"] > 0.1 * period_ms, row
        else:
            assert row["deviation_ms_max"] <= period_ms, row
    assert figures["under_learner_load"]["learner_updates_per_s"] > 0


@pytest.mark.timeout(TRAINING_TIMEOUT_S)
def test_bench_pipeline(tmp_path: Path, bench) -> None:
    """Each mode runs a few episodes (the wall time only bounds it: on a busy machine four
    seconds held no full episode)."""
    figures = bench(
        "pipeline",
        "wall_s=600",
        "run.episodes=5",
        "task.episode_steps=10",
        "algo.batch_size=16",
        "sync_updates_per_episode=2",
        f"root={tmp_path}/runs",
    )
    for mode in ("sync", "async"):
        assert figures["modes"][mode]["generation_s_per_episode"] > 0
        assert figures["modes"][mode]["training_s_per_update"] > 0
    for key in (
        "generation_ratio_sync_to_async",
        "training_ratio_sync_to_async",
        "async_generation_vs_physical_limit",
        "async_training_vs_learner_alone",
    ):
        assert np.isfinite(figures[key]) and figures[key] > 0


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


def test_bench_faults(tmp_path: Path, bench) -> None:
    """The quickest scenario through the CLI; `test_faults.py` runs every scenario."""
    started_s = time.monotonic()
    figures = bench("faults", "scenarios=corrupt_files", f"root={tmp_path}/runs")
    row = figures["scenarios"]["corrupt_files"]
    assert row["episodes_lost"] == 0 and row["recovered"]
    assert row["damaged_reported_and_skipped"] == 2
    assert row["intact_episodes_loaded"] == row["episodes_produced"] - 2
    # the reload is timed inside the benchmark: a part of the time this call took
    assert 0.0 < row["time_to_recover_s"] <= time.monotonic() - started_s


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
