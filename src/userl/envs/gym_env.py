"""`task=gym:<id>`: a registered gymnasium environment behind the interface of `RobotEnv`.

Adapters: the policy's action in [-1, 1]^n maps linearly onto the environment's Box bounds
(unbounded dimensions pass through); the observation becomes `state` (a Box observation
flattened, or the Dict entries named by `task.state_keys`, default every non-image entry,
concatenated) plus one uint8 view per image entry (H, W, 3), or with `obs=image` and no image
entries `env.render()` as the view `task.render_view`. Success is `info[task.success_key] >=
task.success_min` (or the reward, with `task.success_from=reward`); the episode length is the
environment's time limit unless `task.episode_steps` is set; `task.realtime` paces steps to
the environment's rate (1 / dt; `task.control_hz` without one or with
`task.rate_from_env=false`).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.core.registry import ENV_BUILDERS, TASKS, Registry
from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Observation
from userl.hardware.pacing import Pacer
from userl.tasks.base import TaskConfig


@dataclass
class GymTaskConfig(TaskConfig):
    """Any registered gymnasium environment with a Box action space as a task:
    `task=gym:<id>` (the part after the colon sets `id`)."""

    PRESET_ARGUMENT: ClassVar[str] = "id"  # `task=gym:Reacher-v5` -> task.id=Reacher-v5
    ENV_BUILDER: ClassVar[str] = "gym"  # built by userl.envs.gym_env, not as a robot task

    id: str = ""  # a registered gymnasium id, e.g. Reacher-v5
    module: str = ""  # a package imported first, which registers the id
    kwargs: dict[str, Any] = field(default_factory=dict)  # gymnasium.make keyword arguments
    episode_steps: int = 0  # 0: the environment's own time limit
    control_hz: float = 20.0  # steps per second (export fps, `realtime` pacing) ...
    rate_from_env: bool = True  # ... unless the environment has a `dt`: then 1 / dt
    realtime: bool = False  # pace steps to control_hz of wall-clock time
    terminate_on_success: bool = False  # keep the environment's own termination
    success_from: str = "info"  # info: info[success_key] >= success_min; reward: reward >= it
    success_key: str = "is_success"  # success_from=info: the info key read
    success_min: float = 1.0  # a step succeeds when that value (or the reward) is >= this
    state_keys: list[str] = field(default_factory=list)  # Dict observations; empty: all non-image
    render_view: str = "front"  # obs=image without image observations: env.render() as this view


SuccessRule = Callable[[GymTaskConfig, float, dict[str, Any]], bool]
SUCCESS_RULES: Registry = Registry("gym success source")
SUCCESS_RULES.register("info")(
    lambda cfg, reward, info: float(info.get(cfg.success_key, 0.0)) >= cfg.success_min
)
SUCCESS_RULES.register("reward")(lambda cfg, reward, info: float(reward) >= cfg.success_min)


def _is_image(space: gym.Space) -> bool:
    return (
        isinstance(space, gym.spaces.Box)
        and space.dtype == np.uint8
        and len(space.shape) == 3
        and space.shape[-1] == 3
    )


@TASKS.register("gym", config=GymTaskConfig)
class GymTask:
    """What the pipeline reads of a task (name, rate, length, instruction)."""

    def __init__(self, config: GymTaskConfig, episode_steps: int, dt_s: float | None) -> None:
        self.config = config
        self.name = f"gym:{config.id}"
        use_env_rate = config.rate_from_env and dt_s is not None and dt_s > 0
        self.control_hz = 1.0 / dt_s if use_env_rate and dt_s else config.control_hz
        self.episode_steps = episode_steps
        self.instruction = config.instruction or config.id


class SimulatedHold:
    """A simulation does not move between steps: holding is doing nothing."""

    paced_to_real_time = False

    def hold(self) -> None:
        pass


class GymTaskEnv(gym.Env):
    """A gymnasium environment adapted to userl's observation and action conventions."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        inner: gym.Env,
        config: GymTaskConfig,
        use_images: bool,
        robot_id: str = "robot_0",
        seed: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(inner.action_space, gym.spaces.Box):
            raise ConfigError(
                f"task=gym:{config.id} has a {type(inner.action_space).__name__} "
                "action space; userl needs a Box (continuous) one"
            )
        self.inner, self.config, self.robot_id = inner, config, robot_id
        self.render_mode = render_mode
        self.robot = SimulatedHold()
        limit = getattr(inner.spec, "max_episode_steps", None) if inner.spec else None
        steps = config.episode_steps or limit or 0
        if steps <= 0:
            raise ConfigError(f"task=gym:{config.id} has no time limit; set task.episode_steps=")
        self.task = GymTask(config, int(steps), getattr(inner.unwrapped, "dt", None))
        self._seed = seed
        self._steps = 0
        self._pacer = Pacer(self.task.control_hz) if config.realtime else None
        self._state_keys, self._image_keys = self._observation_keys(inner.observation_space)
        self._render_view = config.render_view if use_images and not self._image_keys else ""
        views = self._views()
        state_dim = self._state_dim(inner.observation_space)
        self.observation_spec = ObservationSpec(state_dim=state_dim, images=views)
        spaces: dict[str, gym.Space] = {
            "state": gym.spaces.Box(-np.inf, np.inf, (state_dim,), np.float32)
        }
        for view in views:
            spaces[view.name] = gym.spaces.Box(0, 255, (view.height_px, view.width_px, 3), np.uint8)
        self.observation_space = gym.spaces.Dict(spaces)
        low, high = inner.action_space.low, inner.action_space.high
        self._bounded = np.isfinite(low) & np.isfinite(high)
        self._low, self._high = np.where(self._bounded, low, -1), np.where(self._bounded, high, 1)
        self.action_space = gym.spaces.Box(-1.0, 1.0, inner.action_space.shape, np.float32)
        self.metadata = {**self.metadata, "render_fps": self.task.control_hz}

    # ------------------------------------------------------------------ adapters
    def _observation_keys(self, space: gym.Space) -> tuple[list[str], list[str]]:
        if isinstance(space, gym.spaces.Box):
            return [], []
        if not isinstance(space, gym.spaces.Dict):
            raise ConfigError(
                f"task=gym:{self.config.id} has a {type(space).__name__} "
                "observation; userl needs a Box or a Dict of Boxes"
            )
        images = [k for k, s in space.spaces.items() if _is_image(s)]
        state = list(self.config.state_keys) or [k for k in space.spaces if k not in images]
        for key in state:
            if key not in space.spaces or not isinstance(space.spaces[key], gym.spaces.Box):
                raise ConfigError(
                    f"task.state_keys: {key!r} is not a Box entry of the "
                    f"observation; it has: {', '.join(space.spaces)}"
                )
        return state, images

    def _state_dim(self, space: gym.Space) -> int:
        if isinstance(space, gym.spaces.Box):
            return int(np.prod(space.shape))
        assert isinstance(space, gym.spaces.Dict)
        return sum(math.prod(space.spaces[k].shape or ()) for k in self._state_keys)

    def _views(self) -> tuple[ImageSpec, ...]:
        space = self.inner.observation_space
        views = [
            ImageSpec(k, *space[k].shape[:2])  # type: ignore[index]
            for k in self._image_keys
        ]
        if self._render_view:  # the rendered frame's size: render once after a reset
            if self.inner.render_mode != "rgb_array":
                raise ConfigError(
                    f"task=gym:{self.config.id}: obs=image renders its view; "
                    "do not set task.kwargs.render_mode"
                )
            self.inner.reset(seed=self._seed)
            frame = np.asarray(self.inner.render())
            views.append(ImageSpec(self._render_view, *frame.shape[:2]))
        return tuple(views)

    def _adapt(self, raw: Any) -> Observation:
        if isinstance(raw, dict):
            state = np.concatenate(
                [np.asarray(raw[k], np.float32).ravel() for k in self._state_keys]
            )
            observation = {"state": state.astype(np.float32)}
            observation.update(
                {k: np.ascontiguousarray(raw[k], np.uint8) for k in self._image_keys}
            )
        else:
            observation = {"state": np.asarray(raw, np.float32).ravel()}
        if self._render_view:
            observation[self._render_view] = np.ascontiguousarray(self.inner.render(), np.uint8)
        return observation

    def env_action(self, action: np.ndarray) -> tuple[np.ndarray, bool]:
        """The environment's action for a normalised one; a non-finite one holds at zero."""
        values = np.asarray(action, np.float32).reshape(self.action_space.shape)
        refused = not np.all(np.isfinite(values))
        values = np.zeros_like(values) if refused else np.clip(values, -1.0, 1.0)
        scaled = self._low + (values + 1.0) * 0.5 * (self._high - self._low)
        out = np.where(self._bounded, scaled, values)
        return out.astype(self.inner.action_space.dtype), refused

    # ------------------------------------------------------------------ gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        self._steps = 0
        if self._pacer is not None:
            self._pacer.restart()
        if seed is None and self._seed is not None:  # the first reset uses the env's seed
            seed, self._seed = self._seed, None
        raw, info = self.inner.reset(seed=seed, options=options)
        return self._adapt(raw), {**info, "success": False}

    def step(self, action: np.ndarray) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        executed, refused = self.env_action(action)
        raw, reward, terminated, truncated, info = self.inner.step(executed)
        if self._pacer is not None:
            self._pacer.wait()
        self._steps += 1
        success = SUCCESS_RULES.get(self.config.success_from)(self.config, reward, info)
        terminated = bool(terminated or (success and self.config.terminate_on_success))
        truncated = bool(truncated or self._steps >= self.task.episode_steps)
        normalised = (
            np.zeros_like(executed, dtype=np.float32)
            if refused
            else np.clip(np.asarray(action, np.float32), -1.0, 1.0)
        )
        info = {**info, "success": bool(success), "refused": refused, "executed_action": normalised}
        return self._adapt(raw), float(reward), terminated, truncated, info

    @property
    def control_overrun_threshold_s(self) -> float:
        return 0.0

    def expert_action(self) -> np.ndarray:
        raise ConfigError(
            f"task=gym:{self.config.id} has no scripted expert; set "
            "demos.episodes=0 or give demos.path=, and use teleop=none or a person"
        )

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            return None
        return np.ascontiguousarray(self.inner.render(), np.uint8)

    def close(self) -> None:
        self.inner.close()


