"""Robot cells: `cells=[franka_peg,franka_charger]` (presets in `presets/cells/`) or
`cells=path/to/cells.yaml` (a mapping of cell name to cell) gives a run several robots, each
with its own task, robot, teleop and reward.

A cell is a mapping:

    task: peg_insertion              # a preset of the group ...
    robot: {preset: sim_franka, realtime: true}   # ... or a preset with field values
    teleop: none                     # groups left out are the command line's
    weight: 1.0                      # its share of each batch, relative to the others'
    demos_path: ""                   # its own demonstrations (else demos.episodes)
    ray_robot: ""                    # the cluster layout's robot it runs on

Field overrides of a cell group on the command line (`robot.realtime=true`) apply to every
cell. A run without `cells` is one cell made of the top-level groups (`cells_of`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from userl.config.schema import CELL_GROUPS, CellConfig, Config
from userl.core.errors import ConfigError
from userl.core.yaml_files import read_yaml

PRESET_KEY = "preset"  # in a cell's group mapping: the preset its fields start from
CELL_FIELDS = ("weight", "demos_path", "ray_robot")
CELL_FILE_SUFFIXES = (".yaml", ".yml")


def cell_presets_dir() -> Path:
    return Path(__file__).parent / "presets" / "cells"


def cell_preset_names() -> list[str]:
    return sorted(path.stem for path in cell_presets_dir().glob("*.yaml"))


def read_cells_argument(value: Any) -> dict[str, dict[str, Any]]:
    """The cells a `cells=` value names (a preset name, a list of them, or a YAML file of
    cells), as name -> raw cell mapping, in order."""
    if isinstance(value, str) and value.endswith(CELL_FILE_SUFFIXES):
        return _cells_file(Path(value))
    if isinstance(value, str):
        value = yaml.safe_load(value) if value.startswith("[") else [value]
    if not isinstance(value, list) or not value:
        raise ConfigError(
            f"cells={value!r}: give a list of cell presets, e.g. "
            "cells=[franka_peg,franka_charger], or a cells YAML file"
        )
    cells: dict[str, dict[str, Any]] = {}
    for name in value:
        if not isinstance(name, str):
            raise ConfigError(
                f"cells: {name!r} is not a cell preset name; choose from: "
                f"{', '.join(cell_preset_names())}"
            )
        if name in cells:
            raise ConfigError(
                f"cells: {name} is listed twice; for copies of one cell use "
                "run.num_robots=N, or name them apart in a cells YAML file"
            )
        cells[name] = _cell_preset(name)
    return cells


def _cell_preset(name: str) -> dict[str, Any]:
    path = cell_presets_dir() / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"unknown cell preset {name!r}; choose one of: "
            f"{', '.join(cell_preset_names())} (or give cells=path/to/cells.yaml)"
        )
    return _mapping(read_yaml(path, "a cell preset"), f"cell preset {path}")


def _cells_file(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        raise ConfigError(
            f"cells={path}: no such file; give a YAML mapping of cell name to "
            "cell, or a list of presets, e.g. cells=[franka_peg,franka_charger]"
        )
    data = _mapping(read_yaml(path, f"cells={path}"), f"cells={path}")
    if not data:
        raise ConfigError(f"cells={path}: no cells in it; map each cell's name to its groups")
    return {
        str(name): _cell_preset(body)
        if isinstance(body, str)
        else _mapping(body, f"cells={path}: cell {name!r}")
        for name, body in data.items()
    }


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping of keys to values")
    return data


def check_cell_keys(name: str, body: dict[str, Any]) -> None:
    """An unknown key in a cell is an error naming it and the keys a cell has."""
    for key in body:
        if key not in (*CELL_GROUPS, *CELL_FIELDS):
            raise ConfigError(
                f"cell {name!r}: unknown key {key!r}; a cell has "
                f"{', '.join((*CELL_GROUPS, *CELL_FIELDS))}"
            )
    for key in CELL_GROUPS:
        group = body.get(key)
        if isinstance(group, dict) and PRESET_KEY not in group:
            raise ConfigError(
                f"cell {name!r}: {key} needs '{PRESET_KEY}:' naming a {key} "
                f"preset, e.g. {key}: {{preset: ..., field: value}}"
            )


def cell_group_selection(body: dict[str, Any], group: str) -> tuple[str | None, dict[str, Any]]:
    """(preset name or None, field values) of one group of a raw cell."""
    value = body.get(group)
    if value is None:
        return None, {}
    if isinstance(value, str):
        return value, {}
    fields = {k: v for k, v in value.items() if k != PRESET_KEY}
    return str(value[PRESET_KEY]), fields


def cell_fields(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The cell's own fields (weight, demos_path, ray_robot), checked."""
    fields = {key: body[key] for key in CELL_FIELDS if key in body}
    weight = fields.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        raise ConfigError(
            f"cell {name!r}: weight {weight!r} must be a number > 0 (its share "
            "of each batch, relative to the other cells')"
        )
    fields["weight"] = float(weight)
    return fields


def cells_of(config: Config) -> list[CellConfig]:
    """The run's cells; a run without `cells` is one cell of its top-level groups, named
    after its task."""
    if config.cells:
        return list(config.cells)
    return [
        CellConfig(
            name=config.task.name,
            task=config.task,
            robot=config.robot,
            teleop=config.teleop,
            reward=config.reward,
        )
    ]


def cell_config(config: Config, cell: CellConfig) -> Config:
    """The run's config as one cell's env worker sees it: the cell's groups at the top."""
    return dataclasses.replace(
        config, task=cell.task, robot=cell.robot, teleop=cell.teleop, reward=cell.reward, cells=[]
    )


def _views(cell: CellConfig, obs: str) -> str:
    """The camera views a cell's policy sees, as 'front 64x64, wrist 64x64' ('none')."""
    if obs != "image":
        return "none"
    robot = cell.robot
    size = f"{robot.image_height_px}x{robot.image_width_px}"
    return ", ".join(f"{name} {size}" for name in robot.camera_names) or "none"


def cells_problem(cells: list[CellConfig], obs: str) -> str | None:
    """What keeps the cells from training one policy, known from the config alone: a cell
    whose task is not a robot task, or camera views that differ between cells (one policy
    reads the same views from every cell)."""
    for cell in cells:
        if cell.task.ENV_BUILDER != "robot":
            return (
                f"cell {cell.name!r}: task={cell.task.name} is not a robot task; cells hold "
                "robot tasks (peg_insertion, charger, ...)"
            )
    first = cells[0]
    for cell in cells[1:]:
        if _views(cell, obs) != _views(first, obs):
            return (
                f"cell {cell.name!r} sees {_views(cell, obs)} where cell {first.name!r} sees "
                f"{_views(first, obs)}; give every cell's robot the same robot.camera_names "
                "and robot.image_height_px/robot.image_width_px"
            )
    return None
