"""Decisions of k <= H steps in replay: k per transition (cut by an intervention or the
episode's end), their rewards, and s_{t+k} as the next observation (state and camera frame),
through sampling, saving and an old save without them; and the critic's target on a batch
drawn from such a buffer equals the chain MDP's closed-form Q."""

from __future__ import annotations

import numpy as np
import torch

from userl.algorithms.chunk_td import batch_td_target
from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import EpisodeBuilder
from userl.data.buffers import ReplayBuffer
from userl.data.samplers import BatchBuffers, SymmetricSampler, to_torch

HORIZON = 3
HUMAN = np.array([0, 0, 0, 1, 1, 0, 0, 0], bool)  # a person holds steps 3 and 4
EXPECTED_K = [3, 2, 1, 2, 1, 3, 2, 1]  # cut at the takeover, the let-go and the end
VIEW = ImageSpec("front", 4, 4)


def episode(rewards: np.ndarray, human: np.ndarray = HUMAN, terminal: bool = True):
    """Step t's observation holds t (state and every pixel); the last step ends the episode
    (terminal, or truncated)."""

    def observation(step: int) -> dict[str, np.ndarray]:
        return {
            "state": np.full(1, step, np.float32),
            "front": np.full((4, 4, 3), step, np.uint8),
        }

    builder = EpisodeBuilder("r0", "t", observation(0))
    last = len(rewards) - 1
    for step, reward in enumerate(rewards):
        builder.add(
            action=np.full(1, step / 10, np.float32),
            policy_action=np.zeros(1, np.float32),
            reward=float(reward),
            next_observation=observation(step + 1),
            terminated=terminal and step == last,
            truncated=not terminal and step == last,
            intervened=bool(human[step]),
            policy_version=0,
            success=False,
        )
    return builder.build()


def filled(capacity: int = 32, **kwargs) -> ReplayBuffer:
    buffer = ReplayBuffer(capacity, ObservationSpec(1, (VIEW,)), 1, label_chunk_steps=HORIZON)
    buffer.add_episode(episode(np.arange(1.0, 9.0)), **kwargs)
    return buffer


def test_each_transition_is_its_decision_of_k_steps():
    rows = filled().gather(np.arange(8))
    assert rows["chunk_steps"].tolist() == EXPECTED_K
    ends = np.arange(8) + np.array(EXPECTED_K)
    assert rows["next_observations"]["state"][:, 0].tolist() == ends.tolist()
    assert rows["next_observations"]["front"][:, 0, 0, 0].tolist() == ends.tolist()
    assert rows["observations"]["front"][:, 0, 0, 0].tolist() == list(range(8))
    assert rows["terminated"].tolist() == [False] * 5 + [True] * 3  # they reach the end
    assert rows["chunk_rewards"][0].tolist() == [1, 2, 3]
    assert rows["chunk_rewards"][2].tolist() == [3, 0, 0]  # past k: 0
    assert rows["chunk_rewards"][3].tolist() == [4, 5, 0]
    assert rows["rewards"].tolist() == list(np.arange(1.0, 9.0))  # the step's own, as before


def test_a_truncated_end_cuts_the_decision_without_ending_it():
    buffer = ReplayBuffer(32, ObservationSpec(1, (VIEW,)), 1, label_chunk_steps=HORIZON)
    buffer.add_episode(episode(np.ones(8), terminal=False))
    rows = buffer.gather(np.arange(8))
    assert rows["chunk_steps"].tolist() == EXPECTED_K and not rows["terminated"].any()


def test_human_steps_in_the_demo_buffer_are_decisions_within_the_persons_run():
    rows = filled(only=HUMAN).gather(np.arange(2))
    assert rows["chunk_steps"].tolist() == [2, 1]
    assert rows["next_observations"]["front"][:, 0, 0, 0].tolist() == [5, 5]
    assert rows["observations"]["state"][:, 0].tolist() == [3, 4]


def test_staged_batches_and_saves_keep_the_decisions(tmp_path):
    buffer = filled()
    spec = ObservationSpec(1, (VIEW,))
    batch = BatchBuffers(spec, 1, 16, label_chunk_steps=HORIZON).fill(
        SymmetricSampler(buffer, None, 0.0), np.random.default_rng(0)
    )
    start = batch.observations["state"][:, 0]
    assert torch.equal(batch.next_observations["state"][:, 0], start + batch.chunk_steps)
    assert torch.equal(
        batch.next_observations["front"][:, 0, 0, 0].float(), start + batch.chunk_steps
    )
    buffer.save(tmp_path / "b.npz")
    again = ReplayBuffer(32, spec, 1, label_chunk_steps=HORIZON)
    again.load(tmp_path / "b.npz")
    for key, value in buffer.gather(np.arange(8)).items():
        if isinstance(value, dict):
            for view, array in value.items():
                assert np.array_equal(again.gather(np.arange(8))[key][view], array), view
        else:
            assert np.array_equal(again.gather(np.arange(8))[key], value), key


def test_a_save_from_before_decisions_loads_as_one_step_each(tmp_path):
    state = filled().state_dict()
    old = {k: v for k, v in state.items() if k not in ("chunk_steps", "chunk_rewards")}
    old["next_observations.state"] = old["observations.state"] + 1  # as it was then
    again = ReplayBuffer(32, ObservationSpec(1, (VIEW,)), 1, label_chunk_steps=HORIZON)
    again.load_state_dict(old)
    rows = again.gather(np.arange(8))
    assert rows["chunk_steps"].tolist() == [1] * 8
    assert rows["chunk_rewards"][:, 0].tolist() == rows["rewards"].tolist()
    assert not rows["chunk_rewards"][:, 1:].any()
    assert rows["next_observations"]["front"][:, 0, 0, 0].tolist() == list(range(1, 9))


def test_the_critic_target_of_a_replayed_chain_is_its_closed_form_q():
    """The chain: the last of 8 steps pays 1 and ends the episode; V(s) = gamma^(7 - s) for
    every policy, and so is the target of every decision, whatever its k."""
    gamma = 0.9
    buffer = ReplayBuffer(32, ObservationSpec(1, (VIEW,)), 1, label_chunk_steps=HORIZON)
    buffer.add_episode(episode(np.eye(8)[7]))
    batch = to_torch(buffer.gather(np.arange(8)))
    ends = batch.next_observations["state"][:, 0].double()
    value = torch.where(ends < 8, gamma ** (7 - ends), torch.zeros_like(ends))
    target = batch_td_target(batch, value.float(), gamma).double()
    expected = gamma ** (7 - torch.arange(8).double())
    torch.testing.assert_close(target, expected, rtol=0, atol=1e-6)
    assert sorted(set(batch.chunk_steps.tolist())) == [1.0, 2.0, 3.0]
