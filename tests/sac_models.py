"""Small SAC models and random batches for the algorithm tests."""

from __future__ import annotations

import torch

from userl.algorithms import build_algorithm
from userl.algorithms.sac import SAC, SACConfig
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies.mlp import MLPPolicyConfig

STATE_DIM, ACTION_DIM, BATCH = 6, 3, 64


def make_sac(seed: int = 0, **algo) -> SAC:
    torch.manual_seed(seed)
    defaults = dict(num_critics=5, critic_subset=2, critic_hidden_dims=[32, 32])
    sac = build_algorithm(
        SACConfig(**(defaults | algo)),
        MLPPolicyConfig(hidden_dims=[32, 32]),
        ObservationSpec(STATE_DIM),
        ACTION_DIM,
    )
    assert isinstance(sac, SAC)
    return sac


def make_batch(seed: int = 1, batch: int = BATCH) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(
        observations={"state": torch.randn(batch, STATE_DIM, generator=g)},
        actions=torch.rand(batch, ACTION_DIM, generator=g) * 2 - 1,
        rewards=torch.randn(batch, generator=g),
        next_observations={"state": torch.randn(batch, STATE_DIM, generator=g)},
        terminated=(torch.rand(batch, generator=g) < 0.1).float(),
        intervened=torch.zeros(batch),
    )
