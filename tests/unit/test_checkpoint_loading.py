"""Checkpoints load with `weights_only=True`: a run folder from someone else cannot run code
through its pickle (`userl eval run=...`, `resume=true`), and a real checkpoint still resumes."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from userl.cli import main
from userl.config.loader import load_config, to_yaml
from userl.data.checkpoint import CheckpointRefused, load_checkpoint


class Payload:
    """A pickle that, when loaded without weights_only, creates `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


def malicious_run(root: Path) -> tuple[Path, Path]:
    """A run folder whose checkpoint carries the payload next to a plausible policy."""
    run = root / "shared_run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text(to_yaml(load_config(["run.name=shared_run"])))
    marker = root / "payload_ran"
    torch.save(
        {"policy": {}, "weight_version": 1, "algorithm": Payload(marker)},
        run / "checkpoints" / "latest.pt",
    )
    return run, marker


def test_a_checkpoint_carrying_a_pickle_payload_is_refused_in_one_line(tmp_path: Path) -> None:
    run, marker = malicious_run(tmp_path)
    with pytest.raises(CheckpointRefused, match="refusing checkpoint .*latest.pt") as error:
        load_checkpoint(run / "checkpoints" / "latest.pt")
    assert "\n" not in str(error.value) and "posix.mkdir" in str(error.value)
    assert not marker.exists()


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
