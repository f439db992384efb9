"""Learning checks on simulated peg insertion (state observations, 20 expert demos).

CI runs a short honest version (RLPD with a 2-head ensemble, 4,000 updates); `make bench`
runs the full default configuration that `make run` uses (10 heads, 6,000 updates)."""

from pathlib import Path

import pytest

from userl.config.loader import load_config
from userl.data.store import EpisodeStore
from userl.runtime.train import train

pytestmark = pytest.mark.integration


def test_rlpd_learns_peg_insertion_short(tmp_path: Path) -> None:
    config = load_config([f"run.root={tmp_path}", "run.name=short", "algo.num_critics=2",
                          "run.grad_steps=4000", "run.wall_s=0", "eval.episodes=10",
                          "eval.at_start=true"])
    summary = train(config)
    assert summary["initial_eval_success_rate"] <= 0.2  # the untrained policy cannot do it
    assert summary["eval_success_rate"] >= 0.8, summary


@pytest.mark.slow
def test_rlpd_learns_peg_insertion_default(tmp_path: Path) -> None:
    summary = train(load_config([f"run.root={tmp_path}", "run.name=default"]))
    assert summary["eval_episodes"] >= 20
    assert summary["eval_success_rate"] >= 0.8, summary


# ----------------------------------------------------------------------------- HG-DAgger
def test_hg_dagger_with_simulated_operator_short(tmp_path: Path) -> None:
    """BC on 5 demos, then online with the scripted operator taking over when the novice
    stalls; only human-controlled steps join the aggregate. ~25 online episodes."""
    summary = train(load_config([
        f"run.root={tmp_path}", "run.name=hg_dagger", "algo=hg_dagger", "teleop=expert",
        "pipeline=sync", "demos.episodes=5", "run.env_steps=1000", "run.grad_steps=0",
        "run.wall_s=0", "eval.episodes=10", "eval.at_start=true"]))
    assert summary["interventions"] > 0  # the operator did take over
    assert summary["episodes"] <= 40
    assert summary["eval_success_rate"] >= summary["initial_eval_success_rate"] + 0.3, summary


# ----------------------------------------------------------------------------- full versions
@pytest.mark.slow
def test_rlpd_state_20_demos_within_20k_env_steps(tmp_path: Path) -> None:
    """RLPD (10 critics) with 20 expert demos: >= 0.9 eval success within 20,000 env steps.
    `algo.utd_min=1` keeps the simulated robot from running ahead of the learner."""
    summary = train(load_config([
        f"run.root={tmp_path}", "run.name=rlpd_full", "demos.episodes=20",
        "run.env_steps=20000", "run.grad_steps=8000", "run.wall_s=0", "algo.utd_min=1",
        "eval.episodes=20"]))
    assert summary["env_steps"] <= 20000 + 200  # the last episode may finish past the budget
    assert summary["eval_success_rate"] >= 0.9, summary


# ----------------------------------------------------------------------------- SAC Flow
def online_successes(run_dir: str) -> list[bool]:
    """Success of every online (training) episode of a run, in the order they were stored."""
    report = EpisodeStore(Path(run_dir) / "episodes").load()
    return [episode.success for episode in report.episodes]


@pytest.mark.slow  # not yet reliable: SAC Flow's step noise saturates (issue 4 stays open)
def test_sac_flow_flow_g_learning_signal_short(tmp_path: Path) -> None:
    """Flow-G from scratch (20 demos in the batch): the untrained flow never inserts the peg;
    after 2,700 updates its own stochastic rollouts do (~2 minutes on 2 cores)."""
    summary = train(load_config([
        f"run.root={tmp_path}", "run.name=flow_g", "algo=sac_flow", "policy=flow_g",
        "run.grad_steps=2700", "run.wall_s=0", "algo.utd_min=2", "eval.episodes=10",
        "eval.at_start=true", "eval.deterministic=false"]))
    assert summary["initial_eval_success_rate"] == 0.0
    successes = online_successes(summary["run"])
    learned = sum(successes) + round(summary["eval_success_rate"] * summary["eval_episodes"])
    assert learned >= 2, (successes, summary)


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["flow_g", "flow_t"])
def test_sac_flow_within_20k_env_steps(tmp_path: Path, policy: str) -> None:
    """SAC Flow (Flow-G / Flow-T) with 20 expert demos: >= 0.8 eval success within 20,000
    env steps (at least one update per env step)."""
    summary = train(load_config([
        f"run.root={tmp_path}", f"run.name={policy}", "algo=sac_flow", f"policy={policy}",
        "run.env_steps=20000", "run.grad_steps=20000", "run.wall_s=0", "algo.utd_min=1",
        "eval.episodes=20"]))
    assert summary["env_steps"] <= 20000 + 200
    assert summary["eval_success_rate"] >= 0.8, summary
