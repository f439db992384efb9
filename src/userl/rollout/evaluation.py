"""In-process evaluation and collection (no Ray): a trained run's policy, or the expert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from userl.config.schema import Config
from userl.core.types import Episode
from userl.envs.cells import make_cell_env
from userl.rollout.action_sources import ACTION_SOURCES
from userl.rollout.episode import CONFUSION_KEYS, run_episode
from userl.telemetry.progress import CountProgress


def run_episodes(
    config: Config,
    source_name: str,
    episodes: int,
    run_dir: Path | None = None,
    seed_base: int | None = None,
    cell: int = 0,
    progress: str | None = None,
    video: bool = False,
) -> list[Episode]:
    """Run `episodes` episodes in this process with a registered action source (`expert`, or
    `policy`: the trained policy of `run_dir`); in a multi-cell run, on cell `cell`. With
    `progress` (its label), the console shows how many are done and their success so far;
    with `video`, each episode keeps its rendered frames (`Episode.frames`)."""
    torch.set_num_threads(config.run.torch_threads)
    render_mode = "rgb_array" if video else None
    env = make_cell_env(
        config, cell, robot_id="robot_0", seed=config.run.seed, render_mode=render_mode
    )
    shown = CountProgress(progress or "", episodes, "episodes", config.run.log_every_s)
    try:
        source = ACTION_SOURCES.get(source_name)(config, env, run_dir)
        base = config.eval.seed_offset if seed_base is None else seed_base
        done: list[Episode] = []
        for i in range(episodes):
            done.append(run_episode(env, source, "robot_0", seed=base + i, record_frames=video))
            if progress:
                successes = sum(bool(e.info.get("true_success", e.success)) for e in done)
                shown.advance(info=f"successes={successes}")
        return done
    finally:
        shown.close()
        env.close()


def results_of(episodes: list[Episode]) -> dict[str, Any]:
    """Success rate, mean length and return. Where the task's ground truth is known (a
    simulation), an episode's success is the task's own, whatever the reward source said;
    the source's verdict is `reward_success_rate` then."""
    results = [
        {
            "seed": int(e.info["seed"]),
            "success": bool(e.info.get("true_success", e.success)),
            "return": e.episode_return,
            "length": len(e),
        }
        for e in episodes
    ]
    judged = (
        {"reward_success_rate": float(np.mean([e.success for e in episodes]))}
        if episodes and all("true_success" in e.info for e in episodes)
        else {}
    )
    return {
        "success_rate": float(np.mean([r["success"] for r in results])) if results else 0.0,
        **judged,
        "episodes": len(results),
        "mean_length": float(np.mean([r["length"] for r in results])) if results else 0.0,
        "mean_return": float(np.mean([r["return"] for r in results])) if results else 0.0,
        "results": results,
        **reward_confusion(episodes),
    }


def reward_confusion(episodes: list[Episode]) -> dict[str, int]:
    """The reward source's steps against the ground truth, summed (empty without truth)."""
    if not any(CONFUSION_KEYS[0] in e.info for e in episodes):
        return {}
    return {key: int(sum(e.info.get(key, 0) for e in episodes)) for key in CONFUSION_KEYS}
