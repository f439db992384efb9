"""DSRL's per-row noise cache (#41): each stored transition is inverted once, by its replay
row id; a cached update equals an uncached one; a slot the ring buffer overwrites gets a new
row id and is inverted afresh."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.adapter_base import make_base_run
from tests.unit.test_buffers import make_episode
from userl.algorithms import build_algorithm
from userl.algorithms.dsrl import DSRL
from userl.algorithms.noise_cache import NoiseCache
from userl.config.loader import load_config
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.data.buffers import ReplayBuffer
from userl.data.samplers import BatchBuffers, SymmetricSampler

STATE_DIM, ACTION_DIM, BATCH = 3, 2, 16
SPEC = ObservationSpec(STATE_DIM)


@pytest.fixture
def base_run(tmp_path: Path) -> Path:
    return make_base_run(tmp_path / "base", state_dim=STATE_DIM, action_dim=ACTION_DIM)


def dsrl(base: Path, cache_rows: int = 1000, *extra: str) -> DSRL:
    config = load_config(
        [
            "algo=dsrl",
            f"policy.base={base}",
            *extra,
            f"algo.batch_size={BATCH}",
            "algo.critic_hidden_dims=[16]",
            "policy.hidden_dims=[8]",
            f"algo.noise_cache_rows={cache_rows}",
        ]
    )
    torch.manual_seed(0)
    algo = build_algorithm(config.algo, config.policy, SPEC, ACTION_DIM)
    assert isinstance(algo, DSRL)
    return algo


def count_inverted_rows(algo: DSRL) -> list[int]:
    """Rows `algo` sends through the base's inversion, one entry per call."""
    calls: list[int] = []
    encode = algo.policy.encode_actions

    def counted(obs: dict, chunk: torch.Tensor, iterations: int) -> torch.Tensor:
        calls.append(len(chunk))
        return encode(obs, chunk, iterations)

    algo.policy.encode_actions = counted  # type: ignore[method-assign]
    return calls


def fixed_batch() -> Batch:
    generator = torch.Generator().manual_seed(3)
    return Batch(
        observations={"state": torch.randn(BATCH, STATE_DIM, generator=generator)},
        actions=torch.rand(BATCH, ACTION_DIM, generator=generator) * 1.6 - 0.8,
        rewards=torch.randn(BATCH, generator=generator),
        next_observations={"state": torch.randn(BATCH, STATE_DIM, generator=generator)},
        terminated=torch.zeros(BATCH),
        intervened=torch.zeros(BATCH),
        row_ids=torch.arange(BATCH),
    )


def test_cached_and_uncached_updates_give_the_same_parameters(base_run: Path) -> None:
    cached, uncached = dsrl(base_run), dsrl(base_run, cache_rows=0)
    cached_calls, uncached_calls = count_inverted_rows(cached), count_inverted_rows(uncached)
    batch = fixed_batch()
    for step in range(3):
        torch.manual_seed(step)
        cached_metrics = cached.update(batch)
        torch.manual_seed(step)
        uncached_metrics = uncached.update(batch)
    for name, value in uncached.state_dict()["policy"].items():
        torch.testing.assert_close(cached.state_dict()["policy"][name], value, rtol=0, atol=1e-6)
    for mine, theirs in zip(cached.critic.parameters(), uncached.critic.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-6)
    assert cached_metrics["adapter/inversion_error"] == pytest.approx(
        uncached_metrics["adapter/inversion_error"], abs=1e-6
    )
    assert cached_calls == [BATCH] and uncached_calls == [BATCH] * 3


def test_each_stored_row_is_inverted_once(base_run: Path) -> None:
    algo = dsrl(base_run)
    calls = count_inverted_rows(algo)
    online, demos = ReplayBuffer(64, SPEC, ACTION_DIM), ReplayBuffer(64, SPEC, ACTION_DIM)
    online.add_episode(make_episode(20))
    demos.add_episode(make_episode(10, start=100))
    sampler = SymmetricSampler(online, demos, demo_fraction=0.5)
    batches = BatchBuffers(SPEC, ACTION_DIM, BATCH)
    rng = np.random.default_rng(0)
    drawn: set[int] = set()
    for _ in range(30):
        batch = batches.fill(sampler, rng)
        drawn |= set(batch.row_ids.tolist())
        algo.update(batch, metrics=False)
    assert len(drawn) == 30  # every stored row was drawn, online and demo ids apart
    assert sum(calls) == len(drawn) and len(algo.noise_cache or ()) == 30
    assert len(calls) < 30  # the later updates found every row cached


