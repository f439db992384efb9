"""Checkpoints load with `weights_only=True` where a run uses them: `userl eval run=...` and
`resume=true` refuse a checkpoint carrying a pickle payload without running it, and a real
checkpoint still resumes, its random streams and weights exact.

Integration tier: `userl eval` builds the task's MuJoCo environment before it reads the
checkpoint, and the learner publishes its weights into Ray's object store, which starts a Ray;
the module's tests share one."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.checkpoints import malicious_run
from userl.cli import main
from userl.data.checkpoint import CheckpointRefused

pytestmark = pytest.mark.usefixtures("shared_ray")


def test_userl_eval_of_a_malicious_run_exits_2_without_running_it(tmp_path: Path, capsys) -> None:
    run, marker = malicious_run(tmp_path)
    assert main(["eval", f"run={run}", "episodes=1"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and "refusing checkpoint" in errors[0]
    assert not marker.exists()


def test_resume_refuses_a_malicious_checkpoint(tmp_path: Path, make_learner) -> None:
    run, marker = malicious_run(tmp_path)
    learner = make_learner(run)
    with pytest.raises(CheckpointRefused):
        learner.restore()
    learner.close()
    assert not marker.exists()


def test_a_real_checkpoint_loads_with_weights_only_and_restores_the_rng_streams(
    tmp_path: Path, make_learner, takeover
) -> None:
    learner = make_learner(tmp_path, "algo.pretrain_updates=2")
    learner.add_demos([takeover.episode(success=True)])
    learner.pretrain(2)
    path = learner.save_checkpoint()
    expected = (torch.rand(3), learner.rng.random(3), random.random())
    learner.close()
    state = torch.load(path, map_location="cpu", weights_only=True)  # plain types only
    assert isinstance(state["rng"]["numpy"]["state"]["state"], int)
    torch.manual_seed(123)
    random.seed(123)
    resumed = make_learner(tmp_path, "algo.pretrain_updates=2")
    resumed.restore()
    assert resumed.pretrained_updates == 2
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(resumed.rng.random(3), expected[1])
    assert random.random() == expected[2]
    resumed.close()


def test_a_checkpoint_taken_while_training_holds_the_weights_of_its_own_grad_step(
    tmp_path: Path, make_learner, takeover
) -> None:
    """The learner checkpoints from another thread than it trains in; a checkpoint must
    never catch a half-done gradient step (weights of step k+1 filed under k)."""
    import threading
    import time

    learner = make_learner(tmp_path, "algo.utd_max=1000")
    for _ in range(5):
        learner.add_episode(takeover.episode(success=True))
    weights_after: dict[int, dict[str, torch.Tensor]] = {}
    update = learner.algorithm.update

    def recorded_update(batch, metrics=False):
        values = update(batch, metrics=metrics)
        state = learner.algorithm.policy_state_dict()
        weights_after[learner.algorithm.grad_steps] = {k: v.clone() for k, v in state.items()}
        time.sleep(0.005)
        return values

    learner.algorithm.update = recorded_update
    done = threading.Event()

    def train() -> None:
        while not done.is_set():
            learner.train(5)

    trainer = threading.Thread(target=train)
    trainer.start()
    try:
        checkpoints = []
        while len(checkpoints) < 30:
            state = torch.load(learner.save_checkpoint(), weights_only=True)
            if state["grad_steps"] > 0:
                checkpoints.append(state)
    finally:
        done.set()
        trainer.join(timeout=60)
    learner.close()
    for state in checkpoints:
        assert state["algorithm"]["grad_steps"] == state["grad_steps"]
        expected = weights_after[state["grad_steps"]]
        assert all(torch.equal(state["policy"][k], expected[k]) for k in expected)
