"""Any `Algorithm` trained data-parallel over R ranks with torch.distributed: a global batch of
B rows is split into R shards of B/R, each rank runs the algorithm's own `update` on its
shard, and every optimiser step averages the gradients over the ranks before clipping and
stepping, so R ranks x B/R end each update with the parameters 1 rank x B would have.

Why an explicit all-reduce and not DistributedDataParallel: an update here is several
optimiser steps over parameter sets that overlap and differ per loss (SAC's critic step
trains the shared encoder and the Q heads, its actor step the policy's heads with the critic
detached, then the temperature), with target networks and a moving average outside any
forward. DDP reduces in the backward of one wrapped module's forward and must be told which
parameters a forward leaves unused; the one place every optimiser step of every algorithm
passes is `FiniteSteps.step`, so the average goes there (`FiniteSteps.reduce`), between
backward and the gradient clip: clipping, the non-finite check and the step all see the
averaged gradient, and the loss that is checked is the ranks' mean, so every rank skips or
steps alike. One all-reduce per dtype per optimiser step (the gradients flattened into one
buffer, the loss riding along in the float32 one).

What else makes the ranks agree with one rank: all start from rank 0's state and random
generator (`broadcast_state`), and the per-row random numbers and count-normalised losses
inside an update go through `core/shards.py` (drawn for the global batch, each rank keeps
its rows; global counts).

With the policy's layers sharded (`learner.sharding=fsdp`, `algorithms/fsdp.py`), FSDP has
averaged the sharded parameters' gradients in its reduce-scatter: the all-reduce here skips
them and averages the rest, the clip takes the norm over every rank's shards, and the state
that leaves the ranks (`full_state`, `policy_state`) is gathered whole, as one rank's.
"""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.distributed.tensor import DTensor
from torch.distributed.tensor.experimental import implicit_replication

from userl.algorithms.base import Algorithm
from userl.algorithms.fsdp import (
    GlobalNormClip,
    as_shards,
    full_tensors,
    has_shards,
    shard_optimizer_states,
)
from userl.core.shards import Shard, sharded
from userl.core.types import Batch


def _map_tensors(batch: Batch, change: Any) -> Batch:
    """`batch` with `change` applied to every tensor (observations per key)."""

    def apply(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: apply(item) for key, item in value.items()}
        return change(value) if isinstance(value, Tensor) else value

    return dataclasses.replace(
        batch, **{f.name: apply(getattr(batch, f.name)) for f in dataclasses.fields(batch)}
    )


def batch_to(batch: Batch, device: str) -> Batch:
    """`batch` with every tensor on `device` (the CPU for shipping to another rank)."""
    return _map_tensors(batch, lambda tensor: tensor.to(device))


def shard_rows(batch: Batch, rank: int, world: int) -> Batch:
    """Rank `rank`'s contiguous rows of `batch` (every tensor field, observations per key);
    the batch's rows must divide evenly over the ranks."""
    rows = len(batch.actions)
    if rows % world:
        raise ValueError(f"a batch of {rows} rows does not split over {world} ranks")
    size = rows // world
    return _map_tensors(batch, lambda tensor: tensor[rank * size : (rank + 1) * size])


class GradientMean:
    """`FiniteSteps.reduce` for R ranks: averages the parameters' gradients and the step's
    loss over the ranks in place (parameters without a gradient stay without one; which
    parameters have one is the same on every rank, since they run the same losses). A
    sharded parameter's gradient is left as it is: FSDP's reduce-scatter averaged it."""

    def __init__(self, world: int, group: dist.ProcessGroup | None = None) -> None:
        self.world = world
        self.group = group

    def __call__(self, loss: Tensor, params: list[Tensor]) -> Tensor:
        loss = loss.detach().float().clone()
        buckets: dict[torch.dtype, list[Tensor]] = {torch.float32: [loss]}
        for param in params:
            if param.grad is not None and not isinstance(param.grad, DTensor):
                buckets.setdefault(param.grad.dtype, []).append(param.grad)
        for dtype in sorted(buckets, key=str):  # the same order on every rank
            tensors = buckets[dtype]
            flat = torch.cat([t.reshape(-1) for t in tensors])
            dist.all_reduce(flat, group=self.group)
            flat.div_(self.world)
            for tensor, averaged in zip(
                tensors, flat.split([t.numel() for t in tensors]), strict=True
            ):
                tensor.copy_(averaged.view_as(tensor))
        return loss

    def all_sum(self, tensor: Tensor) -> Tensor:
        """`tensor` summed over the ranks (a new tensor): `Shard.all_sum`."""
        total = tensor.clone()
        dist.all_reduce(total, group=self.group)
        return total


