"""Learner throughput and replay memory: gradient updates per second for each policy preset
with 2 and 10 critic heads (batches sampled from a filled replay buffer, as the learner
does), and the bytes one stored transition costs.

Usage: userl bench learner [policies=mlp,cnn_small,flow_g,flow_t] [heads=2,10] [seconds=3]
       [batch_size=256] [threads=1] [device=cpu] [state_dim=25] out=F.json
`cnn` (two 128x128 views, the GPU preset) is measured when named in `policies=`; on a CPU it
takes seconds per update.
"""

from __future__ import annotations

import time

import numpy as np

DEFAULTS = {"policies": "mlp,cnn_small,flow_g,flow_t", "heads": "2,10", "seconds": "3",
            "batch_size": "256", "threads": "1", "device": "cpu", "state_dim": "25"}
ALGO_OF_POLICY = {"flow_g": "sac_flow", "flow_t": "sac_flow"}  # others: rlpd (SAC)
VIEWS = ("front", "wrist")
REPLAY_FILL = 4_000  # transitions in the buffer batches are drawn from
EPISODE_STEPS = 100
MEMORY_CAPACITY = 100_000  # the budget: 100,000 transitions of two views in <= 10 GB
MIN_UPDATES = 3  # measured even when one update takes longer than `seconds`


def _parse(arguments: list[str]) -> dict[str, str]:
    from userl.config.loader import ConfigError

    options = dict(DEFAULTS)
    for argument in arguments:
        key, sep, value = argument.partition("=")
        if not sep or key not in DEFAULTS:
            raise ConfigError(f"unknown benchmark option {argument!r}; known: "
                              f"{', '.join(f'{k}=' for k in DEFAULTS)}")
        options[key] = value
    return options


def _spec(policy_config, state_dim: int):
    from userl.core.specs import ImageSpec, ObservationSpec

    size = getattr(policy_config, "image_size_px", 0)
    views = tuple(ImageSpec(name, size, size) for name in VIEWS) if size else ()
    return ObservationSpec(state_dim, views)


def _episode(spec, steps: int, action_dim: int, rng: np.random.Generator):
    from userl.core.types import Episode

    observations = {"state": rng.standard_normal((steps + 1, spec.state_dim), np.float32)}
    for view in spec.images:
        observations[view.name] = rng.integers(0, 256, (steps + 1, view.height_px,
                                                        view.width_px, 3), np.uint8)
    actions = rng.uniform(-1, 1, (steps, action_dim)).astype(np.float32)
    zeros = np.zeros(steps, bool)
    return Episode(robot_id="bench", task="bench", observations=observations, actions=actions,
                   policy_actions=actions, rewards=rng.standard_normal(steps, np.float32),
                   terminated=zeros, truncated=zeros, intervened=zeros,
                   policy_versions=np.zeros(steps, np.int64), success=False)


def _updates_per_s(policy: str, heads: int, options: dict[str, str]) -> dict:
    import torch

    from userl.algorithms import build_algorithm
    from userl.config.loader import load_config
    from userl.core.specs import ACTION_DIM
    from userl.data.buffers import ReplayBuffer
    from userl.data.samplers import to_torch

    algo = ALGO_OF_POLICY.get(policy, "rlpd")
    config = load_config([f"policy={policy}", f"algo={algo}", f"algo.num_critics={heads}",
                          f"algo.critic_subset={min(2, heads)}",
                          f"algo.batch_size={options['batch_size']}"])
    spec = _spec(config.policy, int(options["state_dim"]))
    device = options["device"]
    torch.manual_seed(0)
    learner = build_algorithm(config, spec, ACTION_DIM, device)
    rng = np.random.default_rng(0)
    replay = ReplayBuffer(REPLAY_FILL, spec, ACTION_DIM)
    for _ in range(REPLAY_FILL // EPISODE_STEPS):
        replay.add_episode(_episode(spec, EPISODE_STEPS, ACTION_DIM, rng))
    batch_size = config.algo.batch_size

    def step() -> None:
        learner.update(to_torch(replay.sample(batch_size, rng), device))

    step()  # warm-up (allocations, kernels)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    count, started = 0, time.perf_counter()
    while count < MIN_UPDATES or time.perf_counter() - started < float(options["seconds"]):
        step()
        count += 1
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    rate = count / (time.perf_counter() - started)
    return {"policy": policy, "algo": algo, "heads": heads, "views": len(spec.images),
            "view_px": spec.images[0].height_px if spec.images else 0,
            "updates_per_s": round(rate, 2)}


def _replay_memory(view_px: int) -> dict:
    from userl.core.specs import ACTION_DIM, ImageSpec, ObservationSpec
    from userl.data.buffers import ReplayBuffer

    spec = ObservationSpec(int(DEFAULTS["state_dim"]),
                           tuple(ImageSpec(name, view_px, view_px) for name in VIEWS))
    buffer = ReplayBuffer(MEMORY_CAPACITY, spec, ACTION_DIM)  # lazily zeroed: not touched
    return {"views": len(VIEWS), "view_px": view_px, "capacity": MEMORY_CAPACITY,
            "bytes_per_transition": round(buffer.nbytes / MEMORY_CAPACITY),
            "total_gb": round(buffer.nbytes / 1e9, 3),
            "naive_copy_bytes_per_transition": 2 * len(VIEWS) * view_px * view_px * 3}


def run(arguments: list[str]) -> dict:
    import torch

    options = _parse(arguments)
    torch.set_num_threads(int(options["threads"]))
    heads = [int(h) for h in options["heads"].split(",")]
    rows = [_updates_per_s(policy, h, options)
            for policy in options["policies"].split(",") for h in heads]
    ratios = {}
    if 2 in heads and 10 in heads:
        for policy in options["policies"].split(","):
            rate = {r["heads"]: r["updates_per_s"] for r in rows if r["policy"] == policy}
            ratios[policy] = round(rate[2] / max(rate[10], 1e-9), 2)
    return {
        "device": options["device"], "threads": int(options["threads"]),
        "batch_size": int(options["batch_size"]), "updates": rows,
        "time_ratio_10_vs_2_heads": ratios,
        "replay_memory": [_replay_memory(64), _replay_memory(128)],
    }


def table(result: dict) -> str:
    lines = [f"device={result['device']} threads={result['threads']} "
             f"batch_size={result['batch_size']}",
             f"{'policy':<10} {'algo':<9} {'heads':>5} {'views':>5} {'px':>4} {'updates/s':>10}"]
    for row in result["updates"]:
        lines.append(f"{row['policy']:<10} {row['algo']:<9} {row['heads']:>5} {row['views']:>5} "
                     f"{row['view_px']:>4} {row['updates_per_s']:>10.2f}")
    for policy, ratio in result["time_ratio_10_vs_2_heads"].items():
        lines.append(f"time per update, 10 vs 2 heads, {policy}: {ratio:.2f}x")
    for memory in result["replay_memory"]:
        lines.append(f"replay {memory['views']}x{memory['view_px']}px: "
                     f"{memory['bytes_per_transition']} bytes/transition "
                     f"(copying both observations: {memory['naive_copy_bytes_per_transition']}); "
                     f"{memory['capacity']} transitions = {memory['total_gb']} GB")
    return "\n".join(lines)
