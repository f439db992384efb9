"""DSRL (Wagenmaker et al., CoRL 2025): SAC in the noise space of a frozen generative base.

The policy is `noise_adapter` (`policies/adapters.py`): a small tanh-Gaussian actor whose
output u, times `policy.noise_scale`, is the base's initial noise for its whole chunk; the
frozen base turns it into the chunk by its deterministic Euler steps. SAC runs unchanged on
the latent u (its critic ensemble, random target subset, temperature, Polyak targets,
critic:actor ratio and the learner's UTD governor): the critic learns Q(observation, u).

The replay holds executed actions, not noise. Before each update the learner recovers the
u behind every row by running the base's flow backwards (`encode_actions`, exact up to
`algo.inversion_iterations` fixed-point steps): a robot's own step gives back the u its
actor chose, and a scripted expert's or a person's action gives the u that would have made
the base do it, so demos and corrections train the same critic. The round trip's error
(u -> chunk vs the executed chunk) is `adapter/inversion_error` in TensorBoard.

Only the actor's tensors train, checkpoint as the policy and travel in weight sync; the
base is never in an optimiser, its hash at the start and now goes to summary.json (they
must be equal), and a resumed run refuses a base whose weights changed since.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import torch

from userl.algorithms.adapter_sac import AdapterSAC, AdapterSACConfig
from userl.core.errors import ConfigError
from userl.core.registry import ALGORITHMS
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies.adapters import NoiseAdapterPolicy, NoiseAdapterPolicyConfig, supported_bases
from userl.policies.base import PolicyConfig


@dataclass
class DSRLConfig(AdapterSACConfig):
    """DSRL: SAC over the frozen base's initial noise (`policy=noise_adapter`)."""

    POLICY_PRESET: ClassVar[str] = "noise_adapter"
    POLICIES: ClassVar[tuple[str, ...]] = ("noise_adapter",)  # the registered policies it trains

    inversion_iterations: int = 20  # fixed-point steps per Euler step when the learner recovers
    # the noise behind an executed action (each step shrinks the error by about |dv/dA| / K)

    def pairing_problem(self, policy: Any, config: Any) -> str | None:
        if not isinstance(policy, NoiseAdapterPolicyConfig):
            return (
                f"algo=dsrl trains policy=noise_adapter with policy.base=RUN_DIR (a `userl "
                f"train` run of {supported_bases()}); got policy={policy.name}"
            )
        return super().pairing_problem(policy, config)


@ALGORITHMS.register("dsrl", config=DSRLConfig)
class DSRL(AdapterSAC):
    cfg: DSRLConfig
    policy: NoiseAdapterPolicy

    def __init__(
        self,
        algo: DSRLConfig,
        policy: PolicyConfig,
        obs_spec: ObservationSpec,
        action_dim: int,
        device: str = "cpu",
    ) -> None:
        if not isinstance(policy, NoiseAdapterPolicyConfig):
            raise ConfigError(str(algo.pairing_problem(policy, None)))
        super().__init__(algo, policy, obs_spec, action_dim, device)
        # SAC's critic reads an action of `action_dim`: the latent's size for every base in
        # NOISE_MAPS (one action per decision, noise as wide as the action)
        assert self.policy.latent_dim == action_dim and self.policy.chunk_size == 1

    def latents(self, batch: Batch) -> torch.Tensor:
        """The u (B, latent_dim) behind each row's executed action."""
        chunk = batch.actions.unsqueeze(1)
        return self.policy.encode_actions(batch.observations, chunk, self.cfg.inversion_iterations)

    def update(self, batch: Batch, metrics: bool = True) -> dict[str, float]:
        """One SAC step on the batch with each executed action replaced by its noise."""
        with torch.no_grad():
            latent = self.latents(batch)
        values = super().update(replace(batch, actions=latent), metrics)
        if not values:
            return values
        with torch.no_grad():
            chunk = self.policy.decode_latent(batch.observations, latent)
            error = (chunk - batch.actions.unsqueeze(1)).abs().amax(dim=(1, 2))
            noise = self.policy.noise_scale * latent
        values["adapter/inversion_error"] = error.mean().item()
        values["adapter/noise_norm"] = noise.norm(dim=-1).mean().item()
        values["adapter/trainable_fraction"] = self.trainable_fraction
        return values