class DataParallel:
    """One rank of a data-parallel `algorithm`: `update(shard)` is the algorithm's update on
    this rank's rows of the global batch, with gradients averaged over the ranks. Every rank
    calls `broadcast_state` once before the first update and `update` with the same `metrics`
    flag at every step."""

    def __init__(
        self, algorithm: Algorithm, rank: int, world: int, group: dist.ProcessGroup | None = None
    ) -> None:
        self.algorithm, self.rank, self.world, self.group = algorithm, rank, world, group
        self.mean = GradientMean(world, group)
        algorithm.finite.reduce = self.mean
        self.sharded = has_shards(algorithm.policy)
        """The policy's layers are sharded (`algorithms/fsdp.py`): what leaves the ranks is
        gathered, and every rank calls `full_state` and `policy_state` alike."""
        if self.sharded:
            algorithm.finite.clip = GlobalNormClip(group)

    def full_state(self) -> dict[str, Any]:
        """The algorithm's state as one rank holds it (sharded tensors gathered whole on
        the CPU); sharded, every rank calls it at the same point (collectives)."""
        state = self.algorithm.state_dict()
        return full_tensors(state) if self.sharded else state

    def policy_state(self) -> dict[str, Tensor]:
        """The policy's trainable tensors as one rank gives them (`policy_state_dict`);
        sharded, every rank calls it at the same point (collectives)."""
        state = self.algorithm.policy_state_dict()
        return full_tensors(state) if self.sharded else state

    def broadcast_state(self) -> None:
        """Every rank takes rank 0's algorithm state (networks, optimisers, counters) and
        its random generator's state, so all draw the same random numbers from here."""
        state = self.full_state()  # every rank: sharded, it gathers the shards
        self.hand_out(state if self.rank == 0 else None, load_on_source=False)

    def hand_out(self, state: dict[str, Any] | None, load_on_source: bool = True) -> None:
        """Rank 0's `state` (whole tensors: a checkpoint of any number of ranks) and random
        generator loaded on every rank (rank 0 too, unless `load_on_source` is off: the
        state is its own); the other ranks pass None."""
        payload: list[Any] = [(state, torch.get_rng_state())] if self.rank == 0 else [None]
        dist.broadcast_object_list(payload, src=0, group=self.group)
        whole, rng = payload[0]
        if self.rank == 0 and not load_on_source:
            return
        if self.sharded:  # each rank keeps its shards of the whole tensors
            whole = as_shards(whole, self.algorithm.state_dict())
        self.algorithm.load_state_dict(whole)
        if self.sharded:
            shard_optimizer_states(self.algorithm)
        torch.set_rng_state(rng)

    def update(self, shard: Batch, metrics: bool = True) -> dict[str, float]:
        """The algorithm's update on this rank's `shard`; its metrics averaged over the ranks
        (a mean over the shards: the global batch's mean for per-row means)."""
        rows = len(shard.actions)
        # sharded: an update's elementwise steps over sharded and whole tensors at once (an
        # optimiser's, a moving average's) take each whole tensor as the same on every rank
        mixed = implicit_replication() if self.sharded else nullcontext()
        with sharded(Shard(self.rank, self.world, rows, self.mean.all_sum)), mixed:
            values = self.algorithm.update(shard, metrics)
        if not values:
            return values
        names = sorted(values)
        averaged = torch.tensor([values[name] for name in names], dtype=torch.float64)
        dist.all_reduce(averaged, group=self.group)
        averaged.div_(self.world)
        return dict(zip(names, averaged.tolist(), strict=True))
