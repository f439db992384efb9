"""`learner.devices=2 learner.sharding=fsdp` on a loopback Ray: the learner (rank 0) and its
rank actor shard pi0_tiny's layers, train HG-DAgger to the weights one rank gives, publish
whole tensors, and a checkpoint they save (gathered through both ranks) resumes on one
unsharded rank with the same weights."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from userl.config.loader import load_config
from userl.core.specs import ImageSpec, ObservationSpec
from userl.runtime.learner import Learner
from userl.runtime.learner_ranks import RankedAlgorithm

pytest.importorskip("transformers", reason="policy=pi0_tiny needs the vla extra")
pytestmark = pytest.mark.usefixtures("shared_ray")

VIEW_PX = 32
ARGS = (
    "algo=hg_dagger",
    "policy=pi0_tiny",
    "obs=image",
    "algo.batch_size=4",
    "algo.pretrain_updates=6",
    "algo.lr=3e-3",
)


def learner(run_dir, takeover, *overrides: str) -> Learner:
    spec = ObservationSpec(
        takeover.state_dim, (ImageSpec("front", VIEW_PX, VIEW_PX),), "Insert the peg."
    )
    return Learner(load_config([*ARGS, *overrides]), spec, takeover.action_dim, str(run_dir))


def demos(takeover) -> list:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(2):
        episode = takeover.episode(success=True)
        views = rng.integers(0, 256, (takeover.steps + 1, VIEW_PX, VIEW_PX, 3), dtype=np.uint8)
        out.append(replace(episode, observations={**episode.observations, "front": views}))
    return out


NO_GRADIENT = "self_attn.k_proj.bias"  # SigLIP's key bias: attention's softmax ignores a
# shift common to every key, so its exact gradient is 0; AdamW turns the rounding noise it
# gets instead into whole steps, which change with the order of the sums (replicated ranks
# differ from one rank on it as much)


def assert_same(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for name, tensor in expected.items():
        if not name.endswith(NO_GRADIENT):
            torch.testing.assert_close(got[name], tensor, rtol=1e-4, atol=1e-5, msg=name)


def test_sharded_ranks_train_publish_and_save_what_one_rank_does(tmp_path, takeover):
    one = learner(tmp_path / "one", takeover)
    one.add_demos(demos(takeover))
    initial = one.algorithm.policy_state_dict()
    assert one.pretrain(3) == 3
    expected = one.algorithm.policy_state_dict()
    one.close()

    two = learner(tmp_path / "two", takeover, "learner.devices=2", "learner.sharding=fsdp")
    assert isinstance(two.algorithm, RankedAlgorithm) and two.algorithm.parallel.sharded
    two.add_demos(demos(takeover))
    assert two.pretrain(3) == 3
    moved = max((expected[k] - initial[k]).abs().max().item() for k in expected)
    assert moved > 1e-3  # the updates changed the weights: the comparison means something
    published = two.algorithm.policy_state_dict()
    assert all(type(t) is torch.Tensor for t in published.values())  # whole, not shards
    assert_same(published, expected)
    two.save_checkpoint()
    two.close()

    resumed = learner(tmp_path / "two", takeover)  # one rank, nothing sharded
    resumed.restore()
    assert_same(resumed.algorithm.policy_state_dict(), expected)
    assert resumed.algorithm.grad_steps == 3
    resumed.close()
