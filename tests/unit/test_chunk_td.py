"""Chunk-level temporal difference on a chain MDP whose Q is known in closed form.

The chain: states 0..N-1, every action moves one state right, the step from N-1 ends the
episode (terminal) with reward 1, every other step pays 0. Whatever the policy, the value of
a state s is gamma^(N-1-s), and so is Q of a decision of k steps from s, for every k: the
k steps pay sum_{i<k} gamma^i r_{s+i} and the rest is discounted by gamma^k. A chunk that
would run past the end is cut there (k = N - s, done). A target that discounts a chunk's
bootstrap by gamma instead of gamma^k misses these values, by more than the tolerances here.
"""

from __future__ import annotations

import torch

from userl.algorithms import build_algorithm
from userl.algorithms.chunk_td import chunk_td_target
from userl.algorithms.sac import SAC, SACConfig
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies.mlp import MLPPolicyConfig

torch.set_num_threads(1)

STATES = 8
GAMMA = 0.9
HORIZON = 5
CHUNKS = (1, 3, 5)
ACTION_DIM = 2


def value(states: torch.Tensor) -> torch.Tensor:
    """V(s) = gamma^(N-1-s) for s < N; 0 at the terminal state N."""
    exponent = (STATES - 1 - states).double()
    return torch.where(states < STATES, GAMMA**exponent, torch.zeros_like(exponent))


def chain_rows(fill: float = 0.0) -> dict[str, torch.Tensor]:
    """One row per (state, chunk) with k cut at the episode's end; the rewards past k
    hold `fill` (a target must ignore them)."""
    starts, steps = [], []
    for state in range(STATES):
        for chunk in CHUNKS:
            starts.append(state)
            steps.append(min(chunk, STATES - state))
    start, k = torch.tensor(starts), torch.tensor(steps)
    visited = start.unsqueeze(1) + torch.arange(HORIZON).unsqueeze(0)
    rewards = (visited == STATES - 1).double()
    rewards = torch.where(torch.arange(HORIZON).unsqueeze(0) < k.unsqueeze(1), rewards, fill)
    return {
        "start": start,
        "steps": k,
        "next": start + k,
        "rewards": rewards,
        "terminated": (start + k == STATES).double(),
    }


def test_chunk_target_is_the_closed_form_q_for_mixed_k_in_one_batch():
    rows = chain_rows(fill=7.0)
    assert set(rows["steps"].tolist()) >= {1, 3, 5}  # k of every size, cut ones too
    target = chunk_td_target(
        rows["rewards"], rows["terminated"], value(rows["next"]), GAMMA, rows["steps"]
    )
    torch.testing.assert_close(target, value(rows["start"]), rtol=0, atol=1e-12)


def test_discounting_a_chunk_by_gamma_alone_would_miss_the_closed_form():
    rows = chain_rows()
    long_rows = (rows["steps"] > 1) & (rows["terminated"] == 0)
    wrong = (rows["rewards"] * GAMMA ** torch.arange(HORIZON)).sum(1) + GAMMA * value(rows["next"])
    error = (wrong - value(rows["start"]))[long_rows].abs()
    assert error.min() > 0.05  # the fit below is held to half of this


def test_one_step_rows_are_sac_one_step_target_bit_for_bit():
    g = torch.Generator().manual_seed(0)
    rewards, next_value = torch.randn(32, generator=g), torch.randn(32, generator=g)
    terminated = (torch.rand(32, generator=g) < 0.3).float()
    expected = rewards + GAMMA * (1.0 - terminated) * next_value
    assert torch.equal(chunk_td_target(rewards, terminated, next_value, GAMMA), expected)
    padded = torch.cat([rewards.unsqueeze(1), torch.randn(32, 4, generator=g)], dim=1)
    chunked = chunk_td_target(padded, terminated, next_value, GAMMA, torch.ones(32))
    torch.testing.assert_close(chunked, expected, rtol=0, atol=1e-6)


def test_chunk_steps_without_per_step_rewards_is_refused():
    try:
        chunk_td_target(torch.zeros(3), torch.zeros(3), torch.zeros(3), GAMMA, torch.ones(3))
    except ValueError as error:
        assert "(B, H)" in str(error)
    else:
        raise AssertionError("chunk_steps with (B,) rewards was accepted")


def chain_batch(seed: int) -> Batch:
    rows = chain_rows()
    g = torch.Generator().manual_seed(seed % 2**31)
    eye = torch.eye(STATES + 1)
    count = len(rows["start"])
    return Batch(
        observations={"state": eye[rows["start"]]},
        actions=torch.rand(count, ACTION_DIM, generator=g) * 2 - 1,
        rewards=rows["rewards"][:, 0].float(),
        next_observations={"state": eye[rows["next"]]},
        terminated=rows["terminated"].float(),
        intervened=torch.zeros(count),
        chunk_steps=rows["steps"].float(),
        chunk_rewards=rows["rewards"].float(),
    )


def test_sac_critic_fits_the_closed_form_q_from_mixed_chunks():
    torch.manual_seed(0)
    sac = build_algorithm(
        SACConfig(
            num_critics=2,
            critic_subset=2,
            critic_hidden_dims=[64, 64],
            critic_lr=3e-3,
            gamma=GAMMA,
            tau=0.1,
            bf16_matmuls="off",
        ),
        MLPPolicyConfig(hidden_dims=[32]),
        ObservationSpec(STATES + 1),
        ACTION_DIM,
    )
    assert isinstance(sac, SAC)
    for step in range(800):  # fresh actions each time: the chain ignores them
        sac.update(chain_batch(seed=step), metrics=False)
    batch = chain_batch(seed=-1)
    with torch.no_grad():
        q = sac.critic(batch.observations, batch.actions).mean(dim=0).double()
    expected = value(chain_rows()["start"])
    assert (q - expected).abs().max().item() < 0.025
