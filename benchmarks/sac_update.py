"""SAC/RLPD learner throughput on the CPU: gradient updates per second at batch 256.

Usage: python benchmarks/sac_update.py [--heads 2 10] [--seconds 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from userl.algorithms import build_algorithm
from userl.config.schema import Config, SACConfig
from userl.core.specs import ACTION_DIM, ObservationSpec
from userl.core.types import Batch


def updates_per_s(heads: int, state_dim: int, batch_size: int, seconds: float,
                  critic_actor_ratio: int) -> float:
    cfg = Config(algo=SACConfig(num_critics=heads, critic_subset=min(2, heads),
                                batch_size=batch_size, critic_actor_ratio=critic_actor_ratio))
    algo = build_algorithm(cfg, ObservationSpec(state_dim), ACTION_DIM)
    batch = Batch({"state": torch.randn(batch_size, state_dim)},
                  torch.rand(batch_size, ACTION_DIM) * 2 - 1, torch.randn(batch_size),
                  {"state": torch.randn(batch_size, state_dim)}, torch.zeros(batch_size),
                  torch.zeros(batch_size))
    for _ in range(5):
        algo.update(batch)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        algo.update(batch)
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--heads", type=int, nargs="+", default=[2, 10])
    parser.add_argument("--state-dim", type=int, default=25)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--critic-actor-ratio", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for heads in args.heads:
        rate = updates_per_s(heads, args.state_dim, args.batch_size, args.seconds,
                             args.critic_actor_ratio)
        print(json.dumps({"heads": heads, "batch_size": args.batch_size,
                          "critic_actor_ratio": args.critic_actor_ratio,
                          "threads": args.threads, "updates_per_s": round(rate, 1)}))


if __name__ == "__main__":
    main()
