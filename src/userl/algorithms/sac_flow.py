"""SAC Flow (arXiv 2509.25756): SAC whose actor is a flow policy (`policy=flow_g|flow_t`).

The flow's noise-augmented rollout gives a reparameterised action and its log-likelihood
(see `userl.policies.flow`), so SAC's losses apply unchanged: the same batched critic
ensemble, random target subset, temperature tuning and critic:actor ratio.

One difference: the path's log-likelihood includes log N(A_0; 0, I), whose expectation no
parameter can change; the default entropy target is shifted by that base entropy,
|A|/2 log(2 pi e), so the temperature aims at -|A|/2 for what the policy controls (the
per-step noise and the squashing), as SAC does for a Gaussian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from userl.algorithms.sac import SAC, SACConfig
from userl.core.registry import ALGORITHMS
from userl.core.specs import ObservationSpec
from userl.policies.base import PolicyConfig
from userl.policies.flow import FlowPolicy


@dataclass
class SACFlowConfig(SACConfig):
    """SAC Flow (arXiv 2509.25756): SAC on a flow policy's noise-augmented rollout."""

    POLICIES: ClassVar[tuple[str, ...]] = ("flow_g", "flow_t")  # the registered policies it
    # trains (config/compatibility.py): a flow whose noisy rollout has a likelihood

    def pairing_problem(self, policy: Any, config: Any) -> str | None:
        """A flow acting in chunks has no per-action likelihood for SAC's losses."""
        chunk = int(getattr(policy, "chunk_size", 1))
        if chunk != 1:
            return (
                f"bad value for 'policy.chunk_size': {chunk}; algo=sac_flow needs single "
                "actions (policy.chunk_size=1), or train the chunked flow with algo=hg_dagger"
            )
        return None


@ALGORITHMS.register("sac_flow", config=SACFlowConfig)
class SACFlow(SAC):
    def __init__(
        self,
        algo: SACFlowConfig,
        policy: PolicyConfig,
        obs_spec: ObservationSpec,
        action_dim: int,
        device: str = "cpu",
    ) -> None:
        super().__init__(algo, policy, obs_spec, action_dim, device)
        if not isinstance(self.policy, FlowPolicy):
            raise ValueError(
                f"algo=sac_flow needs a flow policy (policy=flow_g or flow_t), "
                f"got policy={policy.name}"
            )
        if self.cfg.target_entropy is None:
            self.target_entropy += 0.5 * action_dim * math.log(2.0 * math.pi * math.e)
