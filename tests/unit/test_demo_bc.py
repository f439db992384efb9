"""RLPD's optional Q-filtered behaviour cloning on demo rows (`algo.demo_bc_weight`), and the
samplers' `from_demos` marks it reads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tests.sac_models import ACTION_DIM, STATE_DIM, make_batch, make_sac
from userl.config.loader import ConfigError, load_config
from userl.core.specs import ObservationSpec
from userl.core.types import EpisodeBuilder
from userl.data.buffers import ReplayBuffer
from userl.data.samplers import BatchBuffers, SymmetricSampler, to_torch

torch.set_num_threads(1)
BEST_ACTION = 0.9  # the stand-in critic's best action, in every dimension


class QuadraticCritic(nn.Module):
    """Q(s, a) = -|a - BEST_ACTION|^2, one head: the Q filter's verdict is known."""

    def forward(self, obs, actions, heads=None, detach=False, features=None):
        return -(actions - BEST_ACTION).pow(2).sum(-1).unsqueeze(0)


def demo_batch(rows: int = 8):
    """Half demo rows: two at the critic's best action, two at its worst; half online."""
    batch = make_batch(batch=rows)
    batch.actions[0:2] = BEST_ACTION
    batch.actions[2:4] = -1.0  # valued below any action the policy can sample
    batch.from_demos = torch.tensor([1.0] * 4 + [0.0] * (rows - 4))
    return batch


def actor_loss(sac, batch) -> torch.Tensor:
    torch.manual_seed(7)  # the same policy samples in every call
    loss, _ = sac.actor_loss(batch)
    return loss


def test_the_q_filter_keeps_only_demo_actions_valued_above_the_policys() -> None:
    sac = make_sac(demo_bc_weight=2.0)
    sac.critic = QuadraticCritic()
    batch = demo_batch()
    with_bc = actor_loss(sac, batch)
    assert sac.demo_bc_kept == pytest.approx(0.5)  # rows 0 and 1 of the 4 demo rows
    sac.cfg.demo_bc_weight = 0.0
    without = actor_loss(sac, batch)
    torch.manual_seed(7)
    sampled, _ = sac.policy.sample(batch.observations)
    error = (sampled[0:2] - BEST_ACTION).pow(2).sum(-1).sum()
    torch.testing.assert_close(with_bc - without, 2.0 * error / 4)


def test_without_demo_rows_the_actor_loss_is_rlpds() -> None:
    sac = make_sac(demo_bc_weight=2.0)
    batch = demo_batch()
    batch.from_demos = torch.zeros(8)
    with_weight = actor_loss(sac, batch)
    sac.cfg.demo_bc_weight = 0.0
    torch.testing.assert_close(with_weight, actor_loss(sac, batch))


class FaintCritic(nn.Module):
    """A critic that barely prefers BEST_ACTION: alone, it hardly moves the policy."""

    def forward(self, obs, actions, heads=None, detach=False, features=None):
        return -1e-3 * (actions - BEST_ACTION).pow(2).sum(-1).unsqueeze(0)


def test_imitation_pulls_the_policy_toward_valued_demo_actions() -> None:
    """Under a critic whose preference is faint, a few actor steps with the filtered term
    move the policy's mean action on the demo states toward the demo action; without the
    term they hardly move it."""

    def mean_gap(weight: float) -> float:
        sac = make_sac(seed=3, demo_bc_weight=weight)
        sac.critic = FaintCritic()
        batch = demo_batch(rows=64)
        batch.actions[0:4] = BEST_ACTION
        batch.from_demos[:] = 0.0
        batch.from_demos[0:4] = 1.0
        for _ in range(200):
            loss, _ = sac.actor_loss(batch)
            sac._step(sac.actor_optim, loss, sac.actor_params)
        with torch.no_grad():
            mean, _ = sac.policy.distribution({"state": batch.observations["state"][0:4]})
        return float((torch.tanh(mean) - BEST_ACTION).abs().mean())

    with_term, without = mean_gap(5.0), mean_gap(0.0)
    assert with_term < 0.25 * without, (with_term, without)


def test_a_negative_weight_is_refused_by_the_loader() -> None:
    with pytest.raises(ConfigError, match="algo.demo_bc_weight"):
        load_config(["algo.demo_bc_weight=-1"])


def buffer_with(steps: int, action: float) -> ReplayBuffer:
    buffer = ReplayBuffer(100, ObservationSpec(STATE_DIM), ACTION_DIM)
    state = {"state": np.zeros(STATE_DIM, np.float32)}
    builder = EpisodeBuilder("robot_0", "t", state)
    for _ in range(steps):
        chosen = np.full(ACTION_DIM, action, np.float32)
        builder.add(
            action=chosen,
            policy_action=chosen,
            reward=0.0,
            next_observation=state,
            terminated=False,
            truncated=False,
            intervened=False,
            policy_version=0,
            success=False,
        )
    buffer.add_episode(builder.build())
    return buffer


@pytest.mark.parametrize("only_demos", [False, True])
def test_samplers_mark_the_rows_they_draw_from_demos(only_demos: bool) -> None:
    online, demos = buffer_with(20, 0.5), buffer_with(20, -0.5)
    sampler = (
        SymmetricSampler(demos, None, 0.0, only_demos=True)
        if only_demos
        else SymmetricSampler(online, demos, 0.25)
    )
    rng = np.random.default_rng(0)
    drawn = to_torch(sampler.sample(16, rng))
    filled = BatchBuffers(ObservationSpec(STATE_DIM), ACTION_DIM, 16).fill(sampler, rng)
    for batch in (drawn, filled):
        is_demo = batch.actions[:, 0] < 0  # the demo buffer's actions are -0.5
        torch.testing.assert_close(batch.from_demos, is_demo.float())
        assert int(batch.from_demos.sum()) == (16 if only_demos else 4)
