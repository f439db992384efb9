"""Residual SAC (Policy Decorator, Yuan et al. 2024; ResFiT, Ankile et al. 2025): SAC on a
bounded residual over a frozen base (`policy=residual_adapter`, `policies/residual_adapter.py`).

The actor's action is base(s) + delta with |delta| <= `policy.residual_scale`; the critic
ensemble learns Q(s, a) on the executed (corrected) actions the replay holds, and the actor
maximises it through the residual. Everything else is SAC's (critics, target subset,
temperature, Polyak targets, UTD governor); the base's weights never change nor travel
(`algorithms/adapter_sac.py`). `adapter/residual_norm` is the mean size of the sampled
corrections in TensorBoard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from userl.algorithms.adapter_sac import AdapterSAC, AdapterSACConfig
from userl.core.errors import ConfigError
from userl.core.registry import ALGORITHMS
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies.base import PolicyConfig
from userl.policies.residual_adapter import (
    RESIDUAL_BASES,
    ResidualAdapterPolicy,
    ResidualAdapterPolicyConfig,
)


@dataclass
class ResidualSACConfig(AdapterSACConfig):
    """Residual SAC: SAC on a bounded correction of a frozen base's action."""

    POLICY_PRESET: ClassVar[str] = "residual_adapter"
    POLICIES: ClassVar[tuple[str, ...]] = ("residual_adapter",)  # the registered policies it trains

    def pairing_problem(self, policy: Any, config: Any) -> str | None:
        if not isinstance(policy, ResidualAdapterPolicyConfig):
            bases = " or ".join(f"policy={name}" for name in RESIDUAL_BASES)
            return (
                "algo=residual_sac trains policy=residual_adapter with policy.base=RUN_DIR "
                f"(a `userl train` run of {bases}); got policy={policy.name}"
            )
        return super().pairing_problem(policy, config)


@ALGORITHMS.register("residual_sac", config=ResidualSACConfig)
class ResidualSAC(AdapterSAC):
    cfg: ResidualSACConfig
    policy: ResidualAdapterPolicy

    def __init__(
        self,
        algo: ResidualSACConfig,
        policy: PolicyConfig,
        obs_spec: ObservationSpec,
        action_dim: int,
        device: str = "cpu",
    ) -> None:
        if not isinstance(policy, ResidualAdapterPolicyConfig):
            raise ConfigError(str(algo.pairing_problem(policy, None)))
        super().__init__(algo, policy, obs_spec, action_dim, device)

    def update(self, batch: Batch, metrics: bool = True) -> dict[str, float]:
        values = super().update(batch, metrics)
        if not values:
            return values
        with torch.no_grad():
            corrected, _ = self.policy.sample(batch.observations)
            residual = corrected - self.policy.base_actions(batch.observations)
        values["adapter/residual_norm"] = residual.norm(dim=-1).mean().item()
        values["adapter/trainable_fraction"] = self.trainable_fraction
        return values
