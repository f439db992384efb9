"""DSRL over a chunked base (#41): the actor picks pi0_tiny's initial noise for the whole
chunk (H x W values), the base decodes it deterministically, the learner inverts executed
chunks (round trip below 1e-2) and the critic learns Q(observation, noise) at the chunk level;
rows whose chunk the base cannot reproduce are counted and left out of the update."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")

from tests.adapter_base import make_base_run, make_pi0_base_run  # noqa: E402
from userl.algorithms import build_algorithm  # noqa: E402
from userl.algorithms.dsrl import DSRL  # noqa: E402
from userl.algorithms.sac import SAC  # noqa: E402
from userl.config.loader import load_config  # noqa: E402
from userl.core.errors import ConfigError  # noqa: E402
from userl.core.specs import ImageSpec, ObservationSpec  # noqa: E402
from userl.core.types import Batch  # noqa: E402
from userl.policies import build_policy  # noqa: E402
from userl.policies.adapters import NoiseAdapterPolicy  # noqa: E402
from userl.policies.frozen_base import base_sha256  # noqa: E402

torch.set_num_threads(1)
STATE_DIM, ACTION_DIM, ROWS, VIEWS = 20, 7, 4, ("front", "wrist")
SPEC = ObservationSpec(STATE_DIM, tuple(ImageSpec(v, 32, 32) for v in VIEWS), "pick it up")
MAX_ROUND_TRIP = 1e-2  # the bound on the noise -> chunk -> noise -> chunk error


def observation(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    obs = {"state": torch.randn(ROWS, STATE_DIM, generator=g)}
    for view in VIEWS:
        obs[view] = torch.randint(0, 256, (ROWS, 32, 32, 3), generator=g, dtype=torch.uint8)
    return obs


def config_over(base: Path, *arguments: str):  # type: ignore[no-untyped-def]
    return load_config(
        [
            "algo=dsrl",
            "obs=image",
            f"policy.base={base}",
            f"algo.batch_size={ROWS}",
            "algo.critic_hidden_dims=[16]",
            "policy.hidden_dims=[8]",
            "algo.inversion_iterations=8",
            *arguments,
        ]
    )


@pytest.fixture(scope="module")
def pi0_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)  # the same random base whichever tests ran before in this process
    return make_pi0_base_run(tmp_path_factory.mktemp("pi0") / "base", SPEC, ACTION_DIM)


def test_pi0_noise_covers_the_whole_chunk_and_round_trips(pi0_base: Path) -> None:
    policy = build_policy(config_over(pi0_base).policy, SPEC, ACTION_DIM)
    assert isinstance(policy, NoiseAdapterPolicy)
    horizon, width = policy.noise_shape
    assert (horizon, width) == (10, ACTION_DIM) and policy.latent_dim == horizon * width
    obs = observation(1)
    latent = torch.rand(ROWS, policy.latent_dim) * 2 - 1
    with torch.no_grad():
        chunk = policy.decode_latent(obs, latent)
        assert chunk.shape == (ROWS, horizon, ACTION_DIM)
        torch.manual_seed(5)  # deterministic: another random stream decodes the same chunk
        assert torch.equal(chunk, policy.decode_latent(obs, latent))
        moved = latent.view(ROWS, horizon, width).clone()
        moved[:, -1] += 0.5  # only the last step's noise: the chunk changes (its own values)
        assert not torch.equal(chunk, policy.decode_latent(obs, moved.view(ROWS, -1)))
        recovered = policy.encode_actions(obs, chunk, iterations=8)
        again = policy.decode_latent(obs, recovered)
    round_trip = (again - chunk).abs().amax(dim=(1, 2))  # per inverted chunk
    assert round_trip.max() < MAX_ROUND_TRIP, round_trip


def test_pi0_inversion_gives_back_the_actors_own_noise(pi0_base: Path) -> None:
    """The model's padded action values are held at zero along the flow, so the chunk the
    actor's noise made inverts to that same noise (the critic learns Q where the actor
    acts), not to another noise that happens to decode to it."""
    policy = build_policy(config_over(pi0_base).policy, SPEC, ACTION_DIM)
    assert isinstance(policy, NoiseAdapterPolicy)
    obs = observation(6)
    generator = torch.Generator().manual_seed(0)
    # noises whose chunks stay inside the clip (a clipped value loses its noise)
    latent = (torch.rand(ROWS, policy.latent_dim, generator=generator) * 2 - 1) * 0.2
    with torch.no_grad():
        chunk = policy.decode_latent(obs, latent)
        recovered = policy.encode_actions(obs, chunk, iterations=20)
    assert chunk.abs().max() < 1.0
    assert (recovered - latent).abs().max() < MAX_ROUND_TRIP


def chunk_batch(policy: NoiseAdapterPolicy, steps: list[int]) -> Batch:
    obs = observation(2)
    with torch.no_grad():
        chunks = policy.decode_latent(obs, torch.rand(ROWS, policy.latent_dim) * 2 - 1)
    k = torch.tensor(steps, dtype=torch.float32)
    horizon = chunks.shape[1]
    counted = (torch.arange(horizon).unsqueeze(0) < k.unsqueeze(1)).float()
    return Batch(
        observations=obs,
        actions=chunks[:, 0],
        rewards=torch.ones(ROWS),
        next_observations=observation(3),
        terminated=torch.zeros(ROWS),
        intervened=torch.zeros(ROWS),
        action_chunks=chunks * counted.unsqueeze(-1),
        action_chunk_mask=torch.ones(ROWS, horizon),
        chunk_steps=k,
        chunk_rewards=counted,
    )


def test_pi0_critic_learns_q_of_the_chunks_noise(pi0_base: Path) -> None:
    config = config_over(pi0_base)
    algo = build_algorithm(config.algo, config.policy, SPEC, ACTION_DIM)
    assert isinstance(algo, DSRL) and algo.label_chunk_steps == 10
    start = base_sha256(algo.base)
    metrics = algo.update(chunk_batch(algo.policy, [10, 3, 1, 7]))
    assert algo.grad_steps == 1 and metrics["adapter/uninvertible_steps"] == 0
    assert metrics["adapter/inversion_error"] < MAX_ROUND_TRIP
    sampled, _ = algo.policy.sample(observation(4))
    assert sampled.shape == (ROWS, 10 * ACTION_DIM)
    assert algo.critic(observation(4), sampled).shape[1] == ROWS  # Q(observation, noise)
    assert base_sha256(algo.base) == start


def test_rows_the_base_cannot_reproduce_are_counted_and_not_trained_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flow_g's actions are tanh of its flow, clipped to bc_action_abs_max before inverting:
    an action at +-1 is beyond its reach, so its round-trip error is about 1e-3."""
    base = make_base_run(tmp_path / "base", state_dim=STATE_DIM)
    config = load_config(
        ["algo=dsrl", f"policy.base={base}", "algo.batch_size=8", "algo.critic_hidden_dims=[16]",
         "policy.hidden_dims=[8]", "algo.inversion_max_error=0.0001"]
    )  # fmt: skip
    algo = build_algorithm(config.algo, config.policy, ObservationSpec(STATE_DIM), ACTION_DIM)
    assert isinstance(algo, DSRL)
    seen: list[int] = []
    update = SAC.update

    def recording(self: SAC, batch: Batch, metrics: bool = True) -> dict[str, float]:
        seen.append(len(batch.actions))
        assert torch.isfinite(batch.actions).all()
        return update(self, batch, metrics)

    monkeypatch.setattr(SAC, "update", recording)
    actions = torch.rand(8, ACTION_DIM) * 1.6 - 0.8
    actions[5:, 2] = 1.0  # three rows a person pushed to the limit
    batch = Batch(
        observations={"state": torch.randn(8, STATE_DIM)},
        actions=actions,
        rewards=torch.randn(8),
        next_observations={"state": torch.randn(8, STATE_DIM)},
        terminated=torch.zeros(8),
        intervened=torch.tensor([0.0] * 5 + [1.0] * 3),
    )
    metrics = algo.update(batch)
    assert seen == [5] and algo.grad_steps == 1
    assert metrics["adapter/uninvertible_steps"] == 3
    assert metrics["adapter/uninvertible_steps_total"] == 3
    batch.actions[:, 2] = -1.0  # every row beyond reach: nothing trains, all counted
    metrics = algo.update(batch)
    assert seen == [5] and algo.grad_steps == 1
    assert metrics["adapter/uninvertible_steps"] == 8
    assert algo.state_dict()["uninvertible_steps_total"] == 11


