"""Sharding a policy as it is built, and which of its modules a layer-wise sharding takes.

A data-parallel rank that shards the policy (`learner.sharding=fsdp`) must shard it before
the algorithm lists its parameters for the optimiser: sharding replaces each parameter with
a sharded one, and an optimiser built on the old ones would step tensors the model no longer
uses. So the rank builds its algorithm inside `sharding_policies`, and `build_policy` hands
each policy it builds to the sharder in force (`shard_built`); no algorithm changes for it.

The sharder in force is a module-level value: a process builds one algorithm at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from torch import nn

from userl.policies.base import Policy

PolicySharder = Callable[[Policy], None]
"""Shards a policy's parameters over the ranks in place (`algorithms/fsdp.py`)."""

_active: PolicySharder | None = None


@contextmanager
def sharding_policies(sharder: PolicySharder | None) -> Iterator[None]:
    """Within the block, every policy `build_policy` builds is handed to `sharder` (None:
    policies stay whole, as outside the block)."""
    global _active
    previous, _active = _active, sharder
    try:
        yield
    finally:
        _active = previous


def shard_built(policy: Policy) -> None:
    """Hand a policy just built to the sharder in force, if any."""
    if _active is not None:
        _active(policy)


@dataclass(frozen=True)
class ShardUnit:
    """A module a layer-wise sharding shards (`Policy.shard_units`)."""

    module: nn.Module
    reshard_after_forward: bool | None = None  # False: kept whole from its forward to its
    # backward (a layer whose outputs also leave by a path FSDP's backward hooks do not see,
    # such as a KV cache); None: FSDP's choice (sharded again after each forward)


def layer_units(model: nn.Module, whole_until_backward: tuple[str, ...] = ()) -> list[ShardUnit]:
    """The units of a transformer stack to shard layer by layer: every layer of each
    `layers` list (`nn.ModuleList`) in `model`, then each module holding such a list (its
    forward runs the layers), innermost first; only those with a parameter that trains. The
    layers of a stack named in `whole_until_backward` (its path in `model`) stay whole from
    their forward to their backward."""
    stacks = [
        (name.rpartition(".")[0], module)
        for name, module in model.named_modules()
        if name.rpartition(".")[2] == "layers" and isinstance(module, nn.ModuleList)
    ]
    layers = [
        ShardUnit(layer, False if parent in whole_until_backward else None)
        for parent, stack in stacks
        for layer in stack
    ]
    holders = [ShardUnit(model.get_submodule(parent)) for parent, _ in stacks]
    return [
        unit for unit in layers + holders if any(p.requires_grad for p in unit.module.parameters())
    ]
