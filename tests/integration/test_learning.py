"""Learning checks on simulated peg insertion (state observations, 20 expert demos).

CI runs a short honest version (RLPD with a 2-head ensemble, 4,000 updates); `make bench`
runs the full default configuration that `make run` uses (10 heads, 6,000 updates)."""

from pathlib import Path

import pytest

from userl.config.loader import load_config
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
