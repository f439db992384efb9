"""Flow policies for SAC Flow (arXiv 2509.25756): K Euler steps of a learned velocity field.

Acting: A_0 ~ N(0, I); A_{i+1} = A_i + dt v(s, A_i, t_i) + sigma_i eps_i with dt = 1/K,
t_i = i/K, and a learned, state-dependent sigma_i (log-std squashed into
[log_std_min, log_std_max]); the action is tanh(A_K). The noise makes every step a Gaussian,
so the rollout has a likelihood SAC can use (not detached):

    log pi = log N(A_0; 0, I) + sum_i log N(A_{i+1}; mu_i, sigma_i^2) - sum log(1 - tanh(A_K)^2)

Deterministic acting starts from A_0 = 0 and adds no noise. Two velocity fields:
Flow-G (gated: v = sigmoid(gate) * (cand - A), the gate starting open at sigmoid(5) ~ 0.993,
which keeps the residual recursion's gradients from exploding or vanishing) and Flow-T (a
small transformer decoder whose action token cross-attends to state tokens). Imitation uses
the flow-matching loss (t = 0 noise, t = 1 action, in pre-tanh space).

`chunk_size` H > 1 makes the flow generate an H-step action chunk as one vector of H x A
values (trained by HG-DAgger on chunk labels; SAC needs H = 1); such a chunk can be guided
toward the actions still running (`act_guided`, real-time chunking: `policies/rtc.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from userl.core.errors import ConfigError
from userl.core.registry import POLICIES
from userl.core.shards import mean_denominator, randn_like_rows, row_draw
from userl.core.specs import ObservationSpec
from userl.policies.advantage_label import LabelledVelocity
from userl.policies.base import Policy, PolicyConfig
from userl.policies.encoders import StateEncoder
from userl.policies.networks import full_precision, mlp_trunk
from userl.policies.pi0 import hold_last_labelled
from userl.policies.rtc import guided_flow


@dataclass
class FlowPolicyConfig(PolicyConfig):
    """SAC Flow: K Euler steps of a learned velocity from Gaussian noise, with a learned,
    state-dependent per-step noise (log-std squashed to [log_std_min, log_std_max])."""

    flow_steps: int = 4  # K Euler steps over t in [0, 1]
    log_std_min: float = -5.0  # lower clamp of the log standard deviation
    log_std_max: float = 2.0  # upper clamp of the log standard deviation
    bc_action_abs_max: float = 0.999  # flow matching: targets clipped to this before atanh
    advantage_labels: bool = False  # the velocity also reads an advantage label, a learned
    # embedding (policies/advantage_label.py); `algo=recap` turns it on

    guidance: float = 1.0  # with advantage_labels, robots act with the positive label and this
    # classifier-free guidance weight w: v = v_none + w (v_positive - v_none); 1: no extrapolation

    chunk_size: int = 1  # H: actions per generated chunk (H > 1: HG-DAgger only, not SAC)

    GROWS_FROM: ClassVar[dict[str, object]] = {"advantage_labels": False, "guidance": 1.0}  # a
    # labelled flow (algo=recap) starts from an unlabelled export, its label embedding at zero

    def problem(self) -> str | None:
        if self.guidance != 1.0 and not self.advantage_labels:
            return (
                f"policy.guidance={self.guidance:g} steers by an advantage label the policy "
                "does not read: train with algo=recap (or leave policy.guidance=1)"
            )
        return super().problem()


@dataclass
class FlowGPolicyConfig(FlowPolicyConfig):
    """Flow-G: v = sigmoid(gate(s, A, t)) * (cand(s, A, t) - A), gate bias initialised high."""

    hidden_dims: list[int] = field(default_factory=lambda: [256, 256])  # hidden layer widths of the
    # velocity network

    activation: str = "tanh"  # hidden activation: tanh | relu | gelu | silu | elu
    layer_norm: bool = True  # LayerNorm after each hidden layer
    gate_bias_init: float = 5.0  # sigmoid(5) ~ 0.993: the gate starts open


@dataclass
class FlowTPolicyConfig(FlowPolicyConfig):
    """Flow-T: a small transformer decoder; the action token cross-attends to state tokens."""

    d_model: int = 64  # the transformer's width
    num_heads: int = 4  # attention heads per layer
    num_layers: int = 2  # transformer layers
    feedforward_dim: int = 128  # each layer's feed-forward width
    context_tokens: int = 4  # the state features are projected to this many tokens


_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def tanh_log_det(pre_tanh: Tensor) -> Tensor:
    """sum log(1 - tanh(u)^2) over the last axis, finite for any u."""
    return (2.0 * (math.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))).sum(-1)


class GatedVelocity(nn.Module):
    """Flow-G: one trunk on (features, A, t) with three heads: gate, candidate, log-std."""

    def __init__(self, cfg: FlowGPolicyConfig, feature_dim: int, action_dim: int) -> None:
        super().__init__()
        self.trunk = mlp_trunk(
            feature_dim + action_dim + 1, cfg.hidden_dims, cfg.layer_norm, cfg.activation
        )
        width = cfg.hidden_dims[-1] if cfg.hidden_dims else feature_dim + action_dim + 1
        self.gate = nn.Linear(width, action_dim)
        nn.init.zeros_(self.gate.weight)
        nn.init.constant_(self.gate.bias, cfg.gate_bias_init)
        self.candidate = nn.Linear(width, action_dim)
        self.log_std = nn.Linear(width, action_dim)

    def forward(self, features: Tensor, actions: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        """(velocity, unsquashed log-std), each (B, A)."""
        hidden = self.trunk(torch.cat([features, actions, t], dim=-1))
        gate = torch.sigmoid(full_precision(self.gate, hidden))
        velocity = gate * (full_precision(self.candidate, hidden) - actions)
        return velocity, full_precision(self.log_std, hidden)


class TransformerVelocity(nn.Module):
    """Flow-T: the action token (embedded A plus a time embedding) passes through a pre-norm
    transformer decoder, cross-attending to `context_tokens` tokens made from the features."""

    def __init__(self, cfg: FlowTPolicyConfig, feature_dim: int, action_dim: int) -> None:
        super().__init__()
        d = cfg.d_model
        self.context_tokens = cfg.context_tokens
        self.d_model = d
        self.context = nn.Linear(feature_dim, cfg.context_tokens * d)
        self.context_position = nn.Parameter(0.02 * torch.randn(cfg.context_tokens, d))
        self.action_in = nn.Linear(action_dim, d)
        self.time_in = nn.Sequential(nn.Linear(1, d), nn.SiLU(), nn.Linear(d, d))
        layer = nn.TransformerDecoderLayer(
            d, cfg.num_heads, cfg.feedforward_dim, dropout=0.0, batch_first=True, norm_first=True
        )
        self.decoder = nn.TransformerDecoder(layer, cfg.num_layers, norm=nn.LayerNorm(d))
        self.velocity = nn.Linear(d, action_dim)
        self.log_std = nn.Linear(d, action_dim)

    def forward(self, features: Tensor, actions: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        memory = self.context(features).view(-1, self.context_tokens, self.d_model)
        token = (self.action_in(actions) + self.time_in(t)).unsqueeze(1)
        out = self.decoder(token, memory + self.context_position).squeeze(1)
        return full_precision(self.velocity, out), full_precision(self.log_std, out)


class FlowPolicy(Policy):
    """A K-step flow policy on the state vector; see the module docstring."""

    velocity_field: type[nn.Module]  # set by each registered variant

    def __init__(self, cfg: FlowPolicyConfig, obs_spec: ObservationSpec, action_dim: int) -> None:
        super().__init__()
        if cfg.flow_steps < 1:
            raise ValueError(f"policy.flow_steps={cfg.flow_steps} must be >= 1")
        self.action_dim = action_dim
        self.chunk_size = cfg.chunk_size
        self.flat_dim = cfg.chunk_size * action_dim  # the flow's vector: the whole chunk
        self.steps = cfg.flow_steps
        self.log_std_min = cfg.log_std_min
        self.log_std_max = cfg.log_std_max
        self.bc_action_abs_max = cfg.bc_action_abs_max
        self.encoder = StateEncoder(obs_spec)
        self.velocity = self.velocity_field(cfg, self.feature_dim, self.flat_dim)
        if cfg.advantage_labels:  # algo=recap: a label column on the features, or a robot's
            self.velocity = LabelledVelocity(self.velocity, self.feature_dim, cfg.guidance)

    def grown_state(self, state: dict[str, Tensor]) -> dict[str, Tensor]:
        if isinstance(self.velocity, LabelledVelocity):
            return self.velocity.labelled_state(state, "velocity.")
        return state

    def squash_log_std(self, raw: Tensor) -> Tensor:
        """Smoothly into [log_std_min, log_std_max] (a tanh rescale)."""
        return self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (
            torch.tanh(raw) + 1.0
        )

    def step(self, features: Tensor, actions: Tensor, index: int) -> tuple[Tensor, Tensor]:
        """Euler step `index`: the Gaussian's mean A_i + dt v and log-std, each (B, A)."""
        t = actions.new_full((actions.shape[0], 1), index / self.steps)
        velocity, raw_log_std = self.velocity(features, actions, t)
        return actions + velocity / self.steps, self.squash_log_std(raw_log_std)

    def rollout(self, features: Tensor, noise: bool) -> tuple[Tensor, Tensor, list[Tensor]]:
        """(A_K, log pi of tanh(A_K) along the path, the path [A_0 .. A_K])."""
        shape = (features.shape[0], self.flat_dim)
        actions = (
            row_draw(len(features), lambda n: torch.randn((n, *shape[1:]), device=features.device))
            if noise
            else features.new_zeros(shape)
        )
        log_prob = (-0.5 * actions.pow(2) - _LOG_SQRT_2PI).sum(-1)
        path = [actions]
        for index in range(self.steps):
            mean, log_std = self.step(features, actions, index)
            if noise:
                eps = randn_like_rows(mean)
                actions = mean + log_std.exp() * eps
                log_prob = log_prob + (-0.5 * eps.pow(2) - log_std - _LOG_SQRT_2PI).sum(-1)
            else:
                actions = mean
            path.append(actions)
        return actions, log_prob - tanh_log_det(actions), path

    def sample(
        self, obs: dict[str, Tensor], features: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        if self.chunk_size != 1:
            raise ConfigError(
                f"policy.chunk_size={self.chunk_size}: SAC needs single actions; set "
                "policy.chunk_size=1 or train with algo=hg_dagger"
            )
        features = self.encoder(obs) if features is None else features
        pre_tanh, log_prob, _ = self.rollout(features, noise=True)
        return torch.tanh(pre_tanh), log_prob

    def act(self, obs: dict[str, Tensor], deterministic: bool = False) -> Tensor:
        pre_tanh, _, _ = self.rollout(self.encoder(obs), noise=not deterministic)
        return torch.tanh(pre_tanh).view(-1, self.chunk_size, self.action_dim)

    def act_guided(
        self,
        obs: dict[str, Tensor],
        previous: Tensor,
        weights: Tensor,
        max_guidance: float,
        deterministic: bool = False,
    ) -> Tensor:
        """The rollout of `act`, each Euler step's mean guided toward `previous` (B, H, A)
        by `weights` (B, H) in pre-tanh space (`policies/rtc.py`); sampling adds the step's
        own noise after it."""
        features = self.encoder(obs)
        bound = self.bc_action_abs_max
        target = torch.atanh(previous.to(features).clamp(-bound, bound)).flatten(1)
        step_weights = weights.to(features).unsqueeze(-1).expand_as(previous).flatten(1)
        shape = (features.shape[0], self.flat_dim)
        start = features.new_zeros(shape) if deterministic else torch.randn(shape).to(features)
        log_stds: list[Tensor] = []

        def velocity(x: Tensor, tau: float) -> Tensor:
            v, raw_log_std = self.velocity(features, x, x.new_full((x.shape[0], 1), tau))
            log_stds.append(self.squash_log_std(raw_log_std).detach())
            return v

        def add_noise(x: Tensor, index: int) -> Tensor:
            return x if deterministic else x + log_stds[-1].exp() * torch.randn_like(x)

        pre_tanh = guided_flow(
            velocity, start, self.steps, target, step_weights, max_guidance, add_noise
        )
        return torch.tanh(pre_tanh).view(-1, self.chunk_size, self.action_dim)

    def imitation_loss(
        self,
        obs: dict[str, Tensor],
        actions: Tensor,
        features: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> Tensor:
        """Flow matching: x_t = (1 - t) x_0 + t x_1 with x_0 ~ N(0, I), x_1 = atanh(action),
        t ~ U(0, 1); regress the velocity onto x_1 - x_0. A chunked flow takes chunk labels
        (B, H, A) (or single actions, a chunk of one step) and a 0/1 `mask` (B, H): the loss
        covers the labelled steps, the others hold the last labelled action."""
        features = self.encoder(obs) if features is None else features
        if self.chunk_size != 1:
            return self.chunk_imitation_loss(features, actions, mask)
        bound = self.bc_action_abs_max
        target_actions = torch.atanh(actions.clamp(-bound, bound))
        rows, device = len(target_actions), target_actions.device
        noise = randn_like_rows(target_actions)
        t = row_draw(rows, lambda n: torch.rand(n, 1, device=device))
        x_t = (1.0 - t) * noise + t * target_actions
        velocity, _ = self.velocity(features, x_t, t)
        return F.mse_loss(velocity, target_actions - noise)

    def chunk_imitation_loss(
        self, features: Tensor, actions: Tensor, mask: Tensor | None
    ) -> Tensor:
        """Flow matching on the flattened chunk, the squared error averaged over the
        labelled steps (a global count under data-parallel ranks)."""
        if actions.dim() == 2:
            actions = actions.unsqueeze(1)
        if mask is None:
            mask = actions.new_ones(actions.shape[:2])
        missing = self.chunk_size - actions.shape[1]
        if missing > 0:  # pad the chunk; the padded steps are masked out
            actions, mask = F.pad(actions, (0, 0, 0, missing)), F.pad(mask, (0, missing))
        actions = hold_last_labelled(actions[:, : self.chunk_size], mask[:, : self.chunk_size])
        mask = mask[:, : self.chunk_size].float()
        bound = self.bc_action_abs_max
        target = torch.atanh(actions.clamp(-bound, bound)).flatten(1)
        rows, device = len(target), target.device
        noise = randn_like_rows(target)
        t = row_draw(rows, lambda n: torch.rand(n, 1, device=device))
        velocity, _ = self.velocity(features, (1.0 - t) * noise + t * target, t)
        error = (velocity - (target - noise)).pow(2).view(rows, self.chunk_size, -1).mean(-1)
        return (error * mask).sum() / mean_denominator(mask.sum(), 1.0)


@POLICIES.register("flow_g", config=FlowGPolicyConfig)
class FlowGPolicy(FlowPolicy):
    """Flow-G: the gated velocity field."""

    velocity_field = GatedVelocity


@POLICIES.register("flow_t", config=FlowTPolicyConfig)
class FlowTPolicy(FlowPolicy):
    """Flow-T: the transformer-decoder velocity field."""

    velocity_field = TransformerVelocity
