"""Tanh-squashed Gaussian policies (SAC's actor); `mlp` reads the state vector (`cnn`, in
`cnn.py`, adds camera views)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from userl.core.registry import POLICIES
from userl.core.shards import randn_like_rows
from userl.core.specs import ObservationSpec
from userl.policies.base import Encoder, Policy, PolicyConfig
from userl.policies.encoders import StateEncoder
from userl.policies.networks import full_precision, mlp_trunk


@dataclass
class MLPPolicyConfig(PolicyConfig):
    """A tanh-squashed Gaussian MLP policy on the state vector."""

    hidden_dims: list[int] = field(default_factory=lambda: [256, 256])  # hidden layer widths
    layer_norm: bool = True  # LayerNorm after each hidden layer
    log_std_min: float = -5.0  # lower clamp of the log standard deviation
    log_std_max: float = 2.0  # upper clamp of the log standard deviation
    activation: str = "tanh"  # hidden activation: tanh | relu | gelu | silu | elu
    bc_action_abs_max: float = 0.999  # imitation: target actions clipped to this before atanh


_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def tanh_gaussian_log_prob(pre_tanh: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    """log pi(tanh(u)) for u ~ N(mean, exp(log_std)^2), summed over the last axis.

    Uses log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), which stays finite as |u| grows.
    """
    z = (pre_tanh - mean) / log_std.exp()
    gaussian = -0.5 * z.pow(2) - log_std - _LOG_SQRT_2PI
    log_det = 2.0 * (math.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))
    return (gaussian - log_det).sum(-1)


class GaussianPolicy(Policy):
    """Encoder -> trunk MLP -> mean and log-std heads; actions = tanh(mean + std * eps)."""

    chunk_size = 1

    def __init__(self, cfg: MLPPolicyConfig, encoder: Encoder, action_dim: int) -> None:
        super().__init__()
        self.action_dim = action_dim
        self.log_std_min = cfg.log_std_min
        self.log_std_max = cfg.log_std_max
        self.bc_action_abs_max = cfg.bc_action_abs_max
        self.encoder = encoder
        self.trunk = mlp_trunk(self.feature_dim, cfg.hidden_dims, cfg.layer_norm, cfg.activation)
        width = cfg.hidden_dims[-1] if cfg.hidden_dims else self.feature_dim
        self.mean = nn.Linear(width, action_dim)
        self.log_std = nn.Linear(width, action_dim)

    def distribution(
        self, obs: dict[str, Tensor], features: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Mean and log-std of the pre-tanh Gaussian, each (B, A).

        The log-std is squashed smoothly into [log_std_min, log_std_max] (a tanh rescale,
        so its gradient never dies at the bounds).
        """
        hidden = self.trunk(self.encoder(obs) if features is None else features)
        unit = torch.tanh(full_precision(self.log_std, hidden))
        log_std = self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (unit + 1.0)
        return full_precision(self.mean, hidden), log_std

    def sample(
        self, obs: dict[str, Tensor], features: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        mean, log_std = self.distribution(obs, features)
        pre_tanh = mean + log_std.exp() * randn_like_rows(mean)
        return torch.tanh(pre_tanh), tanh_gaussian_log_prob(pre_tanh, mean, log_std)

    def act(self, obs: dict[str, Tensor], deterministic: bool = False) -> Tensor:
        if deterministic:
            mean, _ = self.distribution(obs)
            actions = torch.tanh(mean)
        else:
            actions, _ = self.sample(obs)
        return actions.unsqueeze(1)

    def imitation_loss(
        self,
        obs: dict[str, Tensor],
        actions: Tensor,
        features: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> Tensor:
        """MSE between the deterministic action tanh(mean) and the labels (what evaluation
        executes; saturated labels at +-1 do not dominate as they would in pre-tanh space),
        plus the negative log-likelihood of the labels under the std with the mean detached,
        so the std shrinks where the labels agree and the novice explores less there."""
        mean, log_std = self.distribution(obs, features)
        bound = self.bc_action_abs_max
        pre_tanh = torch.atanh(actions.clamp(-bound, bound))
        mse = F.mse_loss(torch.tanh(mean), actions, reduction="none").sum(-1)
        nll = -tanh_gaussian_log_prob(pre_tanh, mean.detach(), log_std)
        return (mse + nll).mean()


@POLICIES.register("mlp", config=MLPPolicyConfig)
class MLPPolicy(GaussianPolicy):
    """The tanh-Gaussian policy on the state vector."""

    def __init__(self, cfg: MLPPolicyConfig, obs_spec: ObservationSpec, action_dim: int) -> None:
        super().__init__(cfg, StateEncoder(obs_spec), action_dim)
