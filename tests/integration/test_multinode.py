"""Placement on a real multi-node Ray cluster: a head and a robot node, each its own raylet
on 127.0.0.1 (Ray's cluster utilities), with token authentication. `userl train
cluster=<layout>` runs the
env worker on the node that holds its robot's resource and the learner on the head, as the
actors themselves report (by node id)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ray_cluster import LoopbackCluster, loopback_cluster

pytestmark = pytest.mark.integration
ROBOT = "sim_arm"
RUN_TIMEOUT_S = 900  # a generous bound for a short training on a busy machine


@pytest.fixture(scope="module")
def cluster() -> Iterator[LoopbackCluster]:
    with loopback_cluster([ROBOT]) as started:
        yield started


def layout(cluster: LoopbackCluster, folder: Path) -> Path:
    path = folder / "loopback.yaml"
    path.write_text(f"""
head_address: {cluster.address}
learner_gpus: 0
nodes:
  head: {{address: 127.0.0.1}}
  robot_node: {{address: 127.0.0.1}}
robots:
  {ROBOT}: {{node: robot_node}}
""")
    return path


def test_env_worker_runs_on_its_robots_node_and_the_learner_on_the_head(
    cluster: LoopbackCluster, tmp_path: Path
) -> None:
    arguments = [
        f"cluster={layout(cluster, tmp_path)}",
        f"run.root={tmp_path}",
        "run.name=placed",
        "run.env_steps=100",
        "demos.episodes=1",
        "eval.episodes=1",
        "eval.at_start=false",
        "algo.batch_size=16",
        "algo.num_critics=2",
        "policy.hidden_dims=[32,32]",
        "algo.critic_hidden_dims=[32,32]",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "userl.cli", "train", *arguments],
        capture_output=True,
        text=True,
        env=cluster.env,
        timeout=RUN_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    placement = json.loads((tmp_path / "placed" / "summary.json").read_text())["placement"]
    robot_node, head_node = cluster.robot_node_ids[ROBOT], cluster.head_node_id
    assert robot_node != head_node
    assert placement == {"robot_0": robot_node, "learner": head_node}


def test_joining_without_the_clusters_token_is_refused_in_one_line(
    cluster: LoopbackCluster, tmp_path: Path
) -> None:
    env = {**cluster.env, "RAY_AUTH_TOKEN": "0" * 64}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "userl.cli",
            "train",
            f"cluster={layout(cluster, tmp_path)}",
            f"run.root={tmp_path}",
            "run.name=refused",
            "run.env_steps=10",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT_S,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused this machine's token" in lines[0], result.stderr
    assert not (tmp_path / "refused").exists()  # a failed start leaves no half-made run
