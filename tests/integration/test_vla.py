"""`userl train policy=pi0_tiny algo=hg_dagger teleop=expert task=pick_place`, end to end on
a tiny budget: BC on demos, online episodes with the scripted operator taking over, chunk
labels from its steps, weights synced, and the run evaluable from its folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")

from userl.cli import main  # noqa: E402
from userl.config.loader import load_config  # noqa: E402
from userl.data.store import EpisodeStore  # noqa: E402
from userl.runtime.train import train  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]  # one Ray, its runs

TINY_BUDGET = [
    "task.episode_steps=20",
    "demos.episodes=1",
    "run.episodes=2",
    "algo.pretrain_updates=3",
    "algo.batch_size=4",
    "algo.utd_max=0.5",
    "teleop.no_progress_steps=3",
    "teleop.takeover_steps=4",
    "eval.episodes=1",
    "eval.at_start=false",
]


@pytest.mark.parametrize("inference", ["local", "remote"])
def test_pi0_tiny_hg_dagger_on_pick_place(tmp_path: Path, inference: str) -> None:
    """Local: each robot's own copy; remote: one server batches the chunks and the robot
    asks for the next one early (`pipeline.chunk_prefetch_steps`)."""
    config = load_config(
        [
            "policy=pi0_tiny",
            "algo=hg_dagger",
            "teleop=expert",
            "task=pick_place",
            *TINY_BUDGET,
            f"run.root={tmp_path}",
            "run.name=vla",
            f"pipeline.inference={inference}",
        ]
    )
    assert config.obs == "image"  # pi0 picks camera views by itself
    summary = train(config)
    run_dir = tmp_path / "vla"
    assert summary["episodes"] >= 2 and summary["grad_steps"] > 3
    assert summary["interventions"] > 0  # the operator took over
    demo_only = EpisodeStore(run_dir / "demos").stats()["transitions"]
    assert summary["demo_transitions"] == demo_only + summary["interventions"]
    stored = EpisodeStore(run_dir / "episodes").stats()
    assert stored["intervened_steps"] == summary["interventions"]
    for episode in EpisodeStore(run_dir / "episodes").iter_episodes():
        # the robot waits for chunks inside its episode (none if the operator held every step),
        # and a remote chunk comes within the configured bound or the episode fails
        bound_ms = 1000.0 * min(episode.info["wall_s"], config.run.remote_timeout_s)
        for key in ("action_wait_ms", "action_wait_ms_p99"):
            assert 0.0 <= episode.info[key] <= bound_ms, (key, episode.info)
    report = tmp_path / "eval.json"
    assert main(["eval", f"run={run_dir}", "episodes=1", f"out={report}"]) == 0
    assert json.loads(report.read_text())["episodes"] == 1
