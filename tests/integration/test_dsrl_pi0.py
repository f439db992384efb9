"""`userl train algo=dsrl policy.base=RUN` over a pi0_tiny base, end to end on pick_place
(#41): a tiny HG-DAgger run makes the base, then noise-space SAC acts through it in whole
chunks with the scripted operator taking over; the learner inverts the executed chunks, the
critic trains at the chunk level, and the base's weights never change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")

from userl.cli import main  # noqa: E402
from userl.data.checkpoint import load_checkpoint  # noqa: E402
from userl.data.store import EpisodeStore  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]  # one Ray, its runs

SMALL = [
    "task=pick_place",
    "obs=image",
    "task.episode_steps=10",
    "pipeline=sync",
    "eval.at_start=false",
    "algo.batch_size=4",
    "algo.utd_max=0.5",
]


def test_dsrl_over_a_pi0_tiny_base_on_pick_place(tmp_path: Path) -> None:
    base_arguments = ["policy=pi0_tiny", "algo=hg_dagger", "eval.episodes=0"]
    base_budget = ["demos.episodes=1", "run.episodes=1", "algo.pretrain_updates=2"]
    assert main(["train", *SMALL, *base_arguments, *base_budget,
                 f"run.root={tmp_path}", "run.name=base"]) == 0  # fmt: skip
    base = tmp_path / "base"
    arguments = [
        *SMALL,
        "algo=dsrl",
        f"policy.base={base}",
        "policy.hidden_dims=[8]",
        "algo.critic_hidden_dims=[16]",
        "algo.inversion_iterations=3",
        "algo.warmup_env_steps=10",
        "teleop=expert",
        "teleop.no_progress_steps=3",
        "teleop.takeover_steps=4",
        "run.env_steps=20",
        "eval.episodes=1",
        f"run.root={tmp_path}",
        "run.name=dsrl",
    ]
    assert main(["train", *arguments]) == 0
    run = tmp_path / "dsrl"
    summary = json.loads((run / "summary.json").read_text())
    adapter = summary["adapter"]
    assert adapter["base_unchanged"] and summary["grad_steps"] > 0
    assert summary["interventions"] > 0  # the operator's chunks were inverted and trained on
    assert adapter["base_sha256_start"] == adapter["base_sha256_end"]
    assert 0 < adapter["trainable_fraction"] < 0.05  # the bound on the adapter's size
    stored = EpisodeStore(run / "episodes").stats()
    assert stored["transitions"] >= 20  # every step stored, invertible or not
    state = load_checkpoint(run / "checkpoints" / "latest.pt")
    assert not any(k.startswith("base.") for k in state["policy"])
    assert "uninvertible_steps_total" in state["algorithm"]
