"""A short `userl train` keeps its checkpoints by name: periodic ones as
`checkpoints/step_<grad steps>.pt` (no more than `run.checkpoints_kept`, the newest being the
final checkpoint), `best.pt` from its evaluations, and `userl eval checkpoint=` acts with
each of them (a name the run lacks is exit 2)."""

import json
from pathlib import Path

import pytest

from userl.cli import main
from userl.config.loader import load_config
from userl.data.checkpoint import load_checkpoint
from userl.data.checkpoint_files import periodic_files
from userl.runtime.train import train

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]

SHORT = [
    "run.env_steps=300",
    "demos.episodes=2",
    "eval.episodes=2",
    "eval.curve_every_env_steps=100",
    "eval.curve_episodes=1",
    "eval.video_every_s=0",
    "run.checkpoint_every_s=0.2",
    "run.checkpoints_kept=2",
    "algo.batch_size=32",
    "algo.num_critics=3",
    "algo.critic_hidden_dims=[32,32]",
    "policy.hidden_dims=[32,32]",
    "algo.utd_max=1",
]


def test_a_short_run_keeps_periodic_and_best_checkpoints_that_eval_can_pick(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train(load_config([*SHORT, f"run.root={tmp_path}", "run.name=short"]))
    folder = tmp_path / "short" / "checkpoints"
    periodic = periodic_files(folder)
    assert 1 <= len(periodic) <= 2, sorted(p.name for p in folder.iterdir())
    latest = load_checkpoint(folder / "latest.pt")
    assert periodic[-1][0] == latest["grad_steps"]
    best = load_checkpoint(folder / "best.pt")["best"]
    curve = json.loads((tmp_path / "short" / "summary.json").read_text())["eval_curve"]
    assert len(curve) >= 2  # learning-curve points and the final evaluation
    first_best = max(curve, key=lambda p: p["success_rate"])  # a tie: the earliest
    assert (best["success_rate"], best["env_steps"]) == (
        first_best["success_rate"],
        first_best["env_steps"],
    )
    assert not list(folder.glob("*.partial"))

    run = f"run={tmp_path / 'short'}"
    out = tmp_path / "best.json"
    assert main(["eval", run, "checkpoint=best", "episodes=1", f"out={out}"]) == 0
    assert out.is_file()
    assert main(["eval", run, f"checkpoint=step_{periodic[0][0]}", "episodes=1"]) == 0
    capsys.readouterr()
    assert main(["eval", run, "checkpoint=step_999999", "episodes=1"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "choose one of latest, best, step_" in line
