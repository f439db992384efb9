"""`userl train algo=recap policy=flow_g task=peg_insertion teleop=expert` end to end (#43):
demos, autonomous steps and the simulated operator's corrections train the value and the
label-conditioned flow; the label embedding travels with the policy; TensorBoard has the
RECAP figures; the run's robots act with the labelled, guided policy. (Resuming restores
the value, the labelling copy and the quantile windows: `tests/unit/test_recap.py`.)"""

from __future__ import annotations

import json
from pathlib import Path

from userl.cli import main
from userl.data.checkpoint import load_checkpoint

SMALL = [
    "algo=recap",
    "policy=flow_g",
    "task=peg_insertion",
    "task.episode_steps=20",
    "teleop=expert",
    "pipeline=sync",
    "policy.hidden_dims=[32,32]",
    "algo.value_hidden_dims=[32]",
    "algo.value_bins=11",
    "algo.batch_size=16",
    "algo.advantage_steps=4",
    "algo.relabel_every_updates=5",
    "algo.pretrain_updates=10",
    "demos.episodes=1",
    "eval.episodes=1",
]


def test_recap_trains_a_labelled_flow_from_every_kind_of_data(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    arguments = [*SMALL, "policy.guidance=1.5", f"run.root={tmp_path}", "run.name=recap"]
    assert main(["train", *arguments, "run.env_steps=40"]) == 0
    run = tmp_path / "recap"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["grad_steps"] > 10  # online updates after the pretraining
    assert summary["eval_episodes"] == 1  # robots act with the positive label, guided
    state = load_checkpoint(run / "checkpoints" / "latest.pt")
    algorithm = state["algorithm"]
    assert "velocity.embedding.weight" in algorithm["policy"]  # the label travels
    assert algorithm["label_version"] > 0  # relabelled as V trained
    assert "velocity.embedding.weight" in state["policy"]  # what robots load
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {
        "recap/positive_fraction",
        "recap/label_age_updates",
        "recap/value_calibration_error",  # against the stored episodes' returns
        "train/value_loss",
        "train/bc_loss",
    } <= tags, tags
    config = (run / "config.yaml").read_text()
    assert "advantage_labels: true" in config and "guidance: 1.5" in config
