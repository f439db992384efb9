"""SAC Flow (arXiv 2509.25756): SAC whose actor is a flow policy (`policy=flow_g|flow_t`).

The flow's noise-augmented rollout gives a reparameterised action and its log-likelihood
(see `userl.policies.flow`), so SAC's losses apply unchanged: the same batched critic
ensemble, random target subset, temperature tuning and critic:actor ratio.
"""

from __future__ import annotations

from userl.algorithms.sac import SAC
from userl.config.schema import Config
from userl.core.registry import ALGORITHMS
from userl.core.specs import ObservationSpec
from userl.policies.flow import FlowPolicy


@ALGORITHMS.register("sac_flow")
class SACFlow(SAC):
    def __init__(self, cfg: Config, obs_spec: ObservationSpec, action_dim: int,
                 device: str = "cpu") -> None:
        super().__init__(cfg, obs_spec, action_dim, device)
        if not isinstance(self.policy, FlowPolicy):
            raise ValueError(f"algo=sac_flow needs a flow policy (policy=flow_g or flow_t), "
                             f"got policy={cfg.policy.name}")
