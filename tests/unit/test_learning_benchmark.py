"""`userl bench learning`: option parsing, target bookkeeping and the plot, on made-up runs."""

from __future__ import annotations

import pytest

from userl.benchmarks import load_benchmark
from userl.core.errors import ConfigError

learning = load_benchmark("learning")


def test_short_version_defaults_and_overrides_pass_through():
    options, overrides = learning._parse(["short=true", "seeds=3", "algo.gamma=0.9"])
    assert options["settings"] == "rlpd_state" and options["seeds"] == "3"
    assert overrides[-1] == "algo.gamma=0.9" and "run.env_steps=6000" in overrides
    options, _ = learning._parse(["tasks=all"])
    assert "peg_insertion" in options["tasks"].split(",") and "charger" in options["tasks"]


def test_unknown_setting_is_a_one_line_error():
    with pytest.raises(ConfigError, match="unknown learning setting"):
        learning._parse(["settings=rlpd_state,ppo"])


def curve(*points):
    return [{"env_steps": s, "grad_steps": s, "success_rate": r, "mean_return": r,
             "episodes": 10} for s, r in points]


def test_target_reached_at_the_first_evaluation_at_or_above_it(tmp_path):
    runs = [{"curve": curve((0, 0.0), (2000, 0.5), (4000, 0.9), (6000, 0.8)),
             "initial_success": 0.0, "final_success": 0.8},
            {"curve": curve((0, 0.0), (2000, 0.3)), "initial_success": 0.0,
             "final_success": 0.3}]
    result = learning._aggregate(learning.SETTINGS["rlpd_state"], runs)
    assert result["reached_target_at_env_steps"] == [4000, None]
    assert result["seeds_reaching_target"] == 1
    assert result["final_success_mean"] == pytest.approx(0.55)
    gains = learning._aggregate(learning.SETTINGS["hg_dagger"], runs)
    assert gains["seeds_above_gain"] == 1  # +0.8 counts, +0.3 is not above 0.3
    results = {"overrides": [], "results": {"rlpd_state/peg_insertion": {
        "notes": "n", "runs": runs, **result}}}
    learning.plot_curves(results, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_the_classifier_setting_is_compared_with_ground_truth():
    setting = learning.SETTINGS["rlpd_image_classifier"]
    ground = learning.SETTINGS["rlpd_image"]
    assert setting.prepare in learning.PREPARATIONS and setting.compare_to == "rlpd_image"
    assert set(ground.overrides) <= set(setting.overrides)  # the same run but the reward
    runs = [{"final_success": 0.5}, {"final_success": 0.3}]
    done = {"rlpd_image/peg_insertion": {"final_success_mean": 0.55}}
    compared = learning._compared(setting, "peg_insertion", runs, done)
    assert compared["gap_to_ground_truth"] == pytest.approx(-0.15)
    assert not compared["within_target_gap"]
    done["rlpd_image/peg_insertion"]["final_success_mean"] = 0.45
    assert learning._compared(setting, "peg_insertion", runs, done)["within_target_gap"]
    assert learning._compared(setting, "pick_place", runs, done) == {}  # not run: no claim
