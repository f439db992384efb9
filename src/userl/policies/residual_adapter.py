"""`residual_adapter`: a bounded residual over a frozen base (Policy Decorator, Yuan et al.
2024; ResFiT, Ankile et al. 2025; `algo=residual_sac`).

The base (`policy.base=RUN_DIR`, `policies/frozen_base.py`) proposes its action by its
deterministic rollout (no sampled noise); a small tanh-Gaussian actor adds a correction
delta = `policy.residual_scale` * tanh(u), so |delta| <= residual_scale per action
dimension, and the executed action is base + delta, clipped to [-1, 1]. The critic sees that
corrected action (the executed one, as the replay stores it). The actor's mean head starts
at zero, so a new adapter acts as the base.

Exploration ramps in: a sampled residual is scaled by min(1, n / residual_warmup_env_steps),
n the env steps this policy instance has acted (every process that acts holds its own: a
robot's worker, or the inference server for all the robots it serves), so the robots start
from the base's behaviour and widen their exploration gradually; the deterministic action
(evaluation) is never scaled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor, nn

from userl.core.registry import POLICIES
from userl.core.specs import ObservationSpec
from userl.policies.encoders import StateEncoder
from userl.policies.frozen_base import base_policy_config, base_problem, load_frozen_base
from userl.policies.mlp import GaussianPolicy, MLPPolicyConfig

RESIDUAL_BASES = ("flow_g", "flow_t")
"""The base policies a residual adapts: one action per decision, as the replay's rows are."""


@dataclass
class ResidualAdapterPolicyConfig(MLPPolicyConfig):
    """A bounded residual actor over a frozen base: action = base + scale * tanh(u)."""

    BASES: ClassVar[tuple[str, ...]] = RESIDUAL_BASES  # the policies it can adapt
    hidden_dims: list[int] = field(default_factory=lambda: [32, 32])  # the actor's hidden widths
    base: str = ""  # the frozen base: a `userl train` run folder (policy=flow_g or flow_t)
    base_checkpoint: str = "latest"  # which of the base run's checkpoints: latest, best, step_N
    residual_scale: float = 0.2  # the largest correction per action dimension (normalised
    # action units: the action space is [-1, 1])

    residual_warmup_env_steps: int = 1000  # env steps over which a sampled residual's size ramps
    # from 0 to full, per acting process (0: no ramp)

    def problem(self) -> str | None:
        problem = base_problem(self.base, self.base_checkpoint, RESIDUAL_BASES, "residual_adapter")
        chunk = getattr(base_policy_config(self.base), "chunk_size", 1) if not problem else 1
        if chunk != 1:  # the residual corrects one action per decision
            return (
                f"policy.base={self.base} acts in chunks of policy.chunk_size={chunk}; "
                "policy=residual_adapter corrects one action per decision: give a base with "
                "policy.chunk_size=1, or adapt this one with algo=dsrl"
            )
        return problem


@POLICIES.register("residual_adapter", config=ResidualAdapterPolicyConfig)
class ResidualAdapterPolicy(GaussianPolicy):
    """The residual actor (a `GaussianPolicy` over u) with the frozen base it corrects:
    `sample` gives the corrected action and log pi of the residual for SAC; `act` gives the
    corrected chunk."""

    def __init__(
        self, cfg: ResidualAdapterPolicyConfig, obs_spec: ObservationSpec, action_dim: int
    ) -> None:
        base_config = base_policy_config(cfg.base)
        base = load_frozen_base(cfg.base, cfg.base_checkpoint, base_config, obs_spec, action_dim)
        super().__init__(cfg, StateEncoder(obs_spec), action_dim)
        nn.init.zeros_(self.mean.weight)  # a new adapter acts as the base
        nn.init.zeros_(self.mean.bias)
        self.base = base
        self.chunk_size = base.chunk_size
        self.residual_scale = cfg.residual_scale
        self.warmup_steps = cfg.residual_warmup_env_steps
        self.acted_steps = 0  # env steps this instance has acted with a sampled residual

    def train(self, mode: bool = True) -> ResidualAdapterPolicy:
        """The actor's mode; the base stays in evaluation mode."""
        super().train(mode)
        self.base.eval()
        return self

    def base_actions(self, obs: dict[str, Tensor]) -> Tensor:
        """The base's deterministic action (B, action_dim)."""
        with torch.no_grad():
            return self.base.act(obs, deterministic=True)[:, 0]

    def corrected(self, obs: dict[str, Tensor], unit: Tensor, ramp: float = 1.0) -> Tensor:
        """base + ramp * residual_scale * unit (unit in [-1, 1]), clipped to [-1, 1]."""
        delta = ramp * self.residual_scale * unit
        return (self.base_actions(obs) + delta).clamp(-1.0, 1.0)

    def sample(
        self, obs: dict[str, Tensor], features: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """The corrected action and the residual's log-density (delta = scale * tanh(u))."""
        unit, log_prob = super().sample(obs, features)
        log_prob = log_prob - unit.shape[-1] * math.log(self.residual_scale)
        return self.corrected(obs, unit), log_prob

    def ramp(self) -> float:
        """The sampled residual's share of its full size now (the exploration ramp)."""
        return 1.0 if self.warmup_steps <= 0 else min(1.0, self.acted_steps / self.warmup_steps)

    def act(self, obs: dict[str, Tensor], deterministic: bool = False) -> Tensor:
        unit = super().act(obs, deterministic)[:, 0]
        if deterministic:
            return self.corrected(obs, unit).unsqueeze(1)
        actions = self.corrected(obs, unit, self.ramp())
        self.acted_steps += unit.shape[0] * self.chunk_size
        return actions.unsqueeze(1)
