"""Several robot cells at run time: a cell's environment lays out a real task's observations,
and the learner pools the cells' evaluations into the run's learning curve.

Integration tier: the environment is MuJoCo physics, and the learner publishes its weights
into Ray's object store, which starts a Ray; the module's tests share one. The cells' pure
parts (sampling, layout, features) are in tests/unit/test_cells.py."""

from __future__ import annotations

import time

import pytest

from userl.config.loader import load_config
from userl.core.specs import ObservationSpec
from userl.envs.cells import CellEnv, cell_bindings

pytestmark = pytest.mark.usefixtures("shared_ray")
ACTION_DIM = 2


def test_cell_env_gives_laid_out_observations_of_a_real_task():
    from userl.envs.factory import make_env

    config = load_config(["cells=[franka_peg,franka_pick_place]", "eval.video_every_s=0"])
    binding = cell_bindings(config)[0]  # type: ignore[index]
    inner = make_env(config, seed=0)
    env = CellEnv(inner, binding.layout, binding.task_id, binding.embodiment_id)
    try:
        observation, _ = env.reset(seed=0)
        raw = inner.observation_spec.state_dim
        assert observation["state"].shape == (binding.layout.vector_dim,)
        assert env.observation_spec.state_dim == binding.layout.vector_dim
        assert observation["state"][binding.layout.state_dim :][:raw].min() == 1.0  # mask
        assert observation["state"][raw : binding.layout.state_dim].max() == 0.0  # padding
        step, *_ = env.step(env.expert_action())
        assert step["state"][binding.layout.task_id_index] == binding.task_id
    finally:
        env.close()


def test_the_runs_curve_pools_every_cells_latest_evaluation(tmp_path):
    from userl.runtime.learner import Learner

    config = load_config(
        [
            "cells=[franka_peg,franka_charger]",
            "policy.hidden_dims=[16]",
            "algo.critic_hidden_dims=[16]",
            "algo.num_critics=2",
        ]
    )
    learner = Learner(config, ObservationSpec(8), ACTION_DIM, str(tmp_path))
    learner.log_evaluation(1.0, 2.0, 4, {"reward_true_positives": 3}, "franka_peg")
    learner.log_evaluation(0.5, 1.0, 4, {"reward_true_positives": 1}, "franka_peg")
    assert learner.evaluation_curve() == []  # the charger has not evaluated yet
    learner.log_evaluation(0.0, 0.0, 12, {"reward_true_positives": 2}, "franka_charger")
    (point,) = learner.evaluation_curve()
    assert point["success_rate"] == pytest.approx(0.125)  # 2 of 16 episodes
    assert point["mean_return"] == pytest.approx(0.25) and point["episodes"] == 16
    assert point["reward_true_positives"] == 3
    learner.log_evaluation(1.0, 1.0, 4, None, "franka_peg")
    assert learner.evaluation_curve()[-1]["success_rate"] == pytest.approx(0.25)
    assert [len(c) for c in learner.cell_evaluation_curves().values()] == [3, 1]
    learner.close()


def test_a_run_of_several_cells_reaches_a_target_only_when_every_cell_does(tmp_path):
    """`run.stop_at_eval_success` reads the lowest of the cells' newest evaluations."""
    from userl.runtime.learner import Learner

    config = load_config(
        [
            "cells=[franka_peg,franka_charger]",
            "policy.hidden_dims=[16]",
            "algo.critic_hidden_dims=[16]",
            "algo.num_critics=2",
        ]
    )
    before_s = time.monotonic()
    learner = Learner(config, ObservationSpec(8), ACTION_DIM, str(tmp_path))
    learner._cells[0].env_steps = 100  # evaluations after training started count
    learner.log_evaluation(1.0, 1.0, 4, None, "franka_peg")
    assert learner.stats()["curve_success_rate"] == -1.0  # the charger has not evaluated
    learner.log_evaluation(0.5, 0.5, 4, None, "franka_charger")
    assert learner.stats()["curve_success_rate"] == 0.5
    learner.log_evaluation(0.9, 0.9, 4, None, "franka_charger")
    learner.log_evaluation(0.8, 0.8, 4, None, "franka_peg")
    assert learner.stats()["curve_success_rate"] == 0.8
    times = [p["time_s"] for curve in learner.cell_evaluation_curves().values() for p in curve]
    # seconds since the learner started: within the time this test has run so far
    assert all(0.0 <= t <= time.monotonic() - before_s for t in times), times
    assert [p["time_s"] for p in learner.evaluation_curve()] == sorted(
        p["time_s"] for p in learner.evaluation_curve()
    )
    learner.close()
