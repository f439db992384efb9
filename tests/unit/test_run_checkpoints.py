"""A run's checkpoints by name: every checkpoint written is also kept as `step_<grad
steps>.pt` (the newest `run.checkpoints_kept`), `best.pt` follows the best evaluation (ties
keep the earlier, a resumed run beats what best.pt holds), and `userl eval ... checkpoint=`
picks one by name: a bad name is one line listing the run's names, and a damaged latest.pt
falls back to previous.pt with one warning, writing nothing."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from userl.cli import main
from userl.config.loader import load_config
from userl.config.schema import RunConfig
from userl.core.errors import ConfigError
from userl.data.checkpoint import CheckpointUnreadable, load_checkpoint, write_checkpoint
from userl.data.checkpoint_files import available, chosen_checkpoint, load_chosen
from userl.runtime.checkpoints import Checkpoints
from userl.runtime.run_dir import create_run_dir


def fake_learner(grad_steps: int = 0, weight: float = 1.0) -> SimpleNamespace:
    """What `Checkpoints` reads of a learner: a tiny algorithm, counters, a curve."""
    algorithm = SimpleNamespace(
        grad_steps=grad_steps,
        state_dict=lambda: {"w": torch.full((4,), weight)},
        policy_state_dict=lambda: {"w": torch.full((4,), weight)},
        load_state_dict=lambda state: None,
    )
    points: list[dict[str, float]] = []
    return SimpleNamespace(
        algorithm=algorithm,
        update_lock=threading.Lock(),
        data_lock=threading.Lock(),
        env_steps=0,
        episodes=0,
        weight_version=1,
        curve=SimpleNamespace(
            points=points,
            state=lambda: {"eval_curve": list(points)},
            load_state=lambda state: points.extend(state.get("eval_curve", [])),
        ),
        publisher=SimpleNamespace(version=0),
        pretrained_updates=0,
        rng=np.random.default_rng(0),
    )


def point(success: float, env_steps: int) -> dict[str, float]:
    return {"success_rate": success, "mean_return": 0.0, "env_steps": env_steps}


def test_each_checkpoint_is_kept_by_its_steps_and_only_the_newest_are_kept(
    tmp_path: Path,
) -> None:
    checkpoints = Checkpoints(tmp_path, RunConfig(checkpoints_kept=2))
    learner = fake_learner()
    for steps in (10, 20, 30):
        learner.algorithm.grad_steps = steps
        checkpoints.save(learner)  # type: ignore[arg-type]
    folder = tmp_path / "checkpoints"
    assert available(folder) == ["latest", "step_20", "step_30"]
    assert load_checkpoint(folder / "step_30.pt")["grad_steps"] == 30
    assert load_checkpoint(folder / "step_20.pt")["grad_steps"] == 20
    assert load_checkpoint(folder / "previous.pt")["grad_steps"] == 20  # untouched by links
    assert not list(folder.glob("*.partial"))


def test_no_periodic_checkpoints_when_none_are_kept(tmp_path: Path) -> None:
    checkpoints = Checkpoints(tmp_path, RunConfig(checkpoints_kept=0))
    checkpoints.save(fake_learner(grad_steps=5))  # type: ignore[arg-type]
    assert available(tmp_path / "checkpoints") == ["latest"]


def test_best_follows_the_best_evaluation_and_a_tie_keeps_the_earlier(tmp_path: Path) -> None:
    checkpoints = Checkpoints(tmp_path, RunConfig())
    learner = fake_learner()
    written = []
    for success, steps in ((0.2, 100), (0.5, 200), (0.5, 300), (0.3, 400)):
        learner.curve.points.append(point(success, steps))
        written.append(checkpoints.keep_if_best(learner))  # type: ignore[arg-type]
    assert written == [True, True, False, False]
    best = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    assert best["best"]["env_steps"] == 200 and best["best"]["success_rate"] == 0.5
    assert not checkpoints.keep_if_best(learner)  # type: ignore[arg-type]  # no new point


def test_a_resumed_run_must_beat_what_best_holds_not_its_older_curve(tmp_path: Path) -> None:
    first = Checkpoints(tmp_path, RunConfig())
    learner = fake_learner()
    first.save(learner)  # type: ignore[arg-type]  # latest.pt: a curve without the 0.8
    learner.curve.points.append(point(0.8, 100))
    first.keep_if_best(learner)  # type: ignore[arg-type]
    resumed, again = Checkpoints(tmp_path, RunConfig()), fake_learner(weight=2.0)
    assert resumed.load_into(again)  # type: ignore[arg-type]
    again.curve.points.append(point(0.6, 200))
    assert not resumed.keep_if_best(again)  # type: ignore[arg-type]
    again.curve.points.append(point(0.9, 300))
    assert resumed.keep_if_best(again)  # type: ignore[arg-type]
    best = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    assert best["best"]["env_steps"] == 300 and float(best["policy"]["w"][0]) == 2.0


def test_nonfinite_weights_never_become_best(tmp_path: Path) -> None:
    checkpoints = Checkpoints(tmp_path, RunConfig())
    learner = fake_learner(weight=float("nan"))
    learner.curve.points.append(point(1.0, 100))
    assert not checkpoints.keep_if_best(learner)  # type: ignore[arg-type]
    assert not (tmp_path / "checkpoints" / "best.pt").exists()


def checkpoints_of(run_dir: Path, *names: str) -> Path:
    folder = run_dir / "checkpoints"
    for index, name in enumerate(names):
        state = {"grad_steps": index, "policy": {"w": torch.full((2,), float(index))}}
        assert write_checkpoint(folder / f"{name}.pt", state) is None
    return folder


def test_a_checkpoint_name_the_run_lacks_is_one_line_listing_those_it_has(
    tmp_path: Path,
) -> None:
    checkpoints_of(tmp_path, "latest", "best", "step_40", "step_8")
    for bad in ("nope", "step_9", "../latest", "previous", "latest.pt"):
        with pytest.raises(ConfigError) as caught:
            chosen_checkpoint(tmp_path, bad)
        [line] = str(caught.value).splitlines()
        assert f"checkpoint={bad}" in line
        assert line.endswith("choose one of latest, best, step_8, step_40")
    assert chosen_checkpoint(tmp_path, "step_40") == tmp_path / "checkpoints" / "step_40.pt"
    with pytest.raises(ConfigError, match="no checkpoint in .*train first"):
        chosen_checkpoint(tmp_path / "untrained", "latest")


def test_a_damaged_latest_is_evaluated_from_previous_with_one_warning_writing_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = checkpoints_of(tmp_path, "latest", "latest")  # the first is now previous.pt
    (folder / "latest.pt").write_bytes(b"PK\x03\x04 cut short")
    (folder / "latest.pt.partial").write_bytes(b"an interrupted write")
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir())
    assert load_chosen(tmp_path, "latest")["grad_steps"] == 0
    [warning] = capsys.readouterr().out.strip().splitlines()
    assert "latest.pt" in warning and "evaluating from the previous checkpoint" in warning
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir()) == before


def test_a_damaged_best_has_no_fallback(tmp_path: Path) -> None:
    folder = checkpoints_of(tmp_path, "latest")
    (folder / "best.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointUnreadable, match="best.pt"):
        load_chosen(tmp_path, "best")


def eval_exit(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["eval", *arguments])
    return code, capsys.readouterr().err


def test_eval_with_a_bad_checkpoint_name_exits_2_on_one_line_before_any_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    create_run_dir(run_dir, load_config([]))
    checkpoints_of(run_dir, "latest", "step_10")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, err = eval_exit([f"run={run_dir}", "checkpoint=best", "episodes=1"], capsys)
    assert code == 2
    [line] = err.strip().splitlines()
    assert "checkpoint=best" in line and line.endswith("choose one of latest, step_10")
    code, err = eval_exit(["checkpoint=best", "task=peg_insertion"], capsys)
    assert code == 2 and "add run=" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
