"""Replay ring buffer, symmetric sampling and the torch conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Episode
from userl.data.buffers import ReplayBuffer
from userl.data.samplers import BatchBuffers, SymmetricSampler, to_torch

torch.set_num_threads(1)  # small nets: one thread is faster and never oversubscribes

STATE_DIM, ACTION_DIM = 3, 2
SPEC = ObservationSpec(STATE_DIM)


def make_episode(
    steps: int, start: int = 0, terminal: bool = True, spec: ObservationSpec = SPEC
) -> Episode:
    """Observation row t has state [start+t, ...]: every value identifies its step."""
    ids = np.arange(start, start + steps + 1, dtype=np.float32)
    observations = {"state": np.repeat(ids[:, None], spec.state_dim, axis=1)}
    for view in spec.images:
        observations[view.name] = np.broadcast_to(
            (ids % 256).astype(np.uint8)[:, None, None, None],
            (steps + 1, view.height_px, view.width_px, 3),
        ).copy()
    terminated = np.zeros(steps, bool)
    terminated[-1:] = terminal
    actions = np.repeat(ids[:-1, None], ACTION_DIM, axis=1) / 1000.0
    return Episode(
        robot_id="r0",
        task="toy",
        observations=observations,
        actions=actions,
        policy_actions=actions.copy(),
        rewards=ids[:-1] + 0.5,
        terminated=terminated,
        truncated=~terminated,
        intervened=(ids[:-1] % 2 == 0),
        policy_versions=np.zeros(steps, np.int64),
        success=terminal,
    )


def check_aligned(batch: dict) -> None:
    ids = batch["observations"]["state"][:, 0]
    np.testing.assert_array_equal(batch["next_observations"]["state"][:, 0], ids + 1)
    np.testing.assert_allclose(batch["actions"][:, 0], ids / 1000.0, rtol=1e-6)
    np.testing.assert_array_equal(batch["rewards"], ids + 0.5)
    np.testing.assert_array_equal(batch["intervened"], ids % 2 == 0)


def test_add_episode_aligns_next_observations_and_flags():
    buffer = ReplayBuffer(100, SPEC, ACTION_DIM)
    buffer.add_episode(make_episode(10, terminal=True))
    buffer.add_episode(make_episode(5, start=50, terminal=False))
    assert len(buffer) == 15
    batch = buffer.gather(np.arange(15))
    check_aligned(batch)
    assert batch["terminated"].tolist() == [False] * 9 + [True] + [False] * 5
    assert batch["observations"]["state"].dtype == np.float32


def test_ring_wraparound_keeps_newest():
    buffer = ReplayBuffer(8, SPEC, ACTION_DIM)
    buffer.add_episode(make_episode(6, start=0))
    buffer.add_episode(make_episode(5, start=100))
    assert len(buffer) == 8 and buffer.position == 3
    kept = sorted(buffer.observations["state"][:, 0].tolist())
    assert kept == [3, 4, 5, 100, 101, 102, 103, 104]
    check_aligned(buffer.sample(64, np.random.default_rng(0)))


@settings(max_examples=40, deadline=None)
@given(capacity=st.integers(1, 20), lengths=st.lists(st.integers(0, 30), max_size=8))
def test_ring_buffer_property(capacity, lengths):
    """After any sequence of episodes the buffer holds exactly the newest `capacity`
    transitions, each aligned with its own next observation."""
    buffer = ReplayBuffer(capacity, SPEC, ACTION_DIM)
    all_ids: list[float] = []
    for i, steps in enumerate(lengths):
        buffer.add_episode(make_episode(steps, start=1000 * i))
        all_ids += [1000.0 * i + t for t in range(steps)]
    expected = all_ids[-capacity:] if all_ids else []
    assert len(buffer) == len(expected)
    state = buffer.state_dict()
    assert state["observations.state"][:, 0].tolist() == expected  # oldest first
    if expected:
        check_aligned(buffer.sample(16, np.random.default_rng(1)))


def test_image_views_stored_as_uint8():
    spec = ObservationSpec(STATE_DIM, (ImageSpec("front", 8, 6),))
    buffer = ReplayBuffer(10, spec, ACTION_DIM)
    buffer.add_episode(make_episode(4, spec=spec))
    batch = buffer.gather(np.arange(4))
    assert batch["observations"]["front"].dtype == np.uint8
    assert batch["observations"]["front"].shape == (4, 8, 6, 3)
    np.testing.assert_array_equal(batch["next_observations"]["front"][:, 0, 0, 0], [1, 2, 3, 4])
    torch_batch = to_torch(batch)
    assert torch_batch.observations["front"].dtype == torch.uint8


def test_missing_observation_key_is_named():
    spec = ObservationSpec(STATE_DIM, (ImageSpec("wrist", 4, 4),))
    with pytest.raises(ValueError, match="wrist"):
        ReplayBuffer(10, spec, ACTION_DIM).add_episode(make_episode(3))


def test_save_load_round_trip(tmp_path):
    buffer = ReplayBuffer(8, SPEC, ACTION_DIM)
    buffer.add_episode(make_episode(6))
    buffer.add_episode(make_episode(5, start=100))
    buffer.save(tmp_path / "replay.npz")
    restored = ReplayBuffer(8, SPEC, ACTION_DIM)
    restored.load(tmp_path / "replay.npz")
    assert len(restored) == len(buffer)
    for key, value in buffer.state_dict().items():
        np.testing.assert_array_equal(restored.state_dict()[key], value)
    # New data overwrites the oldest restored rows first.
    restored.add_episode(make_episode(1, start=500))
    assert sorted(restored.state_dict()["observations.state"][:, 0].tolist()) == [
        4,
        5,
        100,
        101,
        102,
        103,
        104,
        500,
    ]


def filled(start: int, steps: int = 20) -> ReplayBuffer:
    buffer = ReplayBuffer(100, SPEC, ACTION_DIM)
    if steps:
        buffer.add_episode(make_episode(steps, start=start))
    return buffer


@pytest.mark.parametrize("fraction, expected_demo", [(0.5, 128), (0.25, 64), (0.0, 0), (1.0, 256)])
def test_symmetric_sampler_proportions(fraction, expected_demo):
    sampler = SymmetricSampler(filled(0), filled(1000), fraction)
    batch = sampler.sample(256, np.random.default_rng(0))
    from_demo = batch["observations"]["state"][:, 0] >= 1000
    assert from_demo.sum() == expected_demo
    assert batch["actions"].shape == (256, ACTION_DIM)
    check_aligned(batch)


@pytest.mark.parametrize("demo", [None, "empty"])
def test_sampler_without_demos_draws_online(demo):
    demo_buffer = filled(1000, steps=0) if demo == "empty" else None
    batch = SymmetricSampler(filled(0), demo_buffer, 0.5).sample(32, np.random.default_rng(0))
    assert (batch["observations"]["state"][:, 0] < 1000).all()


def test_sampler_with_empty_online_draws_demos():
    sampler = SymmetricSampler(filled(0, steps=0), filled(1000), 0.5)
    batch = sampler.sample(32, np.random.default_rng(0))
    assert len(batch["rewards"]) == 32 and (batch["observations"]["state"][:, 0] >= 1000).all()


def test_to_torch_dtypes_and_shapes():
    batch = to_torch(filled(0).sample(16, np.random.default_rng(0)))
    assert batch.observations["state"].shape == (16, STATE_DIM)
    assert batch.actions.dtype == torch.float32 and batch.rewards.shape == (16,)
    assert batch.terminated.dtype == torch.float32
    assert set(batch.terminated.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("fraction", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("views", [0, 2])
def test_batch_buffers_hold_what_sample_and_to_torch_give(fraction, views):
    """Gathering in place draws the same rows as `sample` + `to_torch`, value for value, in
    the same tensors every time (no per-update allocation)."""
    spec = ObservationSpec(STATE_DIM, tuple(ImageSpec(f"v{i}", 4, 5) for i in range(views)))
    online, demos = ReplayBuffer(500, spec, ACTION_DIM), ReplayBuffer(200, spec, ACTION_DIM)
    for start in range(0, 400, 40):
        online.add_episode(make_episode(30, start, spec=spec))
    demos.add_episode(make_episode(50, 10_000, spec=spec))
    sampler = SymmetricSampler(online, demos, fraction)
    buffers = BatchBuffers(spec, ACTION_DIM, 64)
    rng_old, rng_new = np.random.default_rng(3), np.random.default_rng(3)
    first = None
    for _ in range(3):
        expected = to_torch(sampler.sample(64, rng_old))
        got = buffers.fill(sampler, rng_new)
        for name in ("actions", "rewards", "terminated", "intervened"):
            assert torch.equal(getattr(got, name), getattr(expected, name)), name
        for group in ("observations", "next_observations"):
            assert getattr(got, group).keys() == getattr(expected, group).keys()
            for key, value in getattr(expected, group).items():
                assert getattr(got, group)[key].dtype == value.dtype
                assert torch.equal(getattr(got, group)[key], value), (group, key)
        first = first or got.observations["state"].data_ptr()
        assert got.observations["state"].data_ptr() == first
