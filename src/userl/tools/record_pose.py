"""`userl record-pose`: read the robot's TCP pose and write it into a task config file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from userl.config.schema import Config
from userl.core.registry import ROBOTS, load_components

POSE_DECIMALS = 5  # 10 um and 1e-5 of a quaternion: below any robot's repeatability
# A field's suffix says which part of the pose it takes: xy, xyz, or the whole xyz + wxyz.
FIELD_PARTS: dict[str, slice] = {"_xy_m": slice(0, 2), "_xyz_m": slice(0, 3)}


def read_tcp_pose(config: Config) -> np.ndarray:
    """Connect to the configured robot, read its TCP pose (xyz + wxyz), release it."""
    load_components()
    robot = ROBOTS.build(config.robot, control_hz=config.task.control_hz)
    robot.connect()
    try:
        return robot.state().tcp_pose.copy()
    finally:
        robot.close()


def pose_value(pose: np.ndarray, key: str) -> list[float]:
    part = next((cut for suffix, cut in FIELD_PARTS.items() if key.endswith(suffix)), slice(0, 7))
    return [round(float(v), POSE_DECIMALS) for v in pose[part]]


def write_pose(path: Path, key: str, value: list[float]) -> dict[str, Any]:
    """Set `key` in the YAML mapping at `path` (created if absent), keeping the other keys."""
    data = yaml.safe_load(path.read_text()) if path.is_file() else {}
    if not isinstance(data or {}, dict):
        raise ValueError(f"{path} is not a mapping of keys to values")
    data = data or {}
    data[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return data
