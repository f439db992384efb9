"""`make_env`: builds a RobotEnv from the config through the registries."""

from __future__ import annotations

import dataclasses

import gymnasium as gym

import userl.hardware.cameras  # noqa: F401  (registers RealSense and UVC cameras)
import userl.hardware.robots  # noqa: F401  (registers the real robot drivers)
import userl.hardware.sim.camera  # noqa: F401  (registers the simulated cameras)
import userl.hardware.sim.franka  # noqa: F401  (registers the simulated robot)
import userl.rewards  # noqa: F401  (registers the reward sources)
import userl.tasks  # noqa: F401  (registers the tasks)
from userl.config.schema import Config
from userl.core.registry import CAMERAS, ENV_BUILDERS, ROBOTS, TASKS
from userl.envs.robot_env import RobotEnv
from userl.hardware.safety import with_safety
from userl.rewards.factory import build_reward

OBSERVATION_MODES: dict[str, bool] = {"state": False, "image": True}  # mode -> uses cameras
RENDER_CAMERA = "front"  # the view that env.render() and episode videos show


def make_env(cfg: Config, robot_id: str = "robot_0", seed: int | None = None,
             render_mode: str | None = None) -> gym.Env:
    """The environment of `cfg.task`, by its config's ENV_BUILDER (default: a robot task)."""
    import userl.envs.gym_env  # noqa: F401  (registers the gymnasium builder)

    builder = ENV_BUILDERS.get(getattr(cfg.task, "ENV_BUILDER", "robot"))
    return builder(cfg, robot_id=robot_id, seed=seed, render_mode=render_mode)


@ENV_BUILDERS.register("robot")
def make_robot_env(cfg: Config, robot_id: str = "robot_0", seed: int | None = None,
                   render_mode: str | None = None) -> RobotEnv:
    """The task, robot, cameras (when `cfg.obs == "image"`) and reward named by the config.
    `seed` seeds the first `reset()` that is given no seed; `render_mode="rgb_array"` adds a
    front camera of `robot.render_height_px` x `render_width_px` for `env.render()`."""
    if cfg.obs not in OBSERVATION_MODES:
        known = ", ".join(sorted(OBSERVATION_MODES))
        raise ValueError(f"unknown obs mode {cfg.obs!r}; choose one of: {known}")
    task = TASKS.get(cfg.task.name)(cfg.task)
    robot = ROBOTS.get(cfg.robot.name)(cfg.robot, scene=task.scene(), control_hz=task.control_hz)
    robot = with_safety(robot, cfg.robot.safety)  # robot-side limits, whatever the policy does
    robot.connect()
    cameras = []
    if OBSERVATION_MODES[cfg.obs]:
        driver = CAMERAS.get(cfg.robot.camera_driver)
        cameras = [driver(name, robot, cfg.robot) for name in cfg.robot.camera_names]
    render_camera = None
    if render_mode is not None:
        render_config = dataclasses.replace(cfg.robot, image_height_px=cfg.robot.render_height_px,
                                            image_width_px=cfg.robot.render_width_px)
        render_camera = CAMERAS.get(cfg.robot.camera_driver)(RENDER_CAMERA, robot, render_config)
    return RobotEnv(robot, task, build_reward(cfg.task), cameras, robot_id=robot_id, seed=seed,
                    render_mode=render_mode, render_camera=render_camera)
