"""Small network building blocks shared by policies and critics."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn


class _SigmoidTanh(torch.autograd.Function):
    """tanh(x) = 2 sigmoid(2x) - 1 (max abs error ~2e-7): several times faster than
    torch.tanh on CPU; the backward reuses the output, d tanh = 1 - y^2."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor) -> Tensor:
        y = torch.sigmoid(x * 2.0).mul_(2.0).sub_(1.0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, y)


class FastTanh(nn.Module):
    """Elementwise tanh, computed through the sigmoid (see `_SigmoidTanh`)."""

    def forward(self, x: Tensor) -> Tensor:
        return _SigmoidTanh.apply(x)


def full_precision(function: Callable[..., Tensor], *tensors: Tensor) -> Tensor:
    """`function(*tensors)` in float32 even inside a bfloat16 autocast region: output layers
    (Q-values, action means, log-stds, velocities) keep full precision while the hidden
    layers' matrix products run in bfloat16 (`algo.bf16_matmuls`). Outside autocast it is a
    plain call."""
    device_type = tensors[0].device.type
    if not torch.is_autocast_enabled(device_type):
        return function(*tensors)
    with torch.autocast(device_type, enabled=False):
        return function(*(t.float() for t in tensors))


ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "tanh": FastTanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
}


def activation(name: str) -> nn.Module:
    """Look up an activation by name; the error lists the known ones."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of: {', '.join(sorted(ACTIVATIONS))}"
        ) from None


def mlp_trunk(
    in_dim: int, hidden_dims: Sequence[int], layer_norm: bool, activation_name: str
) -> nn.Sequential:
    """Linear -> (LayerNorm) -> activation, for each hidden width."""
    layers: list[nn.Module] = []
    for width in hidden_dims:
        layers.append(nn.Linear(in_dim, width))
        if layer_norm:
            layers.append(nn.LayerNorm(width))
        layers.append(activation(activation_name))
        in_dim = width
    return nn.Sequential(*layers)
