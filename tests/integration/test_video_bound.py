"""Evaluation videos never stall a robot, through a real run: with a render bound no frame
can meet, the robot drops its first video at the first timed frame, records no more, and the
run reaches its budget with no video written (unit tests: tests/unit/test_video_episode.py)."""

from pathlib import Path

import pytest

from userl.config.loader import load_config
from userl.runtime.train import train

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]

SMALL = [
    "run.env_steps=200",
    "demos.episodes=2",
    "eval.episodes=2",
    "eval.video_every_s=1",
    "algo.batch_size=32",
    "algo.num_critics=3",
    "algo.critic_hidden_dims=[32,32]",
    "policy.hidden_dims=[32,32]",
    "algo.utd_max=1",
]


def test_a_render_over_its_bound_ends_the_runs_videos_not_the_run(tmp_path: Path) -> None:
    config = load_config(
        [
            *SMALL,
            "eval.video_render_max_period_fraction=1e-9",
            f"run.root={tmp_path}",
            "run.name=bounded",
        ]
    )
    summary = train(config)
    run_dir = tmp_path / "bounded"
    assert summary["env_steps"] >= 200 and not summary.get("interrupted")
    assert sorted((run_dir / "videos").glob("eval_*")) == []
