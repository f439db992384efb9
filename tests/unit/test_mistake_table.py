"""A new user's mistakes, each refused before any work: exit 2, one line on stderr naming
what was typed and the fix, and nothing written (no run folder under run.root, nothing in
the working folder). Each row was a late crash (a traceback after Ray started, a run folder
left behind) or is a check the loader already makes; `tests/integration` holds the rows that
need a simulated robot."""

from __future__ import annotations

from pathlib import Path

import pytest

from userl.cli import main
from userl.config.loader import load_config, to_yaml

MISTAKES: list[tuple[list[str], str]] = [
    # an image policy on the default state observation
    (
        ["train", "policy=cnn_small"],
        "policy=cnn_small needs camera views (obs=state); add obs=image",
    ),
    (["train", "policy=cnn"], "add obs=image"),
    # a component's name changed over another preset's fields
    (["train", "task.name=charger"], "choose the preset instead: task=charger"),
    (["train", "policy.name=cnn", "obs=image"], "choose the preset instead: policy=cnn"),
    (["train", "robot.name=robot9"], "choose a preset with robot=NAME"),
    (["eval", "policy=expert", "task.name=charger"], "task=charger"),
    # a policy's local files that are not there
    (
        ["train", "policy=cnn_small", "obs=image", "policy.encoder_weights=missing.pt"],
        "policy.encoder_weights=missing.pt: no such file",
    ),
    (
        ["train", "algo=hg_dagger", "policy=pi0_tiny", "policy.weights=missing"],
        "policy.weights=missing: no such",
    ),
    # cells that cannot share one policy
    (
        [
            "train",
            "cells=[franka_peg,franka_charger]",
            "obs=image",
            "cells.franka_charger.robot.image_height_px=96",
        ],
        "give every cell's robot the same robot.camera_names",
    ),
    (
        ["train", "cells=[franka_peg,franka_charger]", "cells.franka_peg.task.name=charger"],
        "cell 'franka_peg': task.name=charger",
    ),
    (["train", "cells=[franka_peg]", "cells.franka_pig.weight=2"], "no cell 'franka_pig'"),
    # what the loader already refused: a typo, a wrong type, an empty budget, a missing path
    (["train", "run.env_step=100"], "did you mean run.env_steps"),
    (["train", "run.env_steps=many"], "run.env_steps"),
    (["train", "run.grad_steps=0"], "the run has no budget"),
    (["train", "demos.path=no_such_store"], "demos.path"),
    (["train", "resume=true", "run.name=never_ran"], "resume=true needs run.name="),
    (["eval", "run=runs/never_ran"], "no config file"),
]


@pytest.mark.parametrize(("arguments", "says"), MISTAKES, ids=[" ".join(m[0]) for m in MISTAKES])
def test_a_mistake_is_one_line_and_leaves_nothing(
    arguments: list[str],
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "runs"
    code = main([*arguments, f"run.root={root}"])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured
    assert len(lines) == 1 and lines[0].startswith("userl: error: "), lines
    assert says in lines[0]
    assert list(tmp_path.iterdir()) == []  # no run folder, nothing else either


def test_a_state_only_real_arm_has_no_evaluation_videos_unless_asked() -> None:
    """`robot=franka obs=state`: videos would need a camera view 'front' the user never
    configured, so they are off; asked for, they stay; a simulated camera, or the policy's
    own front view, has them on by default."""
    assert load_config(["robot=franka", "obs=state"]).eval.video_every_s == 0.0
    asked = load_config(["robot=franka", "obs=state", "eval.video_every_s=30"])
    assert asked.eval.video_every_s == 30.0
    assert load_config(["robot=franka", "obs=image"]).eval.video_every_s > 0
    wrist_only = ["robot=franka", "obs=image", "robot.camera_names=[wrist]"]
    assert load_config(wrist_only).eval.video_every_s == 0.0
    assert load_config([]).eval.video_every_s > 0  # the simulated robot renders


def test_a_video_render_bound_out_of_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "eval.video_render_max_period_fraction=0"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "eval.video_render_max_period_fraction" in line


def test_resuming_with_another_policy_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A saved run's checkpoint holds its own policy: `policy=` on resume would load another
    preset's fields over it (a size mismatch once the workers start)."""
    saved = tmp_path / "runs" / "saved"
    saved.mkdir(parents=True)
    (saved / "config.yaml").write_text(to_yaml(load_config([])))
    before = sorted(tmp_path.rglob("*"))
    arguments = ["resume=true", f"run.root={tmp_path / 'runs'}", "run.name=saved"]
    assert main(["train", *arguments, "policy=cnn", "obs=image"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "policy=cnn: the run in" in line and "drop policy=" in line
    assert sorted(tmp_path.rglob("*")) == before
