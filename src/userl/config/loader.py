"""Compose a `Config` from YAML presets and `key=value` overrides.

`task=peg_insertion` (a group name without a dot) picks `presets/task/peg_insertion.yaml`;
`algo.gamma=0.99` overrides one field. The preset's `name` picks the schema class through
the group's registry. Any unknown key, wrong type or out-of-range value is a `ConfigError`
with one line that names the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, FloatNode, ListConfig, OmegaConf, StringNode
from omegaconf.errors import OmegaConfBaseException
from omegaconf.nodes import LiteralNode

from userl.config.cells import (
    CELL_FIELDS,
    cell_fields,
    cell_group_selection,
    cells_problem,
    check_cell_keys,
    read_cells_argument,
)
from userl.config.defaults import DEFAULT_PRESETS
from userl.config.preset_files import read_preset_file
from userl.config.schema import CELL_GROUPS, CellConfig, Config
from userl.config.validation import preset_name_problem, validate, videos_by_default
from userl.core.errors import ConfigError
from userl.core.registry import GROUPS, UnknownNameError, close_matches, load_components
from userl.core.yaml_files import read_yaml


def load_preset(group: str, name: str) -> dict[str, Any]:
    """`group=name` or `group=name:argument` (the schema's PRESET_ARGUMENT field)."""
    name, colon, argument = name.partition(":")
    data = read_preset_file(group, name)
    if colon:
        load_components()
        field_name = GROUPS[group].config(str(data["name"])).PRESET_ARGUMENT
        if not field_name:
            raise ConfigError(
                f"{group}={name}:{argument}: the {name} preset takes no "
                f"':argument'; write {group}={name}"
            )
        if not argument:
            raise ConfigError(
                f"{group}={name}: needs a value after the colon, e.g. {group}={name}:Reacher-v5"
            )
        data[field_name] = argument
    return data


KEY_PREFIX_ALIASES: dict[str, str] = {"gym.": "task."}  # gym.kwargs.x=1 is task.kwargs.x=1


def split_arguments(arguments: Sequence[str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Separate group selections (`task=T`) from field overrides (`a.b=v`), in order."""
    selections: dict[str, str] = {}
    overrides: list[tuple[str, str]] = []
    for argument in arguments:
        key, sep, value = argument.partition("=")
        for alias, prefix in KEY_PREFIX_ALIASES.items():
            key = prefix + key[len(alias) :] if key.startswith(alias) else key
        if not sep or not key:
            raise ConfigError(
                f"argument {argument!r} is not key=value; write e.g. run.env_steps=2000"
            )
        if key in GROUPS:
            selections[key] = value
        else:
            overrides.append((key, value))
    return selections, overrides


def _schema_instance(group: str, preset: dict[str, Any]) -> Any:
    load_components()
    try:
        return GROUPS[group].config(str(preset["name"]))()
    except UnknownNameError as error:
        raise ConfigError(f"{group}.name: {error}") from None


def _keys(node: DictConfig, prefix: str = "") -> list[str]:
    """Every key of a config node, sections and leaves, dotted."""
    keys = []
    for name, value in node.items_ex(resolve=False):
        keys.append(f"{prefix}{name!s}")
        if isinstance(value, DictConfig):
            keys.extend(_keys(value, f"{prefix}{name!s}."))
    return keys


def unknown_key(key: str, node: DictConfig) -> str:
    """One line for a key the config does not have, with the closest ones it does have."""
    hint = close_matches(key, _keys(node)) or "; see `userl config show` for every key"
    return f"unknown config key {key!r}{hint}"


def _describe(error: OmegaConfBaseException, fallback_key: str, node: DictConfig) -> str:
    key = getattr(error, "full_key", None) or fallback_key
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "not in struct" in message or "Key '" in message and "not in" in message:
        return unknown_key(str(key), node)
    return f"bad value for {key!r}: {message}"


def _typed(node: Any, value: Any) -> Any:
    """Interpret command-line text by the field's declared type (`run.name=0123` stays text)."""
    if not isinstance(value, str):
        return float(value) if isinstance(node, FloatNode) and isinstance(value, int) else value
    if isinstance(node, StringNode | LiteralNode):  # text stays text (`algo.compile=off`)
        return value
    try:
        parsed = yaml.safe_load(value) if value != "" else ""
    except yaml.YAMLError:
        return value
    if isinstance(node, FloatNode) and isinstance(parsed, int) and not isinstance(parsed, bool):
        return float(parsed)
    if (
        isinstance(node, ListConfig)
        and isinstance(parsed, list)
        and node._metadata.element_type is float
    ):
        return [float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in parsed]
    return parsed


def compose(
    groups: dict[str, dict[str, Any]],
    overrides: Sequence[tuple[str, Any]],
    rest: dict[str, Any] | None = None,
    presets: dict[str, str] | None = None,
) -> Config:
    """Build a validated `Config` from per-group mappings, top-level values and overrides;
    `presets` are the groups' presets as the command line named them (for messages)."""
    for key, value in overrides:
        group, _, leaf = key.partition(".")
        if leaf == "name" and group in groups:
            name = str(groups[group].get("name", ""))
            problem = preset_name_problem(group, (presets or {}).get(group, name), name, value, key)
            if problem:
                raise ConfigError(problem)
    config = Config(**{group: _schema_instance(group, data) for group, data in groups.items()})
    node: DictConfig = OmegaConf.structured(config)
    OmegaConf.set_struct(node, True)
    _unlock_free_mappings(node, config)
    sections = {**groups, **{k: v for k, v in (rest or {}).items() if isinstance(v, dict)}}
    for section, data in sections.items():
        if section not in node:
            raise ConfigError(unknown_key(section, node))
        try:
            node[section] = OmegaConf.merge(node[section], data)
        except OmegaConfBaseException as error:
            raise ConfigError(_describe(error, section, node)) from None
    for key, value in (rest or {}).items():
        if not isinstance(value, dict):
            _set(node, key, value)
    for key, value in overrides:
        _set(node, key, value)
    try:
        resolved: Config = OmegaConf.to_object(node)  # type: ignore[assignment]
    except OmegaConfBaseException as error:
        raise ConfigError(_describe(error, "config", node)) from None
    problem = validate(resolved, presets)
    if problem:
        raise ConfigError(problem)
    return resolved


def _set(node: DictConfig, key: str, value: Any) -> None:
    parent_key, _, leaf = key.rpartition(".")
    try:
        parent = OmegaConf.select(node, parent_key, throw_on_missing=True) if parent_key else node
    except OmegaConfBaseException as error:
        raise ConfigError(_describe(error, key, node)) from None
    if isinstance(parent, DictConfig) and leaf not in parent and _open_mapping(parent):
        parent[leaf] = _typed(None, value)  # a free-form mapping (task.kwargs): any key
        return
    if not isinstance(parent, DictConfig) or leaf not in parent:
        raise ConfigError(unknown_key(key, node))
    if isinstance(parent[leaf], DictConfig):
        raise ConfigError(
            f"{key!r} is a section, not a value; set one of its fields, e.g. {key}.name=..."
        )
    try:
        parent[leaf] = _typed(parent._get_node(leaf), value)
    except OmegaConfBaseException as error:
        raise ConfigError(_describe(error, key, node)) from None


def _open_mapping(node: DictConfig) -> bool:
    """A `dict[str, Any]` field, not a dataclass section."""
    return node._metadata.object_type in (None, dict)


def _unlock_free_mappings(node: DictConfig, config: Config) -> None:
    """`dict[str, Any]` fields of a section (e.g. task.kwargs) take any key; the sections
    themselves stay strict."""
    for section, value in vars(config).items():
        if is_dataclass(value):
            for key, item in vars(value).items():
                if isinstance(item, dict):
                    OmegaConf.set_struct(node[section][key], False)


CELLS_KEY = "cells"


def load_config(arguments: Sequence[str] = ()) -> Config:
    """The config of a command line: defaults, then chosen presets, then overrides; with
    `cells=`, one config per cell (`config/cells.py`), the first cell's groups at the top."""
    selections, overrides = split_arguments(arguments)
    cells_values = [value for key, value in overrides if key == CELLS_KEY]
    per_cell = [(key, value) for key, value in overrides if key.startswith(CELLS_KEY + ".")]
    overrides = [
        (key, value)
        for key, value in overrides
        if key != CELLS_KEY and not key.startswith(CELLS_KEY + ".")
    ]
    chosen = {**DEFAULT_PRESETS, **algorithm_policy(selections), **selections}
    groups = {group: load_preset(group, name) for group, name in chosen.items()}
    if not cells_values:
        if per_cell:
            raise ConfigError(f"{per_cell[0][0]}: the run has no cells; give cells=[...] first")
        return _compose_command_line(groups, overrides, chosen)
    raw = read_cells_argument(cells_values[-1])
    cell_overrides = _per_cell_overrides(per_cell, raw)
    cells = []
    for name, body in raw.items():
        check_cell_keys(name, body)
        cell_groups, cell_presets = dict(groups), dict(chosen)
        for group in CELL_GROUPS:
            preset, fields = cell_group_selection(body, group)
            if preset is not None:
                cell_groups[group] = _cell_group(name, group, preset, fields)
                cell_presets[group] = preset
        own = cell_overrides[name]
        fields = {**body, **{key: _typed(None, value) for key, value in own if "." not in key}}
        group_overrides = [*overrides, *((key, value) for key, value in own if "." in key)]
        cells.append(
            _cell(
                name,
                _in_cell(name, _compose_command_line, cell_groups, group_overrides, cell_presets),
                cell_fields(name, fields),
            )
        )
    return _with_cells(cells[0], cells)


def algorithm_policy(selections: dict[str, str]) -> dict[str, str]:
    """The policy preset the chosen algorithm trains (`AlgoConfig.POLICY_PRESET`, e.g. DSRL's
    noise adapter) when the command line names no policy; {} otherwise."""
    if "algo" not in selections or "policy" in selections:
        return {}
    algo = load_preset("algo", selections["algo"])
    preset = _schema_instance("algo", algo).POLICY_PRESET
    return {"policy": preset} if preset else {}


def _per_cell_overrides(
    per_cell: Sequence[tuple[str, Any]], raw: dict[str, Any]
) -> dict[str, list[tuple[str, Any]]]:
    """`cells.<name>.<key>=value` arguments by cell: a group field (`task.episode_steps`)
    or a cell field (`weight`)."""
    found: dict[str, list[tuple[str, Any]]] = {name: [] for name in raw}
    for key, value in per_cell:
        name, _, rest = key.removeprefix(CELLS_KEY + ".").partition(".")
        if name not in raw:
            raise ConfigError(
                f"{key}: the run has no cell {name!r}; its cells are {', '.join(raw)}"
            )
        if rest.partition(".")[0] not in CELL_GROUPS and rest not in CELL_FIELDS:
            raise ConfigError(
                f"{key}: a cell has no key {rest!r}; set cells.{name}.<group>."
                f"<field> (groups {', '.join(CELL_GROUPS)}) or one of "
                f"{', '.join(CELL_FIELDS)}"
            )
        found[name].append((rest, value))
    return found


def _cell_group(cell: str, group: str, preset: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A cell's group: its preset's values with the cell's own field values over them (its
    `name` only as the preset's own)."""
    data = load_preset(group, preset)
    if "name" in fields:
        problem = preset_name_problem(
            group, preset, str(data["name"]), fields["name"], f"{group}.name"
        )
        if problem:
            raise ConfigError(f"cell {cell!r}: {problem}")
    return {**data, **fields}


def _compose_command_line(
    groups: dict[str, dict[str, Any]],
    overrides: Sequence[tuple[str, Any]],
    presets: dict[str, str] | None = None,
) -> Config:
    """The config of command-line presets and overrides, with the defaults that follow
    from them: the policy's views, their size, evaluation videos where there is a view."""
    config = compose(
        groups,
        [
            *policy_fields_for_algorithm(groups),
            *views_at_policy_size(groups, overrides),
            *views_for_policy(groups, overrides),
            *overrides,
        ],
        presets=presets,
    )
    videos_by_default(config, [key for key, _ in overrides])
    return config


def _in_cell(name: str, build: Any, *args: Any, **kwargs: Any) -> Config:
    """`build(...)`; a `ConfigError` names the cell it is about."""
    try:
        config: Config = build(*args, **kwargs)
    except ConfigError as error:
        raise ConfigError(f"cell {name!r}: {error}") from None
    return config


def _cell(name: str, config: Config, fields: dict[str, Any]) -> tuple[Config, CellConfig]:
    return config, CellConfig(
        name=name,
        task=config.task,
        robot=config.robot,
        teleop=config.teleop,
        reward=config.reward,
        **fields,
    )


def _with_cells(first: tuple[Config, CellConfig], cells: list[tuple[Config, CellConfig]]) -> Config:
    """The run's config: the first cell's, holding every cell."""
    config = first[0]
    config.cells = [cell for _, cell in cells]
    problem = cells_problem(config.cells, config.obs)
    if problem:
        raise ConfigError(problem)
    if config.run.num_robots != 1:
        raise ConfigError(
            f"run.num_robots={config.run.num_robots} with cells: each cell is "
            "one robot; list a cell per robot instead (cells=[a,b,...])"
        )
    if config.demos.path:
        raise ConfigError(
            f"demos.path={config.demos.path} with cells: give each cell its own "
            "demonstrations with demos_path: in the cells file"
        )
    for cell in config.cells:
        if cell.demos_path and not Path(cell.demos_path).is_dir():
            raise ConfigError(
                f"cell {cell.name!r}: demos_path {cell.demos_path} is not a "
                "folder; give an episode store written by `userl collect`"
            )
    return config


VIEW_SIZE_KEYS = ("robot.image_height_px", "robot.image_width_px")


def views_at_policy_size(
    groups: dict[str, dict[str, Any]], overrides: Sequence[tuple[str, Any]]
) -> list[tuple[str, Any]]:
    """Cameras deliver views at the image policy's size (`policy.image_size_px`) unless the
    robot's view size is given: no resize per step, and replay stores the smaller frames."""
    given = {key for key, _ in overrides} | {f"robot.{key}" for key in groups.get("robot", {})}
    size = dict(overrides).get(
        "policy.image_size_px", groups.get("policy", {}).get("image_size_px")
    )
    if not size or any(key in given for key in VIEW_SIZE_KEYS):
        return []
    return [(key, size) for key in VIEW_SIZE_KEYS]


def policy_fields_for_algorithm(groups: dict[str, dict[str, Any]]) -> list[tuple[str, Any]]:
    """The policy fields the algorithm needs set (`AlgoConfig.POLICY_FIELDS`, e.g. RECAP's
    advantage labels), where the policy has them; the command line may still set them."""
    algo = _schema_instance("algo", groups["algo"])
    policy = _schema_instance("policy", groups["policy"])
    return [
        (f"policy.{key}", value)
        for key, value in algo.POLICY_FIELDS.items()
        if hasattr(policy, key)
    ]


def views_for_policy(
    groups: dict[str, dict[str, Any]], overrides: Sequence[tuple[str, Any]]
) -> list[tuple[str, Any]]:
    """A policy that cannot act without camera views (`NEEDS_VIEWS`, e.g. pi0) gets
    `obs=image` unless `obs` is given."""
    if any(key == "obs" for key, _ in overrides):
        return []
    policy = _schema_instance("policy", groups["policy"])
    return [("obs", "image")] if policy.NEEDS_VIEWS else []


def load_config_file(path: Path, arguments: Sequence[str] = ()) -> Config:
    """Reload a saved `config.yaml` (its groups keep their schema), then apply overrides. The
    run's policy stays its own: `policy=` would swap in a preset's fields the run's
    checkpoint does not hold."""
    if not path.is_file():
        raise ConfigError(f"no config file at {path}; pass run=runs/<name> of an existing run")
    data = with_reward_group(read_yaml(path, "a saved config") or {})
    saved_cells = data.pop(CELLS_KEY, None) or []
    selections, overrides = split_arguments(arguments)
    if "policy" in selections:
        raise ConfigError(
            f"policy={selections['policy']}: the run in {path.parent} keeps the policy its "
            "checkpoint holds; drop policy= (another policy is a new run)"
        )
    groups = {group: data.pop(group, {}) for group in GROUPS}
    for group, name in selections.items():
        groups[group] = load_preset(group, name)
    if not saved_cells:
        return compose(groups, overrides, rest=data, presets=selections)
    cells = []
    for saved in saved_cells:
        name = str(saved.get("name", ""))
        cell_groups = {
            **groups,
            **{
                group: saved[group]
                for group in CELL_GROUPS
                if group in saved and group not in selections
            },
        }
        fields = {key: saved[key] for key in saved if key not in (*CELL_GROUPS, "name")}
        cells.append(
            _cell(
                name,
                _in_cell(name, compose, cell_groups, overrides, rest=data, presets=selections),
                fields,
            )
        )
    return _with_cells(cells[0], cells)


LEGACY_TASK_REWARD_KEYS = ("reward", "dense_reward_weight", "dense_reward_scale_per_m")


def with_reward_group(data: dict[str, Any]) -> dict[str, Any]:
    """A config saved before the `reward` group (its reward keys in `task`) in today's form,
    so an older run still resumes and evaluates: `task.reward=pose_distance` becomes the
    dense `pose` term; a `dense_reward_weight` adds it to the success reward."""
    if "reward" in data:
        return data
    task = data.get("task") or {}
    name, weight, scale = (
        task.pop(key, default)
        for key, default in zip(LEGACY_TASK_REWARD_KEYS, ("success", 0.0, 10.0), strict=True)
    )
    dense = {"sparse_weight": 0.0, "dense_weight": 1.0, "dense_scale_per_m": scale}
    if name == "pose_distance":
        data["reward"] = {"name": "pose", **dense}
    elif weight:
        data["reward"] = {
            "name": "composite",
            "parts": {"success": {"weight": 1.0}, "pose": {"weight": weight, **dense}},
        }
    else:
        data["reward"] = {"name": "success"}
    return data


def to_yaml(config: Config) -> str:
    return OmegaConf.to_yaml(OmegaConf.structured(config))
