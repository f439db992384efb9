"""The learner over `learner.devices` data-parallel ranks.

Rank 0 is the learner actor itself: it keeps the episode store, the replay, the UTD governor,
the TensorBoard writer, checkpoints and weight publishing, so the run still has one logical
learner. Ranks 1..N-1 are `LearnerRank` actors that it starts in one Ray placement group (one
bundle per rank, the learner's own resources each: a GPU where the learner asks for one; a
cluster may spread them over nodes), owned by the learner's process, so none outlives it.
All N join one torch.distributed group (NCCL on GPUs, gloo on CPUs) at the learner's node.

Each update rank 0 samples the global batch, sends each rank its rows through Ray, computes
its own rows, and the ranks average every optimiser step's gradients
(`algorithms/data_parallel.py`): the same parameters as one rank with the whole batch, on
every rank. To the learner this is an `Algorithm` (`RankedAlgorithm`): a checkpoint is rank
0's state (one file, whatever the number of ranks), and loading one hands it to every rank,
so a run saved with N ranks resumes with M.

With `learner.sharding=fsdp` each rank builds its algorithm after joining the group, its
policy's layers sharded over the ranks as it is built (`algorithms/fsdp.py`). What leaves the
ranks (weights to publish, a checkpoint) is then gathered by all of them together: rank 0
asks the other ranks for their part through Ray and takes its own, every collective under
one lock, so all ranks meet the same collectives in the same order.

Why Ray actors and not Ray Train's `TorchTrainer`: the learner is already a long-lived Ray
actor that the episode stream, the weight readers and the checkpoints talk to; a trainer
owns its workers' loop and would move all of that behind its own reporting API. Actors in a
placement group give the same placement with the learner left as it is.
"""

from __future__ import annotations

import math
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import ray
import torch
import torch.distributed as dist
from ray.util.placement_group import PlacementGroup, placement_group, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy
from torch import Tensor

from userl.algorithms import Algorithm, build_algorithm
from userl.algorithms.data_parallel import DataParallel, batch_to, shard_rows
from userl.algorithms.fsdp import SHARDINGS
from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies.sharding import sharding_policies
from userl.runtime.placement import actor_options, assigned_device, current_node_id
from userl.runtime.signals import ignore_interrupts

Result = TypeVar("Result")


def rank_resources(config: Config) -> dict[str, float]:
    """What each rank past the learner asks for: the learner's CPUs and whole GPUs (two ranks
    never share a device; the learner alone may share its GPU with inference)."""
    options = actor_options(config, "learner")
    gpus = float(options.get("num_gpus", 0.0))
    return {"CPU": float(options.get("num_cpus", 1.0)), "GPU": float(math.ceil(gpus))}


def check_ranks(config: Config) -> None:
    """Before any actor starts: the global batch must split evenly over the ranks, and the
    ranks' GPUs must be there (Ray would wait for them forever). One line each."""
    devices = config.learner.devices
    if devices == 1:
        return
    if config.algo.batch_size % devices:
        raise ConfigError(
            f"learner.devices={devices} does not divide algo.batch_size="
            f"{config.algo.batch_size}; choose a batch size that is a multiple of it"
        )
    learner_gpus = float(actor_options(config, "learner").get("num_gpus", 0.0))
    needed = learner_gpus + (devices - 1) * rank_resources(config)["GPU"]
    seen = float(ray.cluster_resources().get("GPU", 0.0))
    if needed > seen:
        raise ConfigError(
            f"learner.devices={devices} needs {needed:g} GPUs but Ray sees {seen:g}; "
            f"set learner.devices to at most {1 + int(max(0.0, seen - learner_gpus))} "
            "(or add GPU nodes to the cluster)"
        )


def join_group(address: str, rank: int, world: int, device: str, timeout_s: float) -> None:
    """This process joins the ranks' torch.distributed group at rank 0's `address`."""
    if device == "cuda":
        torch.cuda.set_device(0)  # Ray shows each rank its own GPU as device 0
    dist.init_process_group(
        "nccl" if device == "cuda" else "gloo",
        init_method=f"tcp://{address}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=timeout_s),
    )


def build_rank_algorithm(
    config: Config, spec: ObservationSpec, action_dim: int, device: str
) -> Algorithm:
    """This rank's algorithm, built (after joining the ranks' group) as `learner.sharding`
    says: its policy whole, or its layers sharded over the ranks."""
    sharder = SHARDINGS[config.learner.sharding](device, None)
    with sharding_policies(sharder):
        return build_algorithm(config.algo, config.policy, spec, action_dim, device)


