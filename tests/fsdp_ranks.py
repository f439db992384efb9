"""The 2-rank FSDP check's rank process (gloo): HG-DAgger on `pi0_tiny` with its layers sharded
(`learner.sharding=fsdp`), training everything (the preset) or the expert alone with a moving
average of it (the published pi0's train set): UPDATES updates on each rank's half of the global
batches of `tests/data_parallel_ranks.py`, then what leaves the ranks gathered whole, the
shards' sizes, one more update after the gathered state was handed back to the ranks (a resume),
and an update whose loss is NaN on one rank's rows alone. A module of its own so that the
processes `torch.multiprocessing.spawn` starts import it by name."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor

from tests import data_parallel_ranks as cases
from userl.algorithms import Algorithm, build_algorithm
from userl.algorithms.data_parallel import DataParallel, shard_rows
from userl.algorithms.fsdp import SHARDINGS
from userl.config.loader import load_config
from userl.core.types import Batch
from userl.policies.sharding import sharding_policies

CASE = "hg_dagger_pi0_tiny"  # its batches and spec
VARIANTS = {
    "all": ("policy.train=all",),  # pi0_tiny's preset: every layer trains
    # the published pi0's train set; the robots act with the moving average (published)
    "expert_with_ema": ("policy.train=expert", "algo.ema_decay=0.9"),
}


def build(variant: str, seed: int) -> Algorithm:
    """HG-DAgger on pi0_tiny as `variant` sets it, one rank's (nothing sharded)."""
    case = cases.CASES[CASE]
    config = load_config([*case.overrides, *VARIANTS[variant]])
    torch.manual_seed(seed)
    return build_algorithm(config.algo, config.policy, case.spec(), cases.ACTION_DIM)


def build_sharded(variant: str, seed: int) -> Algorithm:
    """The same, its policy's layers sharded over the ranks' group."""
    with sharding_policies(SHARDINGS["fsdp"]("cpu", None)):
        return build(variant, seed)


def nan_on_rank_1(batch: Batch) -> Batch:
    """`batch` with a NaN state in one row of rank 1's half."""
    state = batch.observations["state"].clone()
    state[-1, 0] = float("nan")
    return dataclasses.replace(batch, observations={**batch.observations, "state": state})


def sizes(algorithm: Algorithm) -> dict[str, int]:
    """Elements of the trained parameters this rank stores (its shards and the whole
    tensors), of their whole size, and of the AdamW moments it stores."""
    trained = [p for p in algorithm.policy.parameters() if p.requires_grad]
    shards = [p for p in trained if isinstance(p, DTensor)]
    moments = [
        value.to_local() if isinstance(value, DTensor) else value
        for state in algorithm.optim.state.values()  # type: ignore[attr-defined]
        for key, value in state.items()
        if key in ("exp_avg", "exp_avg_sq")
    ]
    return {
        "local_shards": sum(p.to_local().numel() for p in shards),
        "sharded_whole": sum(p.numel() for p in shards),
        "unsharded": sum(p.numel() for p in trained if not isinstance(p, DTensor)),
        "moments_local": sum(m.numel() for m in moments),
        "sharded_tensors": len(shards),
    }


def gathered(values: list[float]) -> list[list[float]]:
    """`values` of every rank (a collective)."""
    local = torch.tensor(values, dtype=torch.float64)
    every = [torch.zeros_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(every, local)
    return [t.tolist() for t in every]


def run_case(variant: str, rank: int, world: int) -> dict:
    """One variant on this rank; what rank 0 keeps of it."""
    algorithm = build_sharded(variant, seed=0 if rank == 0 else 100 + rank)
    parallel = DataParallel(algorithm, rank, world)
    parallel.broadcast_state()
    batches = cases.batches(CASE, algorithm.label_chunk_steps)
    for batch in batches:
        parallel.update(shard_rows(batch, rank, world))
    own = sizes(algorithm)
    local_per_rank = gathered([own["local_shards"], own["moments_local"]])
    state = copy.deepcopy(parallel.full_state())  # whole tensors hold live references
    policy = parallel.policy_state()
    rng = torch.get_rng_state()  # what the ranks continue from (rank 0's, handed out)
    # a resume from the gathered state (a copy: the optimiser keeps the loaded step counts)
    parallel.hand_out(copy.deepcopy(state) if rank == 0 else None)
    parallel.update(shard_rows(batches[0], rank, world))
    continued = copy.deepcopy(parallel.full_state())
    parallel.update(shard_rows(nan_on_rank_1(batches[1]), rank, world))
    after_nan = parallel.full_state()
    return {
        "state": state,
        "policy": policy,
        "rng": rng,
        "continued": continued,
        "sizes": own,
        "local_per_rank": local_per_rank,
        "skipped_per_rank": gathered([float(algorithm.finite.skipped)]),
        "nan_changed_nothing": all(
            torch.equal(after_nan["policy"][k], v) for k, v in continued["policy"].items()
        ),
    }


def rank_main(rank: int, world: int, init_file: str, out: str) -> None:
    """One rank, every variant; rank 0 saves what it kept of each. Rank 1 builds from
    another seed: the broadcast must make them agree."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        results = {variant: run_case(variant, rank, world) for variant in VARIANTS}
        if rank == 0:
            torch.save(results, Path(out))
    finally:
        dist.destroy_process_group()
