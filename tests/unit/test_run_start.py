"""A new run's bad inputs are one line (exit 2) before anything is written: a run.root it
cannot write in, a run.name that is a file, demos of the wrong dimensions, encoder weights
the policy cannot load. A start that fails before the first episode leaves nothing that would
block the same command, corrected, from running again."""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.unit.test_store import make_episode
from userl.cli import main
from userl.config.loader import load_config
from userl.core.errors import ConfigError
from userl.core.types import Episode, EpisodeBuilder
from userl.data.store import EpisodeStore
from userl.runtime import run_dir as run_dir_module
from userl.runtime import train as train_module
from userl.runtime.errors import RunFailed
from userl.runtime.run_dir import check_writable, start_up
from userl.runtime.start_checks import check_start, expected_spec


@pytest.fixture(autouse=True)
def no_robot_preflight(monkeypatch: pytest.MonkeyPatch) -> None:
    """`userl train`'s robot preflight builds the simulated robot (physics): not here."""
    import userl.tools.doctor

    monkeypatch.setattr(userl.tools.doctor, "preflight", lambda config: None)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def train_exit(arguments: list[str]) -> int:
    return main(["train", "run.env_steps=100", *arguments])


def test_a_run_root_under_a_file_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("kept")
    assert train_exit([f"run.root={blocker / 'runs'}", "run.name=x"]) == 2
    line = one_error_line(capsys)
    assert str(blocker) in line and "run.root" in line
    assert blocker.read_text() == "kept" and sorted(tmp_path.iterdir()) == [blocker]


def test_a_read_only_run_root_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o555)
    try:
        if os.access(root, os.W_OK):
            pytest.skip("running as root: a 0o555 folder stays writable (see the file case)")
        assert train_exit([f"run.root={root}", "run.name=x"]) == 2
        line = one_error_line(capsys)
        assert str(root) in line and "cannot write" in line
        assert list(root.iterdir()) == []
    finally:
        root.chmod(0o755)


def test_an_unwritable_place_is_refused_by_what_the_system_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a read-only filesystem answers even to root: `access(W_OK)` fails."""
    monkeypatch.setattr(run_dir_module.os, "access", lambda path, mode: False)
    with pytest.raises(ConfigError, match="cannot write in") as error:
        check_writable(tmp_path / "runs" / "x")
    assert str(tmp_path) in str(error.value) and "\n" not in str(error.value)
    assert sorted(tmp_path.iterdir()) == []


def test_a_run_name_that_is_a_file_is_one_line_and_the_file_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "taken").write_text("kept")
    assert train_exit([f"run.root={tmp_path}", "run.name=taken"]) == 2
    line = one_error_line(capsys)
    assert str(tmp_path / "taken") in line and "is a file" in line
    assert (tmp_path / "taken").read_text() == "kept"


def fitting_episode(config_arguments: list[str], state_dim: int | None = None) -> Episode:
    """An episode of the shapes the config's task expects (or another state size)."""
    spec = expected_spec(load_config(config_arguments))
    assert spec is not None
    size = spec.state_dim if state_dim is None else state_dim

    def observation(t: int) -> dict[str, np.ndarray]:
        return {"state": np.full(size, 0.01 * t, dtype=np.float32)}

    builder = EpisodeBuilder("robot_0", "peg_insertion", observation(0))
    for t in range(3):
        builder.add(
            action=np.zeros(7),
            policy_action=np.zeros(7),
            reward=0.0,
            next_observation=observation(t + 1),
            terminated=t == 2,
            truncated=False,
            intervened=False,
            policy_version=-1,
            success=False,
        )
    return builder.build()


def test_demos_of_the_wrong_dimensions_are_one_line_before_the_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = EpisodeStore(tmp_path / "demos").create()
    store.write(fitting_episode([]))
    store.write(fitting_episode([], state_dim=4))
    runs = tmp_path / "runs"
    assert train_exit([f"demos.path={store.root}", f"run.root={runs}", "run.name=d"]) == 2
    line = one_error_line(capsys)
    expected = expected_spec(load_config([]))
    assert expected is not None
    assert str(store.root) in line and "obs.state" in line
    assert f"expected (steps, {expected.state_dim})" in line and "(4, 4)" in line
    assert not runs.exists()


def test_demos_of_the_right_dimensions_pass(tmp_path: Path) -> None:
    store = EpisodeStore(tmp_path / "demos").create()
    store.write(fitting_episode([]))
    check_start(load_config([f"demos.path={store.root}"]))


def test_demos_without_the_policy_camera_view_are_named(tmp_path: Path) -> None:
    store = EpisodeStore(tmp_path / "demos").create()
    store.write(make_episode())
    with pytest.raises(ConfigError, match="demos.path=") as error:
        check_start(load_config([f"demos.path={store.root}", "obs=image", "policy=cnn_small"]))
    assert "\n" not in str(error.value)


class NotWeights:
    """A pickled object where a state_dict belongs."""


