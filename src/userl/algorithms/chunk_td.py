"""The critic's temporal-difference target, for one step or for a decision of k steps.

A decision that executes k <= H actions (a chunk, cut short by an intervention or the
episode's end) is one transition from s_t to s_{t+k}. Its target is

    sum_{i<k} gamma^i r_{t+i} + gamma^k (1 - done) V(s_{t+k})

with k per row, so rows of different k mix in one batch. The discount of the bootstrap is
gamma^k, not gamma: a chunk's summed rewards discounted by gamma alone would value a long
chunk as if it took one step. With k = 1 for every row (or no chunk fields in the batch)
this is SAC's one-step target, bit for bit.
"""

from __future__ import annotations

import torch
from torch import Tensor

from userl.core.types import Batch


def chunk_td_target(
    rewards: Tensor,
    terminated: Tensor,
    next_value: Tensor,
    gamma: float,
    chunk_steps: Tensor | None = None,
) -> Tensor:
    """The target per row. `rewards`: (B,) one step each, or (B, H) the rewards of each
    row's decision in order, of which the first `chunk_steps` (B,) count (the rest are
    ignored, whatever they hold); `terminated` (B,) 1 where the decision ended the episode
    in a terminal state; `next_value` (B,) V(s_{t+k})."""
    if rewards.dim() == 1:
        if chunk_steps is not None:
            raise ValueError("chunk_steps needs the decision's rewards as (B, H)")
        return rewards + gamma * (1.0 - terminated) * next_value
    horizon = rewards.shape[1]
    steps = (
        torch.ones(rewards.shape[0], device=rewards.device)
        if chunk_steps is None
        else chunk_steps.to(rewards.dtype)
    )
    offsets = torch.arange(horizon, device=rewards.device, dtype=rewards.dtype)
    counted = (offsets.unsqueeze(0) < steps.unsqueeze(1)).to(rewards.dtype)
    discounts = torch.pow(torch.full_like(offsets, gamma), offsets)
    chunk_return = (rewards * counted * discounts).sum(dim=1)
    return chunk_return + torch.pow(gamma, steps) * (1.0 - terminated) * next_value


def batch_td_target(batch: Batch, next_value: Tensor, gamma: float) -> Tensor:
    """`chunk_td_target` of a batch: chunk-level where the batch carries each row's decision
    (`chunk_steps`, `chunk_rewards`), one-step otherwise."""
    if batch.chunk_steps is None:
        return chunk_td_target(batch.rewards, batch.terminated, next_value, gamma)
    return chunk_td_target(
        batch.chunk_rewards, batch.terminated, next_value, gamma, batch.chunk_steps
    )
