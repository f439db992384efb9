"""DSRL (Wagenmaker et al., CoRL 2025): SAC in the noise space of a frozen generative base.

The policy is `noise_adapter` (`policies/adapters.py`): a small tanh-Gaussian actor whose
output u, times `policy.noise_scale`, is the base's initial noise for its whole chunk (H x W
values, each its own); the frozen base turns it into the chunk by its deterministic Euler
steps. SAC runs unchanged on the latent u (its critic ensemble, random target subset,
temperature, Polyak targets, critic:actor ratio and the learner's UTD governor): the critic
learns Q(observation, u) over the decision. With a chunked base (H > 1, pi0) the replay keeps
each row's decision (`label_chunk_steps = H`): the k <= H steps it executed, their rewards
and s_{t+k}, and the critic's target is the k-step one (`algorithms/chunk_td.py`).

The replay holds executed actions, not noise. The learner recovers the u behind each row's
decision by running the base's flow backwards (`encode_actions`, exact up to
`algo.inversion_iterations` fixed-point steps per Euler step): a robot's own chunk gives
back the u its actor chose, and a scripted expert's or a person's chunk gives the u that
would have made the base do it, so demos and corrections train the same critic. The steps
past k (a chunk cut short) are free: they hold the last executed action. The base is frozen,
so a stored row's u never changes: each stored transition is inverted once, the first time
a batch draws it, and its u and error are read back from a cache (`algorithms/noise_cache.py`,
keyed by the replay's row ids, so a slot the ring buffer overwrites is inverted afresh; up
to `algo.noise_cache_rows` rows, 0: invert every row of every batch, as does a batch
without row ids). The round trip's error per row (decode(u) against the executed steps,
largest over them) is `adapter/inversion_error` in TensorBoard (the batch's mean). A row
whose error exceeds `algo.inversion_max_error` (a chunk the base cannot reproduce, or an
inversion that did not converge) stays in the episode store and the replay, is left out of
every update that draws it (`adapter/uninvertible_steps`: rows left out of this update) and
is counted once, when it is inverted (`adapter/uninvertible_steps_total`: the stored steps
found uninvertible since the start; without the cache, every draw of one counts): the
noise critic never trains on a noise that does not give the executed chunk.

Only the actor's tensors train, checkpoint as the policy and travel in weight sync; the
base is never in an optimiser, its hash at the start and now goes to summary.json (they
must be equal), and a resumed run refuses a base whose weights changed since.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import torch
from torch import Tensor

from userl.algorithms.adapter_sac import AdapterSAC, AdapterSACConfig
from userl.algorithms.noise_cache import NoiseCache
from userl.core.errors import ConfigError
from userl.core.registry import ALGORITHMS
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies.adapters import NoiseAdapterPolicy, NoiseAdapterPolicyConfig, supported_bases
from userl.policies.base import PolicyConfig
from userl.policies.pi0 import hold_last_labelled


@dataclass
class DSRLConfig(AdapterSACConfig):
    """DSRL: SAC over the frozen base's initial noise (`policy=noise_adapter`)."""

    POLICY_PRESET: ClassVar[str] = "noise_adapter"
    POLICIES: ClassVar[tuple[str, ...]] = ("noise_adapter",)  # the registered policies it trains

    inversion_iterations: int = 20  # fixed-point steps per Euler step when the learner recovers
    # the noise behind an executed action (each step shrinks the error by about |dv/dA| / K)

    inversion_max_error: float = 0.05  # the largest round-trip error (|decoded - executed| over
    # a decision's executed steps, in the action's [-1, 1] units) of a row the noise critic
    # trains on; rows above it are counted (adapter/uninvertible_steps) and left out of the
    # update, never out of the episode store

    noise_cache_rows: int = 100_000  # stored transitions whose recovered noise the learner
    # keeps (oldest out first; at least a batch); 0: invert every row of every batch again

    def pairing_problem(self, policy: Any, config: Any) -> str | None:
        if not isinstance(policy, NoiseAdapterPolicyConfig):
            return (
                f"algo=dsrl trains policy=noise_adapter with policy.base=RUN_DIR (a `userl "
                f"train` run of {supported_bases()}); got policy={policy.name}"
            )
        ranks = int(getattr(getattr(config, "learner", None), "devices", 1))
        if ranks > 1:  # each rank would drop its own uninvertible rows and step apart
            return (
                f"algo=dsrl leaves out of each update the rows its base cannot reproduce, which "
                f"learner.devices={ranks} data-parallel ranks would do apart; set learner.devices=1"
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
        self.label_chunk_steps = self.policy.chunk_size  # the replay keeps each decision
        self.uninvertible_total = 0
        width, rows = self.policy.latent_dim, max(self.cfg.noise_cache_rows, self.cfg.batch_size)
        self.noise_cache = NoiseCache(rows, width, device) if self.cfg.noise_cache_rows else None

    def executed_chunks(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """Each row's decision as a chunk (B, H, A), the steps past its k holding its last
        executed action, and the mask (B, H) of its executed steps."""
        if batch.chunk_steps is None:  # one action per decision
            return batch.actions.unsqueeze(1), batch.actions.new_ones(len(batch.actions), 1)
        chunks = batch.action_chunks
        steps = torch.arange(chunks.shape[1], device=chunks.device)
        executed = (steps.unsqueeze(0) < batch.chunk_steps.unsqueeze(1)).float()
        if batch.action_chunk_mask is not None:
            executed = executed * (batch.action_chunk_mask > 0.5).float()
        executed[:, 0] = 1.0  # step t itself is always the decision's
        chunks = torch.cat([batch.actions.unsqueeze(1), chunks[:, 1:]], dim=1)
        return hold_last_labelled(chunks, executed), executed

    def latents(self, batch: Batch) -> tuple[Tensor, Tensor, int]:
        """The u (B, latent_dim) behind each row's decision, each row's round-trip error, and
        how many rows inverted now are uninvertible: from the cache where it has the row."""
        if self.noise_cache is None or batch.row_ids is None:
            latent, error = self.invert(batch)
            return latent, error, int((error > self.cfg.inversion_max_error).sum().item())
        ids = batch.row_ids.tolist()

        def invert(positions: list[int]) -> tuple[Tensor, Tensor]:
            if len(positions) == len(ids):
                return self.invert(batch)
            rows = torch.zeros(len(ids), dtype=torch.bool, device=batch.row_ids.device)
            rows[positions] = True
            return self.invert(select_rows(batch, rows))

        latent, error, fresh = self.noise_cache.recover(ids, invert)
        return latent, error, int((fresh > self.cfg.inversion_max_error).sum().item())

    def invert(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """The u (B, latent_dim) behind each row's decision, and each row's round-trip error:
        the largest |decode(u) - executed| over its executed steps (inf where not finite)."""
        chunk, executed = self.executed_chunks(batch)
        obs = batch.observations
        latent = self.policy.encode_actions(obs, chunk, self.cfg.inversion_iterations)
        decoded = self.policy.decode_latent(obs, latent)
        error = ((decoded - chunk).abs().amax(dim=-1) * executed).amax(dim=-1)
        finite = torch.isfinite(error) & torch.isfinite(latent).all(dim=-1)
        return latent, torch.where(finite, error, torch.full_like(error, float("inf")))

    def update(self, batch: Batch, metrics: bool = True) -> dict[str, float]:
        """One SAC step on the rows whose decision the base reproduces, each decision
        replaced by its noise."""
        with torch.no_grad():
            latent, error, uninvertible = self.latents(batch)
        kept = error <= self.cfg.inversion_max_error
        dropped = int((~kept).sum().item())
        self.uninvertible_total += uninvertible
        trained = replace(batch, actions=latent)
        values = {}
        if dropped < len(kept):
            values = super().update(select_rows(trained, kept) if dropped else trained, metrics)
        if not metrics:
            return values
        finite = error[torch.isfinite(error)]
        noise = self.policy.noise_scale * latent[kept]
        values["adapter/inversion_error"] = finite.mean().item() if len(finite) else float("inf")
        values["adapter/uninvertible_steps"] = float(dropped)
        values["adapter/uninvertible_steps_total"] = float(self.uninvertible_total)
        if len(noise):
            values["adapter/noise_norm"] = noise.norm(dim=-1).mean().item()
        values["adapter/trainable_fraction"] = self.trainable_fraction
        return values

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "uninvertible_steps_total": self.uninvertible_total}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.uninvertible_total = int(state.get("uninvertible_steps_total", 0))


def select_rows(batch: Batch, rows: Tensor) -> Batch:
    """The batch's rows where `rows` (B,) is True, in every field (observation dicts too)."""
    picked: dict[str, Any] = {}
    for item in fields(batch):
        value = getattr(batch, item.name)
        if isinstance(value, dict):
            value = {key: tensor[rows] for key, tensor in value.items()}
        elif value is not None:
            value = value[rows]
        picked[item.name] = value
    return Batch(**picked)
