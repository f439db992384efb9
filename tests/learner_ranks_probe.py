"""A learner of `learner.devices=2` on a cluster, from a driver of its own (`python -m
tests.learner_ranks_probe LAYOUT RUN_DIR`, with the cluster's token in its environment): it
trains a few updates on demos and prints, as JSON, the node of the learner (rank 0), the nodes
of its other ranks and the updates it ran."""

from __future__ import annotations

import json
import sys

import ray

from tests.conftest import Takeover
from userl.config.loader import load_config
from userl.core.specs import ObservationSpec
from userl.runtime.learner import Learner
from userl.runtime.learner_ranks import check_ranks
from userl.runtime.placement import actor_options
from userl.runtime.ray_session import ray_for

UPDATES = 4


class ProbedLearner(Learner):
    def rank_nodes(self) -> list[str]:
        return self.algorithm.node_ids()  # type: ignore[attr-defined]


def main(layout: str, run_dir: str) -> None:
    takeover = Takeover()
    config = load_config(
        [
            "algo=hg_dagger",
            "policy=mlp",
            "algo.batch_size=32",
            f"algo.pretrain_updates={UPDATES}",
            f"cluster={layout}",
            "learner.devices=2",
        ]
    )
    with ray_for(config):
        check_ranks(config)
        actor = (
            ray.remote(ProbedLearner)
            .options(**actor_options(config, "learner"))
            .remote(config, ObservationSpec(takeover.state_dim), takeover.action_dim, run_dir)
        )
        ray.get(actor.add_demos.remote([takeover.episode(success=True)]), timeout=600)
        updates = ray.get(actor.pretrain.remote(UPDATES), timeout=600)
        learner_node = ray.get(actor.node_id.remote(), timeout=60)
        rank_nodes = ray.get(actor.rank_nodes.remote(), timeout=60)
        ray.get(actor.close.remote(), timeout=60)
    print(json.dumps({"learner": learner_node, "ranks": rank_nodes, "updates": updates}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
