"""`learner.devices=2` on a real two-node Ray cluster (a head and a second node, each its own
raylet on 127.0.0.1, Ray's cluster utilities, token authentication): the learner, rank 0, runs
on the head, which it fills; its second rank is placed on the other node, and the two train
together over gloo across the nodes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.ray_cluster import REPO_ROOT, loopback_cluster

ROBOT = "sim_arm"
RUN_TIMEOUT_S = 900  # a generous bound for Ray workers starting on a busy machine


def test_one_rank_per_node_train_together(tmp_path: Path) -> None:
    with loopback_cluster([ROBOT]) as cluster:
        layout = tmp_path / "loopback.yaml"
        layout.write_text(f"""
head_address: {cluster.address}
learner_gpus: 0
learner_cpus: 2
nodes:
  head: {{address: 127.0.0.1}}
  second: {{address: 127.0.0.1}}
robots:
  {ROBOT}: {{node: second}}
""")
        result = subprocess.run(
            [sys.executable, "-m", "tests.learner_ranks_probe", str(layout), str(tmp_path / "run")],
            capture_output=True,
            text=True,
            env=cluster.env,
            cwd=REPO_ROOT,
            timeout=RUN_TIMEOUT_S,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
        second = cluster.robot_node_ids[ROBOT]
        assert report == {"learner": cluster.head_node_id, "ranks": [second], "updates": 4}
        assert second != cluster.head_node_id
