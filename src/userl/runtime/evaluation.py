"""In-process evaluation and collection (no Ray): a trained run's policy, or the expert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from userl.config.loader import ConfigError
from userl.config.schema import Config
from userl.core.types import Episode
from userl.envs.factory import make_env
from userl.policies import build_policy
from userl.runtime.action_sources import ExpertSource, PolicySource
from userl.runtime.checkpoint import load_checkpoint
from userl.runtime.rollout import run_episode


def policy_source_from_run(config: Config, run_dir: Path, env: Any) -> PolicySource:
    checkpoint = run_dir / "checkpoints" / "latest.pt"
    if not checkpoint.is_file():
        raise ConfigError(f"no checkpoint at {checkpoint}; train first or pass another run=")
    policy = build_policy(config.policy, env.observation_spec, env.action_space.shape[0])
    state = load_checkpoint(checkpoint)
    source = PolicySource(policy, deterministic=config.eval.deterministic)
    source.load_weights(int(state.get("weight_version", 0)), state["policy"])
    return source


def run_episodes(config: Config, source_name: str, episodes: int, run_dir: Path | None = None,
                 seed_base: int | None = None) -> list[Episode]:
    """Run `episodes` episodes in this process with `expert` or a run's trained policy."""
    torch.set_num_threads(config.run.torch_threads)
    env = make_env(config, robot_id="robot_0", seed=config.run.seed)
    try:
        if source_name == "expert":
            source: Any = ExpertSource(env)
        else:
            if run_dir is None:
                raise ConfigError("evaluating a policy needs run=runs/<name>; or use policy=expert")
            source = policy_source_from_run(config, run_dir, env)
        base = config.eval.seed_offset if seed_base is None else seed_base
        return [run_episode(env, source, "robot_0", seed=base + i) for i in range(episodes)]
    finally:
        env.close()


def results_of(episodes: list[Episode]) -> dict[str, Any]:
    results = [{"seed": int(e.info["seed"]), "success": bool(e.success),
                "return": e.episode_return, "length": len(e)} for e in episodes]
    return {
        "success_rate": float(np.mean([r["success"] for r in results])) if results else 0.0,
        "episodes": len(results),
        "mean_length": float(np.mean([r["length"] for r in results])) if results else 0.0,
        "mean_return": float(np.mean([r["return"] for r in results])) if results else 0.0,
        "results": results,
    }