def test_an_overwritten_slot_is_inverted_again(base_run: Path) -> None:
    algo = dsrl(base_run)
    calls = count_inverted_rows(algo)
    buffer = ReplayBuffer(8, SPEC, ACTION_DIM)
    sampler = SymmetricSampler(buffer, None, demo_fraction=0.0)
    batches = BatchBuffers(SPEC, ACTION_DIM, BATCH)
    rng = np.random.default_rng(1)
    buffer.add_episode(make_episode(8))
    first = buffer.row_ids(np.arange(8))
    batch = batches.fill(sampler, rng)
    cached = set(batch.row_ids.tolist())
    algo.latents(batch)
    inverted_before = sum(calls)
    buffer.add_episode(make_episode(3, start=50))  # overwrites slots 0, 1, 2
    assert set(buffer.row_ids(np.arange(8))) - set(first) == set(buffer.row_ids(np.arange(3)))
    batch = batches.fill(sampler, rng)
    latent, error, _ = algo.latents(batch)
    expected, expected_error = algo.invert(batch)  # the new rows' own noise, uncached
    torch.testing.assert_close(latent, expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(error, expected_error, rtol=0, atol=1e-6)
    new_rows = set(batch.row_ids.tolist()) - cached
    assert new_rows & set(buffer.row_ids(np.arange(3)))  # overwritten slots were drawn
    assert sum(calls) - inverted_before - BATCH == len(new_rows)


def test_row_ids_are_unique_across_buffers_and_fresh_after_a_load() -> None:
    one, two = ReplayBuffer(4, SPEC, ACTION_DIM), ReplayBuffer(4, SPEC, ACTION_DIM)
    one.add_episode(make_episode(4))
    two.add_episode(make_episode(4))
    ids = one.row_ids(np.arange(4))
    assert not set(ids) & set(two.row_ids(np.arange(4)))
    one.load_state_dict(one.state_dict())  # a resume: the same rows, new ids
    assert not set(ids) & set(one.row_ids(np.arange(4)))


def test_the_cache_evicts_its_oldest_rows_first() -> None:
    cache = NoiseCache(rows=3, width=2, device="cpu")
    cache.put([10, 11, 12], torch.ones(3, 2), torch.zeros(3))
    cache.put([13], torch.full((1, 2), 2.0), torch.zeros(1))
    assert sorted(cache.slot_of) == [11, 12, 13]
    inverted: list[list[int]] = []

    def invert(positions: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        inverted.append(positions)
        return torch.full((len(positions), 2), 5.0), torch.ones(len(positions))

    latents, errors, fresh = cache.recover([13, 10, 10, 11], invert)
    assert inverted == [[1]]  # row 10 (drawn twice) left the cache and is inverted once
    assert latents[:, 0].tolist() == [2.0, 5.0, 5.0, 1.0] and fresh.tolist() == [1.0]
    with pytest.raises(ValueError, match="do not fit"):
        cache.put([1, 2, 3, 4], torch.zeros(4, 2), torch.zeros(4))


def test_an_actor_started_at_the_base_acts_as_the_base(base_run: Path) -> None:
    config = load_config(["algo=dsrl", f"policy.base={base_run}"])  # the preset's start
    algo = build_algorithm(config.algo, config.policy, SPEC, ACTION_DIM)
    assert isinstance(algo, DSRL)
    obs = {"state": torch.randn(5, STATE_DIM)}
    with torch.no_grad():
        adapted = algo.policy.act(obs, deterministic=True)
        base = algo.policy.base.act(obs, deterministic=True)
    torch.testing.assert_close(adapted.reshape(base.shape), base, rtol=0, atol=1e-6)
    random = dsrl(base_run, 1000, "policy.start_at_base=false")
    assert random.policy.mean.weight.abs().sum() > 0  # without it the init is random
