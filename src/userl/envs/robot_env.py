"""RobotEnv: a robot, its cameras, a task and a reward behind the gymnasium API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np

from userl.core.specs import ACTION_DIM, ImageSpec, ObservationSpec, RobotState
from userl.core.types import Observation
from userl.envs.action import delta_target, sanitise_action
from userl.envs.reading_check import UnsafeReading, check_reading
from userl.envs.relative_frame import (
    PROPRIOCEPTION_DIM,
    proprioception_scale,
    state_in_frame,
)
from userl.hardware.base import Camera, Robot, SceneControl
from userl.rewards.base import RewardFailed, RewardInput, RewardSource, RewardStep
from userl.tasks.base import Task

T = TypeVar("T")
CONTROL_OVERRUN_TOLERANCE = 0.1  # a period 10 % over 1/control_hz counts as an overrun


class RobotEnv(gym.Env):
    """Action: `[dx dy dz drx dry drz gripper]` in [-1, 1], scaled by the task's
    action_scale_m / action_scale_rad, in the TCP's reset frame; the next target is the
    current pose plus the delta, clipped to the task's workspace. A non-finite action is
    refused: the robot holds. Observation: `state` (proprioception in the reset frame, then
    the task state, each part divided by its configured unit so it is of order 1) and, with
    cameras, one uint8 image per camera. `render_mode="rgb_array"`: `render()` returns a frame
    of `render_camera` (the front view), in either observation mode."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        robot: Robot,
        task: Task,
        reward: RewardSource,
        cameras: Sequence[Camera] = (),
        robot_id: str = "robot_0",
        seed: int | None = None,
        render_mode: str | None = None,
        render_camera: Camera | None = None,
        reward_cameras: Sequence[Camera] = (),
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r} is not supported; use 'rgb_array'")
        if render_mode is not None and render_camera is None:
            raise ValueError("render_mode='rgb_array' needs a render_camera")
        self.robot, self.task, self.reward_source = robot, task, reward
        # the task's facts (simulator ground truth, or a state-only task's own distance) are
        # read in a simulation, or when the reward source needs them
        self._ground_truth = isinstance(robot, SceneControl) or reward.needs_ground_truth
        self.render_mode = render_mode
        self.render_camera = render_camera
        self.metadata = {**self.metadata, "render_fps": task.control_hz}
        if isinstance(robot, SceneControl):
            task.attach_scene(robot)
        self.cameras = list(cameras)
        self.reward_cameras = list(reward_cameras)  # read for the reward only
        self.robot_id = robot_id
        self._initial_seed = seed
        self.observation_spec = ObservationSpec(
            state_dim=PROPRIOCEPTION_DIM + task.task_state_dim,
            images=tuple(ImageSpec(c.name, c.height_px, c.width_px) for c in self.cameras),
            instruction=task.instruction,
        )
        spaces: dict[str, gym.Space] = {
            "state": gym.spaces.Box(-np.inf, np.inf, (self.observation_spec.state_dim,), np.float32)
        }
        for view in self.observation_spec.images:
            spaces[view.name] = gym.spaces.Box(0, 255, (view.height_px, view.width_px, 3), np.uint8)
        self.observation_space = gym.spaces.Dict(spaces)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (ACTION_DIM,), np.float32)
        self._state_scale = np.concatenate(
            [proprioception_scale(task.config), task.task_state_scale()]
        ).astype(np.float32)
        self._frame = robot.state().tcp_pose.copy()
        self.last_target = self._frame.copy()
        self._gripper_action = 0.0
        self._steps = 0

    # ------------------------------------------------------------------ properties
    @property
    def instruction(self) -> str:
        return self.task.instruction

    @property
    def reset_frame(self) -> np.ndarray:
        """The TCP pose at the last reset (7,), the frame of actions and observations."""
        return self._frame.copy()

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        if seed is None and self._initial_seed is not None:
            seed, self._initial_seed = self._initial_seed, None
        super().reset(seed=seed)
        start = self.task.begin_episode(self.np_random)
        max_width = self.robot.spec.gripper_max_width_m
        width = max_width if start.gripper_width_m is None else start.gripper_width_m
        self.robot.reset(start.tcp_pose, width / max_width)
        if isinstance(self.robot, SceneControl):
            for name, pose in start.body_poses.items():
                self.robot.set_body_pose(name, pose)
            for name, position in start.joint_positions.items():
                self.robot.set_joint_position(name, position)
        state = self.robot.state()
        self._frame = state.tcp_pose.copy()
        self.last_target = self._frame.copy()
        self._gripper_action = 0.0
        self._steps = 0
        observation = self._observe(state)
        self._judge(self.reward_source.reset)
        facts = self._facts(state)
        verdict = self._judge(
            self.reward_source,
            RewardInput(self._reward_observation(observation), state, facts, None),
        )
        return observation, {**self._reward_info(facts, verdict), "refused": False}

    def step(self, action: np.ndarray) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        clipped, refused = sanitise_action(action)
        clipped_to_workspace = False
        if clipped is None:
            self.robot.hold()
            executed = np.zeros(ACTION_DIM, dtype=np.float32)
            executed[-1] = self._gripper_action
        else:
            current = self._trusted_state().tcp_pose
            cfg = self.task.config
            unclipped = delta_target(
                current, clipped, self._frame, cfg.action_scale_m, cfg.action_scale_rad
            )
            self.last_target = self.task.workspace().clip(unclipped)
            clipped_to_workspace = not np.allclose(self.last_target[:3], unclipped[:3])
            self._gripper_action = float(clipped[-1])
            width = self.task.gripper_width_m(
                self._gripper_action, self.robot.spec.gripper_max_width_m
            )
            self.robot.command(self.last_target, width / self.robot.spec.gripper_max_width_m)
            executed = clipped.astype(np.float32)
        self.robot.tick()
        self._steps += 1
        state = self._trusted_state()
        observation = self._observe(state)
        facts = self._facts(state)
        verdict = self._judge(
            self.reward_source,
            RewardInput(self._reward_observation(observation), state, facts, executed),
        )
        terminated = bool(
            verdict.success and self.task.config.terminate_on_success or verdict.failure
        )
        truncated = self._steps >= self.task.episode_steps
        info = {
            **self._reward_info(facts, verdict),
            "refused": refused,
            "executed_action": executed,
            "clipped_to_workspace": clipped_to_workspace,
        }
        return observation, float(verdict.reward), terminated, truncated, info

    @property
    def control_overrun_threshold_s(self) -> float:
        """A control period longer than this is an overrun (robots paced to real time only)."""
        if not self.robot.paced_to_real_time:
            return 0.0
        return (1.0 + CONTROL_OVERRUN_TOLERANCE) / self.task.control_hz

    def expert_action(self) -> np.ndarray:
        """The task's scripted expert action for the current state, float32 (7,) in [-1, 1]."""
        action = self.task.expert_action(self.robot.state(), self._frame)
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    def render(self) -> np.ndarray | None:
        """The render camera's current frame, uint8 (H, W, 3); None without a render mode."""
        if self.render_mode is None or self.render_camera is None:
            return None
        return self.render_camera.read()

    def close(self) -> None:
        self.reward_source.close()
        for camera in [*self.cameras, *self.reward_cameras]:
            camera.close()
        if self.render_camera is not None:
            self.render_camera.close()
        self.robot.close()

    def _trusted_state(self) -> RobotState:
        """The robot's reading, refused (the arm holds, `UnsafeReading` is raised) when it is
        non-finite or far outside the workspace: nothing is computed from such a reading."""
        state = self.robot.state()
        try:
            check_reading(
                state,
                self.task.workspace().box,
                self.task.config.reading_outside_box_margin_m,
                self.robot_id,
            )
        except UnsafeReading:
            self.robot.hold()
            raise
        return state

    # ------------------------------------------------------------------ reward
    def _facts(self, state: RobotState) -> dict[str, Any]:
        return self.task.evaluate(state) if self._ground_truth else {}

    def _judge(self, call: Callable[..., T], *args: Any) -> T:
        """A call into the reward source; a source that fails holds the robot first and
        raises `RewardFailed` (the run stops; finished episodes are already stored)."""
        try:
            return call(*args)
        except Exception as error:  # noqa: BLE001 (any fault of a source: hold, then stop)
            self.robot.hold()
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise RewardFailed(
                f"{self.robot_id}: the reward source failed ({type(error).__name__}: "
                f"{reason}); the robot holds"
            ) from error

    @staticmethod
    def _reward_info(facts: dict[str, Any], verdict: RewardStep) -> dict[str, Any]:
        """The task's facts and the source's verdict; with ground truth, `true_success`
        (the task's own) and `reward/agreement` beside it; `reward/probability` of a model."""
        info = {**facts, "success": bool(verdict.success), "reward_failure": verdict.failure}
        if verdict.probability is not None:
            info["reward/probability"] = float(verdict.probability)
        if "success" in facts:
            info["true_success"] = bool(facts["success"])
            info["reward/agreement"] = float(bool(facts["success"]) == verdict.success)
        return info

    # ------------------------------------------------------------------ observation
    def _observe(self, state: RobotState) -> Observation:
        proprioception = state_in_frame(state, self._frame).proprioception(
            self.robot.spec.gripper_max_width_m
        )
        task_state = self.task.task_state(state, self._frame)
        state_vector = np.concatenate([proprioception, task_state]) / self._state_scale
        observation = {"state": state_vector.astype(np.float32)}
        for camera in self.cameras:
            observation[camera.name] = camera.read()
        return observation

    def _reward_observation(self, observation: Observation) -> Observation:
        """The policy's observation plus the reward-only views."""
        if not self.reward_cameras:
            return observation
        return {**observation, **{camera.name: camera.read() for camera in self.reward_cameras}}
