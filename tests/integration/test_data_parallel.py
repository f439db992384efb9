"""Data-parallel learning: after the same updates from the same seed, 2 ranks on gloo, each with
half of every global batch, hold the parameters one rank with the whole batch holds, for
RLPD on `mlp` and `cnn_small` and HG-DAgger on `flow_g` and `pi0_tiny`."""

from __future__ import annotations

import pytest
import torch

from tests import data_parallel_ranks as ranks
from tests.data_parallel_ranks import ATOL, WORLD, assert_same

pytest.importorskip("transformers", reason="policy=pi0_tiny needs the vla extra")


@pytest.fixture(scope="module")
def two_rank_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return ranks.spawned(ranks.rank_main, WORLD, tmp_path_factory.mktemp("ranks"))


@pytest.mark.parametrize("case", list(ranks.CASES))
def test_two_ranks_with_half_batches_equal_one_rank_with_the_whole(case, two_rank_results):
    torch.set_num_threads(1)
    expected = ranks.reference(case)
    initial = ranks.trained_tensors(ranks.build(case, seed=0))
    got = two_rank_results[case]
    moved = max((expected[k] - initial[k]).abs().max().item() for k in expected)
    assert moved > 50 * ATOL, "the updates changed nothing: the comparison would prove nothing"
    assert_same(got, expected)
