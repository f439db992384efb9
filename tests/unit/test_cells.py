"""Several robot cells under one learner: fair sampling across cells, the padded and masked
state layout, and the task-conditioned encoder that policies and critics share. A cell's
environment on a real task and the learner's pooled curve are integration tests
(tests/integration/test_cells_runtime.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from userl.config.loader import load_config
from userl.core.specs import CellLayout, ObservationSpec
from userl.core.types import Episode
from userl.data.buffers import ReplayBuffer
from userl.data.samplers import CellSampler, SymmetricSampler, apportion
from userl.envs.cells import cell_bindings, cell_layout, pad_state
from userl.policies import build_policy
from userl.policies.conditioning import StateFeatures
from userl.policies.mlp import MLPPolicyConfig

torch.set_num_threads(1)
ACTION_DIM = 2


def episode(value: float, steps: int = 10, state_dim: int = 3) -> Episode:
    """Every state of the episode is `value`: a sampled row tells which buffer it came from."""
    states = np.full((steps + 1, state_dim), value, np.float32)
    actions = np.zeros((steps, ACTION_DIM), np.float32)
    return Episode(
        robot_id="robot_0",
        task="toy",
        observations={"state": states},
        actions=actions,
        policy_actions=actions,
        rewards=np.zeros(steps, np.float32),
        terminated=np.zeros(steps, bool),
        truncated=np.zeros(steps, bool),
        intervened=np.zeros(steps, bool),
        policy_versions=np.zeros(steps, np.int64),
        success=False,
    )


def cell_sampler(weights: list[float], fill: list[int], demo_fraction: float = 0.0) -> CellSampler:
    samplers = []
    for cell, episodes in enumerate(fill):
        online = ReplayBuffer(1000, ObservationSpec(3), ACTION_DIM)
        demos = ReplayBuffer(1000, ObservationSpec(3), ACTION_DIM)
        for _ in range(episodes):
            online.add_episode(episode(float(cell)))
        demos.add_episode(episode(100.0 + cell))
        samplers.append(SymmetricSampler(online, demos, demo_fraction))
    return CellSampler(samplers, weights)


@given(st.integers(0, 512), st.lists(st.floats(0.01, 100.0), min_size=1, max_size=6))
def test_apportion_sums_to_the_total_and_stays_within_one_row(total, weights):
    shares = apportion(total, np.asarray(weights))
    exact = total * np.asarray(weights) / sum(weights)
    assert shares.sum() == total
    assert np.all(np.abs(shares - exact) < 1.0)


def test_each_cell_gets_its_weighted_share_however_much_data_it_has():
    """A cell with 10x the data of another still gives only its weighted share of rows."""
    sampler = cell_sampler([1.0, 3.0], fill=[50, 5])
    batch = sampler.sample(256, np.random.default_rng(0))
    rows = batch["observations"]["state"][:, 0]
    assert np.sum(rows == 0.0) == 64 and np.sum(rows == 1.0) == 192


def test_each_cell_keeps_its_own_demo_share():
    sampler = cell_sampler([1.0, 1.0], fill=[3, 3], demo_fraction=0.5)
    rows = sampler.sample(100, np.random.default_rng(0))["observations"]["state"][:, 0]
    assert {value: int(np.sum(rows == value)) for value in (0.0, 1.0, 100.0, 101.0)} == {
        0.0: 25,
        1.0: 25,
        100.0: 25,
        101.0: 25,
    }


def test_a_cell_without_data_yet_gives_its_rows_to_the_others():
    samplers = cell_sampler([1.0, 1.0], fill=[3, 0]).samplers
    samplers[1].demo = None  # cell 1 has neither demos nor online data
    rows = CellSampler(samplers, [1.0, 1.0]).sample(40, np.random.default_rng(0))
    assert np.all(rows["observations"]["state"][:, 0] == 0.0)


def test_sample_into_matches_sample_row_for_row():
    sampler = cell_sampler([2.0, 1.0, 1.0], fill=[4, 2, 1], demo_fraction=0.25)
    expected = sampler.sample(64, np.random.default_rng(7))
    out = {
        key: np.zeros_like(value)
        if not isinstance(value, dict)
        else {k: np.zeros_like(v) for k, v in value.items()}
        for key, value in expected.items()
    }
    sampler.sample_into(out, 64, np.random.default_rng(7))
    for key in ("actions", "rewards"):
        np.testing.assert_array_equal(out[key], expected[key])
    np.testing.assert_array_equal(out["observations"]["state"], expected["observations"]["state"])


def test_one_cell_draws_exactly_what_its_symmetric_sampler_draws():
    """A single-cell run samples as before the cells existed: same rows, same random draws."""
    sampler = cell_sampler([1.0], fill=[5], demo_fraction=0.5)
    alone = sampler.samplers[0].sample(32, np.random.default_rng(3))
    fair = sampler.sample(32, np.random.default_rng(3))
    np.testing.assert_array_equal(alone["observations"]["state"], fair["observations"]["state"])


LAYOUT = CellLayout(
    state_dim=5,
    task_names=("peg", "charger"),
    instructions=("a", "b"),
    embodiment_names=("franka", "arx"),
    task_embedding_dim=4,
    embodiment_embedding_dim=3,
)


def test_pad_state_pads_masks_and_appends_the_ids():
    padded = pad_state(np.array([1.0, 2.0, 3.0], np.float32), LAYOUT, task_id=1, embodiment_id=0)
    np.testing.assert_array_equal(padded, [1, 2, 3, 0, 0, 1, 1, 1, 0, 0, 1, 0])
    assert padded.shape == (LAYOUT.vector_dim,)
    with pytest.raises(ValueError, match="does not fit"):
        pad_state(np.zeros(6, np.float32), LAYOUT, 0, 0)


def test_layout_of_two_tasks_fits_the_larger_state_and_numbers_tasks_and_arms():
    config = load_config(["cells=[franka_peg,franka_pick_place]"])
    bindings = cell_bindings(config)
    assert bindings is not None
    layout = bindings[0].layout
    assert layout.task_names == ("peg_insertion", "pick_place")
    assert layout.embodiment_names == ("sim_franka",)
    assert [(b.task_id, b.embodiment_id) for b in bindings] == [(0, 0), (1, 0)]
    assert layout.state_dim == 30  # 20 proprioception + pick_place's 10 task values
    assert layout.instructions[1].startswith("Pick up")
    assert cell_bindings(load_config([])) is None  # one cell: observations as they are


def test_cells_with_different_views_are_refused():
    from userl.core.errors import ConfigError
    from userl.core.specs import ImageSpec

    with pytest.raises(ConfigError, match="camera views differ"):
        cell_layout(
            [ObservationSpec(3, (ImageSpec("front", 64, 64),)), ObservationSpec(3)],
            ["a", "b"],
            ["r", "r"],
            4,
            4,
        )


def test_single_cell_features_are_the_state_itself_with_no_parameters():
    features = StateFeatures(ObservationSpec(7))
    state = torch.randn(4, 7)
    assert features.feature_dim == 7 and not list(features.parameters())
    assert torch.equal(features(state), state)


def laid_out(task_ids: list[int], embodiment_ids: list[int], seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    rows = [
        pad_state(rng.standard_normal(4).astype(np.float32), LAYOUT, t, e)
        for t, e in zip(task_ids, embodiment_ids, strict=True)
    ]
    return torch.as_tensor(np.stack(rows))


def test_the_same_state_under_another_task_gives_other_features_and_actions():
    spec = ObservationSpec(LAYOUT.vector_dim, cells=LAYOUT)
    features = StateFeatures(spec)
    assert features.feature_dim == 2 * 5 + 4 + 3
    peg, charger = laid_out([0], [0]), laid_out([1], [0])
    assert torch.equal(peg[:, :10], charger[:, :10])  # same values and mask
    assert not torch.allclose(features(peg), features(charger))
    torch.manual_seed(0)
    policy = build_policy(MLPPolicyConfig(hidden_dims=[16]), spec, ACTION_DIM)
    assert not torch.allclose(
        policy.act({"state": peg}, True), policy.act({"state": charger}, True)
    )


def test_the_critic_loss_trains_the_task_embedding():
    """Policies and critics share the encoder: a conditioned SAC update moves the task
    embedding, and one policy serves both tasks."""
    from userl.algorithms import build_algorithm
    from userl.core.types import Batch

    config = load_config(["algo=sac", "policy.hidden_dims=[16]", "algo.critic_hidden_dims=[16]"])
    spec = ObservationSpec(LAYOUT.vector_dim, cells=LAYOUT)
    algorithm = build_algorithm(config.algo, config.policy, spec, ACTION_DIM)
    embedding = algorithm.policy.encoder.state.task_embedding.weight
    before = embedding.detach().clone()
    obs = laid_out([0, 1] * 8, [0, 1] * 8)
    batch = Batch(
        observations={"state": obs},
        actions=torch.zeros(16, ACTION_DIM),
        rewards=torch.arange(16.0) % 2,
        next_observations={"state": obs},
        terminated=torch.zeros(16),
        intervened=torch.zeros(16),
    )
    algorithm.update(batch)
    assert not torch.allclose(before, embedding)


def test_demos_recorded_on_a_cells_own_task_are_laid_out_for_the_run():
    """`userl collect task=charger` records the charger's own state; as a cell's demos_path
    in a multi-cell run it is padded into the run's layout with the cell's ids."""
    from userl.core.errors import ConfigError
    from userl.envs.cells import lay_out_episode

    config = load_config(["cells=[franka_peg,franka_pick_place]"])
    binding = cell_bindings(config)[1]  # type: ignore[index]
    raw = episode(0.5, state_dim=24)
    laid = lay_out_episode(raw, binding)
    assert laid.observations["state"].shape == (11, binding.layout.vector_dim)
    np.testing.assert_array_equal(laid.observations["state"][:, 0], 0.5)
    assert np.all(laid.observations["state"][:, binding.layout.task_id_index] == 1)
    assert lay_out_episode(laid, binding) is laid
    with pytest.raises(ConfigError, match="another task"):
        lay_out_episode(episode(0.5, state_dim=31), binding)
