"""A fake `arx_r5_sdk` (arx-r5-sdk 1.0.0), written from the real package's source, because the
real one cannot install here: its prebuilt `lib/arx_r5_python*.so` is for Python 3.12 and a
newer libstdc++.

From `arx_r5_sdk/single_arm.py` and `cpp/lib/arx_r5_src/include/.../InterfacesPy.hpp`:
- `SingleArm(config)` reads `config["can_port"]` (default "can0"), `config["type"]` (0: X5lite,
  1: R5, picking the URDF), `config["dt"]` and `config["num_joints"]`; it builds the native
  `InterfacesPy(urdf, can_port, type)` (closed source: what it does on a missing CAN port is
  not visible; this fake raises RuntimeError, as pybind11 turns a C++ exception into).
- Setters return None in Python (the native bool is dropped): `set_ee_pose(pos, quat)` takes
  metres and a quaternion (w, x, y, z), then sets arm status 4 (END_CONTROL);
  `set_joint_positions(positions)` takes 6 joint angles, then status 5 (POSITION_CONTROL);
  `set_catch_pos(pos)` forwards to the native `set_catch` (the gripper, in the SDK's units).
- `get_ee_pose()` returns the native 7-vector `[x, y, z, w, x, y, z]`; `get_joint_positions`,
  `get_joint_velocities`, `get_joint_currents` return 7-vectors (6 joints + the gripper).
Names and signatures are checked against the downloaded sdist by
`tests/integration/test_arx_fake_matches_sdk.py`. Module-level UPPER-case names and `reset` /
`calls` are this fake's test controls, not the SDK's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CALLS: list[tuple[str, Any]] = []
FAIL_OPEN: list[str] = []  # CAN ports whose native interface raises on construction
STUCK: list[bool] = []  # when set, commanded poses are not reached
SILENT: list[bool] = []  # when set, the arm reports zeros (no CAN frame arrived yet)
NATIVE_JOINTS = 7  # the native getters' length: 6 joints + the gripper


def quaternion_to_euler(quat: np.ndarray) -> tuple[float, float, float]:
    w, x, y, z = quat
    roll = np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    sinp = 2 * (w * y - z * x)
    pitch = np.pi / 2 * np.sign(sinp) if abs(sinp) >= 1 else np.arcsin(sinp)
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return roll, pitch, yaw


def euler_to_quaternion(roll: float, pitch: float, yaw: float) -> np.ndarray:
    cy, sy = np.cos(yaw * 0.5), np.sin(yaw * 0.5)
    cp, sp = np.cos(pitch * 0.5), np.sin(pitch * 0.5)
    cr, sr = np.cos(roll * 0.5), np.sin(roll * 0.5)
    return np.array(
        [
            cr * cp * cy + sr * sp * sy,
            sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy,
        ]
    )


class SingleArm:
    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.num_joints = config.get("num_joints", 7)
        self.dt = config.get("dt", 0.05)
        port = config.get("can_port", "can0")
        if port in FAIL_OPEN:
            raise RuntimeError(f"CAN port {port} not found")
        CALLS.append(("SingleArm", dict(config)))
        self.status = 0
        self._pose = [0.3, 0.0, 0.2, 1.0, 0.0, 0.0, 0.0]
        self._joints = [0.0] * NATIVE_JOINTS

    def get_joint_names(self) -> Any:
        return NotImplementedError  # the SDK returns (not raises) this

    def go_home(self) -> bool:
        self.status = 1
        return True

    def gravity_compensation(self) -> bool:
        self.status = 3
        return True

    def protect_mode(self) -> bool:
        self.status = 2
        return True

    def set_joint_positions(self, positions: Any, **kwargs) -> None:
        CALLS.append(("set_joint_positions", list(positions)))
        self._joints[: len(positions)] = [float(q) for q in positions]
        self.status = 5

    def set_ee_pose(self, pos: Any = None, quat: Any = None, **kwargs) -> None:
        CALLS.append(("set_ee_pose", (list(pos), list(quat))))
        if not STUCK:
            self._pose = [*map(float, pos), *map(float, quat)]
        self.status = 4

    def set_ee_pose_xyzrpy(self, xyzrpy: Any = None, **kwargs) -> None:
        quat = euler_to_quaternion(xyzrpy[3], xyzrpy[4], xyzrpy[5])
        self.set_ee_pose(xyzrpy[:3], quat)

    def set_catch_pos(self, pos: float):
        CALLS.append(("set_catch_pos", pos))

    def get_joint_positions(self, joint_names: Any = None) -> list[float]:
        return [0.0] * NATIVE_JOINTS if SILENT else list(self._joints)

    def get_joint_velocities(self, joint_names: Any = None) -> list[float]:
        return [0.0] * NATIVE_JOINTS

    def get_joint_currents(self, joint_names: Any = None) -> list[float]:
        return [0.0] * NATIVE_JOINTS

    def get_ee_pose(self) -> list[float]:
        return [0.0] * 7 if SILENT else list(self._pose)

    def get_ee_pose_xyzrpy(self) -> np.ndarray:
        pose = self.get_ee_pose()
        return np.array([*pose[:3], *quaternion_to_euler(np.array(pose[3:]))])


def reset() -> None:
    CALLS.clear()
    FAIL_OPEN.clear()
    STUCK.clear()
    SILENT.clear()


def calls(name: str) -> list[Any]:
    return [args for call, args in CALLS if call == name]
