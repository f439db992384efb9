"""A batch's shard over data-parallel ranks: each rank's per-row random numbers are its rows of
the global draw, count-normalised losses divide by the global count, and a batch splits into
contiguous rows. (The 2-process equivalence is tests/integration/test_data_parallel.py.)"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from userl.algorithms.data_parallel import batch_to, shard_rows
from userl.core.shards import Shard, mean_denominator, randn_like_rows, row_draw, sharded
from userl.core.types import Batch

ROWS, WORLD = 6, 3


def shard(rank: int, totals: list[float] | None = None) -> Shard:
    """Rank `rank` of WORLD; its all_sum adds the other ranks' `totals` to its own."""
    others = sum(totals or [])
    return Shard(rank, WORLD, ROWS // WORLD, lambda t: t + others)


def test_unsharded_draws_are_the_plain_draws():
    torch.manual_seed(0)
    plain = torch.randn(ROWS, 2)
    torch.manual_seed(0)
    assert torch.equal(randn_like_rows(torch.empty(ROWS, 2)), plain)
    assert torch.equal(mean_denominator(torch.tensor(0.0), 1.0), torch.tensor(1.0))


def test_each_rank_gets_its_rows_of_the_global_draw_and_the_generators_stay_in_step():
    torch.manual_seed(0)
    whole = torch.randn(ROWS, 2)
    after = torch.rand(1)
    parts = []
    for rank in range(WORLD):
        torch.manual_seed(0)
        with sharded(shard(rank)):
            parts.append(randn_like_rows(torch.empty(ROWS // WORLD, 2)))
        assert torch.equal(torch.rand(1), after)  # the next draw is the single rank's
    assert torch.equal(torch.cat(parts), whole)


def test_a_draw_of_other_rows_inside_a_sharded_step_is_refused():
    with sharded(shard(0)), pytest.raises(ValueError, match="per-row draw of 5 rows"):
        row_draw(5, lambda n: torch.zeros(n))


def test_the_denominator_is_the_global_count_over_the_ranks():
    # counts 1, 0, 0 over three ranks: globally 1 row, floor 1 -> each rank divides by 1/3,
    # so the mean of the three ranks' losses is sum / 1
    with sharded(shard(0, [0.0, 0.0])):
        assert mean_denominator(torch.tensor(1.0), 1.0).item() == pytest.approx(1 / 3)
    with sharded(shard(1, [4.0, 2.0])):
        assert mean_denominator(torch.tensor(0.0), 1.0).item() == pytest.approx(2.0)


def test_a_batch_splits_into_contiguous_rows_of_every_field():
    states = torch.arange(ROWS * 2.0).reshape(ROWS, 2)
    batch = Batch(
        {"state": states},
        states[:, :1],
        torch.arange(ROWS * 1.0),
        {"state": states + 1},
        torch.zeros(ROWS),
        torch.ones(ROWS),
        from_demos=torch.arange(ROWS * 1.0),
    )
    part = shard_rows(batch, 1, WORLD)
    assert torch.equal(part.observations["state"], states[2:4])
    assert torch.equal(part.next_observations["state"], states[2:4] + 1)
    assert part.from_demos.tolist() == [2.0, 3.0] and part.action_chunks is None
    assert batch_to(part, "cpu").rewards.tolist() == [2.0, 3.0]
    with pytest.raises(ValueError, match="7 rows does not split over 2 ranks"):
        shard_rows(dataclasses.replace(batch, actions=torch.zeros(7)), 0, 2)
