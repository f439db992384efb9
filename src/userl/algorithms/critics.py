"""An ensemble of Q-networks evaluated as one batched forward pass over stacked weights."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from userl.policies.base import Encoder
from userl.policies.networks import activation, full_precision


class EnsembleMLP(nn.Module):
    """`num_heads` independent MLPs with weights stacked along a leading head axis.

    Hidden layer: x @ W + b -> (LayerNorm with per-head affine) -> activation.
    One `torch.baddbmm` per layer serves every head at once.
    """

    def __init__(
        self,
        num_heads: int,
        in_dim: int,
        hidden_dims: Sequence[int],
        out_dim: int,
        layer_norm: bool,
        activation_name: str,
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.layer_norm = layer_norm
        self.act = activation(activation_name)
        dims = [in_dim, *hidden_dims, out_dim]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
            bound = 1.0 / math.sqrt(d_in)  # nn.Linear's default initialisation, per head
            self.weights.append(
                nn.Parameter(torch.empty(num_heads, d_in, d_out).uniform_(-bound, bound))
            )
            self.biases.append(
                nn.Parameter(torch.empty(num_heads, 1, d_out).uniform_(-bound, bound))
            )
        self.norm_scales = nn.ParameterList()
        self.norm_shifts = nn.ParameterList()
        if layer_norm:
            for width in hidden_dims:
                self.norm_scales.append(nn.Parameter(torch.ones(num_heads, 1, width)))
                self.norm_shifts.append(nn.Parameter(torch.zeros(num_heads, 1, width)))

    def _layer(
        self, index: int, heads: Tensor | None, detach: bool
    ) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        params = [self.weights[index], self.biases[index]]
        if self.layer_norm and index < len(self.norm_scales):
            params += [self.norm_scales[index], self.norm_shifts[index]]
        else:
            params += [None, None]
        if heads is not None:
            params = [p if p is None else p[heads] for p in params]
        if detach:
            params = [p if p is None else p.detach() for p in params]
        return params[0], params[1], params[2], params[3]

    def forward(self, x: Tensor, heads: Tensor | None = None, detach: bool = False) -> Tensor:
        """x: (B, in_dim), shared by every head. Returns (E, B, out_dim), E = selected heads.

        `heads` selects a subset of heads (indices); `detach` evaluates the network without
        letting gradients reach its parameters (they still flow to `x`).
        """
        num_layers = len(self.weights)
        num = self.num_heads if heads is None else heads.numel()
        h = x.unsqueeze(0).expand(num, *x.shape)
        for index in range(num_layers - 1):
            weight, bias, scale, shift = self._layer(index, heads, detach)
            h = torch.baddbmm(bias, h, weight)
            if scale is not None and shift is not None:
                h = torch.addcmul(shift, F.layer_norm(h, h.shape[-1:]), scale)
            h = self.act(h)
        weight, bias, _, _ = self._layer(num_layers - 1, heads, detach)
        # the Q-values in float32, under bf16 autocast too
        return full_precision(torch.baddbmm, bias, h, weight)

    def forward_head(self, head: int, x: Tensor) -> Tensor:
        """One head on its own, with plain per-layer ops: (B, in_dim) -> (B, out_dim)."""
        num_layers = len(self.weights)
        h = x
        for index in range(num_layers):
            h = h @ self.weights[index][head] + self.biases[index][head]
            if index < num_layers - 1:
                if self.layer_norm:
                    h = (
                        F.layer_norm(h, h.shape[-1:]) * self.norm_scales[index][head]
                        + self.norm_shifts[index][head]
                    )
                h = self.act(h)
        return h


class EnsembleCritic(nn.Module):
    """Q(s, a) for every head, on the encoder's features of s concatenated with a.

    The encoder is the policy's (the same module): the critic's loss trains it. The target
    critic (`target_copy`) shares it too and copies only the heads (as in DrQ-v2: next
    observations are encoded once, by the online encoder, for the next actions and the
    target heads). Callers that already hold the features pass them (`features=`).
    """

    def __init__(
        self,
        num_heads: int,
        encoder: Encoder,
        action_dim: int,
        hidden_dims: Sequence[int],
        layer_norm: bool,
        activation_name: str,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.net = EnsembleMLP(
            num_heads, encoder.feature_dim + action_dim, hidden_dims, 1, layer_norm, activation_name
        )

    @property
    def num_heads(self) -> int:
        return self.net.num_heads

    def target_copy(self) -> EnsembleCritic:
        """A critic with the same (shared) encoder and a frozen deep copy of the heads."""
        target = copy.copy(self)
        target._modules = dict(self._modules)  # its own module table, same encoder
        target.net = copy.deepcopy(self.net).requires_grad_(False)
        return target

    def inputs(
        self, obs: dict[str, Tensor], actions: Tensor, features: Tensor | None = None
    ) -> Tensor:
        features = self.encoder(obs) if features is None else features
        return torch.cat([features, actions], dim=-1)

    def forward(
        self,
        obs: dict[str, Tensor],
        actions: Tensor,
        heads: Tensor | None = None,
        detach: bool = False,
        features: Tensor | None = None,
    ) -> Tensor:
        """Q-values of shape (E, B). `detach` keeps gradients off the heads' parameters."""
        return self.net(self.inputs(obs, actions, features), heads, detach).squeeze(-1)

    def forward_head(self, head: int, obs: dict[str, Tensor], actions: Tensor) -> Tensor:
        """Q-values of one head, (B,), computed on its own."""
        return self.net.forward_head(head, self.inputs(obs, actions)).squeeze(-1)
