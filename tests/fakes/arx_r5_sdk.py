"""A fake `arx_r5_sdk`: the arm reaches each commanded pose and joint target at once."""

from __future__ import annotations

from typing import Any

import numpy as np

CALLS: list[tuple[str, Any]] = []
FAIL_OPEN: list[str] = []  # CAN ports that cannot be opened
STUCK: list[bool] = []  # when set, commanded poses are not reached


class SingleArm:
    def __init__(self, config: dict[str, Any]) -> None:
        if config["can_port"] in FAIL_OPEN:
            raise RuntimeError(f"CAN port {config['can_port']} not found")
        CALLS.append(("SingleArm", dict(config)))
        self.pose = np.array([0.3, 0.0, 0.2, 1.0, 0.0, 0.0, 0.0])
        self.joints = np.zeros(7)

    def set_ee_pose(self, pos: list[float], quat: list[float]) -> None:
        CALLS.append(("set_ee_pose", (list(pos), list(quat))))
        if not STUCK:
            self.pose = np.array([*pos, *quat], dtype=float)

    def set_catch_pos(self, pos: float) -> None:
        CALLS.append(("set_catch_pos", pos))

    def set_joint_positions(self, positions: list[float]) -> None:
        CALLS.append(("set_joint_positions", list(positions)))
        self.joints[: len(positions)] = positions

    def get_ee_pose(self) -> np.ndarray:
        return self.pose.copy()

    def get_joint_positions(self) -> np.ndarray:
        return self.joints.copy()

    def get_joint_velocities(self) -> np.ndarray:
        return np.zeros(7)


def reset() -> None:
    CALLS.clear()
    FAIL_OPEN.clear()
    STUCK.clear()


def calls(name: str) -> list[Any]:
    return [args for call, args in CALLS if call == name]
