"""The learner's policy sharded over its data-parallel ranks with FSDP2
(`learner.sharding=fsdp`), so that no rank holds the whole of what trains.

With `replicate` every rank holds the whole policy, its gradients and its optimiser state;
for the published pi0 that is the trained expert's parameters, their gradients and AdamW's
two moments on every rank. `fsdp` gives each rank 1/R of every trained transformer layer
(`Policy.shard_units`): `fully_shard` on each layer, then on the stack that runs them.

Why FSDP2 (`fully_shard`) per layer: a layer's parameters are all-gathered just before its
forward and freed after it, so at most a layer or two is whole at a time, and its gradients
are reduce-scattered as its backward ends (averaged over the ranks). FSDP2 keeps each
parameter an ordinary `nn.Parameter` (a DTensor sharded on its first axis), unlike FSDP1's
flat parameters, so the algorithm's own optimiser, its guarded step (`algorithms/finite.py`)
and its state dicts work unchanged. Frozen parameters are left out (`ignored_params`): they
stay whole on every rank, as with `replicate` (a frozen prefix is read, never stepped), and so
do trained parameters outside the layers (embeddings, projections, norms), whose gradients
the explicit all-reduce (`data_parallel.GradientMean`) averages.

What the rest of a step needs, given here: the gradient clip's norm over every rank's shards
(`GlobalNormClip`), a state with every shard gathered whole on the CPU (`full_tensors`: what
rank 0 publishes and saves, the same as one rank's), and a whole state cut back to this
rank's shards (`as_shards`, `shard_optimizer_states`: a checkpoint of any number of ranks
loads into any other).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor, distribute_tensor

from userl.core.errors import ConfigError
from userl.policies.base import Policy
from userl.policies.sharding import PolicySharder


class LayerSharding:
    """Shards a policy's units (`Policy.shard_units`, innermost first) with `fully_shard`
    over `mesh`. A layer shards its trained parameters; its frozen ones stay whole. A unit
    that runs layers (a stack) shards none of its own: it is their FSDP root (one backward's
    reduce-scatters waited for, the next layer's gathers started early), and its own tensors
    (a token embedding the model looks up outside the stack's forward, a final norm) stay
    whole, since FSDP gathers a unit's tensors only for its forward."""

    def __init__(self, mesh: DeviceMesh) -> None:
        self.mesh = mesh

    def __call__(self, policy: Policy) -> None:
        units = policy.shard_units()
        if not units:
            raise ConfigError(
                f"learner.sharding=fsdp: {type(policy).__name__} has no trained layers to "
                "shard; set learner.sharding=replicate"
            )
        policy.to(self.mesh.device_type)  # fully_shard shards what is on the mesh's device
        in_layers: set[nn.Parameter] = set()
        for unit in units:
            params = set(unit.module.parameters())
            runs_layers = bool(params & in_layers)
            kept = params - in_layers if runs_layers else {p for p in params if not p.requires_grad}
            fully_shard(
                unit.module,
                mesh=self.mesh,
                reshard_after_forward=unit.reshard_after_forward,
                ignored_params=kept,
            )
            if not runs_layers:
                in_layers.update(unit.module.parameters())  # the sharded ones replaced them


def _replicate(device: str, group: dist.ProcessGroup | None) -> PolicySharder | None:
    """`learner.sharding=replicate`: every rank keeps the whole policy."""
    return None


def _fsdp(device: str, group: dist.ProcessGroup | None) -> PolicySharder | None:
    """`learner.sharding=fsdp`: the policy's layers sharded over the ranks' group."""
    ranks = group if group is not None else dist.group.WORLD
    if ranks is None:
        raise RuntimeError("learner.sharding=fsdp: the ranks' process group is not started")
    return LayerSharding(DeviceMesh.from_group(ranks, torch.device(device).type))


SHARDINGS: dict[str, Callable[[str, dist.ProcessGroup | None], PolicySharder | None]] = {
    "replicate": _replicate,
    "fsdp": _fsdp,
}
"""`learner.sharding` -> (device, the ranks' group) -> what shards each policy built."""


def has_shards(module: nn.Module) -> bool:
    """Whether any parameter of `module` is sharded over the ranks."""
    return any(isinstance(p, DTensor) for p in module.parameters())


class GlobalNormClip:
    """`FiniteSteps.clip` over sharded ranks: clips the gradients by their norm over the
    whole model (every rank's shards, plus the whole tensors, which the ranks share after
    `GradientMean`), as `clip_grad_norm_` does on one rank; the same norm on every rank."""

    def __init__(self, group: dist.ProcessGroup | None = None) -> None:
        self.group = group

    def __call__(self, params: list[Tensor], max_norm: float) -> Tensor:
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return torch.zeros(())
        shards = [g.to_local() for g in grads if isinstance(g, DTensor)]
        whole = [g for g in grads if not isinstance(g, DTensor)]
        device = (shards or whole)[0].device
        squares = torch.zeros(2, dtype=torch.float32, device=device)
        for index, tensors in enumerate((shards, whole)):
            for tensor in tensors:
                squares[index] += tensor.detach().float().pow(2).sum()
        total = squares[:1].clone()
        dist.all_reduce(total, group=self.group)  # the shards' squares, summed over the ranks
        norm = (total[0] + squares[1]).sqrt()
        scale = (max_norm / (norm + 1e-6)).clamp(max=1.0)
        for tensor in shards + whole:
            tensor.mul_(scale.to(tensor.dtype))
        return norm


def _whole(tensor: DTensor) -> Tensor:
    """A DTensor gathered whole on the CPU (a collective: every rank calls it)."""
    local = tensor.to_local()
    if local.device.type != tensor.device_mesh.device_type:  # moved off the mesh's device
        tensor = DTensor.from_local(
            local.to(tensor.device_mesh.device_type),
            tensor.device_mesh,
            tensor.placements,
            shape=tensor.shape,
            stride=tensor.stride(),
        )
    return tensor.full_tensor().cpu()


def full_tensors(state: Any) -> Any:
    """`state` (nested dicts, lists and tuples of tensors, as state dicts are) with every
    DTensor gathered whole on the CPU: what one rank's state would hold. Every rank calls it
    on a state of the same structure (one all-gather per sharded tensor, in its order)."""
    if isinstance(state, DTensor):
        return _whole(state)
    if isinstance(state, dict):
        return {key: full_tensors(value) for key, value in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(full_tensors(value) for value in state)
    return state


def as_shards(state: Any, like: Any) -> Any:
    """`state` (whole tensors: a checkpoint, `full_tensors`) with each tensor that `like`
    (this rank's own state of the same structure) holds as a DTensor cut to this rank's
    shard of it, without communication (every rank holds the whole)."""
    if isinstance(like, DTensor) and isinstance(state, Tensor) and not isinstance(state, DTensor):
        return distribute_tensor(
            state.to(like.to_local().device), like.device_mesh, like.placements, src_data_rank=None
        )
    if isinstance(state, dict) and isinstance(like, dict):
        return {key: as_shards(value, like.get(key)) for key, value in state.items()}
    if (
        isinstance(state, list | tuple)
        and isinstance(like, list | tuple)
        and len(state) == len(like)
    ):
        return type(state)(as_shards(s, k) for s, k in zip(state, like, strict=True))
    return state


def shard_optimizer_states(algorithm: object) -> None:
    """Each optimiser state tensor of a sharded parameter that a load left whole (an
    optimiser that had not stepped before has no sharded state to cut it by) becomes this
    rank's shard of it. Optimisers: the algorithm's attributes that are one."""
    for optim in vars(algorithm).values():
        if not isinstance(optim, torch.optim.Optimizer):
            continue
        for param, values in optim.state.items():
            if not isinstance(param, DTensor):
                continue
            for key, value in values.items():
                if isinstance(value, DTensor) or not isinstance(value, Tensor):
                    continue
                if value.shape == param.shape:
                    values[key] = as_shards(value, param)
