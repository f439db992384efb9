"""FSDP2 on the data-parallel learner (`learner.sharding=fsdp`): 2 ranks on gloo, each with half of
every global batch and half of pi0_tiny's trained layers, end HG-DAgger's updates with the
parameters one rank with the whole batch has (training everything, and the expert alone with a
moving average: the published pi0's train set); the state gathered from them loads into a one-rank
model and continues as the sharded ranks continue from it; each rank stores about half of what
the layers train (and of its optimiser moments); a loss that is NaN on one rank's rows alone is
skipped on both."""

from __future__ import annotations

import pytest
import torch

from tests import data_parallel_ranks as cases
from tests import fsdp_ranks
from tests.data_parallel_ranks import ATOL, WORLD, assert_same

pytest.importorskip("transformers", reason="policy=pi0_tiny needs the vla extra")


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return cases.spawned(fsdp_ranks.rank_main, WORLD, tmp_path_factory.mktemp("fsdp"))


def policy_tensors(state: dict) -> dict[str, torch.Tensor]:
    """A gathered algorithm state's policy tensors, named as `trained_tensors` names them."""
    return {f"policy.{k}": v for k, v in state["policy"].items() if v.is_floating_point()}


@pytest.mark.parametrize("variant", list(fsdp_ranks.VARIANTS))
def test_sharded_ranks_with_half_batches_train_what_one_rank_trains(sharded, variant):
    torch.set_num_threads(1)
    algorithm = fsdp_ranks.build(variant, seed=0)
    initial = cases.trained_tensors(algorithm)
    for batch in cases.batches(fsdp_ranks.CASE, algorithm.label_chunk_steps):
        algorithm.update(batch)
    expected = cases.trained_tensors(algorithm)
    moved = max((expected[k] - initial[k]).abs().max().item() for k in expected)
    assert moved > 50 * ATOL, "the updates changed nothing: the comparison would prove nothing"
    got = sharded[variant]
    assert_same(policy_tensors(got["state"]), expected)
    assert got["state"]["grad_steps"] == algorithm.grad_steps
    # what rank 0 publishes is one rank's policy_state_dict: whole tensors, same names
    assert_same(got["policy"], algorithm.policy_state_dict())


@pytest.mark.parametrize("variant", list(fsdp_ranks.VARIANTS))
def test_the_gathered_state_loads_into_one_rank_and_continues_as_the_shards_do(sharded, variant):
    torch.set_num_threads(1)
    got = sharded[variant]
    algorithm = fsdp_ranks.build(variant, seed=5)
    algorithm.load_state_dict(got["state"])  # whole tensors, optimiser moments included
    torch.set_rng_state(got["rng"])  # as a resume restores it: the ranks continued from it
    algorithm.update(cases.batches(fsdp_ranks.CASE, algorithm.label_chunk_steps)[0])
    assert_same(policy_tensors(got["continued"]), cases.trained_tensors(algorithm))


@pytest.mark.parametrize("variant", list(fsdp_ranks.VARIANTS))
def test_each_rank_stores_about_half_of_what_the_layers_train(sharded, variant):
    got = sharded[variant]
    sizes = got["sizes"]
    whole = sizes["sharded_whole"] + sizes["unsharded"]
    assert sizes["sharded_tensors"] > 0
    assert sizes["sharded_whole"] > 0.7 * whole  # the layers hold most of what trains
    per_rank = [int(local) for local, _ in got["local_per_rank"]]
    assert sum(per_rank) == sizes["sharded_whole"]  # the shards partition the layers
    for local, (_, moments) in zip(per_rank, got["local_per_rank"], strict=True):
        assert abs(local - sizes["sharded_whole"] / WORLD) < 0.05 * sizes["sharded_whole"]
        assert local + sizes["unsharded"] < 0.65 * whole
        assert int(moments) == 2 * (local + sizes["unsharded"])  # AdamW's two, per element


@pytest.mark.parametrize("variant", list(fsdp_ranks.VARIANTS))
def test_a_loss_nan_on_one_ranks_rows_is_skipped_on_every_rank(sharded, variant):
    got = sharded[variant]
    assert got["skipped_per_rank"] == [[1.0], [1.0]]
    assert got["nan_changed_nothing"]
