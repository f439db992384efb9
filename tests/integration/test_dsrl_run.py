"""`userl train algo=dsrl|residual_sac policy.base=RUN` end to end (#41): a tiny flow_g base
made by a short HG-DAgger run, then noise-space SAC and residual SAC over it; the base never
changes, only the adapter's tensors are checkpointed and synced, and the run's policy
evaluates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from userl.cli import main
from userl.data.checkpoint import load_checkpoint

pytestmark = pytest.mark.usefixtures("shared_ray")  # its runs share one Ray

SHORT = [
    "task=peg_insertion",
    "task.episode_steps=20",
    "pipeline=sync",
    "eval.episodes=1",
    "algo.batch_size=16",
]


def test_adapters_over_a_tiny_flow_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base_arguments = ["algo=hg_dagger", "policy=flow_g", "policy.hidden_dims=[32,32]"]
    assert (
        main(
            [
                "train",
                *SHORT,
                *base_arguments,
                "demos.episodes=1",
                "algo.pretrain_updates=10",
                "run.env_steps=20",
                f"run.root={tmp_path}",
                "run.name=base",
            ]
        )
        == 0
    )
    base = tmp_path / "base"
    capsys.readouterr()
    assert main(["train", *SHORT, "algo=dsrl", f"policy.base={tmp_path / 'no_run'}",
                 f"run.root={tmp_path}", "run.name=bad"]) == 2  # fmt: skip
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "policy.base=" in error, error
    assert not (tmp_path / "bad").exists()

    for algo, extra in (("dsrl", []), ("residual_sac", ["policy.residual_warmup_env_steps=10"])):
        arguments = [
            *SHORT,
            f"algo={algo}",
            f"policy.base={base}",
            "policy.hidden_dims=[8]",
            "algo.critic_hidden_dims=[16]",
            "algo.warmup_env_steps=20",
            "run.env_steps=60",
            f"run.root={tmp_path}",
            f"run.name={algo}",
            *extra,
        ]
        assert main(["train", *arguments]) == 0
        run = tmp_path / algo
        summary = json.loads((run / "summary.json").read_text())
        adapter = summary["adapter"]
        assert adapter["base_unchanged"]
        assert adapter["base_sha256_start"] == adapter["base_sha256_end"]
        assert 0 < adapter["trainable_fraction"] < 1 and summary["grad_steps"] > 0
        state = load_checkpoint(run / "checkpoints" / "latest.pt")
        assert state["policy"] and not any(k.startswith("base.") for k in state["policy"])
        assert not any(k.startswith("base.") for k in state["algorithm"]["policy"])
        assert main(["eval", f"run={run}", "episodes=1"]) == 0
