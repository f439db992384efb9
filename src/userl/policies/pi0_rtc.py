"""Real-time chunking for pi0 (`policies/rtc.py`): the library's own denoising loop, with
each step's velocity from the action expert guided toward the actions still running.

transformers' `sample_actions` integrates from noise at time 1 to the chunk at time 0 with
velocity v = noise - action; in the guidance's convention (tau = 1 - time) the velocity is
-v. The VLM prefix is computed once without a gradient; the vector-Jacobian product runs
through the action expert (and the action projections) only, against the prefix's KV cache,
which is cropped back to the prefix after every step as `sample_actions` does.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from userl.policies.rtc import guided_flow


def pi0_guided_chunk(
    policy: Any,
    obs: dict[str, Tensor],
    previous: Tensor,
    weights: Tensor,
    max_guidance: float,
    deterministic: bool,
) -> Tensor:
    """`policy` (a `Pi0Policy`)'s next chunk (B, H, action_dim) in [-1, 1], guided toward
    `previous` (B, H, action_dim) with `weights` (B, H); the padded action dims are free."""
    inputs = policy.inputs(obs)
    state = inputs["state"]
    width = policy.cfg.max_action_dim
    shape = (state.shape[0], policy.chunk_size, width)
    start = torch.zeros(shape, device=state.device)
    if not deterministic:
        start = torch.randn(shape, device=state.device)
    with torch.no_grad():
        cache = policy.prefix_cache(inputs)
    prefix_length = cache.get_seq_length()
    target = F.pad(previous.float().to(state.device), (0, width - previous.shape[-1]))
    dims = torch.zeros(width, device=state.device)
    dims[: policy.action_dim] = 1.0
    step_weights = weights.float().to(state.device).unsqueeze(-1) * dims

    def velocity(x: Tensor, tau: float) -> Tensor:
        time = torch.full((x.shape[0],), 1.0 - tau, dtype=torch.float32, device=x.device)
        velocity = policy.cached_velocity(inputs, cache, prefix_length, x.to(policy.dtype), time)
        return -velocity.float()

    chunk = guided_flow(velocity, start, policy.cfg.flow_steps, target, step_weights, max_guidance)
    return chunk[..., : policy.action_dim].clamp(-1.0, 1.0)
