"""Refuse robot readings that cannot be trusted, before anything acts on them."""

from __future__ import annotations

import numpy as np

from userl.core.specs import RobotState, WorkspaceBox


class UnsafeReading(RuntimeError):
    """The robot reported something non-finite or far outside its workspace; it holds."""


def check_reading(state: RobotState, box: WorkspaceBox, margin_m: float, robot_id: str) -> None:
    """Raise `UnsafeReading` naming the bad field; a sound reading passes silently."""
    for name in ("tcp_pose", "tcp_velocity", "joint_positions", "joint_velocities", "wrench"):
        values = np.asarray(getattr(state, name), dtype=np.float64)
        if not np.all(np.isfinite(values)):
            index = int(np.flatnonzero(~np.isfinite(values))[0])
            raise UnsafeReading(
                f"{robot_id}: non-finite {name}[{index}] = {values[index]}; "
                "the arm holds. Check the robot's sensors and driver"
            )
    low = np.asarray(box.low_m) - margin_m
    high = np.asarray(box.high_m) + margin_m
    position = np.asarray(state.tcp_pose[:3])
    if np.any(position < low) or np.any(position > high):
        raise UnsafeReading(
            f"{robot_id}: TCP at {np.round(position, 3).tolist()} m is more "
            f"than {margin_m} m outside the workspace box; the arm holds"
        )
