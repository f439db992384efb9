"""The paper's sync-vs-async table on the simulated robot paced to real time (10 Hz):
`userl bench pipeline [wall_s=120] [policy=cnn_small] [sync_updates_per_episode=10]
[key=value ...] out=F.json`.

Both modes train the same model (CNN+SAC, the CPU preset, image observations) with the same
batch for the same wall time. Figures per mode:
- `generation_s_per_episode`: wall time from an episode's first step to the next episode's
  first step on the same robot (reset included), averaged;
- `training_s_per_update`: wall time between consecutive learner updates, averaged;
and the physical limit (episode steps / control rate + measured reset time), the
learner-alone time per update (the same update, no environment running), and the
sync -> async ratios beside the paper's (1.55x generation, 4.61x training).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from userl.algorithms import build_algorithm
from userl.config.loader import load_config
from userl.core.heap import keep_freed_memory
from userl.data.buffers import ReplayBuffer
from userl.data.samplers import BatchBuffers, SymmetricSampler
from userl.data.store import EpisodeStore
from userl.envs.factory import make_env
from userl.rollout.evaluation import run_episodes
from userl.runtime.train import train

PAPER_RATIOS = {"generation": 1.55, "training": 4.61}  # as the paper states them
SHARED = [
    "robot.realtime=true",
    "obs=image",
    "robot.image_height_px=64",
    "robot.image_width_px=64",
    "algo=sac",
    "algo.utd_min=0",  # robots unpaced: the benchmark measures how fast each mode generates
    "demos.episodes=1",
    "eval.episodes=1",
    "eval.video_every_s=0",
    "run.grad_steps=0",
    "run.env_steps=0",
    "task.terminate_on_success=false",
    "run.log_every_s=10",
]
# Sync trains a fixed number of updates after each episode; async trains without pause
# (its update-to-data ceiling set out of reach), as the pipeline intends.
MODE_SETTINGS = {"sync": ["pipeline=sync"], "async": ["pipeline=async", "algo.utd_max=1000"]}


def learner_alone_s_per_update(arguments: list[str], updates: int) -> float:
    """The same update on the same batch size, with nothing else running."""
    config = load_config([*SHARED, *arguments])
    torch.set_num_threads(config.run.torch_threads)
    episodes = run_episodes(config, "expert", 2)
    env = make_env(config, seed=0)
    spec = env.observation_spec
    env.close()
    algorithm = build_algorithm(config.algo, config.policy, spec, 7)
    buffer = ReplayBuffer(10_000, spec, 7)
    for episode in episodes:
        buffer.add_episode(episode)
    sampler = SymmetricSampler(buffer, None, 0.0)
    batches = BatchBuffers(spec, 7, config.algo.batch_size)
    keep_freed_memory(config.algo.host_memory_kept_mb * 1024 * 1024)  # as the learner does
    rng = np.random.default_rng(0)
    algorithm.update(batches.fill(sampler, rng))  # warm-up
    started = time.perf_counter()
    for _ in range(updates):
        algorithm.update(batches.fill(sampler, rng), metrics=False)
    return (time.perf_counter() - started) / updates


def measure_mode(mode: str, arguments: list[str], root: Path, wall_s: float) -> dict[str, Any]:
    config = load_config(
        [*SHARED, *arguments, f"run.wall_s={wall_s}", f"run.root={root}", f"run.name={mode}"]
    )
    summary = train(config)
    run_dir = root / mode
    episodes = list(EpisodeStore(run_dir / "episodes").iter_episodes())
    generation = summary["generation_s_per_episode"]
    training = summary["training_s_per_update"]
    reset_s = float(np.mean([e.info["reset_s"] for e in episodes])) if episodes else 0.0
    steps = float(np.mean([len(e) for e in episodes])) if episodes else 0.0
    return {
        "generation_s_per_episode": generation,
        "training_s_per_update": training,
        "episodes": len(episodes),
        "updates": int(summary["grad_steps"]),
        "mean_episode_steps": steps,
        "mean_reset_s": reset_s,
        "physical_limit_s_per_episode": steps / config.task.control_hz + reset_s,
    }


def run(arguments: list[str]) -> dict[str, Any]:
    options = dict(argument.split("=", 1) for argument in arguments)
    wall_s = float(options.pop("wall_s", "120"))
    policy = options.pop("policy", "cnn_small")
    sync_updates = int(options.pop("sync_updates_per_episode", "10"))
    root = Path(options.pop("root", "") or tempfile.mkdtemp(prefix="userl-pipeline-"))
    overrides = [f"policy={policy}", *(f"{k}={v}" for k, v in options.items())]
    steps = load_config(["obs=image", *overrides]).task.episode_steps  # as SHARED views
    sync_settings = [*MODE_SETTINGS["sync"], f"algo.utd_max={sync_updates / steps}"]
    modes = {
        mode: measure_mode(mode, [*overrides, *settings], root, wall_s)
        for mode, settings in (("sync", sync_settings), ("async", MODE_SETTINGS["async"]))
    }
    alone = learner_alone_s_per_update(overrides, updates=20)
    sync, asynchronous = modes["sync"], modes["async"]
    return {
        "policy": policy,
        "wall_s_per_mode": wall_s,
        "sync_updates_per_episode": sync_updates,
        "modes": modes,
        "learner_alone_s_per_update": alone,
        "generation_ratio_sync_to_async": sync["generation_s_per_episode"]
        / asynchronous["generation_s_per_episode"],
        "training_ratio_sync_to_async": sync["training_s_per_update"]
        / asynchronous["training_s_per_update"],
        "paper_ratios": PAPER_RATIOS,
        "async_generation_vs_physical_limit": asynchronous["generation_s_per_episode"]
        / asynchronous["physical_limit_s_per_episode"],
        "async_training_vs_learner_alone": asynchronous["training_s_per_update"] / alone,
    }


def table(result: dict[str, Any]) -> str:
    sync, asynchronous = result["modes"]["sync"], result["modes"]["async"]
    lines = [
        f"{'':28} {'sync':>9} {'async':>9} {'ratio':>7} {'paper':>7}",
        f"{'generation s/episode':28} {sync['generation_s_per_episode']:9.2f} "
        f"{asynchronous['generation_s_per_episode']:9.2f} "
        f"{result['generation_ratio_sync_to_async']:6.2f}x "
        f"{result['paper_ratios']['generation']:6.2f}x",
        f"{'training s/update':28} {sync['training_s_per_update']:9.3f} "
        f"{asynchronous['training_s_per_update']:9.3f} "
        f"{result['training_ratio_sync_to_async']:6.2f}x "
        f"{result['paper_ratios']['training']:6.2f}x",
        f"physical limit {asynchronous['physical_limit_s_per_episode']:.2f} s/episode; async is "
        f"{result['async_generation_vs_physical_limit']:.3f}x of it",
        f"learner alone {result['learner_alone_s_per_update']:.3f} s/update; async is "
        f"{result['async_training_vs_learner_alone']:.3f}x of it",
    ]
    return "\n".join(lines)
