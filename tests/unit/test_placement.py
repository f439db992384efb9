"""Cluster placement: each env worker asks for its robot's resource; the learner for the GPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from userl.config.loader import ConfigError, load_config
from userl.runtime import placement
from userl.runtime.placement import actor_options, load_cluster, ray_address, robot_start_commands

LAYOUT = """
head_address: 10.0.0.1:6379
learner_gpus: 1
nodes:
  gpu_box: {address: 10.0.0.1}
  nuc_a: {address: 10.0.0.11}
  nuc_b: {address: 10.0.0.12}
robots:
  franka_0: {node: nuc_a}
  arx_0: {node: nuc_b}
"""


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(LAYOUT)
    return path


def test_env_workers_ask_for_their_robots_resource(lab: Path) -> None:
    config = load_config([f"cluster={lab}"])
    assert actor_options(config, "env_worker", "robot_0") == {
        "num_cpus": 1.0,
        "resources": {"robot:franka_0": 1},
    }
    assert actor_options(config, "env_worker", "arx_0")["resources"] == {"robot:arx_0": 1}
    assert actor_options(config, "learner") == {  # on the head, by Ray's own head resource
        "num_cpus": 1.0,
        "num_gpus": 1.0,
        "resources": {"node:__internal_head__": 0.001},
    }
    assert ray_address(config) == "10.0.0.1:6379"


def test_the_learner_may_leave_the_head(lab: Path) -> None:
    lab.write_text(LAYOUT + "learner_on_head: false\n")
    config = load_config([f"cluster={lab}"])
    assert actor_options(config, "learner") == {"num_cpus": 1.0, "num_gpus": 1.0}
    assert "resources" not in actor_options(config, "inference")


def test_without_a_cluster_everything_is_local(monkeypatch) -> None:
    monkeypatch.setattr(placement, "local_gpus", lambda: 0.0)
    config = load_config([])
    assert actor_options(config, "env_worker", "robot_0") == {"num_cpus": 1}
    assert actor_options(config, "learner") == {"num_cpus": 1, "num_gpus": 0.0}
    assert ray_address(config) is None
    monkeypatch.setattr(placement, "local_gpus", lambda: 1.0)
    shares = [actor_options(config, role)["num_gpus"] for role in ("learner", "inference")]
    assert all(share > 0 for share in shares) and sum(shares) <= 1.0  # both fit on one GPU


def test_robot_nodes_start_commands(lab: Path) -> None:
    assert robot_start_commands(load_cluster(lab)) == [
        "RAY_AUTH_MODE=token ray start --address=10.0.0.1:6379 "
        "--resources='{\"robot:franka_0\": 1}'",
        "RAY_AUTH_MODE=token ray start --address=10.0.0.1:6379 --resources='{\"robot:arx_0\": 1}'",
    ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("head_address: h:1\nnodes: {a: {}}\nrobots: {r: {node: b}}", "'b'"),
        ("nodes: {a: {}}\nrobots: {r: {node: a}}", "head_address"),
        ("head_address: h:1\nbogus: 1\nnodes: {a: {}}\nrobots: {r: {node: a}}", "bogus"),
        ("head_address: h:1\nnodes: {}\nrobots: {}", "no robots"),
    ],
)
def test_bad_layouts_are_one_line_errors(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=named) as error:
        load_cluster(path)
    assert "\n" not in str(error.value)


def test_unknown_worker_role_and_missing_file(lab: Path, tmp_path: Path) -> None:
    config = load_config([f"cluster={lab}"])
    with pytest.raises(ConfigError, match="num_robots"):
        actor_options(config, "env_worker", "robot_5")
    with pytest.raises(ConfigError, match="role"):
        actor_options(config, "janitor")
    with pytest.raises(ConfigError, match="no such file"):
        actor_options(load_config([f"cluster={tmp_path / 'none.yaml'}"]), "learner")


def test_actor_computes_on_the_gpu_ray_assigned_it(monkeypatch):
    import ray
    import torch

    from userl.runtime.placement import assigned_device

    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    monkeypatch.setattr(ray, "get_gpu_ids", lambda: [0])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert assigned_device() == "cuda"
    monkeypatch.setattr(ray, "get_gpu_ids", lambda: [])
    assert assigned_device() == "cpu"  # no GPU assigned: never grab one Ray did not give
    monkeypatch.setattr(ray, "get_gpu_ids", lambda: [0])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert assigned_device() == "cpu"


def test_each_cell_runs_on_its_robots_node(lab: Path, tmp_path: Path) -> None:
    """A cell takes the layout's i-th robot, or the one it names (`ray_robot`)."""
    from userl.runtime.cluster import worker_plan

    cells = tmp_path / "cells.yaml"
    cells.write_text("peg: {task: peg_insertion}\ncharger: {task: charger, ray_robot: franka_0}\n")
    config = load_config([f"cluster={lab}", f"cells={cells}"])
    plan = [
        (robot_id, worker.task.name, options["resources"])
        for robot_id, worker, options in worker_plan(config)
    ]
    assert plan == [
        ("robot_0", "peg_insertion", {"robot:franka_0": 1}),
        ("robot_1", "charger", {"robot:franka_0": 1}),
    ]
    config = load_config([f"cluster={lab}", "cells=[franka_peg,franka_charger]"])
    assert [options["resources"] for _, _, options in worker_plan(config)] == [
        {"robot:franka_0": 1},
        {"robot:arx_0": 1},
    ]
