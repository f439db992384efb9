"""A tiny two-cell run end to end through `userl train`: two robots on two tasks, one
learner, per-cell data, metrics, evaluation and summary; `userl eval` reports each cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from userl.cli import main
from userl.data.store import EpisodeStore

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]

CELLS = """
peg:
  task: {preset: peg_insertion, episode_steps: 30}
charger:
  task: {preset: charger, episode_steps: 30}
  weight: 2
"""
SMALL = [
    "run.env_steps=180",
    "demos.episodes=2",
    "eval.episodes=2",
    "eval.video_every_s=0",
    "algo.batch_size=32",
    "algo.num_critics=2",
    "algo.critic_hidden_dims=[32,32]",
    "policy.hidden_dims=[32,32]",
    "algo.utd_max=1",
    "eval.curve_every_env_steps=60",
    "eval.curve_episodes=1",
]


def test_two_cells_train_one_policy_with_per_cell_data_metrics_and_evaluation(
    tmp_path: Path,
) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cells = tmp_path / "cells.yaml"
    cells.write_text(CELLS)
    assert main(["train", f"cells={cells}", *SMALL, f"run.root={tmp_path}", "run.name=cells"]) == 0
    run_dir = tmp_path / "cells"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary["cells"]) == {"peg", "charger"}
    assert set(summary["placement"]) == {"robot_0", "robot_1", "learner"}
    for name, cell in summary["cells"].items():
        assert cell["episodes"] >= 1, name  # each cell's robot produced online data
        assert cell["episodes"] <= cell["env_steps"] <= 30 * cell["episodes"], name
        assert cell["env_steps_per_s"] > 0, name
        assert cell["demo_transitions"] > 0, name  # its own expert's demos
        assert cell["eval_episodes"] == 2 and 0.0 <= cell["eval_success_rate"] <= 1.0, name
    assert sum(c["env_steps"] for c in summary["cells"].values()) == summary["env_steps"]
    # each cell's learning curve (its own evaluations), pooled into the run's curve
    assert all(len(cell["eval_curve"]) >= 2 for cell in summary["cells"].values())
    assert summary["eval_curve"][-1]["episodes"] == 4  # the final evaluations, pooled
    assert summary["eval_curve"][-1]["success_rate"] == summary["eval_success_rate"]
    assert summary["eval_episodes"] == 4  # each cell on the same 2 seeds
    tasks = {e.robot_id: e.task for e in EpisodeStore(run_dir / "episodes").load().episodes}
    assert tasks == {"robot_0": "peg_insertion", "robot_1": "charger"}
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    for name in ("peg", "charger"):
        assert {
            f"env/{name}/success",
            f"env/{name}/env_steps_per_s",
            f"eval/{name}/success_rate",
        } <= tags
    # resumed, every cell's stored episodes go back to that cell's buffers
    assert (
        main(
            [
                "train",
                "resume=true",
                "run.name=cells",
                f"run.root={tmp_path}",
                f"run.env_steps={summary['env_steps'] + 60}",  # past the first run's overshoot
                "eval.episodes=1",
            ]
        )
        == 0
    )
    resumed = json.loads((run_dir / "summary.json").read_text())
    assert resumed["resumed_from"]["episodes"] == summary["episodes"]
    for name, cell in resumed["cells"].items():
        assert cell["env_steps"] >= summary["cells"][name]["env_steps"], name
        assert cell["demo_transitions"] == summary["cells"][name]["demo_transitions"], name
    report = tmp_path / "eval.json"
    assert main(["eval", f"run={run_dir}", "episodes=1", f"out={report}"]) == 0
    evaluated = json.loads(report.read_text())
    assert {name: cell["episodes"] for name, cell in evaluated["cells"].items()} == {
        "peg": 1,
        "charger": 1,
    }
    # one cell's policy recorded from the run (laid out), and its expert on its own task
    assert (
        main(
            [
                "collect",
                f"run={run_dir}",
                "cell=charger",
                "episodes=1",
                f"out={tmp_path / 'policy'}",
            ]
        )
        == 0
    )
    (recorded,) = EpisodeStore(tmp_path / "policy").load().episodes
    assert recorded.task == "charger"
    assert (
        main(
            [
                "collect",
                f"cells={cells}",
                "cell=charger",
                "episodes=1",
                f"out={tmp_path / 'expert'}",
            ]
        )
        == 0
    )
    (demo,) = EpisodeStore(tmp_path / "expert").load().episodes
    assert demo.task == "charger"
    assert demo.observations["state"].shape[1] < recorded.observations["state"].shape[1]


@pytest.mark.slow
def test_rlpd_state_policy_learns_peg_and_charger_on_two_frankas(tmp_path: Path) -> None:
    """The issue's first bar at reduced scale: 2 simulated Frankas, peg insertion and charger,
    one RLPD state policy (20 expert demos per cell, one update per env step), 8,000 env
    steps per cell; each cell's final evaluation (20 episodes) >= 0.9."""
    assert (
        main(
            [
                "train",
                "cells=[franka_peg,franka_charger]",
                "algo=rlpd",
                "algo.utd_min=1",
                "algo.utd_max=1",
                "run.env_steps=16000",
                "run.grad_steps=0",
                "run.wall_s=0",
                "eval.episodes=20",
                "eval.video_every_s=0",
                f"run.root={tmp_path}",
                "run.name=multitask",
                "algo.bf16_matmuls=off",  # the threshold holds at float32, on any CPU
            ]
        )
        == 0
    )
    summary = json.loads((tmp_path / "multitask" / "summary.json").read_text())
    for name, cell in summary["cells"].items():
        assert cell["eval_episodes"] == 20, name
        assert cell["eval_success_rate"] >= 0.9, (name, summary["cells"])


@pytest.mark.slow
def test_one_hg_dagger_policy_picks_and_places_on_a_franka_and_an_arx(tmp_path: Path) -> None:
    """The heterogeneous bar: a simulated Panda and a simulated ARX R5 on pick_place, one
    MLP policy (HG-DAgger, 20 expert demos per arm, the simulated operator), 12,000 env
    steps; each arm's final evaluation (20 episodes) >= 0.8."""
    assert (
        main(
            [
                "train",
                "cells=[franka_pick_place,arx_pick_place]",
                "algo=hg_dagger",
                "policy=mlp",
                "teleop=expert",
                "demos.episodes=20",
                "algo.utd_max=1",
                "run.env_steps=12000",
                "run.grad_steps=0",
                "run.wall_s=0",
                "eval.episodes=20",
                "eval.video_every_s=0",
                f"run.root={tmp_path}",
                "run.name=two_arms",
            ]
        )
        == 0
    )
    summary = json.loads((tmp_path / "two_arms" / "summary.json").read_text())
    assert set(summary["cells"]) == {"franka_pick_place", "arx_pick_place"}
    for name, cell in summary["cells"].items():
        assert cell["eval_episodes"] == 20, name
        assert cell["eval_success_rate"] >= 0.8, (name, summary["cells"])
