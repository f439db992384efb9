"""The noise <-> chunk maps of each generative base an adapter can drive (`NOISE_MAPS`).

A flow base turns an initial noise into its action chunk by deterministic Euler steps
(`decode`); `encode` runs the same steps backwards, each Euler step x' = x + dt v(x, t)
inverted by fixed-point iteration x <- x' - dt v(x, t) (a contraction while |dv/dx| |dt| < 1),
so the learner recovers the noise behind any executed chunk: the policy's own, a scripted
expert's or a person's. The noise of one decision is (H, W): H chunk steps, each its own W
values (no vector repeated across steps).
"""

from __future__ import annotations

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
    """`pi0` (and its `pi0_tiny` preset): the noise is the library's x at t = 1 for the
    whole chunk, (H, max_action_dim): the model's own noise width, since every value of it
    reaches the env's actions through the expert's attention. `flow_steps` Euler steps
    x <- x + dt v(x, t) with dt = -1 / flow_steps take it to the chunk at t = 0, whose first
    action_dim values (clipped to [-1, 1]) are the actions.

    `encode` computes the prefix (views and instruction) KV cache once and reuses it for
    every velocity it evaluates, cropping the expert's keys and values off after each (as
    the library's `sample_actions` does between its steps). The chunk's padded values at
    t = 0 are taken as zero, the padding the base was trained on, so decoding the
    recovered noise gives the chunk back on the env's action values."""

    def width(self, base: object) -> int:
        assert isinstance(base, PI0Policy)
        return int(base.cfg.max_action_dim)

    def decode(self, base: object, obs: dict[str, Tensor], noise: Tensor) -> Tensor:
        assert isinstance(base, PI0Policy)
        return base.act(obs, noise=noise)

    @torch.no_grad()
    def encode(
        self, base: object, obs: dict[str, Tensor], chunk: Tensor, iterations: int
    ) -> Tensor:
        assert isinstance(base, PI0Policy)
        inputs = base.inputs(obs)
        cache = base.prefix_cache(inputs)
        prefix = cache.get_seq_length()
        rows, steps = chunk.shape[0], base.cfg.flow_steps
        dt = -1.0 / steps
        later = F.pad(chunk.float(), (0, self.width(base) - chunk.shape[-1])).to(base.dtype)
        for step in reversed(range(steps)):
            time = torch.full((rows,), 1.0 + step * dt, dtype=torch.float32, device=chunk.device)
            earlier = later
            for _ in range(iterations):
                velocity = base.cached_velocity(inputs, cache, prefix, earlier, time)
                earlier = later - dt * velocity
            later = earlier
        return later.float()


NOISE_MAPS: dict[str, NoiseMaps] = {
    "flow_g": FlowNoiseMaps(),
    "flow_t": FlowNoiseMaps(),
    "pi0": PI0NoiseMaps(),
}
"""Base policy name -> its noise maps: the bases an adapter can adapt."""


def supported_bases() -> str:
    return " or ".join(f"policy={name}" for name in sorted(NOISE_MAPS))
