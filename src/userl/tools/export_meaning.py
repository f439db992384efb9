"""What `userl data export` writes about a store's task and robot: the control rate and
instruction (read from the task's environment), the kind of robot that recorded the
episodes (from the run's own config when the store is a run's, else the command line's
`robot=` or the task's default) and one name per state and action value (the observation
layout of docs/design.md, by the task's environment builder)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from userl.config.cells import cells_of
from userl.config.loader import load_config, load_config_file
from userl.core.errors import ConfigError
from userl.core.registry import Registry, UnknownNameError
from userl.core.specs import ACTION_DIM
from userl.core.types import Episode
from userl.data.dataset_meaning import DatasetMeaning

RUN_CONFIG = "config.yaml"  # a run folder's config, beside its episodes/ and demos/
WORKER_PREFIX = "robot_"  # env workers are robot_0, robot_1, ... in the cells' order
# The proprioception vector (`RobotState.proprioception`): TCP pose in the reset frame (xyz,
# quaternion wxyz), TCP velocity (linear, angular), gripper opening (0..1), wrench at the TCP
PROPRIOCEPTION_NAMES = (
    *("tcp_x", "tcp_y", "tcp_z", "tcp_qw", "tcp_qx", "tcp_qy", "tcp_qz"),
    *("tcp_vx", "tcp_vy", "tcp_vz", "tcp_wx", "tcp_wy", "tcp_wz"),
    "gripper_opening",
    *("force_x", "force_y", "force_z", "torque_x", "torque_y", "torque_z"),
)
ACTION_NAMES = ("dx", "dy", "dz", "drx", "dry", "drz", "gripper")  # the common 7-D action


@dataclass(frozen=True)
class TaskDescription:
    fps: int | None  # the control rate as LeRobot's integer fps; None if not whole
    instruction: str
    state_names: tuple[str, ...]
    action_names: tuple[str, ...]


Namer = Callable[[int, int, int], tuple[tuple[str, ...], tuple[str, ...]]]
NAMERS: Registry = Registry("environment builder")  # by the task config's ENV_BUILDER


@NAMERS.register("robot")
def robot_task_names(
    state_dim: int, task_state_dim: int, action_dim: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A robot task's state is the proprioception then the task's own values."""
    task_state = tuple(f"task_state_{i}" for i in range(task_state_dim))
    state = (*PROPRIOCEPTION_NAMES, *task_state)
    action = ACTION_NAMES if action_dim == ACTION_DIM else ()
    return (state if len(state) == state_dim else ()), action


@NAMERS.register("gym")
def gym_task_names(
    state_dim: int, task_state_dim: int, action_dim: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A gymnasium environment's flattened observation and action, by position."""
    return (
        tuple(f"state_{i}" for i in range(state_dim)),
        tuple(f"action_{i}" for i in range(action_dim)),
    )


def describe_task(task: str) -> TaskDescription | None:
    """The task's rate, instruction and names, read from its environment (built once); None
    when the task is not known here."""
    from userl.envs.factory import make_env

    try:
        config = load_config([f"task={task}"])
        env = make_env(config)
    except (ConfigError, UnknownNameError):
        return None
    try:
        hz, instruction = float(env.task.control_hz), str(env.task.instruction)
        state_dim = int(env.observation_spec.state_dim)
        action_dim = int(env.action_space.shape[0])
        task_state_dim = int(getattr(env.task, "task_state_dim", 0))
    finally:
        env.close()
    namer: Namer = NAMERS.get(config.task.ENV_BUILDER)
    state_names, action_names = namer(state_dim, task_state_dim, action_dim)
    fps = round(hz)
    return TaskDescription(
        fps if abs(fps - hz) < 1e-6 else None, instruction, state_names, action_names
    )


def robot_kinds(store: Path, episodes: list[Episode], robot: str | None) -> str:
    """The robot kind(s) that recorded `episodes`: by their worker's cell in the run's config
    when `store` is a run's; else the preset `robot` given, or the task's default."""
    run_config = store.resolve().parent / RUN_CONFIG
    if run_config.is_file() and robot is None:
        config = load_config_file(run_config)
        cells = cells_of(config)
        kinds = set()
        for episode in episodes:
            worker = episode.robot_id.removeprefix(WORKER_PREFIX)
            index = int(worker) if worker.isdigit() else 0
            cell = cells[index % len(cells)]
            kinds.add(robot_kind(cell.task.ENV_BUILDER, cell.robot.name, episode.task))
        return "+".join(sorted(kinds))
    arguments = [f"task={episodes[0].task}", *([f"robot={robot}"] if robot else [])]
    config = load_config(arguments)
    return robot_kind(config.task.ENV_BUILDER, config.robot.name, episodes[0].task)


def robot_kind(env_builder: str, robot: str, task: str) -> str:
    """The robot preset's name; a gymnasium task has no userl robot: its kind is the task."""
    return robot if env_builder == "robot" else task


def export_meaning(
    store: Path, episodes: list[Episode], description: TaskDescription | None, robot: str | None
) -> DatasetMeaning:
    return DatasetMeaning(
        robot_type=robot_kinds(store, episodes, robot),
        state_names=description.state_names if description else (),
        action_names=description.action_names if description else (),
    )
