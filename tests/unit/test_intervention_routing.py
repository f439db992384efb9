"""Where intervened steps go: RL (HIL-SERL) puts them in replay AND the demo buffer;
HG-DAgger trains only on human-controlled steps (demos plus interventions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from userl.config.loader import load_config
from userl.core.specs import ObservationSpec
from userl.core.types import Episode
from userl.runtime.learner import Learner

STATE_DIM, ACTION_DIM, STEPS = 4, 7, 10
HUMAN_STEPS = np.arange(STEPS) >= 6  # the operator took over for the last four steps
HUMAN_ACTION, POLICY_ACTION = 0.5, -0.25


def episode_with_takeover() -> Episode:
    executed = np.where(HUMAN_STEPS[:, None], HUMAN_ACTION, POLICY_ACTION)
    executed = np.broadcast_to(executed, (STEPS, ACTION_DIM)).astype(np.float32)
    zeros = np.zeros(STEPS, bool)
    return Episode(robot_id="robot_0", task="peg_insertion",
                   observations={"state": np.zeros((STEPS + 1, STATE_DIM), np.float32)},
                   actions=executed,
                   policy_actions=np.full((STEPS, ACTION_DIM), POLICY_ACTION, np.float32),
                   rewards=np.zeros(STEPS, np.float32), terminated=zeros, truncated=zeros,
                   intervened=HUMAN_STEPS.copy(), policy_versions=np.zeros(STEPS, np.int64),
                   success=False)


def learner(tmp_path: Path, algo: str) -> Learner:
    config = load_config([f"algo={algo}", "policy=mlp", "algo.batch_size=64",
                          "run.torch_threads=1"])
    return Learner(config, ObservationSpec(STATE_DIM), ACTION_DIM, str(tmp_path))


@pytest.mark.parametrize("algo", ["rlpd", "hg_dagger"])
def test_every_step_goes_to_replay_and_human_steps_to_the_demo_buffer(tmp_path, algo):
    subject = learner(tmp_path, algo)
    subject.add_episode(episode_with_takeover())
    assert len(subject.online) == STEPS
    assert len(subject.demos) == HUMAN_STEPS.sum()
    assert subject.stats()["interventions"] == HUMAN_STEPS.sum()
    subject.close()


def test_rl_batches_mix_policy_and_human_steps(tmp_path):
    subject = learner(tmp_path, "rlpd")  # demo_fraction 0.5
    subject.add_episode(episode_with_takeover())
    batch = subject.sampler.sample(64, np.random.default_rng(0))
    first = batch["actions"][:, 0]
    assert (first == POLICY_ACTION).any() and (first == HUMAN_ACTION).any()
    assert batch["intervened"][first == HUMAN_ACTION].all()
    subject.close()


def test_hg_dagger_labels_are_only_the_humans_actions(tmp_path):
    subject = learner(tmp_path, "hg_dagger")
    subject.add_episode(episode_with_takeover())
    batch = subject.sampler.sample(64, np.random.default_rng(0))
    np.testing.assert_array_equal(batch["actions"], HUMAN_ACTION)
    assert batch["intervened"].all()
    before = subject.algorithm.grad_steps
    assert subject.train(5) == 5 and subject.algorithm.grad_steps == before + 5
    subject.close()
