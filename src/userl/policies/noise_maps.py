"""The noise <-> chunk maps of each generative base an adapter can drive (`NOISE_MAPS`).

A flow base turns an initial noise into its action chunk by deterministic Euler steps
(`decode`); `encode` runs the same steps backwards, each Euler step x' = x + dt v(x, t)
inverted by fixed-point iteration x <- x' - dt v(x, t) (a contraction while |dv/dx| |dt| < 1),
so the learner recovers the noise behind any executed chunk: the policy's own, a scripted
expert's or a person's. The noise of one decision is (H, W): H chunk steps, each its own W
values (no vector repeated across steps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

from userl.policies.flow import FlowPolicy
from userl.policies.pi0 import PI0Policy


class NoiseMaps(Protocol):
    """The noise <-> chunk maps of one kind of base policy."""

    def width(self, base: object) -> int:
        """W: noise values per chunk step."""

    def decode(self, base: object, obs: dict[str, Tensor], noise: Tensor) -> Tensor:
        """noise (B, H, W) -> the base's chunk (B, H, action_dim), deterministically."""

    def encode(
        self, base: object, obs: dict[str, Tensor], chunk: Tensor, iterations: int
    ) -> Tensor:
        """chunk (B, H, action_dim) -> the noise (B, H, W) the base decodes into it."""


class FlowNoiseMaps:
    """`flow_g` / `flow_t`: the noise is the flow's A_0 (pre-tanh), the whole chunk as one
    vector of H x action_dim values (W = action_dim; H = the base's `chunk_size`, 1 unless
    it was trained on chunks); A_{i+1} = A_i + v(s, A_i, t_i) / K; the chunk tanh(A_K)."""

    def width(self, base: object) -> int:
        assert isinstance(base, FlowPolicy)
        return base.action_dim

    def decode(self, base: object, obs: dict[str, Tensor], noise: Tensor) -> Tensor:
        assert isinstance(base, FlowPolicy)
        features = base.encoder(obs)
        actions = noise.flatten(1)
        for index in range(base.steps):
            actions, _ = base.step(features, actions, index)
        return torch.tanh(actions).view(noise.shape[0], base.chunk_size, base.action_dim)

    def encode(
        self, base: object, obs: dict[str, Tensor], chunk: Tensor, iterations: int
    ) -> Tensor:
        """Backwards from A_K = atanh(chunk) (clipped to the base's `bc_action_abs_max`):
        A_i solves A_i = A_{i+1} - v(s, A_i, t_i) / K, by `iterations` fixed-point steps
        from A_{i+1}."""
        assert isinstance(base, FlowPolicy)
        features = base.encoder(obs)
        bound = base.bc_action_abs_max
        later = torch.atanh(chunk.clamp(-bound, bound)).flatten(1)
        for index in reversed(range(base.steps)):
            earlier = later
            for _ in range(iterations):
                mean, _ = base.step(features, earlier, index)
                earlier = later - (mean - earlier)
            later = earlier
        return later.view(chunk.shape)


class PI0NoiseMaps:
    """`pi0` (and its `pi0_tiny` preset): the noise is the library's x at t = 1 on the env's
    action values, (H, action_dim); the model's padded values (up to `max_action_dim`) are
    held at zero along the whole flow, the value their training targets had. `flow_steps`
    Euler steps x <- x + dt v(x, t) with dt = -1 / flow_steps take it to the chunk at t = 0
    (clipped to [-1, 1]), over the prefix's (views and instruction) KV cache computed once and
    cropped back after each velocity, as the library's `sample_actions` does.

    Why held and not free: with free padded values a noise's padding changes the chunk
    through the expert's attention, but an executed chunk carries no padding, so running the
    flow backwards from it gives a different noise from the one that made it, and the noise
    critic would learn Q at noises the actor never chose. With the padding pinned, decoding
    and encoding are one map and its inverse (up to the fixed-point iterations and the clip)."""

    def width(self, base: object) -> int:
        assert isinstance(base, PI0Policy)
        return int(base.action_dim)

    @torch.no_grad()
    def decode(self, base: object, obs: dict[str, Tensor], noise: Tensor) -> Tensor:
        assert isinstance(base, PI0Policy)
        velocity, dt = self.velocity_over_prefix(base, obs)
        x = self.padded(base, noise)
        for step in range(base.cfg.flow_steps):
            x = self.held(base, x + dt * velocity(x, 1.0 + step * dt))
        return x[..., : base.action_dim].float().clamp(-1.0, 1.0)

    @torch.no_grad()
    def encode(
        self, base: object, obs: dict[str, Tensor], chunk: Tensor, iterations: int
    ) -> Tensor:
        assert isinstance(base, PI0Policy)
        velocity, dt = self.velocity_over_prefix(base, obs)
        later = self.padded(base, chunk)
        for step in reversed(range(base.cfg.flow_steps)):
            earlier = later
            for _ in range(iterations):
                earlier = self.held(base, later - dt * velocity(earlier, 1.0 + step * dt))
            later = earlier
        return later[..., : base.action_dim].float()

    @staticmethod
    def padded(base: PI0Policy, values: Tensor) -> Tensor:
        """(B, H, action_dim) -> (B, H, max_action_dim) in the model's dtype, zero padded."""
        width = int(base.cfg.max_action_dim) - values.shape[-1]
        return F.pad(values.float(), (0, width)).to(base.dtype)

    @staticmethod
    def held(base: PI0Policy, x: Tensor) -> Tensor:
        """x (a step's fresh result, no one else's) with its padded values (past the env's
        action_dim) set back to zero in place."""
        x[..., base.action_dim :] = 0
        return x

    @staticmethod
    def velocity_over_prefix(
        base: PI0Policy, obs: dict[str, Tensor]
    ) -> tuple[Callable[[Tensor, float], Tensor], float]:
        """v(x, t) over the observations' prefix KV cache (computed once, cropped back after
        each call), and the Euler step dt = -1 / flow_steps."""
        inputs = base.inputs(obs)
        cache = base.prefix_cache(inputs)
        prefix = cache.get_seq_length()

        def velocity(x: Tensor, time: float) -> Tensor:
            times = torch.full((x.shape[0],), time, dtype=torch.float32, device=x.device)
            return base.cached_velocity(inputs, cache, prefix, x, times)

        return velocity, -1.0 / base.cfg.flow_steps


NOISE_MAPS: dict[str, NoiseMaps] = {
    "flow_g": FlowNoiseMaps(),
    "flow_t": FlowNoiseMaps(),
    "pi0": PI0NoiseMaps(),
}
"""Base policy name -> its noise maps: the bases an adapter can adapt."""


def supported_bases() -> str:
    return " or ".join(f"policy={name}" for name in sorted(NOISE_MAPS))
