"""The 2-rank equivalence check's pieces: algorithm cases, their seeded global batches, one
rank's process (gloo) and the single-rank reference. A module of its own so that the processes
`torch.multiprocessing.spawn` starts import it by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from userl.algorithms import Algorithm, build_algorithm
from userl.algorithms.data_parallel import DataParallel, shard_rows
from userl.config.loader import load_config
from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Batch

STATE_DIM, ACTION_DIM, ROWS, UPDATES = 6, 3, 8, 3
INSTRUCTION = "Pick up the object and put it in the container."


@dataclass(frozen=True)
class Case:
    overrides: tuple[str, ...]
    views: tuple[str, ...] = ()
    image_px: int = 0

    def spec(self) -> ObservationSpec:
        images = tuple(ImageSpec(v, self.image_px, self.image_px) for v in self.views)
        return ObservationSpec(STATE_DIM, images, INSTRUCTION if self.views else "")


CASES = {
    # RLPD on mlp with its Q-filtered demo term, demo rows spread unevenly over the shards
    "rlpd_mlp": Case(
        ("algo=rlpd", "policy=mlp", "algo.bf16_matmuls=off", "algo.demo_bc_weight=0.5")
    ),
    "hg_dagger_flow_g": Case(("algo=hg_dagger", "policy=flow_g")),
    "hg_dagger_pi0_tiny": Case(
        ("algo=hg_dagger", "policy=pi0_tiny", "obs=image"), ("front", "wrist"), 32
    ),
    # SAC on camera views: DrQ shifts are per-row random numbers too
    "rlpd_cnn_small": Case(
        ("algo=rlpd", "policy=cnn_small", "obs=image", "algo.bf16_matmuls=off"), ("front",), 64
    ),
}


def build(name: str, seed: int) -> Algorithm:
    config = load_config(list(CASES[name].overrides))
    torch.manual_seed(seed)
    return build_algorithm(config.algo, config.policy, CASES[name].spec(), ACTION_DIM)


def batches(name: str, chunk_steps: int) -> list[Batch]:
    """UPDATES global batches of ROWS rows, the same in every process."""
    case, g = CASES[name], torch.Generator().manual_seed(11)
    out = []
    for _ in range(UPDATES):
        obs, next_obs = {"state": torch.randn(ROWS, STATE_DIM, generator=g)}, {}
        next_obs["state"] = torch.randn(ROWS, STATE_DIM, generator=g)
        for view in case.views:
            shape = (ROWS, case.image_px, case.image_px, 3)
            obs[view] = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
            next_obs[view] = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
        actions = torch.rand(ROWS, ACTION_DIM, generator=g) * 1.8 - 0.9
        chunks = mask = None
        if chunk_steps > 1:
            chunks = torch.rand(ROWS, chunk_steps, ACTION_DIM, generator=g) * 1.8 - 0.9
            mask = torch.ones(ROWS, chunk_steps)
            mask[: ROWS // 2, 2:] = 0  # the first shard has far fewer labelled steps
        from_demos = torch.zeros(ROWS)
        from_demos[ROWS // 2 - 1 :] = 1.0  # one demo row in the first shard, the rest after
        out.append(
            Batch(
                obs,
                actions,
                torch.rand(ROWS, generator=g),
                next_obs,
                (torch.rand(ROWS, generator=g) < 0.2).float(),
                torch.ones(ROWS),
                action_chunks=chunks,
                action_chunk_mask=mask,
                from_demos=from_demos,
            )
        )
    return out


def reference(name: str) -> dict[str, torch.Tensor]:
    """One rank, the whole batch, the plain update: the trained tensors after UPDATES."""
    algorithm = build(name, seed=0)
    for batch in batches(name, algorithm.label_chunk_steps):
        algorithm.update(batch)
    return trained_tensors(algorithm)


def trained_tensors(algorithm: Algorithm) -> dict[str, torch.Tensor]:
    state = algorithm.state_dict()
    tensors = {f"policy.{k}": v for k, v in state["policy"].items()}
    tensors.update({f"critic.{k}": v for k, v in state.get("critic", {}).items()})
    return {k: v.detach().clone() for k, v in tensors.items() if v.is_floating_point()}


def rank_main(rank: int, world: int, init_file: str, out: str) -> None:
    """One rank: every case's UPDATES on its shard of each global batch; rank 0 saves what
    it trained. Rank 1 builds from another seed: the broadcast must make them agree."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        results = {}
        for name in CASES:
            algorithm = build(name, seed=0 if rank == 0 else 100 + rank)
            parallel = DataParallel(algorithm, rank, world)
            parallel.broadcast_state()
            for batch in batches(name, algorithm.label_chunk_steps):
                parallel.update(shard_rows(batch, rank, world))
            results[name] = trained_tensors(algorithm)
        if rank == 0:
            torch.save(results, Path(out))
    finally:
        dist.destroy_process_group()


def spawned(rank_main: Callable[[int, int, str, str], None], world: int, folder: Path) -> dict:
    """`rank_main(rank, world, init_file, out)` in `world` processes (a file rendezvous in
    `folder`); what rank 0 saved to its `out`."""
    out = folder / "rank0.pt"
    mp.spawn(rank_main, args=(world, str(folder / "init"), str(out)), nprocs=world, join=True)
    return torch.load(out, weights_only=True)


WORLD = 2  # the ranks the 2-rank tests spawn
ATOL = 1e-5  # float32 sums in another order (shard means, then their mean)


def assert_same(got: dict, expected: dict) -> None:
    """The same tensor names, and each tensor equal to float32 rounding."""
    assert set(got) == set(expected)
    for name, tensor in expected.items():
        torch.testing.assert_close(got[name], tensor, rtol=1e-4, atol=ATOL, msg=name)
