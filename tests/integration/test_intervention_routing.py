"""Where intervened steps go: RL (HIL-SERL) puts them in replay AND the demo buffer;
HG-DAgger trains only on human-controlled steps (demos plus interventions).

Integration tier: the learner publishes its weights into Ray's object store, which starts a
Ray; the module's tests share one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from userl.config.loader import load_config
from userl.core.specs import ObservationSpec
from userl.runtime.learner import Learner

pytestmark = pytest.mark.usefixtures("shared_ray")


def learner(tmp_path: Path, algo: str, takeover) -> Learner:
    config = load_config(
        [f"algo={algo}", "policy=mlp", "algo.batch_size=64", "run.torch_threads=1"]
    )
    return Learner(config, ObservationSpec(takeover.state_dim), takeover.action_dim, str(tmp_path))


@pytest.mark.parametrize("algo", ["rlpd", "hg_dagger"])
def test_every_step_goes_to_replay_and_human_steps_to_the_demo_buffer(tmp_path, algo, takeover):
    subject = learner(tmp_path, algo, takeover)
    subject.add_episode(takeover.episode())
    assert len(subject.online) == takeover.steps
    assert len(subject.demos) == takeover.human_steps.sum()
    assert subject.stats()["interventions"] == takeover.human_steps.sum()
    subject.close()


def test_rl_batches_mix_policy_and_human_steps(tmp_path, takeover):
    subject = learner(tmp_path, "rlpd", takeover)  # demo_fraction 0.5
    subject.add_episode(takeover.episode())
    batch = subject.sampler.sample(64, np.random.default_rng(0))
    first = batch["actions"][:, 0]
    assert (first == takeover.policy_action).any() and (first == takeover.human_action).any()
    assert batch["intervened"][first == takeover.human_action].all()
    subject.close()


def test_hg_dagger_labels_are_only_the_humans_actions(tmp_path, takeover):
    subject = learner(tmp_path, "hg_dagger", takeover)
    subject.add_episode(takeover.episode())
    batch = subject.sampler.sample(64, np.random.default_rng(0))
    np.testing.assert_array_equal(batch["actions"], takeover.human_action)
    assert batch["intervened"].all()
    before = subject.algorithm.grad_steps
    assert subject.train(5) == 5 and subject.algorithm.grad_steps == before + 5
    subject.close()
