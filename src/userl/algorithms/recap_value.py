"""RECAP's value function: V(o) of the task's progress, as a distribution over bins.

The return it predicts is normalised into [-1, 0]: every step costs -1 / `horizon_steps`
until the episode ends; a success ends it at no further cost, a failure (a terminal that is
not a success: an operator's mark) costs `failure_penalty` more. A chunk row (k <= n steps,
`data/chunk_transitions.py`) gives the n-step target

    y = sum_{i<k} gamma^i c_i + gamma^k (1 - done) V_target(s_{t+k}) - done * fail * penalty

clipped to [-1, 0], projected on `bins` evenly spaced values (two-hot: the two nearest bins
share its mass), and learned by cross-entropy; V is the distribution's mean. Where a row's
decision reaches the episode's terminal (done), y is the Monte-Carlo return itself: those rows
measure V's calibration.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from userl.algorithms.chunk_td import chunk_td_target
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies.encoders import StateEncoder
from userl.policies.networks import full_precision, mlp_trunk

RETURN_LOW = -1.0
RETURN_HIGH = 0.0


class DistributionalValue(nn.Module):
    """obs -> logits over `bins` returns evenly spaced in [RETURN_LOW, RETURN_HIGH]."""

    def __init__(self, obs_spec: ObservationSpec, hidden_dims: list[int], bins: int) -> None:
        super().__init__()
        self.encoder = StateEncoder(obs_spec)
        self.trunk = mlp_trunk(self.encoder.feature_dim, hidden_dims, True, "relu")
        width = hidden_dims[-1] if hidden_dims else self.encoder.feature_dim
        self.head = nn.Linear(width, bins)
        self.support: Tensor
        self.register_buffer("support", torch.linspace(RETURN_LOW, RETURN_HIGH, bins))

    def logits(self, obs: dict[str, Tensor]) -> Tensor:
        return full_precision(self.head, self.trunk(self.encoder(obs)))

    def forward(self, obs: dict[str, Tensor]) -> Tensor:
        """V(o) (B,): the mean of the predicted distribution."""
        return torch.softmax(self.logits(obs), dim=-1) @ self.support


def two_hot(values: Tensor, support: Tensor) -> Tensor:
    """Each value (B,) in [support[0], support[-1]] as weights (B, C) on its two nearest bins
    whose mean is the value itself."""
    bins = len(support)
    width = (support[-1] - support[0]) / (bins - 1)
    position = ((values - support[0]) / width).clamp(0, bins - 1)
    low = position.floor().long().clamp(max=bins - 2)
    upper_share = position - low.to(position.dtype)
    weights = torch.zeros(len(values), bins, device=values.device, dtype=values.dtype)
    weights.scatter_(1, low.unsqueeze(1), (1.0 - upper_share).unsqueeze(1))
    weights.scatter_add_(1, (low + 1).unsqueeze(1), upper_share.unsqueeze(1))
    return weights


def step_costs(batch: Batch, horizon_steps: int) -> Tensor:
    """(B, n): -1 / horizon for each of a row's k counted steps, 0 past k."""
    rewards = batch.chunk_rewards
    steps = batch.chunk_steps
    counted = torch.arange(rewards.shape[1], device=rewards.device).unsqueeze(0) < (
        steps.unsqueeze(1)
    )
    return -counted.to(rewards.dtype) / float(horizon_steps)


def failed(batch: Batch, success_reward_min: float) -> Tensor:
    """(B,) 1 where a row's decision ends the episode in a failure: a terminal whose last
    task reward is below `success_reward_min` (a success's reward is at or above it)."""
    last = (batch.chunk_steps.long() - 1).clamp(min=0).unsqueeze(1)
    last_reward = batch.chunk_rewards.gather(1, last).squeeze(1)
    return batch.terminated * (last_reward < success_reward_min).to(last_reward.dtype)


def n_step_return(
    batch: Batch,
    next_value: Tensor,
    gamma: float,
    horizon_steps: int,
    failure_penalty: float,
    success_reward_min: float,
) -> Tensor:
    """The normalised n-step return of each row (B,), in [-1, 0]; a Monte-Carlo return
    where the row's decision reaches a terminal."""
    costs = step_costs(batch, horizon_steps)
    target = chunk_td_target(costs, batch.terminated, next_value, gamma, batch.chunk_steps)
    penalty = failure_penalty * torch.pow(gamma, batch.chunk_steps - 1.0)
    target = target - failed(batch, success_reward_min) * penalty
    return target.clamp(RETURN_LOW, RETURN_HIGH)


def value_loss(value: DistributionalValue, obs: dict[str, Tensor], target: Tensor) -> Tensor:
    """Cross-entropy of V's distribution at `obs` against the two-hot targets (B,)."""
    weights = two_hot(target.detach(), value.support)
    return -(weights * F.log_softmax(value.logits(obs), dim=-1)).sum(-1).mean()


def monte_carlo_returns(
    episode_rewards: np.ndarray,
    failure: bool,
    gamma: float,
    horizon_steps: int,
    failure_penalty: float,
) -> np.ndarray:
    """The normalised return from every step (T,) of an episode that ended in a terminal
    (a success, or a failure with `failure`): what V's n-step targets converge to there."""
    steps = len(episode_rewards)
    returns = np.zeros(steps, np.float64)
    following = -failure_penalty if failure else 0.0  # charged with the last step's cost
    for t in range(steps - 1, -1, -1):
        following = -1.0 / horizon_steps + following
        returns[t] = following
        following *= gamma
    return np.clip(returns, RETURN_LOW, RETURN_HIGH).astype(np.float32)


class CalibrationSet:
    """The newest `capacity` states of stored episodes that ended in a terminal, with their
    Monte-Carlo returns: V's calibration error is its mean distance from them."""

    def __init__(self, capacity: int, state_dim: int) -> None:
        self.states = np.zeros((capacity, state_dim), np.float32)
        self.returns = np.zeros(capacity, np.float32)
        self.position = 0
        self.size = 0

    def add(self, states: np.ndarray, returns: np.ndarray) -> None:
        capacity = len(self.returns)
        states, returns = states[-capacity:], returns[-capacity:]
        slots = (self.position + np.arange(len(returns))) % capacity
        self.states[slots], self.returns[slots] = states, returns
        self.position = int((self.position + len(returns)) % capacity)
        self.size = min(self.size + len(returns), capacity)

    @torch.no_grad()
    def error(self, value: DistributionalValue, device: torch.device) -> float | None:
        """Mean |V(s) - G(s)| over the set; None while it is empty."""
        if self.size == 0:
            return None
        states = torch.as_tensor(self.states[: self.size], device=device)
        returns = torch.as_tensor(self.returns[: self.size], device=device)
        return float((value({"state": states}) - returns).abs().mean())