def test_a_chunked_flow_base_round_trips_and_trains_at_the_chunk_level(tmp_path: Path) -> None:
    """flow_g with policy.chunk_size=3: the noise is the flow's whole-chunk vector."""
    base = make_base_run(tmp_path / "base", "policy.chunk_size=3", state_dim=STATE_DIM)
    config = load_config(
        ["algo=dsrl", f"policy.base={base}", f"algo.batch_size={ROWS}",
         "algo.critic_hidden_dims=[16]", "policy.hidden_dims=[8]"]
    )  # fmt: skip
    spec = ObservationSpec(STATE_DIM)
    algo = build_algorithm(config.algo, config.policy, spec, ACTION_DIM)
    assert isinstance(algo, DSRL) and algo.label_chunk_steps == 3
    policy = algo.policy
    assert policy.noise_shape == (3, ACTION_DIM) and policy.latent_dim == 3 * ACTION_DIM
    obs = {"state": torch.randn(ROWS, STATE_DIM)}
    latent = torch.rand(ROWS, policy.latent_dim) * 2 - 1
    with torch.no_grad():
        chunk = policy.decode_latent(obs, latent)
        assert chunk.shape == (ROWS, 3, ACTION_DIM)
        recovered = policy.encode_actions(obs, chunk, iterations=30)
    assert (recovered - latent).abs().amax(dim=1).max() < MAX_ROUND_TRIP  # noise round trip
    k = torch.tensor([3.0, 1.0, 2.0, 3.0])
    counted = (torch.arange(3).unsqueeze(0) < k.unsqueeze(1)).float()
    batch = Batch(
        observations=obs,
        actions=chunk[:, 0],
        rewards=torch.ones(ROWS),
        next_observations={"state": torch.randn(ROWS, STATE_DIM)},
        terminated=torch.zeros(ROWS),
        intervened=torch.zeros(ROWS),
        action_chunks=chunk * counted.unsqueeze(-1),
        action_chunk_mask=torch.ones(ROWS, 3),
        chunk_steps=k,
        chunk_rewards=counted,
    )
    metrics = algo.update(batch)
    assert algo.grad_steps == 1 and metrics["adapter/uninvertible_steps"] == 0
    assert metrics["adapter/inversion_error"] < MAX_ROUND_TRIP


def test_residual_sac_refuses_a_chunked_base_in_one_line(tmp_path: Path) -> None:
    base = make_base_run(tmp_path / "base", "policy.chunk_size=3", state_dim=STATE_DIM)
    with pytest.raises(ConfigError) as caught:
        load_config(["algo=residual_sac", f"policy.base={base}"])
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and "policy.chunk_size=3" in message, message
    assert "algo=dsrl" in message


def test_dsrl_over_data_parallel_ranks_is_refused_in_one_line(tmp_path: Path) -> None:
    """Each rank would leave out its own uninvertible rows and step apart from the others."""
    base = make_base_run(tmp_path / "base")
    with pytest.raises(ConfigError) as caught:
        load_config(["algo=dsrl", f"policy.base={base}", "learner.devices=2"])
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and "learner.devices=1" in message, message
