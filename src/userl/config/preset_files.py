"""The preset files: `presets/<group>/<name>.yaml`, one component config's values each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from userl.core.errors import ConfigError

PRESET_DIR = Path(__file__).parent / "presets"


def preset_names(group: str) -> list[str]:
    return sorted(path.stem for path in (PRESET_DIR / group).glob("*.yaml"))


def read_preset_file(group: str, name: str) -> dict[str, Any]:
    """The values of preset `name` of `group`; its `name` key (the registered component)
    defaults to the preset's own name."""
    path = PRESET_DIR / group / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(preset_names(group)) or "none"
        raise ConfigError(
            f"unknown {group} preset {name!r} ({group}={name}); choose one of: {known}"
        )
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"preset {path} must be a mapping of keys to values")
    data.setdefault("name", name)
    return data
