"""A real multi-node Ray cluster on this machine, from Ray's own cluster utilities: a head
and one node per robot, each its own raylet with its own processes, all on 127.0.0.1 (Ray's
`ray start` CLI would move a joining node to the machine's routable address), with token
authentication.

The nodes are started by a separate process (`python -m tests.ray_cluster ROBOT ...`): Ray
reads its authentication mode once per process, and the test process may already have used
Ray without a token. That process prints the cluster's address and node ids, and stops every
node when its stdin closes; the test stops it by its PID (its whole process group if it
lingers)."""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
NODE_CPUS = 2  # logical CPUs each node offers
OBJECT_STORE_BYTES = 200 * 1024 * 1024
START_TIMEOUT_S = 300.0  # generous: nodes start slowly on a busy 2-core machine
STOP_TIMEOUT_S = 60.0
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LoopbackCluster:
    address: str
    head_node_id: str
    robot_node_ids: dict[str, str]
    env: dict[str, str]  # the environment a driver joins with (the cluster's token)


@contextmanager
def loopback_cluster(robots: list[str]) -> Iterator[LoopbackCluster]:
    """Start the cluster with a fresh token; stop it on exit."""
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_worker_niceness": "0",
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.ray_cluster", *robots],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True
    )
    reader.start()
    try:
        try:
            ready = json.loads(lines.get(timeout=START_TIMEOUT_S))
        except (queue.Empty, json.JSONDecodeError) as error:
            raise RuntimeError(f"the loopback Ray cluster did not start: {error!r}") from None
        yield LoopbackCluster(ready["address"], ready["head"], ready["robots"], env)
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Close its stdin (it stops its nodes), then SIGKILL its process group if it lingers."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)


def serve(robots: list[str]) -> None:
    """Start the head and the robot nodes, print them as JSON, run until stdin closes."""
    from ray.cluster_utils import Cluster

    node_args = {
        "node_ip_address": LOOPBACK,
        "num_cpus": NODE_CPUS,
        "object_store_memory": OBJECT_STORE_BYTES,
        "include_dashboard": False,
    }
    cluster = Cluster(shutdown_at_exit=True)
    try:
        head = cluster.add_node(**node_args)
        nodes = {
            name: cluster.add_node(**node_args, resources={f"robot:{name}": 1}) for name in robots
        }
        print(
            json.dumps(
                {
                    "address": cluster.address,
                    "head": head.node_id,
                    "robots": {name: node.node_id for name, node in nodes.items()},
                }
            ),
            flush=True,
        )
        sys.stdin.read()  # until the test closes it
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    serve(sys.argv[1:])
