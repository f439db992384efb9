"""MLP policy: shapes, bounds, the tanh-Gaussian log-probability, deterministic actions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from userl.core.registry import UnknownNameError
from userl.core.specs import ObservationSpec
from userl.policies import act_numpy, build_policy, observation_to_torch
from userl.policies.mlp import MLPPolicyConfig

torch.set_num_threads(1)  # small nets: one thread is faster and never oversubscribes

STATE_DIM, ACTION_DIM = 25, 7


@pytest.fixture
def policy():
    torch.manual_seed(0)
    return build_policy(
        MLPPolicyConfig(hidden_dims=[32, 32]), ObservationSpec(STATE_DIM), ACTION_DIM
    )


def obs(batch: int = 5) -> dict[str, torch.Tensor]:
    return {"state": 3.0 * torch.randn(batch, STATE_DIM)}


def test_act_shapes_and_bounds(policy):
    for deterministic in (True, False):
        chunk = policy.act(obs(), deterministic)
        assert chunk.shape == (5, 1, ACTION_DIM)
        assert chunk.abs().max() <= 1.0


def test_sample_shapes_and_finite_log_prob(policy):
    actions, log_prob = policy.sample(obs(64))
    assert actions.shape == (64, ACTION_DIM) and log_prob.shape == (64,)
    assert torch.isfinite(log_prob).all()
    assert actions.abs().max() <= 1.0


def test_log_prob_matches_manual_tanh_gaussian(policy):
    o = obs(16)
    torch.manual_seed(3)
    actions, log_prob = policy.sample(o)
    torch.manual_seed(3)
    mean, log_std = policy.distribution(o)
    u = mean + log_std.exp() * torch.randn_like(mean)
    normal = torch.distributions.Normal(mean.double(), log_std.exp().double())
    manual = (normal.log_prob(u.double()) - torch.log1p(-(torch.tanh(u.double()) ** 2))).sum(-1)
    torch.testing.assert_close(actions, torch.tanh(u))
    torch.testing.assert_close(log_prob.double(), manual, rtol=1e-4, atol=1e-4)


def test_log_std_within_config_bounds(policy):
    _, log_std = policy.distribution({"state": 1e3 * torch.randn(100, STATE_DIM)})
    assert log_std.min() >= -5.0 and log_std.max() <= 2.0


def test_deterministic_act_is_tanh_of_mean(policy):
    o = obs()
    mean, _ = policy.distribution(o)
    torch.testing.assert_close(policy.act(o, deterministic=True)[:, 0], torch.tanh(mean))


def test_gradients_flow_through_sample(policy):
    _, log_prob = policy.sample(obs())
    actions, _ = policy.sample(obs())
    (actions.sum() + log_prob.sum()).backward()
    assert all(p.grad is not None for p in policy.parameters())


def test_fast_tanh_matches_torch_tanh():
    from userl.policies.networks import FastTanh

    x = torch.linspace(-20, 20, 1001, dtype=torch.float32, requires_grad=True)
    y = FastTanh()(x)
    torch.testing.assert_close(y, torch.tanh(x), atol=1e-6, rtol=0)
    (grad,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(grad, 1 - torch.tanh(x) ** 2, atol=1e-6, rtol=0)


def test_numpy_observation_helpers(policy):
    single = {"state": np.zeros(STATE_DIM, np.float64), "front": np.zeros((8, 8, 3), np.uint8)}
    tensors = observation_to_torch(single)
    assert tensors["state"].shape == (1, STATE_DIM) and tensors["state"].dtype == torch.float32
    assert tensors["front"].shape == (1, 8, 8, 3) and tensors["front"].dtype == torch.uint8
    assert act_numpy(policy, single, deterministic=True).shape == (1, ACTION_DIM)
    batched = {"state": np.zeros((4, STATE_DIM), np.float32)}
    assert act_numpy(policy, batched).shape == (4, 1, ACTION_DIM)


def test_unknown_policy_name_lists_known():
    with pytest.raises(UnknownNameError, match="mlp"):
        build_policy(MLPPolicyConfig(name="nope"), ObservationSpec(STATE_DIM), ACTION_DIM)
