"""SAC / RLPD: ensemble forward, target subset, losses, temperature, checkpoints, ratios."""

from __future__ import annotations

import copy

import pytest
import torch

from tests.sac_models import ACTION_DIM, BATCH, make_batch, make_sac
from userl.algorithms import build_algorithm
from userl.algorithms.sac import SACConfig
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies.mlp import MLPPolicyConfig

torch.set_num_threads(1)  # small nets: one thread is faster and never oversubscribes


@pytest.mark.parametrize("layer_norm", [True, False])
def test_ensemble_forward_equals_per_head_forward(layer_norm):
    sac = make_sac(critic_layer_norm=layer_norm)
    batch = make_batch()
    with torch.no_grad():  # give the LayerNorm affine parameters non-trivial values
        for p in sac.critic.parameters():
            p.add_(0.1 * torch.randn_like(p))
    q_all = sac.critic(batch.observations, batch.actions)
    per_head = torch.stack(
        [
            sac.critic.forward_head(i, batch.observations, batch.actions)
            for i in range(sac.critic.num_heads)
        ]
    )
    torch.testing.assert_close(q_all, per_head, rtol=1e-5, atol=1e-5)
    heads = torch.tensor([3, 1])
    torch.testing.assert_close(
        sac.critic(batch.observations, batch.actions, heads), per_head[heads], rtol=1e-5, atol=1e-5
    )


def test_target_subset_drawn_without_replacement(monkeypatch):
    calls = []
    real_randperm = torch.randperm

    def spy(n, *args, **kwargs):
        calls.append(n)
        return real_randperm(n, *args, **kwargs)

    monkeypatch.setattr(torch, "randperm", spy)
    sac = make_sac(num_critics=10, critic_subset=3)
    batch = make_batch()
    drawn = set()
    for _ in range(20):
        sac.update(batch)
        heads = sac.last_target_heads.tolist()
        assert len(heads) == 3 and len(set(heads)) == 3 and all(0 <= h < 10 for h in heads)
        drawn.add(tuple(heads))
    assert calls == [10] * 20  # one permutation of all heads per update
    assert len(drawn) > 1  # a fresh subset each update


def test_target_is_min_over_drawn_subset():
    sac = make_sac(gamma=0.9, backup_entropy=False)
    batch = make_batch()
    torch.manual_seed(5)
    _, info = sac.critic_loss(batch)
    heads = sac.last_target_heads
    torch.manual_seed(5)
    with torch.no_grad():
        next_a, _ = sac.policy.sample(batch.next_observations)
        q = (
            torch.stack(
                [
                    sac.target_critic.forward_head(int(h), batch.next_observations, next_a)
                    for h in heads
                ]
            )
            .min(0)
            .values
        )
        target = batch.rewards + 0.9 * (1 - batch.terminated) * q
    assert info["train/target_q"] == pytest.approx(target.mean().item(), rel=1e-5, abs=1e-6)


def test_actor_loss_uses_ensemble_mean():
    sac = make_sac(init_temperature=0.3)
    batch = make_batch()
    torch.manual_seed(7)
    loss, _ = sac.actor_loss(batch)
    torch.manual_seed(7)
    actions, log_prob = sac.policy.sample(batch.observations)
    q_mean = torch.stack(
        [
            sac.critic.forward_head(i, batch.observations, actions)
            for i in range(sac.critic.num_heads)
        ]
    ).mean(0)
    expected = (0.3 * log_prob - q_mean).mean()
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-5)


def test_actor_loss_does_not_touch_critic_gradients():
    sac = make_sac()
    loss, _ = sac.actor_loss(make_batch())
    loss.backward()
    assert all(p.grad is None for p in sac.critic.parameters())
    assert all(p.grad is not None for p in sac.policy.parameters())


def test_critic_loss_decreases_on_fixed_batch():
    sac = make_sac(critic_lr=1e-3)
    batch = make_batch()
    first = sac.update(batch)["train/critic_loss"]
    for _ in range(200):
        last = sac.update(batch)["train/critic_loss"]
    assert last < 0.5 * first


@pytest.mark.parametrize("target_entropy, direction", [(50.0, 1), (-50.0, -1)])
def test_temperature_moves_toward_target_entropy(target_entropy, direction):
    sac = make_sac(init_temperature=0.1, target_entropy=target_entropy, temperature_lr=1e-2)
    batch = make_batch()
    before = sac.temperature.item()
    for _ in range(20):
        sac.update(batch)
    assert (sac.temperature.item() - before) * direction > 0


def test_default_target_entropy_is_minus_half_action_dim():
    assert make_sac().target_entropy == -ACTION_DIM / 2


