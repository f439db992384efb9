"""Action chunks at the control rate: the queue, its waits, interventions cutting it short,
and chunk labels in replay (masked past the episode end and where no human acted)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from userl.core.specs import ObservationSpec
from userl.core.types import EpisodeBuilder
from userl.data.buffers import ReplayBuffer
from userl.data.chunk_transitions import chunk_labels
from userl.data.samplers import BatchBuffers, SymmetricSampler, to_torch
from userl.policies.base import Policy
from userl.rollout import chunks
from userl.rollout.action_sources import PolicySource
from userl.rollout.chunks import ChunkQueue, wait_metrics
from userl.rollout.intervention import InterventionSource


def test_a_late_chunk_skips_the_steps_already_executed():
    queue = ChunkQueue()
    queue.receive(np.arange(5, dtype=np.float32)[:, None])
    for _ in range(3):
        queue.pop()
    queue.requested()  # 2 actions left: the next chunk is asked for now
    queue.pop()  # one step passes before it arrives
    queue.receive(np.arange(10, 15, dtype=np.float32)[:, None])
    assert [float(queue.pop()[0]) for _ in range(len(queue))] == [11, 12, 13, 14]
    assert queue.drain_waits_ms() == [0.0, 0.0]  # never ran dry: no wait


class SteppedClock:
    """A monotonic clock that moves only when told: `tick(seconds)`."""

    def __init__(self) -> None:
        self.now_s = 100.0

    def monotonic(self) -> float:
        return self.now_s

    def tick(self, seconds: float) -> None:
        self.now_s += seconds


def test_running_dry_is_a_measured_wait(monkeypatch):
    """The wait runs from the moment the queue ran dry to the chunk's arrival, in ms."""
    clock = SteppedClock()
    monkeypatch.setattr(chunks, "time", clock)
    queue = ChunkQueue()
    queue.requested()
    clock.tick(1.0)  # asked for early: time before running dry is no wait
    queue.start_wait()
    clock.tick(0.25)
    queue.receive(np.zeros((3, 1), np.float32))
    assert queue.drain_waits_ms() == [pytest.approx(250.0)]
    assert wait_metrics([0.0, 10.0])["action_wait_ms"] == 5.0
    assert wait_metrics([]) == {"action_wait_ms": 0.0, "action_wait_ms_p99": 0.0}


class CountingChunkPolicy(Policy):
    """A 4-step chunk whose actions say which call made them and which step they are."""

    chunk_size = 4
    action_dim = 1

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def act(self, obs, deterministic=False):
        self.calls += 1
        return torch.tensor([[[self.calls * 10.0 + i] for i in range(4)]]) / 100.0

    def sample(self, obs, features=None):
        raise NotImplementedError


class ScriptedHands:
    simulated = True

    def __init__(self, active_steps: set[int]) -> None:
        self.active_steps, self.step = active_steps, 0

    def reset(self) -> None:
        self.step = 0

    def read(self, observation):
        active = self.step in self.active_steps
        self.step += 1
        return np.ones(1, np.float32), active


def test_chunks_execute_in_order_and_an_intervention_cuts_them_short():
    policy = CountingChunkPolicy()
    source = InterventionSource(PolicySource(policy), ScriptedHands({2}), hold_after_input_steps=0)
    obs = {"state": np.zeros(3, np.float32)}
    actions = [source.decide(obs) for _ in range(5)]
    assert [round(float(d.action[0]) * 100) for d in actions[:2]] == [10, 11]
    assert actions[2].intervened and float(actions[2].action[0]) == 1.0
    # the chunk was cut: step 3 starts a fresh chunk instead of executing 13
    assert round(float(actions[3].action[0]) * 100) == 20 and policy.calls == 2
    assert len(source.chunks.drain_waits_ms()) == 2


def episode_of(actions: np.ndarray, intervened: np.ndarray):
    builder = EpisodeBuilder("r0", "t", {"state": np.zeros(2, np.float32)})
    for step, (action, human) in enumerate(zip(actions, intervened, strict=True)):
        builder.add(
            action=action,
            policy_action=action,
            reward=0.0,
            next_observation={"state": np.full(2, step + 1.0, np.float32)},
            terminated=False,
            truncated=step == len(actions) - 1,
            intervened=bool(human),
            policy_version=0,
            success=False,
        )
    return builder.build()


def test_chunk_labels_are_masked_past_the_end_and_where_no_human_acted():
    actions = np.arange(6, dtype=np.float32)[:, None]
    human = np.array([0, 1, 1, 0, 1, 1], bool)
    chunks, mask = chunk_labels(actions, np.flatnonzero(human), 3, human)
    assert mask.tolist() == [[1, 1, 0], [1, 0, 0], [1, 1, 0], [1, 0, 0]]
    assert chunks[:, :, 0].tolist() == [[1, 2, 0], [2, 0, 0], [4, 5, 0], [5, 0, 0]]
    demo_chunks, demo_mask = chunk_labels(actions, np.arange(6), 3, None)
    assert demo_mask[3].tolist() == [1, 1, 1] and demo_mask[5].tolist() == [1, 0, 0]
    assert demo_chunks[3, :, 0].tolist() == [3, 4, 5]


def test_replay_keeps_chunk_labels_through_sampling_and_saving(tmp_path):
    spec = ObservationSpec(2)
    buffer = ReplayBuffer(16, spec, 1, label_chunk_steps=3)
    human = np.array([0, 1, 1, 0, 1, 1], bool)
    buffer.add_episode(episode_of(np.arange(6, dtype=np.float32)[:, None], human), only=human)
    assert len(buffer) == 4
    batch = to_torch(buffer.gather(np.arange(4)))
    assert batch.action_chunks.shape == (4, 3, 1)
    assert batch.action_chunk_mask.tolist() == [[1, 1, 0], [1, 0, 0], [1, 1, 0], [1, 0, 0]]
    rows = BatchBuffers(spec, 1, 8, label_chunk_steps=3).fill(
        SymmetricSampler(buffer, None, 0.0), np.random.default_rng(0)
    )
    for row in range(8):  # every row's chunk starts with its own action
        assert rows.action_chunks[row, 0, 0] == rows.actions[row, 0]
    buffer.save(tmp_path / "b.npz")
    again = ReplayBuffer(16, spec, 1, label_chunk_steps=3)
    again.load(tmp_path / "b.npz")
    assert np.array_equal(
        again.chunk_arrays["action_chunks"][:4], buffer.chunk_arrays["action_chunks"][:4]
    )
    assert ReplayBuffer(16, spec, 1).gather(np.arange(0)).keys() == batch_keys_without_chunks()


def batch_keys_without_chunks() -> set[str]:
    return {"observations", "actions", "rewards", "next_observations", "terminated", "intervened"}
