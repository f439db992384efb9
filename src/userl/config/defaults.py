"""The one table of defaults: the preset each component group starts from. The command line
composes its config from these presets (`config/loader.py`), and a `Config()` built in code
(tests, tools) holds the same components with the same values, so both are the same run."""

from __future__ import annotations

from collections.abc import Callable

from omegaconf import OmegaConf

from userl.config.preset_files import read_preset_file
from userl.core.registry import GROUPS, ComponentConfig, load_components

DEFAULT_PRESETS: dict[str, str] = {
    "task": "peg_insertion",
    "robot": "sim_franka",
    "algo": "rlpd",
    "policy": "mlp",
    "pipeline": "async",
    "teleop": "none",
    "reward": "success",
}


def default_component(group: str) -> ComponentConfig:
    """The config of `group`'s default preset: its registered class with the preset's values
    merged in, as the loader merges them."""
    data = read_preset_file(group, DEFAULT_PRESETS[group])
    load_components()
    schema = OmegaConf.structured(GROUPS[group].config(str(data["name"])))
    component = OmegaConf.to_object(OmegaConf.merge(schema, data))
    assert isinstance(component, ComponentConfig)
    return component


def default_of(group: str) -> Callable[[], ComponentConfig]:
    """A dataclass `default_factory` for `group`'s default component config."""
    return lambda: default_component(group)
