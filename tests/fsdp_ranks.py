"""The 2-rank FSDP check's rank process (gloo): HG-DAgger on `pi0_tiny` with its layers
sharded (`learner.sharding=fsdp`), UPDATES updates on each rank's half of the global
batches of `tests/data_parallel_ranks.py`, then what leaves the ranks gathered whole, the
shards' sizes, and one more update after the gathered state was handed back to the ranks (a
resume). A module of its own so that the processes `torch.multiprocessing.spawn` starts
import it by name."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor

from tests import data_parallel_ranks as cases
from userl.algorithms import Algorithm
from userl.algorithms.data_parallel import DataParallel, shard_rows
from userl.algorithms.fsdp import SHARDINGS
from userl.policies.sharding import sharding_policies

CASE = "hg_dagger_pi0_tiny"


def build_sharded(seed: int) -> Algorithm:
    """The case's algorithm, its policy's layers sharded over the ranks' group."""
    with sharding_policies(SHARDINGS["fsdp"]("cpu", None)):
        return cases.build(CASE, seed)


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


def rank_main(rank: int, world: int, init_file: str, out: str) -> None:
    """One rank; rank 0 saves the gathered state, policy tensors, both ranks' sizes and the
    state after one more update from the handed-back gathered state. Rank 1 builds from
    another seed: the broadcast must make them agree."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        algorithm = build_sharded(seed=0 if rank == 0 else 100 + rank)
        parallel = DataParallel(algorithm, rank, world)
        parallel.broadcast_state()
        batches = cases.batches(CASE, algorithm.label_chunk_steps)
        for batch in batches:
            parallel.update(shard_rows(batch, rank, world))
        own = sizes(algorithm)
        local = torch.tensor([own["local_shards"], own["moments_local"]], dtype=torch.float64)
        every = [torch.zeros_like(local) for _ in range(world)]
        dist.all_gather(every, local)
        state = copy.deepcopy(parallel.full_state())  # whole tensors hold live references
        policy = parallel.policy_state()
        rng = torch.get_rng_state()  # what the ranks continue from (rank 0's, handed out)
        # a resume from the gathered state (a copy: the optimiser keeps the loaded step counts)
        parallel.hand_out(copy.deepcopy(state) if rank == 0 else None)
        parallel.update(shard_rows(batches[0], rank, world))
        continued = parallel.full_state()
        if rank == 0:
            results = {
                "state": state,
                "policy": policy,
                "continued": continued,
                "rng": rng,
                "sizes": own,
                "local_per_rank": [t.tolist() for t in every],
            }
            torch.save(results, Path(out))
    finally:
        dist.destroy_process_group()