class LearnerRank:
    """Rank 1..N-1: the algorithm built as the learner builds it, given rank 0's state, then
    one `update` per global batch on the rows rank 0 sends."""

    def __init__(
        self, config: Config, spec: ObservationSpec, action_dim: int, rank: int, address: str
    ) -> None:
        torch.set_num_threads(config.run.torch_threads)
        torch.manual_seed(config.run.seed)
        ignore_interrupts()
        self.device = assigned_device()
        world = config.learner.devices
        join_group(address, rank, world, self.device, config.run.start_timeout_s)
        algorithm = build_rank_algorithm(config, spec, action_dim, self.device)
        self.parallel = DataParallel(algorithm, rank, world)
        self.parallel.broadcast_state()

    def update(self, shard: Batch, metrics: bool) -> None:
        self.parallel.update(batch_to(shard, self.device), metrics)

    def receive_state(self) -> None:
        """Take rank 0's state (a checkpoint it loaded)."""
        self.parallel.hand_out(None)

    def gather_state(self) -> None:
        """This rank's part in gathering the algorithm's state whole (rank 0 keeps it)."""
        self.parallel.full_state()

    def gather_policy(self) -> None:
        """This rank's part in gathering the policy's trainable tensors whole."""
        self.parallel.policy_state()

    def node_id(self) -> str:
        return current_node_id()


class RankedAlgorithm(Algorithm):
    """Rank 0's view of the ranks: the learner's `Algorithm`, its updates spread over them."""

    def __init__(
        self, inner: Algorithm, ranks: list[Any], group: PlacementGroup, timeout_s: float
    ) -> None:
        self.inner, self.ranks, self.group, self.timeout_s = inner, ranks, group, timeout_s
        self.policy, self.finite = inner.policy, inner.finite
        self.label_chunk_steps = inner.label_chunk_steps
        self.lock = threading.Lock()  # one collective at a time, in one order on every rank
        self.parallel = DataParallel(inner, 0, len(ranks) + 1)
        self.parallel.broadcast_state()

    @property
    def grad_steps(self) -> int:
        return self.inner.grad_steps

    @grad_steps.setter
    def grad_steps(self, value: int) -> None:
        self.inner.grad_steps = value

    def __getattr__(self, name: str) -> Any:
        """What else an algorithm offers (its report, its counters): rank 0's."""
        return getattr(self.inner, name)

    def _together(self, send: Callable[[], list[Any]], local: Callable[[], Result]) -> Result:
        """`send()` the other ranks their call, then `local()` here (the same collectives on
        every rank, in one order); `local`'s result once all have done theirs."""
        with self.lock:
            pending = send()
            result = local()
            ray.get(pending, timeout=self.timeout_s)  # a rank's error ends the run on its cause
        return result

    def update(self, batch: Batch, metrics: bool = True) -> dict[str, float]:
        world = len(self.ranks) + 1
        return self._together(
            lambda: [
                rank.update.remote(batch_to(shard_rows(batch, index, world), "cpu"), metrics)
                for index, rank in enumerate(self.ranks, start=1)
            ],
            lambda: self.parallel.update(shard_rows(batch, 0, world), metrics),
        )

    def policy_state_dict(self) -> dict[str, Tensor]:
        if not self.parallel.sharded:
            return self.inner.policy_state_dict()
        return self._together(
            lambda: [rank.gather_policy.remote() for rank in self.ranks],
            self.parallel.policy_state,
        )

    def state_dict(self) -> dict[str, Any]:
        if not self.parallel.sharded:
            return self.inner.state_dict()
        return self._together(
            lambda: [rank.gather_state.remote() for rank in self.ranks], self.parallel.full_state
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._together(
            lambda: [rank.receive_state.remote() for rank in self.ranks],
            lambda: self.parallel.hand_out(state),
        )

    def node_ids(self) -> list[str]:
        """Where the ranks past the learner run (one Ray node id each)."""
        return list(ray.get([rank.node_id.remote() for rank in self.ranks], timeout=self.timeout_s))


def close_ranks(algorithm: Algorithm) -> None:
    """End the ranks past the learner and leave their group (nothing with one rank)."""
    if not isinstance(algorithm, RankedAlgorithm):
        return
    for rank in algorithm.ranks:
        ray.kill(rank, no_restart=True)
    remove_placement_group(algorithm.group)
    algorithm.ranks = []
    if dist.is_initialized():
        dist.destroy_process_group()


def free_address() -> str:
    """This node's address and a port free now, for the ranks' group to meet at."""
    host = ray.util.get_node_ip_address()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return f"{host}:{probe.getsockname()[1]}"


def build_learner_algorithm(
    config: Config, spec: ObservationSpec, action_dim: int, device: str
) -> Algorithm:
    """The learner's algorithm: built here, and with `learner.devices` > 1 spread over that
    many ranks (this process is rank 0; the others start in one placement group)."""
    world = config.learner.devices
    if world == 1:
        return build_algorithm(config.algo, config.policy, spec, action_dim, device)
    resources = rank_resources(config)
    bundle = {key: value for key, value in resources.items() if value > 0}
    group = placement_group([bundle] * (world - 1), strategy="PACK")
    ray.get(group.ready(), timeout=config.run.start_timeout_s)
    address = free_address()
    actor = ray.remote(LearnerRank)
    ranks = [
        actor.options(
            num_cpus=resources["CPU"],
            num_gpus=resources["GPU"],
            scheduling_strategy=PlacementGroupSchedulingStrategy(
                group, placement_group_bundle_index=index
            ),
        ).remote(config, spec, action_dim, index + 1, address)
        for index in range(world - 1)
    ]
    join_group(address, 0, world, device, config.run.start_timeout_s)
    algorithm = build_rank_algorithm(config, spec, action_dim, device)
    return RankedAlgorithm(algorithm, ranks, group, config.run.remote_timeout_s)
