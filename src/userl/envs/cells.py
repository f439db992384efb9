"""Several robot cells under one policy: the padded, masked state layout (`CellLayout`) and
the environment wrapper that gives a cell's observations in it.

A cell whose state is shorter than the largest cell's is padded with zeros; the mask tells
the policy which entries are real, and the task and embodiment ids which cell it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import gymnasium as gym
import numpy as np

from userl.config.cells import cell_config
from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.core.registry import TASKS
from userl.core.specs import CellLayout, ObservationSpec
from userl.core.types import Episode, Observation

STATE_KEY = "state"


def cell_layout(
    specs: Sequence[ObservationSpec],
    tasks: Sequence[str],
    robots: Sequence[str],
    task_embedding_dim: int,
    embodiment_embedding_dim: int,
) -> CellLayout:
    """The layout that fits every cell's observation (`specs[i]` is cell i's own, on task
    `tasks[i]` with robot `robots[i]`); every cell must have the same camera views."""
    views = {spec.images for spec in specs}
    if len(views) > 1:
        raise ConfigError(
            "the cells' camera views differ ("
            + "; ".join(
                ", ".join(f"{v.name} {v.height_px}x{v.width_px}" for v in spec.images) or "none"
                for spec in specs
            )
            + "); give every cell's robot the same camera_names and "
            "image_height_px/image_width_px"
        )
    task_names = tuple(dict.fromkeys(tasks))
    instructions = {task: spec.instruction for task, spec in zip(tasks, specs, strict=True)}
    return CellLayout(
        state_dim=max(spec.state_dim for spec in specs),
        task_names=task_names,
        instructions=tuple(instructions[t] for t in task_names),
        embodiment_names=tuple(dict.fromkeys(robots)),
        task_embedding_dim=task_embedding_dim,
        embodiment_embedding_dim=embodiment_embedding_dim,
    )


@dataclass(frozen=True)
class CellBinding:
    """What an env worker of a multi-cell run needs: the run's layout and its cell's ids."""

    layout: CellLayout
    task_id: int
    embodiment_id: int
    name: str = ""  # the cell's name (its metrics' and evaluations')


def cell_bindings(config: Config) -> list[CellBinding] | None:
    """Each cell's binding into the run's layout, in the cells' order; None for a run of
    one cell (its observations stay as they are). Known from the config alone."""
    if not config.cells:
        return None
    from userl.envs.factory import expected_observation_spec

    specs = []
    for cell in config.cells:
        if cell.task.ENV_BUILDER != "robot":
            raise ConfigError(
                f"cell {cell.name!r}: task={cell.task.name} is not a robot task; "
                "cells hold robot tasks (peg_insertion, charger, ...)"
            )
        specs.append(expected_observation_spec(cell_config(config, cell), TASKS.build(cell.task)))
    tasks = [cell.task.name for cell in config.cells]
    robots = [cell.robot.name for cell in config.cells]
    layout = cell_layout(
        specs,
        tasks,
        robots,
        config.conditioning.task_embedding_dim,
        config.conditioning.embodiment_embedding_dim,
    )
    return [
        CellBinding(
            layout, layout.task_names.index(task), layout.embodiment_names.index(robot), cell.name
        )
        for task, robot, cell in zip(tasks, robots, config.cells, strict=True)
    ]


def make_cell_env(config: Config, cell: int, **kwargs: Any) -> Any:
    """Cell `cell`'s environment in its run's layout (`make_env` for a run of one cell)."""
    from userl.envs.factory import make_env

    bindings = cell_bindings(config)
    if bindings is None:
        return make_env(config, **kwargs)
    if not 0 <= cell < len(bindings):
        raise ConfigError(f"cell {cell} is not among the run's {len(bindings)} cells")
    env = make_env(cell_config(config, config.cells[cell]), **kwargs)
    binding = bindings[cell]
    return CellEnv(env, binding.layout, binding.task_id, binding.embodiment_id)


def laid_out_spec(spec: ObservationSpec, layout: CellLayout) -> ObservationSpec:
    """A cell's observation spec once its state is in `layout`."""
    return replace(spec, state_dim=layout.vector_dim, cells=layout)


def pad_state(
    state: np.ndarray, layout: CellLayout, task_id: int, embodiment_id: int
) -> np.ndarray:
    """One cell's state (..., D) in `layout`: (..., 2 * layout.state_dim + 2) float32."""
    size = state.shape[-1]
    if size > layout.state_dim:
        raise ValueError(f"a state of {size} values does not fit the layout's {layout.state_dim}")
    out = np.zeros((*state.shape[:-1], layout.vector_dim), np.float32)
    out[..., :size] = state
    out[..., layout.state_dim : layout.state_dim + size] = 1.0
    out[..., layout.task_id_index] = task_id
    out[..., layout.embodiment_id_index] = embodiment_id
    return out


def lay_out_episode(episode: Episode, binding: CellBinding) -> Episode:
    """An episode recorded on the cell's own environment (e.g. `userl collect task=T`) with
    its states in the run's layout; one already laid out is returned as it is."""
    states = episode.observations[STATE_KEY]
    if states.shape[-1] == binding.layout.vector_dim:
        return episode
    if states.shape[-1] > binding.layout.state_dim:
        raise ConfigError(
            f"episode {episode.episode_id} (task {episode.task}) has a state of "
            f"{states.shape[-1]} values, more than any cell's "
            f"{binding.layout.state_dim}: it was recorded on another task"
        )
    padded = pad_state(states, binding.layout, binding.task_id, binding.embodiment_id)
    return replace(episode, observations={**episode.observations, STATE_KEY: padded})


class CellEnv:
    """A cell's environment with its observations in the run's `CellLayout`; everything
    else (task, robot, expert, rendering) is the wrapped environment's."""

    def __init__(self, env: Any, layout: CellLayout, task_id: int, embodiment_id: int) -> None:
        self.env = env
        self.layout = layout
        self.task_id = task_id
        self.embodiment_id = embodiment_id
        self.observation_spec = laid_out_spec(env.observation_spec, layout)
        self.observation_space = gym.spaces.Dict(
            {
                **env.observation_space.spaces,
                STATE_KEY: gym.spaces.Box(-np.inf, np.inf, (layout.vector_dim,), np.float32),
            }
        )

    def _observation(self, observation: Observation) -> Observation:
        return {
            **observation,
            STATE_KEY: pad_state(
                observation[STATE_KEY], self.layout, self.task_id, self.embodiment_id
            ),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        observation, info = self.env.reset(seed=seed, options=options)
        return self._observation(observation), info

    def step(self, action: Any) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return self._observation(observation), reward, terminated, truncated, info

    def __getattr__(self, name: str) -> Any:  # task, robot, action_space, expert_action, ...
        return getattr(self.env, name)
