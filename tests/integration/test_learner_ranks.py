"""`learner.devices=2`: the learner as rank 0 of two data-parallel ranks on a loopback Ray (the
second a Ray actor in a placement group, gloo between them). It trains to the weights one rank
gives, a checkpoint it saves resumes with one rank or two alike, its rank ends with it, and a
batch that does not split over the ranks is one line before anything starts."""

from __future__ import annotations

import pytest
import ray
import torch

from userl.config.loader import load_config
from userl.core.errors import ConfigError
from userl.runtime.learner_ranks import RankedAlgorithm, check_ranks

pytestmark = pytest.mark.usefixtures("shared_ray")

PRETRAIN = ("algo.pretrain_updates=20", "algo.lr=3e-3")


def weights(learner) -> dict[str, torch.Tensor]:
    return learner.algorithm.policy_state_dict()


def assert_same(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for name, tensor in expected.items():
        torch.testing.assert_close(got[name], tensor, rtol=1e-4, atol=1e-5, msg=name)


def test_two_ranks_train_what_one_trains_and_end_with_the_learner(tmp_path, takeover, make_learner):
    demos = [takeover.episode(success=True) for _ in range(2)]
    one = make_learner(tmp_path / "one", *PRETRAIN)
    one.add_demos(demos)
    initial = weights(one)
    assert one.pretrain(5) == 5
    expected = weights(one)
    one.close()

    two = make_learner(tmp_path / "two", *PRETRAIN, "learner.devices=2")
    assert isinstance(two.algorithm, RankedAlgorithm)
    rank = two.algorithm.ranks[0]
    two.add_demos(demos)
    assert two.pretrain(5) == 5
    moved = max((expected[k] - initial[k]).abs().max().item() for k in expected)
    assert moved > 1e-3  # the updates changed the weights: the comparison means something
    assert_same(weights(two), expected)
    assert two.algorithm.grad_steps == 5
    two.close()
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(rank.node_id.remote(), timeout=60)  # the rank ended with the learner


def test_a_run_saved_with_two_ranks_resumes_with_one_or_two_alike(tmp_path, takeover, make_learner):
    saved = make_learner(tmp_path, *PRETRAIN, "learner.devices=2")
    saved.add_demos([takeover.episode(success=True) for _ in range(2)])
    saved.pretrain(5)
    saved.save_checkpoint()
    at_save = weights(saved)
    saved.close()

    resumed = {}
    for devices in (1, 2):
        learner = make_learner(tmp_path, *PRETRAIN, f"learner.devices={devices}")
        learner.restore()
        assert_same(weights(learner), at_save)
        assert learner.algorithm.grad_steps == 5
        learner.pretrain(5)  # rank 1 continues from the checkpoint too
        resumed[devices] = weights(learner)
        learner.close()
    assert_same(resumed[2], resumed[1])
    assert any(not torch.equal(resumed[1][k], at_save[k]) for k in at_save)


def test_a_batch_that_does_not_split_over_the_ranks_is_one_line():
    config = load_config(["algo=hg_dagger", "algo.batch_size=33", "learner.devices=2"])
    with pytest.raises(ConfigError, match=r"learner.devices=2 does not divide algo.batch_size=33"):
        check_ranks(config)
    check_ranks(load_config(["algo=hg_dagger", "algo.batch_size=32", "learner.devices=2"]))


def test_more_ranks_than_gpus_is_one_line_naming_how_many_fit(monkeypatch):
    from userl.runtime import learner_ranks

    config = load_config(["algo=hg_dagger", "algo.batch_size=32", "learner.devices=4"])
    monkeypatch.setattr(
        learner_ranks, "actor_options", lambda config, role: {"num_cpus": 1, "num_gpus": 1}
    )
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 8.0, "GPU": 2.0})
    with pytest.raises(
        ConfigError, match=r"needs 4 GPUs but Ray sees 2; set learner.devices to at most 2"
    ):
        check_ranks(config)
