"""SAC Flow: flow policies' rollout likelihood, gradients, gate initialisation, SAC updates."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal

from userl.algorithms import build_algorithm
from userl.algorithms.sac_flow import SACFlow, SACFlowConfig
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies import build_policy
from userl.policies.flow import FlowGPolicyConfig, FlowPolicy, FlowTPolicyConfig
from userl.policies.mlp import MLPPolicyConfig

torch.set_num_threads(1)

STATE_DIM, ACTION_DIM = 4, 2
CONFIGS = {
    "flow_g": FlowGPolicyConfig(hidden_dims=[16, 16], flow_steps=3),
    "flow_t": FlowTPolicyConfig(
        d_model=16, num_heads=2, num_layers=1, feedforward_dim=32, context_tokens=2, flow_steps=3
    ),
}


def make(name: str, seed: int = 0) -> FlowPolicy:
    torch.manual_seed(seed)
    policy = build_policy(CONFIGS[name], ObservationSpec(STATE_DIM), ACTION_DIM)
    assert isinstance(policy, FlowPolicy)
    return policy


def obs(batch: int = 6) -> dict[str, torch.Tensor]:
    return {"state": torch.randn(batch, STATE_DIM, generator=torch.Generator().manual_seed(1))}


@pytest.mark.parametrize("name", CONFIGS)
def test_log_prob_matches_brute_force_path_likelihood(name):
    policy = make(name)
    features = obs()["state"]
    torch.manual_seed(4)
    pre_tanh, log_prob, path = policy.rollout(features, noise=True)
    assert len(path) == policy.steps + 1 and torch.equal(path[-1], pre_tanh)
    expected = Normal(0.0, 1.0).log_prob(path[0]).sum(-1)
    for i in range(policy.steps):  # each step, re-evaluated by hand
        t = torch.full((features.shape[0], 1), i / policy.steps)
        velocity, raw = policy.velocity(features, path[i], t)
        log_std = policy.log_std_min + 0.5 * (policy.log_std_max - policy.log_std_min) * (
            torch.tanh(raw) + 1
        )
        mean = path[i] + velocity / policy.steps
        expected = expected + Normal(mean, log_std.exp()).log_prob(path[i + 1]).sum(-1)
    expected = expected - torch.log(1 - torch.tanh(pre_tanh) ** 2).sum(-1)
    torch.testing.assert_close(log_prob, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", CONFIGS)
def test_log_prob_finite_and_gradients_reach_log_std_and_velocity(name):
    policy = make(name)
    actions, log_prob = policy.sample(obs(32))
    assert actions.shape == (32, ACTION_DIM) and actions.abs().max() <= 1
    assert torch.isfinite(log_prob).all() and log_prob.requires_grad  # not detached
    log_prob.mean().backward()
    log_std_head = policy.velocity.log_std
    assert log_std_head.weight.grad is not None and log_std_head.weight.grad.abs().sum() > 0
    velocity_grads = [
        p.grad for n, p in policy.velocity.named_parameters() if not n.startswith("log_std")
    ]
    assert any(g is not None and g.abs().sum() > 0 for g in velocity_grads)
    assert all(torch.isfinite(p.grad).all() for p in policy.parameters() if p.grad is not None)


def test_flow_g_gate_starts_open():
    policy = make("flow_g")
    hidden = policy.velocity.trunk(torch.randn(5, STATE_DIM + ACTION_DIM + 1))
    gate = torch.sigmoid(policy.velocity.gate(hidden))
    torch.testing.assert_close(gate, torch.full_like(gate, 1 / (1 + math.exp(-5.0))))
    assert gate.mean().item() == pytest.approx(0.993, abs=1e-3)


@pytest.mark.parametrize("name", CONFIGS)
def test_deterministic_act_is_repeatable_and_bounded(name):
    policy = make(name)
    first, second = policy.act(obs(), True), policy.act(obs(), True)
    assert first.shape == (6, 1, ACTION_DIM) and torch.equal(first, second)
    assert first.abs().max() <= 1


def test_flow_t_action_token_attends_to_state():
    policy = make("flow_t")
    a = policy.act({"state": torch.zeros(1, STATE_DIM)}, True)
    b = policy.act({"state": torch.ones(1, STATE_DIM)}, True)
    assert not torch.allclose(a, b)


@pytest.mark.parametrize("name", CONFIGS)
def test_flow_matching_loss_decreases(name):
    policy = make(name)
    optim = torch.optim.Adam(policy.parameters(), lr=3e-3)
    states = obs(64)
    targets = torch.tanh(states["state"][:, :ACTION_DIM])
    torch.manual_seed(0)
    losses = []
    for _ in range(150):
        loss = policy.imitation_loss(states, targets)
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) / 10 < 0.5 * sum(losses[:10]) / 10


@pytest.mark.parametrize("name", CONFIGS)
def test_sac_flow_updates_all_parts(name):
    torch.manual_seed(0)
    algo = SACFlowConfig(num_critics=4, critic_hidden_dims=[16])
    sac = build_algorithm(algo, CONFIGS[name], ObservationSpec(STATE_DIM), ACTION_DIM)
    assert isinstance(sac, SACFlow)
    g = torch.Generator().manual_seed(2)
    batch = Batch(
        {"state": torch.randn(32, STATE_DIM, generator=g)},
        torch.rand(32, ACTION_DIM, generator=g) * 2 - 1,
        torch.randn(32, generator=g),
        {"state": torch.randn(32, STATE_DIM, generator=g)},
        torch.zeros(32),
        torch.zeros(32),
    )
    before = [p.clone() for p in sac.policy.parameters()]
    metrics = sac.update(batch)
    assert all(math.isfinite(v) for v in metrics.values())
    changed = [not torch.equal(b, p) for b, p in zip(before, sac.policy.parameters(), strict=True)]
    assert all(changed)


def test_sac_flow_rejects_a_gaussian_policy():
    gaussian = MLPPolicyConfig(hidden_dims=[8])
    with pytest.raises(ValueError, match="flow policy"):
        build_algorithm(SACFlowConfig(), gaussian, ObservationSpec(STATE_DIM), ACTION_DIM)
