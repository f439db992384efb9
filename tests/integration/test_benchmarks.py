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

from userl.benchmarks import BENCHMARKS

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
        "run.episodes=3",
        "task.episode_steps=10",
        "eval.episodes=0",
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
