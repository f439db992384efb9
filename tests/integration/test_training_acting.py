"""How online episodes act in short trainings through Ray: remote inference shared by two
robots, seeded reproducibility and the point estimate on request."""

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.training_arguments import SMALL
from userl.config.loader import load_config
from userl.core.specs import ObservationSpec
from userl.data.checkpoint import load_checkpoint
from userl.data.store import EpisodeStore
from userl.policies import build_policy
from userl.runtime.train import train

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]


def test_remote_inference_serves_two_workers_in_batches(tmp_path: Path) -> None:
    config = load_config(
        [
            *SMALL,
            "pipeline.inference=remote",
            "run.num_robots=2",
            "pipeline.inference_batch_window_ms=20",
            "run.env_steps=400",
            "eval.at_start=false",
            "eval.episodes=0",  # this checks acting, not evaluation
            f"run.root={tmp_path}",
            "run.name=remote",
        ]
    )
    summary = train(config)
    stored = EpisodeStore(tmp_path / "remote" / "episodes").stats()
    assert set(stored["per_robot_episodes"]) == {"robot_0", "robot_1"}
    assert summary["inference"]["max_batch"] >= 2  # both robots' requests shared a pass
    assert summary["inference"]["weight_version"] > 1  # the server followed the learner
    versions = [
        int(e.policy_versions.max())
        for e in EpisodeStore(tmp_path / "remote" / "episodes").iter_episodes()
    ]
    assert max(versions) > 1  # actions are tagged with the version that chose them


def test_sync_runs_with_the_same_seed_are_reproducible(tmp_path: Path) -> None:
    """run.seed fixes the robot's resets, the policy's sampled actions (seeded in each env
    worker) and the learner's batches: two sync runs store the same episodes."""

    def stored_actions(name: str, seed: int) -> list:
        train(
            load_config(
                [
                    *SMALL,
                    "task.episode_steps=40",  # short episodes: the same check, a third the time
                    "run.env_steps=80",
                    "eval.episodes=0",
                    "eval.at_start=false",
                    "pipeline=sync",
                    f"run.seed={seed}",
                    f"run.root={tmp_path}",
                    f"run.name={name}",
                ]
            )
        )
        return [
            episode.actions
            for episode in EpisodeStore(tmp_path / name / "episodes").iter_episodes()
        ]

    first, again, other = (stored_actions("a", 3), stored_actions("b", 3), stored_actions("c", 4))
    assert len(first) == len(again) >= 2
    assert all(a.shape == b.shape and (a == b).all() for a, b in zip(first, again, strict=True))
    assert not (first[0].shape == other[0].shape and (first[0] == other[0]).all())


@pytest.mark.parametrize("deterministic", [True, False])
def test_online_episodes_act_with_the_point_estimate_when_asked(
    tmp_path: Path, deterministic: bool
) -> None:
    """algo.act_deterministic: the policy's online proposals are its deterministic actions
    (HG-DAgger's novice); otherwise they are samples around them. At lr 0 the
    checkpoint holds the policy that acted."""
    name = "point" if deterministic else "sampled"
    config = load_config(
        [
            "algo=hg_dagger",
            "policy=mlp",
            "policy.hidden_dims=[32,32]",
            "algo.batch_size=32",
            "demos.episodes=1",
            "algo.lr=0",
            "algo.pretrain_updates=0",  # at lr 0 pretraining changes nothing
            "run.env_steps=100",
            "pipeline=sync",
            "eval.episodes=0",
            f"algo.act_deterministic={deterministic}",
            f"run.root={tmp_path}",
            f"run.name={name}",
        ]
    )
    train(config)
    episode = next(EpisodeStore(tmp_path / name / "episodes").iter_episodes())
    spec = ObservationSpec(state_dim=episode.observations["state"].shape[1])
    policy = build_policy(config.policy, spec, episode.actions.shape[1])
    policy.load_state_dict(
        load_checkpoint(tmp_path / name / "checkpoints" / "latest.pt")["policy"], strict=False
    )
    steps = len(episode)
    observations = {
        key: torch.as_tensor(rows[:steps]) for key, rows in episode.observations.items()
    }
    with torch.inference_mode():
        point = policy.eval().act(observations, deterministic=True).reshape(steps, -1).numpy()
    assert np.allclose(point, episode.policy_actions, atol=1e-5) == deterministic
