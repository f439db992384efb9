"""Where each Ray actor runs: a cluster layout (`cluster=lab.yaml`) names the Ray head, the
nodes and the robots; each env worker asks for its robot's custom resource `robot:NAME`, which
only the robot's node offers (`ray start --address=HEAD --resources='{"robot:NAME": 1}'`), and
the learner (and inference) ask for a GPU when there is one, and run on the head node
(`learner_on_head`, through Ray's own head-node resource).

Layout file:

    head_address: 10.0.0.1:6379      # the GPU box runs `ray start --head`
    learner_gpus: 1                  # GPUs the learner asks for (0: CPU)
    inference_gpus: 0
    learner_on_head: true            # the learner and inference run on the head node
    nodes:
      gpu_box: {address: 10.0.0.1}
      nuc_a: {address: 10.0.0.11}
    robots:                          # in order: robot_0, robot_1, ...
      franka_0: {node: nuc_a}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.core.yaml_files import read_yaml

ROBOT_RESOURCE_PREFIX = "robot:"
# Ray's own resource, offered by the head node alone (Ray Serve places its controller with it);
# asking for a sliver of it pins an actor to the head without using up anything.
HEAD_NODE_RESOURCE = "node:__internal_head__"
HEAD_NODE_SHARE = 0.001
WORKER_ID_PREFIX = "robot_"  # env workers are robot_0, robot_1, ... in the layout's order
# Without a layout the learner and the inference server share this machine's one GPU: each
# asks Ray for this share of it, so both fit (a whole GPU each would leave the second waiting
# for a GPU that never frees). Ray gives both the same device; torch shares its memory.
LOCAL_GPU_SHARE = 0.5


@dataclass
class NodeLayout:
    address: str = ""


@dataclass
class RobotLayout:
    node: str = ""


@dataclass
class ClusterLayout:
    head_address: str = ""
    learner_gpus: float = 1.0
    inference_gpus: float = 0.0
    env_worker_cpus: float = 1.0
    learner_cpus: float = 1.0
    learner_on_head: bool = True
    nodes: dict[str, NodeLayout] = field(default_factory=dict)
    robots: dict[str, RobotLayout] = field(default_factory=dict)


def load_cluster(path: str | Path) -> ClusterLayout:
    """Parse and check a layout file; every problem is a one-line `ConfigError`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"cluster={path}: no such file; write one as in docs/real-robot.md")
    data = read_yaml(path, f"cluster={path}") or {}
    try:
        node = OmegaConf.merge(OmegaConf.structured(ClusterLayout), data)
        layout: ClusterLayout = OmegaConf.to_object(node)  # type: ignore[assignment]
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", "") or "layout"
        raise ConfigError(
            f"cluster={path}: bad key {key!r} ({str(error).splitlines()[0]}); "
            "see docs/real-robot.md for the layout's keys"
        ) from None
    if not layout.head_address:
        raise ConfigError(
            f"cluster={path}: head_address is missing; give the Ray head's "
            "host:port, e.g. head_address: 10.0.0.1:6379"
        )
    if not layout.robots:
        raise ConfigError(f"cluster={path}: no robots; list them under robots: with their node")
    for name, robot in layout.robots.items():
        if robot.node not in layout.nodes:
            known = ", ".join(sorted(layout.nodes)) or "none"
            raise ConfigError(
                f"cluster={path}: robot {name!r} is on node {robot.node!r}, which "
                f"is not under nodes: (known: {known})"
            )
    return layout


def robot_name(layout: ClusterLayout, robot_id: str) -> str:
    """A layout robot name, given it or an env worker id `robot_<i>` (the i-th robot listed)."""
    if robot_id in layout.robots:
        return robot_id
    names = list(layout.robots)
    index = robot_id.removeprefix(WORKER_ID_PREFIX)
    if robot_id.startswith(WORKER_ID_PREFIX) and index.isdigit() and int(index) < len(names):
        return names[int(index)]
    raise ConfigError(
        f"robot {robot_id!r} is not in the cluster layout (robots: "
        f"{', '.join(names)}); set run.num_robots to at most {len(names)}"
    )


def robot_resource(name: str) -> str:
    """The custom Ray resource that only the robot's node offers."""
    return f"{ROBOT_RESOURCE_PREFIX}{name}"


def local_gpus() -> float:
    """1 when this machine has a CUDA GPU, else 0."""
    import torch

    return 1.0 if torch.cuda.is_available() else 0.0


def assigned_device() -> str:
    """Where this Ray actor computes: `cuda` when Ray gave it a GPU (Ray sets
    CUDA_VISIBLE_DEVICES to that GPU) and torch can use it, else `cpu`."""
    import ray
    import torch

    if not ray.is_initialized() or not ray.get_gpu_ids():
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _env_worker(layout: ClusterLayout | None, robot_id: str) -> dict[str, Any]:
    if layout is None:
        return {"num_cpus": 1}
    return {
        "num_cpus": layout.env_worker_cpus,
        "resources": {robot_resource(robot_name(layout, robot_id)): 1},
    }


def _on_head(layout: ClusterLayout) -> dict[str, Any]:
    return {"resources": {HEAD_NODE_RESOURCE: HEAD_NODE_SHARE}} if layout.learner_on_head else {}


def _learner(layout: ClusterLayout | None, robot_id: str) -> dict[str, Any]:
    if layout is None:
        return {"num_cpus": 1, "num_gpus": local_gpus() * LOCAL_GPU_SHARE}
    return {"num_cpus": layout.learner_cpus, "num_gpus": layout.learner_gpus, **_on_head(layout)}


def _inference(layout: ClusterLayout | None, robot_id: str) -> dict[str, Any]:
    if layout is None:
        return {"num_cpus": 1, "num_gpus": local_gpus() * LOCAL_GPU_SHARE}
    return {"num_cpus": 1, "num_gpus": layout.inference_gpus, **_on_head(layout)}


def current_node_id() -> str:
    """The Ray node this process runs on (an actor reports where it was placed)."""
    import ray

    return ray.get_runtime_context().get_node_id()


ROLES: dict[str, Callable[[ClusterLayout | None, str], dict[str, Any]]] = {
    "env_worker": _env_worker,
    "learner": _learner,
    "inference": _inference,
}


def actor_options(config: Config, role: str, robot_id: str = "") -> dict[str, Any]:
    """Ray options (`ray.remote(...).options(**these)`) for an actor of `role`: env_worker
    (give its `robot_id`), learner or inference. Without `config.cluster`: this machine."""
    if role not in ROLES:
        raise ConfigError(f"unknown actor role {role!r}; choose one of: {', '.join(ROLES)}")
    layout = load_cluster(config.cluster) if config.cluster else None
    return ROLES[role](layout, robot_id)


def ray_address(config: Config) -> str | None:
    """The Ray head to join (`ray.init(address=...)`), or None for a local Ray."""
    return load_cluster(config.cluster).head_address if config.cluster else None


def robot_start_commands(layout: ClusterLayout) -> list[str]:
    """The `ray start` line for each robot node, as the docs tell operators to run (with token
    authentication: the node holds the cluster's token in ~/.ray/auth_token)."""
    lines = []
    for node in layout.nodes:
        names = [name for name, robot in layout.robots.items() if robot.node == node]
        if names:
            resources = ", ".join(f'"{robot_resource(name)}": 1' for name in names)
            lines.append(
                f"RAY_AUTH_MODE=token ray start --address={layout.head_address} "
                f"--resources='{{{resources}}}'"
            )
    return lines
