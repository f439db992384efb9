"""Faults as a real Ray reports them end on one line naming their cause: a cluster head that
nothing answers at (before Ray's own join retries it for minutes), and an actor whose
creation failed on the disk (Ray's `ActorDiedError` quotes it under the actor's name)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import ray

from userl.runtime.ray_session import TOKEN_ENV, local_ray
from userl.runtime.run_loop import failure_line

pytestmark = pytest.mark.integration
RUN_TIMEOUT_S = 600  # a generous bound for the command's imports on a busy machine
CALL_TIMEOUT_S = 300  # the same for a first actor call


def test_a_cluster_head_nothing_listens_at_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    layout = tmp_path / "lab.yaml"
    layout.write_text(
        f"head_address: {address}\nlearner_gpus: 0\nnodes: {{head: {{address: 127.0.0.1}}}}\n"
        "robots: {sim_arm: {node: head}}\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "userl.cli",
            "train",
            f"cluster={layout}",
            f"run.root={tmp_path / 'runs'}",
            "run.name=x",
            "run.env_steps=100",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, TOKEN_ENV: "f" * 64},
        timeout=RUN_TIMEOUT_S,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-3000:]
    assert len(lines) == 1 and address in lines[0], lines
    assert not (tmp_path / "runs").exists()


class DiskFullAtStart:
    def __init__(self, spool: str) -> None:
        raise OSError(28, "No space left on device", spool)

    def ready(self) -> bool:
        return True


def test_an_actor_that_could_not_start_on_a_full_disk_is_named_by_the_cause() -> None:
    with local_ray(num_cpus=1):
        actor = ray.remote(num_cpus=0)(DiskFullAtStart).remote("/runs/x/spool/robot_0")
        with pytest.raises(ray.exceptions.RayActorError) as error:
            ray.get(actor.ready.remote(), timeout=CALL_TIMEOUT_S)
    assert failure_line(error.value) == (
        "OSError: [Errno 28] No space left on device: '/runs/x/spool/robot_0'"
    )


def test_a_start_that_fails_after_its_folder_exists_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A LeRobot dataset of another task's state size is found as the demos are read, after
    Ray and the run's folder are up: one line naming the dataset, and the folder is removed,
    so the corrected command can use the same run.name."""
    from tests.unit.test_run_start import fitting_episode
    from userl.cli import main
    from userl.config.loader import load_config
    from userl.data.store import EpisodeStore
    from userl.runtime.run_dir import run_dir_for

    store = EpisodeStore(tmp_path / "demos").create()
    store.write(fitting_episode([]))  # peg_insertion's state size
    dataset = tmp_path / "lerobot"
    assert main(["data", "export", str(store.root), f"out={dataset}", "format=lerobot"]) == 0
    capsys.readouterr()
    runs = tmp_path / "runs"
    arguments = ["task=charger", "run.env_steps=100", f"run.root={runs}", "run.name=retry"]
    assert main(["train", f"demos.path={dataset}", *arguments]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(dataset) in lines[0], lines
    assert not runs.exists()
    assert run_dir_for(load_config(arguments)) == runs / "retry"  # the name is free