def test_critic_actor_ratio_updates_actor_every_k_steps():
    sac = make_sac(critic_actor_ratio=3)
    batch = make_batch()
    actor_changed = []
    for _ in range(7):
        before = [p.clone() for p in sac.policy.parameters()]
        metrics = sac.update(batch)
        changed = any(
            not torch.equal(b, p) for b, p in zip(before, sac.policy.parameters(), strict=True)
        )
        actor_changed.append(changed)
        assert ("train/actor_loss" in metrics) == changed
    assert actor_changed == [True, False, False, True, False, False, True]
    assert sac.grad_steps == 7 and sac.actor_steps == 3


def test_state_dict_round_trip_reproduces_training():
    sac = make_sac(seed=0)
    batch = make_batch()
    for _ in range(5):
        sac.update(batch)
    state = copy.deepcopy(sac.state_dict())
    other = make_sac(seed=123)
    other.load_state_dict(state)
    assert other.grad_steps == 5 and other.actor_steps == 5
    obs = batch.observations
    torch.testing.assert_close(other.policy.act(obs, True), sac.policy.act(obs, True))
    torch.testing.assert_close(other.critic(obs, batch.actions), sac.critic(obs, batch.actions))
    torch.testing.assert_close(
        other.target_critic(obs, batch.actions), sac.target_critic(obs, batch.actions)
    )
    # Same optimiser moments and temperature: one more step lands on identical weights.
    torch.manual_seed(9)
    sac.update(batch)
    torch.manual_seed(9)
    other.update(batch)
    for a, b in zip(
        sac.state_dict()["critic"].values(), other.state_dict()["critic"].values(), strict=True
    ):
        torch.testing.assert_close(a, b)
    for a, b in zip(sac.policy.parameters(), other.policy.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert sac.temperature.item() == pytest.approx(other.temperature.item())


def test_policy_state_dict_holds_only_policy_tensors_on_cpu():
    sac = make_sac()
    weights = sac.policy_state_dict()
    assert set(weights) == {name for name, _ in sac.policy.named_parameters()}
    assert all(t.device.type == "cpu" and not t.requires_grad for t in weights.values())


def test_invalid_subset_is_a_config_problem():
    """The loader refuses it (exit 2, one line); SAC itself trusts its validated config."""
    problem = SACConfig(num_critics=2, critic_subset=3).problem()
    assert problem is not None and "algo.critic_subset" in problem


def test_grad_clipping_runs():
    sac = make_sac(grad_clip_norm=0.5)
    metrics = sac.update(make_batch())
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())


def test_learns_a_one_step_bandit():
    """1-D bandit: the reward peaks at action 0.5 * sign(state); episodes last one step."""
    torch.manual_seed(0)
    algo = SACConfig(
        num_critics=2,
        critic_hidden_dims=[32, 32],
        init_temperature=1e-3,
        actor_lr=3e-3,
        critic_lr=3e-3,
    )
    sac = build_algorithm(algo, MLPPolicyConfig(hidden_dims=[32, 32]), ObservationSpec(1), 1)
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        state = torch.randn(BATCH, 1, generator=g)
        actions = torch.rand(BATCH, 1, generator=g) * 2 - 1
        rewards = -((actions - 0.5 * torch.sign(state)) ** 2).sum(-1)
        sac.update(
            Batch(
                {"state": state},
                actions,
                rewards,
                {"state": state},
                torch.ones(BATCH),
                torch.zeros(BATCH),
            )
        )
    chosen = sac.policy.act({"state": torch.tensor([[1.0], [-1.0]])}, deterministic=True)
    torch.testing.assert_close(chosen[:, 0, 0], torch.tensor([0.5, -0.5]), atol=0.25, rtol=0)


def test_layer_norm_sits_between_each_hidden_linear_and_its_activation():
    """One head equals Linear -> LayerNorm -> tanh (per hidden layer) -> Linear, built from
    torch.nn modules with that head's weights; no LayerNorm on the output."""
    sac = make_sac(critic_layer_norm=True)
    net, head = sac.critic.net, 3
    with torch.no_grad():
        for scale, shift in zip(net.norm_scales, net.norm_shifts, strict=True):
            scale.uniform_(0.5, 1.5)
            shift.uniform_(-0.5, 0.5)
    layers: list[torch.nn.Module] = []
    for index, weight in enumerate(net.weights):
        linear = torch.nn.Linear(*weight.shape[1:])
        linear.weight.data = weight[head].detach().T.clone()
        linear.bias.data = net.biases[index][head, 0].detach().clone()
        layers.append(linear)
        if index < len(net.norm_scales):
            norm = torch.nn.LayerNorm(weight.shape[2])
            norm.weight.data = net.norm_scales[index][head, 0].detach().clone()
            norm.bias.data = net.norm_shifts[index][head, 0].detach().clone()
            layers += [norm, torch.nn.Tanh()]
    reference = torch.nn.Sequential(*layers)
    x = torch.randn(16, net.weights[0].shape[1])
    torch.testing.assert_close(net(x)[head], reference(x), rtol=1e-5, atol=1e-5)
