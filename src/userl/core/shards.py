"""This process's rows of a training batch split over data-parallel ranks, and what a training
step needs to know of the split so that R ranks of B/R rows compute what one rank of B rows
computes.

Two things in a step depend on the whole batch: its per-row random numbers (a policy's
sampling noise, flow-matching times, DrQ shifts) and a loss normalised by a data-dependent
count (masked chunk labels, demo rows). So each rank draws a row-wise random tensor for the
global batch, from the same generator state as every other rank, and keeps its own rows
(`row_draw`): every rank's generator then stays in step with the single-rank run's, and each
row gets the number it would have had there. A count-normalised loss divides by the global
count (`mean_denominator`). Outside a sharded step (`sharded`), both are the plain single-rank
operations, draw for draw.

The shard in force is a module-level value: the learner runs one update at a time per
process. Nothing here imports torch.distributed; the sum across ranks is handed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Shard:
    """Rank `rank` of `world` holds rows [rank * rows, (rank + 1) * rows) of the global batch;
    `all_sum` sums a tensor over the ranks (every rank calls it, in the same order)."""

    rank: int
    world: int
    rows: int
    all_sum: Callable[[Tensor], Tensor]


_active: Shard | None = None


@contextmanager
def sharded(shard: Shard) -> Iterator[None]:
    """Within the block, training steps compute this rank's share of the global batch."""
    global _active
    previous, _active = _active, shard
    try:
        yield
    finally:
        _active = previous


def active_shard() -> Shard | None:
    """The shard in force, or None in a single-rank step."""
    return _active


def row_draw(rows: int, draw: Callable[[int], Tensor]) -> Tensor:
    """`draw(n)`: a random tensor whose first axis is n batch rows. Unsharded, `draw(rows)`;
    sharded, this rank's rows of `draw(global rows)`, so the generators of all ranks advance
    as the single-rank run's does."""
    shard = _active
    if shard is None:
        return draw(rows)
    if rows != shard.rows:
        raise ValueError(
            f"a per-row draw of {rows} rows inside a sharded step of {shard.rows} rows per rank: "
            "draw for the step's batch only"
        )
    start = shard.rank * rows
    return draw(rows * shard.world)[start : start + rows]


def mean_denominator(local_total: Tensor, floor: float) -> Tensor:
    """The denominator of a loss `sum(terms) / max(count, floor)` over the global batch, as
    each rank must use it so that the mean of the ranks' gradients is the global loss's:
    max(global count, floor) / world (no gradient). Unsharded, max(count, floor)."""
    shard = _active
    if shard is None:
        return local_total.clamp(min=floor)
    total = shard.all_sum(local_total.detach().float().reshape(1)).reshape(local_total.shape)
    return total.clamp(min=floor) / shard.world


def randn_like_rows(like: Tensor) -> Tensor:
    """`torch.randn_like(like)` for a tensor whose first axis is the batch's rows, drawn as
    `row_draw` does."""
    return row_draw(
        len(like),
        lambda n: torch.randn((n, *like.shape[1:]), dtype=like.dtype, device=like.device),
    )
