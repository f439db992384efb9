"""RECAP (`algo=recap`): the value's targets, the advantage labels, label dropout, the
classifier-free guidance of a labelled flow, and one update end to end on a small batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from userl.algorithms.advantage_labels import QuantileLabeller
from userl.algorithms.recap import Recap, RecapConfig, drop_labels, with_decisions
from userl.algorithms.recap_value import monte_carlo_returns, n_step_return, two_hot
from userl.config.loader import load_config
from userl.core.errors import ConfigError
from userl.core.specs import ObservationSpec
from userl.core.types import Batch, Episode
from userl.policies.advantage_label import (
    NEGATIVE,
    NONE,
    POSITIVE,
    LabelledVelocity,
    guided_velocity,
    with_labels,
)
from userl.policies.flow import FlowGPolicy, FlowGPolicyConfig

STATE_DIM = 5
ACTION_DIM = 3


def decision_batch(
    rewards: list[list[float]], steps: list[int], terminated: list[float], intervened=None
) -> Batch:
    rows = len(steps)
    state = torch.arange(rows * STATE_DIM, dtype=torch.float32).view(rows, STATE_DIM) / 10
    return Batch(
        observations={"state": state},
        actions=torch.zeros(rows, ACTION_DIM),
        rewards=torch.tensor([r[0] for r in rewards], dtype=torch.float32),
        next_observations={"state": state + 1},
        terminated=torch.tensor(terminated, dtype=torch.float32),
        intervened=torch.tensor(intervened or [0.0] * rows, dtype=torch.float32),
        chunk_steps=torch.tensor(steps, dtype=torch.float32),
        chunk_rewards=torch.tensor(rewards, dtype=torch.float32),
    )


def test_n_step_returns_cost_each_step_penalise_failure_and_stay_in_range() -> None:
    batch = decision_batch(
        rewards=[[0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]],
        steps=[3, 2, 2, 1, 2],
        terminated=[0, 1, 1, 0, 0],
    )
    next_value = torch.tensor([-0.5, -0.9, -0.9, -0.95, -0.5])
    returns = n_step_return(batch, next_value, 1.0, 10, 0.5, 0.5)
    # running on: 3 costs + V; success: 2 costs, no bootstrap; failure: 2 costs + the
    # penalty; below -1: clipped; the third reward of a k=2 row is not counted
    assert returns.tolist() == pytest.approx([-0.8, -0.2, -0.7, -1.0, -0.7])
    discounted = n_step_return(batch, next_value, 0.9, 10, 0.5, 0.5)
    assert discounted[0].item() == pytest.approx(-0.1 * (1 + 0.9 + 0.81) - 0.729 * 0.5)


def test_two_hot_keeps_the_value_as_its_mean() -> None:
    support = torch.linspace(-1, 0, 11)
    values = torch.tensor([-1.0, -0.55, -0.3, 0.0])
    weights = two_hot(values, support)
    assert weights.sum(-1).tolist() == pytest.approx([1.0] * 4)
    assert (weights @ support).tolist() == pytest.approx(values.tolist(), abs=1e-6)
    assert int((weights[1] > 0).sum()) == 2


def test_labels_of_a_hand_made_episode_set() -> None:
    """Known returns and a known V give a known positive set; a corrected chunk is positive
    whatever its advantage, unless corrections are labelled like any chunk (the ablation)."""
    returns = torch.tensor([-0.2, -0.4, -0.6, -0.8, -0.3, -0.9, -0.5, -0.7, -0.1, -1.0])
    value = torch.full((10,), -0.5)
    advantages = returns - value  # 0.3 0.1 -0.1 -0.3 0.2 -0.4 0 -0.2 0.4 -0.5
    corrected = torch.zeros(10)
    corrected[5] = 1.0  # the worst chunk but one, corrected by a person
    tasks = torch.zeros(10, dtype=torch.long)
    labeller = QuantileLabeller(1, 64, 0.7, True, "cpu")
    labels = labeller.labels(advantages, tasks, corrected)
    # the 0.7 quantile of the ten advantages is 0.13: above it rows 0, 4 and 8
    assert torch.nonzero(labels == POSITIVE).flatten().tolist() == [0, 4, 5, 8]
    assert set(labels.tolist()) <= {POSITIVE, NEGATIVE}
    ablation = QuantileLabeller(1, 64, 0.7, False, "cpu").labels(advantages, tasks, corrected)
    assert torch.nonzero(ablation == POSITIVE).flatten().tolist() == [0, 4, 8]


def test_each_task_is_judged_against_its_own_advantages() -> None:
    labeller = QuantileLabeller(2, 64, 0.5, True, "cpu")
    advantages = torch.tensor([0.1, 0.2, 0.3, 0.4, -0.4, -0.3, -0.2, -0.1])
    tasks = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    labels = labeller.labels(advantages, tasks, torch.zeros(8))
    # each task's upper half, though every advantage of task 1 is below every one of task 0
    assert labels.tolist() == [0, 0, 1, 1, 0, 0, 1, 1]


def test_the_window_keeps_the_newest_advantages() -> None:
    labeller = QuantileLabeller(1, 4, 0.5, True, "cpu")
    tasks = torch.zeros(6, dtype=torch.long)
    labeller.remember(torch.tensor([9.0, 9.0, 1.0, 2.0, 3.0, 4.0]), tasks)
    assert sorted(labeller.advantages[0].tolist()) == [1.0, 2.0, 3.0, 4.0]
    assert labeller.thresholds().tolist() == [2.5]


def test_label_dropout_drops_at_its_rate_and_never_at_zero() -> None:
    torch.manual_seed(0)
    labels = torch.tensor([POSITIVE, NEGATIVE] * 10_000)
    assert torch.equal(drop_labels(labels, 0.0), labels)
    assert bool((drop_labels(labels, 1.0) == NONE).all())
    shown = drop_labels(labels, 0.3)
    assert (shown == NONE).float().mean().item() == pytest.approx(0.3, abs=0.02)
    kept = shown != NONE
    assert torch.equal(shown[kept], labels[kept])


def labelled_field(guidance: float) -> LabelledVelocity:
    torch.manual_seed(1)
    policy = FlowGPolicy(
        FlowGPolicyConfig(hidden_dims=[16], advantage_labels=True, guidance=guidance),
        ObservationSpec(STATE_DIM),
        ACTION_DIM,
    )
    assert isinstance(policy.velocity, LabelledVelocity)
    torch.nn.init.normal_(policy.velocity.embedding.weight)  # as if trained
    return policy.velocity


def test_guidance_weight_one_is_the_positive_labels_velocity() -> None:
    field = labelled_field(1.0)
    features, actions, t = torch.randn(4, STATE_DIM), torch.randn(4, ACTION_DIM), torch.rand(4, 1)
    positive = with_labels(features, torch.full((4,), POSITIVE))
    acting, _ = field(features, actions, t)
    assert torch.equal(acting, field(positive, actions, t)[0])
    assert torch.equal(guided_velocity(torch.zeros(2), torch.ones(2), 1.0), torch.ones(2))


def test_guidance_extrapolates_from_the_unconditioned_velocity() -> None:
    field = labelled_field(2.5)
    features, actions, t = torch.randn(4, STATE_DIM), torch.randn(4, ACTION_DIM), torch.rand(4, 1)
    v_pos, _ = field(with_labels(features, torch.full((4,), POSITIVE)), actions, t)
    v_none, _ = field(with_labels(features, torch.full((4,), NONE)), actions, t)
    acting, _ = field(features, actions, t)
    assert torch.allclose(acting, v_none + 2.5 * (v_pos - v_none), atol=1e-6)
    assert not torch.allclose(v_pos, v_none)  # the label is read


def test_a_fresh_label_embedding_changes_nothing() -> None:
    policy = FlowGPolicy(
        FlowGPolicyConfig(hidden_dims=[16], advantage_labels=True, guidance=3.0),
        ObservationSpec(STATE_DIM),
        ACTION_DIM,
    )
    features, actions, t = torch.randn(4, STATE_DIM), torch.randn(4, ACTION_DIM), torch.rand(4, 1)
    negative = with_labels(features, torch.full((4,), NEGATIVE))
    assert torch.allclose(
        policy.velocity(features, actions, t)[0], policy.velocity(negative, actions, t)[0]
    )


def small_recap(**fields: object) -> Recap:
    algo = RecapConfig(
        value_hidden_dims=[16],
        value_bins=11,
        advantage_steps=3,
        relabel_every_updates=2,
        **fields,  # type: ignore[arg-type]
    )
    policy = FlowGPolicyConfig(hidden_dims=[16], advantage_labels=True)
    return Recap(algo, policy, ObservationSpec(STATE_DIM), ACTION_DIM)


def test_updates_train_value_and_policy_and_relabel_on_schedule() -> None:
    torch.manual_seed(2)
    recap = small_recap()
    assert recap.label_chunk_steps == 3  # the buffers keep 3-step decisions
    batch = decision_batch(
        rewards=[[0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]],
        steps=[3, 2, 2, 1],
        terminated=[0, 1, 1, 0],
        intervened=[0, 0, 0, 1],
    )
    batch.actions = torch.rand(4, ACTION_DIM) * 2 - 1
    versions = []
    for _ in range(5):
        metrics = recap.update(batch)
        versions.append(metrics["recap/label_version"])
    assert versions == [0, 0, 2, 2, 4]
    assert metrics["recap/label_age_updates"] == 1
    assert 0 < metrics["recap/positive_fraction"] <= 1
    assert "recap/value_terminal_error" in metrics  # two rows reach their terminal
    assert "recap/value_calibration_error" not in metrics  # no episode observed yet
    assert recap.grad_steps == 5
    copy = small_recap()
    copy.load_state_dict(recap.state_dict())
    assert copy.label_version == 4
    assert torch.equal(copy.labeller.advantages, recap.labeller.advantages)


def test_single_step_batches_get_one_step_decisions() -> None:
    batch = Batch(
        observations={"state": torch.zeros(2, STATE_DIM)},
        actions=torch.zeros(2, ACTION_DIM),
        rewards=torch.tensor([0.0, 1.0]),
        next_observations={"state": torch.zeros(2, STATE_DIM)},
        terminated=torch.tensor([0.0, 1.0]),
        intervened=torch.zeros(2),
    )
    decided = with_decisions(batch)
    assert decided.chunk_steps.tolist() == [1.0, 1.0]
    assert decided.chunk_rewards.tolist() == [[0.0], [1.0]]


def test_the_loader_turns_the_labels_on_and_refuses_what_cannot_work() -> None:
    config = load_config(["algo=recap", "policy=flow_g"])
    assert config.policy.advantage_labels is True
    assert load_config(["algo=hg_dagger", "policy=flow_g"]).policy.advantage_labels is False
    with pytest.raises(ConfigError, match="policy.advantage_labels=true"):
        load_config(["algo=recap", "policy=flow_t", "policy.advantage_labels=false"])
    with pytest.raises(ConfigError, match="learner.devices=1"):
        load_config(["algo=recap", "policy=flow_g", "learner.devices=2"])
    with pytest.raises(ConfigError, match="policy.guidance=2 .*algo=recap"):
        load_config(["algo=hg_dagger", "policy=flow_g", "policy.guidance=2"])
    with pytest.raises(ConfigError, match="algo.positive_quantile"):
        load_config(["algo=recap", "policy=flow_g", "algo.positive_quantile=1.0"])


def test_a_chunked_flow_learns_from_its_chunks_with_n_the_chunk() -> None:
    torch.manual_seed(3)
    algo = RecapConfig(value_hidden_dims=[16], value_bins=11, advantage_steps=7)
    policy = FlowGPolicyConfig(hidden_dims=[16], advantage_labels=True, chunk_size=3)
    recap = Recap(algo, policy, ObservationSpec(STATE_DIM), ACTION_DIM)
    assert recap.label_chunk_steps == 3  # a chunk start's return covers the chunk
    batch = decision_batch(
        rewards=[[0, 0, 0], [0, 1, 0]], steps=[3, 2], terminated=[0, 1], intervened=[0, 1]
    )
    batch.action_chunks = torch.rand(2, 3, ACTION_DIM) * 2 - 1
    batch.action_chunk_mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    before = {k: v.clone() for k, v in recap.policy.state_dict().items()}
    metrics = recap.update(batch)
    assert metrics["train/bc_loss"] > 0
    after = recap.policy.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    chunk = recap.policy.act({"state": torch.zeros(1, STATE_DIM)}, deterministic=True)
    assert chunk.shape == (1, 3, ACTION_DIM)


def test_monte_carlo_returns_match_the_n_step_targets_definition() -> None:
    rewards = np.array([0.0, 0.0, 0.0, 1.0], np.float32)
    success = monte_carlo_returns(rewards, False, 1.0, 10, 0.5)
    assert success.tolist() == pytest.approx([-0.4, -0.3, -0.2, -0.1])
    failure = monte_carlo_returns(np.zeros(4, np.float32), True, 1.0, 10, 0.5)
    assert failure.tolist() == pytest.approx([-0.9, -0.8, -0.7, -0.6])
    assert monte_carlo_returns(np.zeros(4, np.float32), True, 1.0, 10, 0.8)[0] == -1.0
    discounted = monte_carlo_returns(np.zeros(2, np.float32), True, 0.9, 10, 0.5)
    assert discounted.tolist() == pytest.approx([-0.1 + 0.9 * -0.6, -0.6])
    # one step's n-step target at a terminal is the Monte-Carlo return there
    batch = decision_batch(rewards=[[0.0]], steps=[1], terminated=[1.0])
    target = n_step_return(batch, torch.zeros(1), 1.0, 10, 0.5, 0.5)
    assert target.item() == pytest.approx(failure[-1])


def episode(length: int, terminated: bool, success: bool) -> Episode:
    rewards = np.zeros(length, np.float32)
    rewards[-1] = 1.0 if success else 0.0
    flags = np.zeros(length, bool)
    flags[-1] = terminated
    return Episode(
        robot_id="r",
        task="t",
        observations={"state": np.random.rand(length + 1, STATE_DIM).astype(np.float32)},
        actions=np.zeros((length, ACTION_DIM), np.float32),
        policy_actions=np.zeros((length, ACTION_DIM), np.float32),
        rewards=rewards,
        terminated=flags,
        truncated=~flags,
        intervened=np.zeros(length, bool),
        policy_versions=np.zeros(length, np.int64),
        success=success,
    )


def test_calibration_is_measured_on_episodes_that_ended_in_a_terminal() -> None:
    recap = small_recap(calibration_states=5, return_horizon_steps=10)
    recap.observe_episode(episode(4, terminated=False, success=False))  # the time limit
    assert recap.calibration.size == 0
    recap.observe_episode(episode(4, terminated=True, success=True))
    assert recap.calibration.returns[:4].tolist() == pytest.approx([-0.4, -0.3, -0.2, -0.1])
    recap.observe_episode(episode(3, terminated=True, success=False))
    assert recap.calibration.size == 5  # the newest five states
    values = recap.value({"state": torch.as_tensor(recap.calibration.states)})
    expected = (values - torch.as_tensor(recap.calibration.returns)).abs().mean().item()
    assert recap.calibration.error(recap.value, recap.device) == pytest.approx(expected)