@pytest.mark.parametrize("kind", ["pickle", "torch_object", "wrong_shape"])
def test_refused_encoder_weights_are_one_line_naming_the_file_before_ray(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    weights = tmp_path / "trunk.pt"
    if kind == "pickle":
        weights.write_bytes(pickle.dumps({"conv": [1, 2, 3]}))
    elif kind == "torch_object":
        torch.save(NotWeights(), weights)
    else:
        torch.save({"stem.0.weight": torch.zeros(1, 1, 1, 1)}, weights)
    runs = tmp_path / "runs"
    arguments = ["obs=image", "policy=cnn_small", f"policy.encoder_weights={weights}"]
    assert train_exit([*arguments, f"run.root={runs}", "run.name=w"]) == 2
    line = one_error_line(capsys)
    assert str(weights) in line and "policy.encoder_weights" in line
    assert not runs.exists()


# ----------------------------------------------------------------- a failed start
def test_a_failed_start_removes_the_folder_and_parents_it_made(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "x"
    with pytest.raises(RuntimeError), start_up(run_dir, fresh=True):
        (run_dir / "spool").mkdir(parents=True)
        raise RuntimeError("the learner did not start")
    assert sorted(tmp_path.iterdir()) == []


def test_a_failed_start_keeps_what_was_there_before(tmp_path: Path) -> None:
    run_dir = tmp_path / "x"
    run_dir.mkdir()  # an empty folder a new run may use
    (tmp_path / "other").mkdir()
    with pytest.raises(KeyboardInterrupt), start_up(run_dir, fresh=True):
        (run_dir / "config.yaml").write_text("a: 1")
        raise KeyboardInterrupt
    assert run_dir.is_dir() and list(run_dir.iterdir()) == []
    assert (tmp_path / "other").is_dir()


def test_a_failure_after_the_start_or_of_a_resumed_run_keeps_the_folder(
    tmp_path: Path,
) -> None:
    for fresh in (True, False):
        run_dir = tmp_path / f"run_{fresh}"
        with pytest.raises(RuntimeError), start_up(run_dir, fresh=fresh) as start:
            run_dir.mkdir()
            (run_dir / "episodes").mkdir()
            if fresh:
                start.done()
            raise RuntimeError("a worker died")
        assert (run_dir / "episodes").is_dir()


def test_a_disk_fault_at_start_is_one_line_and_a_retry_is_not_blocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only or full disk as the actors start: the error's own text and path, and the
    half-made run folder is gone, so the same name runs again."""
    monkeypatch.setattr(train_module, "ray_for", lambda config: contextlib.nullcontext())
    spool = tmp_path / "x" / "spool" / "robot_0"

    def refused(*_args: object) -> None:
        raise OSError(30, "Read-only file system", str(spool))

    monkeypatch.setattr(train_module, "start_workers", refused)
    config = load_config(["run.env_steps=100", f"run.root={tmp_path}", "run.name=x"])
    with pytest.raises(RunFailed) as error:
        train_module.train(config)
    message = str(error.value)
    assert "[Errno 30] Read-only file system" in message and str(spool) in message
    assert "\n" not in message and "run it again" in message
    assert not (tmp_path / "x").exists()


class StoppedCluster:
    def stop(self) -> None:
        pass


def test_a_disk_fault_after_the_start_is_one_line_that_says_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk as the final checkpoint is written: the learner's `OSError` (errno text
    and path) ends the run, not Ray's wrapper, and the run's folder stays for resume=true."""
    import ray

    monkeypatch.setattr(train_module, "ray_for", lambda config: contextlib.nullcontext())
    monkeypatch.setattr(train_module, "start_workers", lambda *_args: StoppedCluster())
    monkeypatch.setattr(train_module, "placement_of", lambda *_args: {})
    partial = tmp_path / "x" / "checkpoints" / "latest.pt.partial"

    def run_on(*args: object) -> None:
        started_up = args[-1]
        assert callable(started_up)
        started_up()
        cause = OSError(28, "No space left on device", str(partial))
        raise ray.exceptions.RayTaskError("Learner.save_checkpoint", "Traceback ...\n", cause)

    monkeypatch.setattr(train_module, "run_on", run_on)
    config = load_config(["run.env_steps=100", f"run.root={tmp_path}", "run.name=x"])
    with pytest.raises(RunFailed) as error:
        train_module.train(config)
    message = str(error.value)
    assert (
        message.startswith("OSError: [Errno 28] No space left on device")
        and str(partial) in message
    )
    assert "resume=true run.name=x" in message and "\n" not in message
    assert (tmp_path / "x" / "config.yaml").is_file()


@pytest.mark.parametrize(
    ("arguments", "expert"),
    [([], True), (["demos.episodes=0"], False), (["demos.path={folder}"], False)],
)
def test_the_start_ends_before_an_expert_acts_on_the_robot(
    tmp_path: Path, arguments: list[str], expert: bool
) -> None:
    """Expert demos are the run's first episodes: a failure while they are collected keeps
    the folder (resume=true); demos read from a folder are still part of the start."""
    from userl.runtime.demos import collects_expert_demos

    config = load_config([a.format(folder=tmp_path) for a in arguments])
    assert collects_expert_demos(config) is expert
