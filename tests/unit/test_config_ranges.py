"""Every numeric config field has a declared range (`config/ranges.py`), and the loader
refuses a value outside it with one line naming the key (issue #39)."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapter_base import ADAPTER_PRESETS, make_base_run
from userl.config.compatibility import partner_arguments
from userl.config.loader import load_config
from userl.config.ranges import declared_range
from userl.config.schema import CellConfig, Config
from userl.core.errors import ConfigError
from userl.core.registry import GROUPS, load_components

PRESETS = Path(__file__).parents[2] / "src" / "userl" / "config" / "presets"


def _numeric(annotation: Any) -> bool:
    """Whether a field type holds numbers: int, float, a list of them, or a mapping to them."""
    if annotation in (int, float):
        return True
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, dict, typing.Union, types.UnionType):
        return any(_numeric(arg) for arg in typing.get_args(annotation))
    return False


def _dataclasses_in(annotation: Any) -> Iterator[type]:
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _dataclasses_in(arg)


def _config_classes() -> list[type]:
    """Config, CellConfig, every registered component config class, and every dataclass
    their fields hold (nested sections, list items), each once."""
    load_components()
    roots: list[type] = [Config, CellConfig, *(type(c) for c in Config().components())]
    for registry in GROUPS.values():
        roots += [registry.config(name) for name in registry.names()]
    seen: list[type] = []
    while roots:
        cls = roots.pop()
        if cls in seen:
            continue
        seen.append(cls)
        hints = typing.get_type_hints(cls)
        for item in dataclasses.fields(cls):
            roots += list(_dataclasses_in(hints[item.name]))
    return seen


def _numeric_fields() -> list[tuple[str, dataclasses.Field[Any]]]:
    found = []
    for cls in _config_classes():
        hints = typing.get_type_hints(cls)
        for item in dataclasses.fields(cls):
            if _numeric(hints[item.name]):
                found.append((f"{cls.__module__}.{cls.__name__}.{item.name}", item))
    return found


def test_every_numeric_field_has_a_declared_range() -> None:
    fields = _numeric_fields()
    assert len(fields) > 300  # the walk reaches every group's configs
    missing = sorted(name for name, item in fields if declared_range(item) is None)
    assert not missing, f"numeric config fields without a declared range: {missing}"


def test_every_default_is_within_its_range() -> None:
    for cls in _config_classes():
        try:
            instance = cls()
        except TypeError:
            continue  # a class with required fields has no defaults to check
        for item in dataclasses.fields(instance):
            declared = declared_range(item)
            value = getattr(instance, item.name)
            if declared is None or dataclasses.is_dataclass(value):
                continue
            entries = value.values() if isinstance(value, dict) else [value]
            for entry in entries:
                assert declared.problem(entry) is None, f"{cls.__name__}.{item.name}={entry}"


@pytest.mark.parametrize(
    "override",
    [
        "task.action_scale_rad=-100",
        "task.workspace_tilt_range_deg=-5",
        "robot.max_tcp_force_n=-60",
        "algo.init_temperature=-1",
        "algo.grad_clip_norm=-1",
        "algo.actor_lr=1e30",
        f"run.env_steps={2**64}",
        "robot.safety.workspace_low_m=[0.2,-0.5]",
        "robot.base_position_m=[0,0]",
        "robot.front_camera_pos_m=[0,0,.nan]",
        "policy.hidden_dims=[256,0]",
        "policy.log_std_min=3",
    ],
)
def test_out_of_range_values_are_refused(override: str) -> None:
    key = override.split("=", 1)[0]
    with pytest.raises(ConfigError) as error:
        load_config(["algo=sac", "robot=sim_franka", "policy=mlp", override])
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"bad value for '{key}'"), message


def test_a_cells_value_is_checked_too() -> None:
    with pytest.raises(ConfigError, match=r"franka_peg.*bad value for 'task\.action_scale_m'"):
        load_config(["cells=[franka_peg]", "cells.franka_peg.task.action_scale_m=0"])


def _preset_arguments() -> list[str]:
    arguments = []
    for folder in sorted(PRESETS.iterdir()):
        for preset in sorted(folder.glob("*.yaml")):
            if folder.name == "cells":
                arguments.append(f"cells=[{preset.stem}]")
            else:
                arguments.append(f"{folder.name}={preset.stem}")
    return arguments


@pytest.mark.parametrize("argument", _preset_arguments())
def test_every_preset_loads_within_range(argument: str, tmp_path: Path) -> None:
    extra = []
    if argument == "reward=classifier":
        checkpoint = tmp_path / "classifier.pt"
        checkpoint.touch()
        extra = [f"reward.checkpoint={checkpoint}"]
    if argument.startswith("policy="):
        extra = ["obs=image"]  # an image policy needs its views
    group, _, preset = argument.partition("=")
    if preset in ADAPTER_PRESETS:  # an adapter loads over a base run of the same obs
        extra.append(f"policy.base={make_base_run(tmp_path / 'base', *extra)}")
    load_config([argument, *extra, *partner_arguments(group, preset)])  # a pair that trains
