"""`userl bench multitask`: options, each task's time to the threshold alone and together,
the ratios and the table, on made-up curves."""

from __future__ import annotations

import pytest

from userl.benchmarks import load_benchmark
from userl.core.errors import ConfigError

multitask = load_benchmark("multitask")


def curve(*points, cell_steps=False):
    """Points (run env steps, seconds, success); a joint run's cell points carry their own
    cell's steps (half the run's here)."""
    return [
        {
            "env_steps": s,
            "time_s": t,
            "success_rate": r,
            **({"cell_env_steps": s // 2} if cell_steps else {}),
        }
        for s, t, r in points
    ]


def test_time_and_steps_to_the_threshold_of_a_task():
    alone = multitask.task_figures(curve((2000, 300.0, 0.5), (4000, 600.0, 0.9)), 0.9)
    assert alone["time_to_threshold_s"] == 600.0 and alone["env_steps_to_threshold"] == 4000
    together = multitask.task_figures(curve((4000, 280.0, 0.95), cell_steps=True), 0.9)
    assert together["env_steps_to_threshold"] == 2000  # the cell's own steps
    never = multitask.task_figures(curve((2000, 300.0, 0.5)), 0.9)
    assert never["time_to_threshold_s"] is None and never["env_steps_to_threshold"] is None


def test_ratios_per_task_and_for_every_task():
    alone = {"a": {"time_to_threshold_s": 1000.0}, "b": {"time_to_threshold_s": 1400.0}}
    together = {"a": {"time_to_threshold_s": 530.0}, "b": {"time_to_threshold_s": 1500.0}}
    result = multitask.ratios(alone, together, together_all_s=1500.0)
    assert result["ratio"] == pytest.approx({"a": 0.53, "b": 1500 / 1400})
    assert result["ratio_all"] == pytest.approx(1500 / 1400) and result["target_met"]
    together["b"]["time_to_threshold_s"] = 1800.0  # 1.29x: over the bar
    assert not multitask.ratios(alone, together, 1800.0)["target_met"]
    together["b"]["time_to_threshold_s"] = None  # never reached together
    missed = multitask.ratios(alone, together, None)
    assert missed["ratio"]["b"] is None and missed["ratio_all"] is None
    assert not missed["target_met"]


def test_a_cells_task_and_robot_run_alone_and_options_are_checked():
    assert multitask.alone_overrides("franka_peg") == ["task=peg_insertion", "robot=sim_franka"]
    assert multitask.alone_overrides("arx_pick_place")[0] == "task=pick_place"
    options, overrides = multitask._options(["threshold=0.8", "algo.gamma=0.9"])
    assert options["threshold"] == "0.8" and overrides == ["algo.gamma=0.9"]
    with pytest.raises(ConfigError, match="two or more cells"):
        multitask._options(["cells=franka_peg"])
    with pytest.raises(ConfigError, match="needs key=value"):
        multitask._options(["fast"])


def test_table_names_each_task_and_the_bar():
    result = {
        "cells": ["a"],
        "threshold": 0.9,
        "together_all_s": 530.0,
        "ratio_all": 0.53,
        "ratio": {"a": 0.53},
        "target_ratio": 1.2,
        "target_met": True,
        "utd_together": 0.98,
        "alone": {
            "a": {
                "time_to_threshold_s": 1000.0,
                "env_steps_to_threshold": 8000,
                "final_success": 1.0,
            }
        },
        "together": {
            "a": {
                "time_to_threshold_s": 530.0,
                "env_steps_to_threshold": 4000,
                "final_success": 0.95,
            }
        },
    }
    text = multitask.table(result)
    assert "| a | 1000 | 8000 | 530 | 4000 | 0.53x | 1.0 / 0.95 |" in text
    assert "target <= 1.2x per task: met" in text
