"""HG-DAgger: the imitation loss of Gaussian and flow policies goes down on a fixed batch; robots
get the moving average of the weights when asked."""

from __future__ import annotations

import copy

import pytest
import torch

from userl.algorithms import build_algorithm
from userl.algorithms.hg_dagger import HGDAgger, HGDAggerConfig
from userl.config.loader import load_config
from userl.core.errors import ConfigError
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies.flow import FlowGPolicyConfig, FlowTPolicyConfig
from userl.policies.mlp import MLPPolicyConfig

torch.set_num_threads(1)

STATE_DIM, ACTION_DIM, BATCH = 6, 3, 64
POLICIES = {
    "mlp": MLPPolicyConfig(hidden_dims=[32, 32]),
    "flow_g": FlowGPolicyConfig(hidden_dims=[32, 32]),
    "flow_t": FlowTPolicyConfig(
        d_model=16, num_heads=2, num_layers=1, feedforward_dim=32, context_tokens=2
    ),
}


def make(policy: str, seed: int = 0, ema_decay: float = 0.0) -> HGDAgger:
    torch.manual_seed(seed)
    config = HGDAggerConfig(lr=3e-3, ema_decay=ema_decay)
    algo = build_algorithm(config, POLICIES[policy], ObservationSpec(STATE_DIM), ACTION_DIM)
    assert isinstance(algo, HGDAgger)
    return algo


def labelled_batch() -> Batch:
    g = torch.Generator().manual_seed(1)
    states = torch.randn(BATCH, STATE_DIM, generator=g)
    actions = torch.tanh(states[:, :ACTION_DIM] - 0.5 * states[:, ACTION_DIM:])  # the "human"
    return Batch(
        {"state": states},
        actions,
        torch.zeros(BATCH),
        {"state": states},
        torch.zeros(BATCH),
        torch.ones(BATCH),
    )


@pytest.mark.parametrize("policy", POLICIES)
def test_imitation_loss_decreases_on_fixed_batch(policy):
    algo = make(policy)
    batch = labelled_batch()
    losses = [algo.update(batch)["train/bc_loss"] for _ in range(200)]
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < first - 0.5 * abs(first), (first, last)
    assert algo.grad_steps == 200


def test_gaussian_policy_imitates_the_labels():
    algo = make("mlp")
    batch = labelled_batch()
    for _ in range(400):
        algo.update(batch)
    chosen = algo.policy.act(batch.observations, deterministic=True)[:, 0]
    assert (chosen - batch.actions).abs().mean() < 0.1


def test_state_dict_round_trip():
    algo = make("flow_g")
    batch = labelled_batch()
    for _ in range(3):
        algo.update(batch)
    other = make("flow_g", seed=7)
    other.load_state_dict(copy.deepcopy(algo.state_dict()))
    assert other.grad_steps == 3
    torch.testing.assert_close(
        other.policy.act(batch.observations, True), algo.policy.act(batch.observations, True)
    )


def trained_weights(algo: HGDAgger) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in algo.policy.named_parameters()}


def test_robots_get_the_moving_average_of_the_weights():
    algo, batch, decay = make("flow_g", ema_decay=0.9), labelled_batch(), 0.9
    expected = trained_weights(algo)
    for n in range(30):
        algo.update(batch)
        share = 1 - min(decay, (1 + n) / (algo.cfg.ema_warmup_updates + n))
        for name, weight in trained_weights(algo).items():
            expected[name] = expected[name] + share * (weight - expected[name])
    published, trained = algo.policy_state_dict(), trained_weights(algo)
    assert published.keys() == trained.keys()
    for name, tensor in published.items():
        torch.testing.assert_close(tensor, expected[name])
    assert any(not torch.allclose(published[name], trained[name]) for name in trained)


def test_without_the_average_robots_get_the_trained_weights():
    algo = make("flow_g")
    algo.update(labelled_batch())
    published = algo.policy_state_dict()
    for name, weight in trained_weights(algo).items():
        torch.testing.assert_close(published[name], weight, rtol=0, atol=0)


def test_the_average_survives_a_resume_and_starts_from_the_weights_when_new():
    algo, batch = make("flow_g", ema_decay=0.9), labelled_batch()
    for _ in range(5):
        algo.update(batch)
    resumed = make("flow_g", seed=7, ema_decay=0.9)
    resumed.load_state_dict(copy.deepcopy(algo.state_dict()))
    for name, tensor in algo.policy_state_dict().items():
        torch.testing.assert_close(resumed.policy_state_dict()[name], tensor, rtol=0, atol=0)
    plain = make("flow_g")
    plain.update(batch)
    switched_on = make("flow_g", seed=7, ema_decay=0.9)
    switched_on.load_state_dict(copy.deepcopy(plain.state_dict()))
    for name, weight in trained_weights(plain).items():
        torch.testing.assert_close(switched_on.policy_state_dict()[name], weight)


@pytest.mark.parametrize(
    "override", ["algo.ema_decay=1.0", "algo.ema_decay=-0.1", "algo.ema_warmup_updates=0"]
)
def test_an_impossible_average_is_a_config_error(override):
    with pytest.raises(ConfigError, match=override.split("=")[0]):
        load_config(["algo=hg_dagger", "policy=mlp", override])


def test_preset_draws_batches_only_from_the_aggregate():
    config = load_config(["algo=hg_dagger", "policy=mlp"])
    assert config.algo.name == "hg_dagger" and config.algo.demo_fraction == 1.0
