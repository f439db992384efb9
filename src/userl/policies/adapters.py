"""Adapters over a frozen base policy: `noise_adapter`, the noise-space actor of DSRL
(Wagenmaker et al., CoRL 2025; `algo=dsrl`).

The base (`policy.base=RUN_DIR`, `policies/frozen_base.py`) is a generative policy that maps
an initial noise to its action chunk by deterministic Euler steps. The adapter is a small
tanh-Gaussian actor whose output u in [-1, 1]^(H x W) is that noise for the whole chunk,
every value its own (H steps x the base's noise width W; no vector repeated across steps):
noise = `policy.noise_scale` * u. Acting decodes the noise through the frozen base; the
critic learns Q(observation, u) over the decision. Only the actor (and its encoder) train
and travel; the base never changes.

`NOISE_MAPS` (`policies/noise_maps.py`) holds, per base policy name, the noise <-> chunk
maps: `decode` (noise -> chunk, the base's own Euler steps without per-step noise) and
`encode` (chunk -> noise, the same steps run backwards, each Euler step inverted by
fixed-point iteration), with which the learner recovers the noise behind every executed
chunk: the policy's own, a scripted expert's or a person's correction alike. Bases:
`flow_g` / `flow_t` and `pi0` (its `pi0_tiny` preset too), H = the base's chunk_size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from torch import Tensor, nn

from userl.core.registry import POLICIES
from userl.core.specs import ObservationSpec
from userl.policies.encoders import StateEncoder
from userl.policies.frozen_base import base_policy_config, base_problem, load_frozen_base
from userl.policies.mlp import GaussianPolicy, MLPPolicyConfig
from userl.policies.noise_maps import NOISE_MAPS, supported_bases

__all__ = ["NOISE_MAPS", "NoiseAdapterPolicy", "NoiseAdapterPolicyConfig", "supported_bases"]


@dataclass
class NoiseAdapterPolicyConfig(MLPPolicyConfig):
    """DSRL's noise actor: a tanh-Gaussian MLP whose output, times `noise_scale`, is the
    frozen base's initial noise for its whole chunk."""

    BASES: ClassVar[tuple[str, ...]] = tuple(sorted(NOISE_MAPS))  # the policies it can adapt
    hidden_dims: list[int] = field(default_factory=lambda: [32, 32])  # the actor's hidden widths
    base: str = ""  # the frozen base: a `userl train` run folder (policy=flow_g, flow_t or pi0)
    base_checkpoint: str = "latest"  # which of the base run's checkpoints: latest, best, step_N
    noise_scale: float = 1.0  # the base's initial noise = noise_scale * the actor's output in
    # [-1, 1], per value (the base trained on N(0, 1) noise: 1 reaches about its 68 % interval)

    start_at_base: bool = False  # the actor's mean starts at 0 (its mean layer zeroed): its
    # deterministic noise is the base's own deterministic start, so the adapter begins at the
    # base's behaviour instead of a random offset of it, and explores around it

    def problem(self) -> str | None:
        return base_problem(self.base, self.base_checkpoint, NOISE_MAPS, "noise_adapter")


@POLICIES.register("noise_adapter", config=NoiseAdapterPolicyConfig)
class NoiseAdapterPolicy(GaussianPolicy):
    """The noise actor (a `GaussianPolicy` over the latent u) with the frozen base it
    drives: `sample` gives u and log pi(u) for SAC; `act` gives the base's chunk."""

    def __init__(
        self, cfg: NoiseAdapterPolicyConfig, obs_spec: ObservationSpec, action_dim: int
    ) -> None:
        base_config = base_policy_config(cfg.base)
        base = load_frozen_base(cfg.base, cfg.base_checkpoint, base_config, obs_spec, action_dim)
        maps = NOISE_MAPS[base_config.name]
        noise_shape = (base.chunk_size, maps.width(base))
        super().__init__(cfg, StateEncoder(obs_spec), noise_shape[0] * noise_shape[1])
        if cfg.start_at_base:
            nn.init.zeros_(self.mean.weight)
            nn.init.zeros_(self.mean.bias)
        self.base = base
        self.maps = maps
        self.noise_shape = noise_shape
        self.latent_dim = noise_shape[0] * noise_shape[1]
        self.action_dim = action_dim  # the env's; the actor's output has latent_dim
        self.chunk_size = base.chunk_size
        self.noise_scale = cfg.noise_scale

    def train(self, mode: bool = True) -> NoiseAdapterPolicy:
        """The actor's mode; the base stays in evaluation mode."""
        super().train(mode)
        self.base.eval()
        return self

    def decode_latent(self, obs: dict[str, Tensor], latent: Tensor) -> Tensor:
        """u (B, H x W) -> the base's chunk (B, H, action_dim)."""
        noise = self.noise_scale * latent.view(latent.shape[0], *self.noise_shape)
        return self.maps.decode(self.base, obs, noise)

    def encode_actions(self, obs: dict[str, Tensor], chunk: Tensor, iterations: int) -> Tensor:
        """The u (B, H x W) whose chunk is `chunk` (B, H, action_dim) (not clipped to
        [-1, 1]: a person's chunk may need noise beyond the actor's reach)."""
        noise = self.maps.encode(self.base, obs, chunk, iterations)
        return noise.reshape(noise.shape[0], -1) / self.noise_scale

    def act(self, obs: dict[str, Tensor], deterministic: bool = False) -> Tensor:
        latent = super().act(obs, deterministic)[:, 0]
        return self.decode_latent(obs, latent)
