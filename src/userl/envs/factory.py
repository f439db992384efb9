"""`make_env`: builds a RobotEnv from the config through the registries."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import gymnasium as gym

import userl.hardware.cameras  # noqa: F401  (registers RealSense and UVC cameras)
import userl.hardware.robots  # noqa: F401  (registers the real robot drivers)
import userl.hardware.sim.arx_r5  # noqa: F401  (registers the simulated ARX R5)
import userl.hardware.sim.camera  # noqa: F401  (registers the simulated cameras)
import userl.hardware.sim.franka  # noqa: F401  (registers the simulated Franka)
import userl.rewards  # noqa: F401  (registers the reward sources)
import userl.tasks  # noqa: F401  (registers the tasks)
from userl.config.schema import Config
from userl.core.registry import CAMERAS, ENV_BUILDERS, ROBOTS, TASKS
from userl.core.specs import ImageSpec, ObservationSpec
from userl.envs.relative_frame import PROPRIOCEPTION_DIM
from userl.envs.robot_env import RobotEnv
from userl.hardware.cameras.threaded import ThreadedCamera
from userl.hardware.robot_config import RENDER_VIEW
from userl.hardware.safety import with_safety
from userl.rewards.base import RewardContext, RewardSource
from userl.rewards.factory import build_reward

OBSERVATION_MODES: dict[str, bool] = {"state": False, "image": True}
"""`obs=` (the closed set `Config.obs` types) -> whether the env reads the robot's cameras."""
RENDER_CAMERA = RENDER_VIEW  # the view that env.render() and episode videos show


class TaskEnv(Protocol):
    """What the rollout and runtime layers use of any environment `make_env` builds (a
    `RobotEnv`, or a gymnasium task's adapter): a gymnasium Env with its task, its robot (or
    a stand-in that holds), its observation spec and the task's scripted expert."""

    task: Any
    robot: Any
    observation_spec: ObservationSpec
    action_space: gym.spaces.Box

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]: ...

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]: ...

    def render(self) -> Any: ...

    def close(self) -> None: ...

    def expert_action(self) -> Any: ...


def make_env(
    cfg: Config, robot_id: str = "robot_0", seed: int | None = None, render_mode: str | None = None
) -> TaskEnv:
    """The environment of `cfg.task`, by its config's ENV_BUILDER (default: a robot task)."""
    import userl.envs.gym_env  # noqa: F401  (registers the gymnasium builder)

    builder = ENV_BUILDERS.get(cfg.task.ENV_BUILDER)
    return builder(cfg, robot_id=robot_id, seed=seed, render_mode=render_mode)


@ENV_BUILDERS.register("robot")
def make_robot_env(
    cfg: Config, robot_id: str = "robot_0", seed: int | None = None, render_mode: str | None = None
) -> RobotEnv:
    """The task, robot, cameras (when `cfg.obs == "image"`) and reward named by the config.
    `seed` seeds the first `reset()` that is given no seed; `render_mode="rgb_array"` adds a
    front camera of `robot.render_height_px` x `render_width_px` for `env.render()`."""
    task = TASKS.build(cfg.task)
    reward = make_reward(cfg, task)  # a mismatched reward model: an error before any motion
    try:
        robot = ROBOTS.build(cfg.robot, scene=task.scene(), control_hz=task.control_hz)
        robot = with_safety(robot, cfg.robot.safety)  # robot-side limits, whatever the policy does
        robot.connect()
    except BaseException:
        reward.close()
        raise
    driver = CAMERAS.get(cfg.robot.camera_driver)
    cameras = [driver(name, robot, cfg.robot) for name in policy_view_names(cfg)]
    reward_cameras = [driver(name, robot, cfg.robot) for name in reward_only_view_names(cfg)]
    render_camera = None
    shared = [c for c in cameras if c.name == RENDER_CAMERA and isinstance(c, ThreadedCamera)]
    if render_mode is not None and shared:
        render_camera = shared[0]  # a real device opens once: videos show the policy's view
    elif render_mode is not None:
        render_config = dataclasses.replace(
            cfg.robot,
            image_height_px=cfg.robot.render_height_px,
            image_width_px=cfg.robot.render_width_px,
        )
        render_camera = CAMERAS.get(cfg.robot.camera_driver)(RENDER_CAMERA, robot, render_config)
    return RobotEnv(
        robot,
        task,
        reward,
        cameras,
        robot_id=robot_id,
        seed=seed,
        render_mode=render_mode,
        render_camera=render_camera,
        reward_cameras=reward_cameras,
    )


def policy_view_names(cfg: Config) -> list[str]:
    """The camera views in the policy's observation (none under `obs=state`)."""
    return list(cfg.robot.camera_names) if OBSERVATION_MODES[cfg.obs] else []


def reward_only_view_names(cfg: Config) -> list[str]:
    """`robot.reward_camera_names` that are not already policy views."""
    policy = set(policy_view_names(cfg))
    return [name for name in cfg.robot.reward_camera_names if name not in policy]


def view_specs(cfg: Config, names: list[str]) -> tuple[ImageSpec, ...]:
    return tuple(
        ImageSpec(name, cfg.robot.image_height_px, cfg.robot.image_width_px) for name in names
    )


def expected_observation_spec(cfg: Config, task: Any) -> ObservationSpec:
    """The observation a robot task's env will give the policy, known from the config."""
    return ObservationSpec(
        state_dim=PROPRIOCEPTION_DIM + task.task_state_dim,
        images=view_specs(cfg, policy_view_names(cfg)),
        instruction=task.instruction,
    )


def make_reward(cfg: Config, task: Any | None = None) -> RewardSource:
    """The configured reward source for a robot task, checked against the views it will
    see (the policy's and the reward-only ones)."""
    task = task if task is not None else TASKS.build(cfg.task)
    policy_spec = expected_observation_spec(cfg, task)
    seen = dataclasses.replace(
        policy_spec, images=policy_spec.images + view_specs(cfg, reward_only_view_names(cfg))
    )
    return build_reward(cfg.reward, RewardContext(cfg.task, seen))