@ENV_BUILDERS.register("gym")
def make_gym_env(
    cfg: Config, robot_id: str = "robot_0", seed: int | None = None, render_mode: str | None = None
) -> GymTaskEnv:
    """`gymnasium.make(task.id, **task.kwargs)` adapted; `task.module` is imported first."""
    task: GymTaskConfig = cfg.task  # type: ignore[assignment]
    if not task.id:
        raise ConfigError("task.id is empty; write task=gym:<id>, e.g. task=gym:Reacher-v5")
    if cfg.teleop.name == "expert":
        raise ConfigError(
            f"task=gym:{task.id} has no scripted expert for teleop=expert; use "
            "teleop=none, or a person (teleop=spacemouse|keyboard)"
        )
    if task.module:
        try:
            importlib.import_module(task.module)
        except ImportError as error:
            raise ConfigError(
                f"task.module={task.module} cannot be imported ({error}); "
                "install the package that registers the environment"
            ) from None
    if task.success_from not in SUCCESS_RULES:
        raise ConfigError(
            f"bad value for 'task.success_from': {task.success_from!r}; choose "
            f"one of: {', '.join(SUCCESS_RULES.names())}"
        )
    use_images = cfg.obs == "image"
    kwargs = dict(task.kwargs)
    if use_images or render_mode is not None:
        kwargs.setdefault("render_mode", "rgb_array")
    sized = {"width": cfg.robot.image_width_px, "height": cfg.robot.image_height_px}
    try:
        try:  # MuJoCo environments render at the configured view size
            inner = gym.make(task.id, **{**sized, **kwargs}) if use_images else None
        except TypeError:
            inner = None
        inner = inner or gym.make(task.id, **kwargs)
    except gym.error.Error as error:
        raise ConfigError(f"task=gym:{task.id}: {str(error).splitlines()[0]}") from None
    except TypeError as error:
        raise ConfigError(f"task.kwargs for gym:{task.id}: {error}") from None
    return GymTaskEnv(inner, task, use_images, robot_id, seed, render_mode)
