"""Simulation speed of one task: env steps/s without cameras, observations/s with the two
camera views, and the real-time factor.

Usage: userl bench sim task=T [robot=sim_franka|sim_arx_r5] [obs=image] [steps=N] [key=value ...]
out=F.json
`steps` is the number of env steps per measurement (default 400); the scripted expert acts,
so contacts and grasps are exercised as in training.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from userl.config.schema import Config

DEFAULT_STEPS = 400


def _steps_per_s(config: Config, steps: int) -> float:
    from userl.envs.factory import make_env

    env = make_env(config, seed=config.run.seed)
    try:
        env.reset(seed=config.run.seed)
        started = time.perf_counter()
        for _ in range(steps):
            _, _, terminated, truncated, _ = env.step(env.expert_action())
            if terminated or truncated:
                env.reset()
        return steps / (time.perf_counter() - started)
    finally:
        env.close()


def _render_per_s(config: Config, frames: int) -> float:
    """Two-view observations rendered per second, physics excluded."""
    from userl.envs.factory import make_env

    env = make_env(config, seed=config.run.seed)
    try:
        env.reset(seed=config.run.seed)
        started = time.perf_counter()
        for _ in range(frames):
            for camera in env.cameras:  # type: ignore[attr-defined]
                camera.read()
        return frames / (time.perf_counter() - started)
    finally:
        env.close()


def run(arguments: list[str]) -> dict:
    from userl.config.loader import load_config
    from userl.core.errors import ConfigError

    arguments = list(arguments)
    steps_text = next((a.partition("=")[2] for a in arguments if a.startswith("steps=")), None)
    arguments = [a for a in arguments if not a.startswith("steps=")]
    try:
        steps = DEFAULT_STEPS if steps_text is None else int(steps_text)
    except ValueError:
        raise ConfigError(f"steps={steps_text!r} is not a whole number") from None
    if steps < 1:
        raise ConfigError("steps must be >= 1")
    config = load_config(arguments)
    state_config = dataclasses.replace(config, obs="state")
    state_rate = _steps_per_s(state_config, steps)
    result = {
        "task": config.task.name,
        "robot": config.robot.name,
        "control_hz": config.task.control_hz,
        "steps": steps,
        "env_steps_per_s_state": round(state_rate, 1),
        "real_time_factor": round(state_rate / config.task.control_hz, 1),
    }
    if config.obs == "image":
        image_config = dataclasses.replace(config, obs="image")
        result.update(
            {
                "image_height_px": config.robot.image_height_px,
                "image_width_px": config.robot.image_width_px,
                "views": len(config.robot.camera_names),
                "observations_per_s_image": round(_steps_per_s(image_config, steps), 1),
                "renders_per_s_image": round(_render_per_s(image_config, steps), 1),
            }
        )
    return result


def table(result: dict) -> str:
    width = max(len(key) for key in result)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in result.items())
