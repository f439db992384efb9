"""A robot-side safety layer that wraps any `Robot`, independent of the policy.

`SafeRobot` enforces, on every command: a workspace box (base frame), a maximum step from the
measured TCP pose (metres and radians, also bounded by a speed times the control period), and
refusal of non-finite targets (the arm holds instead). A watchdog thread holds the arm when no
command arrives within `watchdog_timeout_s` (e.g. the learner machine vanished). A hold latch
(set by an operator's hold key, cleared explicitly) keeps the arm where it is: commands are
ignored and a reset waits until it is cleared. Calls to the wrapped robot are serialised, so
the watchdog never races the control loop.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from userl.core.specs import RobotState, WorkspaceBox
from userl.geometry import make_pose, mat_to_rotvec, quat_to_mat, rotvec_to_mat
from userl.hardware.base import Robot, SceneControl


@dataclass
class SafetyConfig:
    """Robot-side limits enforced by `hardware.safety.SafeRobot`, whatever the policy sends."""

    enabled: bool = True  # enforce these limits (off only for a trusted simulator)
    workspace_low_m: list[float] = field(default_factory=lambda: [0.2, -0.5, -0.05])  # base frame
    workspace_high_m: list[float] = field(default_factory=lambda: [0.9, 0.5, 0.7])  # base frame:
    # the box's upper corner (workspace_low_m the lower)

    max_step_m: float = 0.1  # a target lies at most this far from the measured TCP position
    max_step_rad: float = 0.5  # ... and its orientation at most this far from the measured one
    max_linear_speed_m_per_s: float = 1.0  # step also within this speed x the control period
    max_angular_speed_rad_per_s: float = 5.0  # rotation step also within this speed x the control
    # period

    watchdog_timeout_s: float = 1.0  # hold when no command arrives for this long (0: off)
    watchdog_check_hz: float = 50.0  # how often the watchdog thread looks
    latch_poll_s: float = 0.05  # a reset waits for the hold latch to clear, looking this often

    def problem(self) -> str | None:
        """One line on a value that would switch a limit off or invert it, or None."""
        for name in ("workspace_low_m", "workspace_high_m"):
            corner = getattr(self, name)
            if len(corner) != 3 or not all(_finite_number(v) for v in corner):
                return (
                    f"bad value for 'robot.safety.{name}': {corner} must be three finite "
                    "numbers (x, y, z in metres, robot base frame)"
                )
        if not all(
            lo < hi for lo, hi in zip(self.workspace_low_m, self.workspace_high_m, strict=True)
        ):
            return (
                f"bad value for 'robot.safety.workspace_low_m': {self.workspace_low_m} must lie "
                f"below robot.safety.workspace_high_m={self.workspace_high_m} on every axis"
            )
        for name in _POSITIVE_LIMITS:
            value = getattr(self, name)
            if not (_finite_number(value) and value > 0):
                return f"bad value for 'robot.safety.{name}': {value} must be finite and > 0"
        if not (_finite_number(self.watchdog_timeout_s) and self.watchdog_timeout_s >= 0):
            return (
                f"bad value for 'robot.safety.watchdog_timeout_s': {self.watchdog_timeout_s} "
                "must be finite and >= 0 (0 turns the watchdog off)"
            )
        return None


# The limits that must be finite and positive: zero, negative or non-finite would switch the
# limit off, invert it or divide by zero.
_POSITIVE_LIMITS = (
    "max_step_m",
    "max_step_rad",
    "max_linear_speed_m_per_s",
    "max_angular_speed_rad_per_s",
    "watchdog_check_hz",
    "latch_poll_s",
)


def _finite_number(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def is_finite_pose(pose: np.ndarray) -> bool:
    """Whether `pose` is 7 finite numbers (xyz + quaternion)."""
    return pose.shape == (7,) and bool(np.all(np.isfinite(pose)))


def is_finite_command(target_tcp_pose: np.ndarray, gripper: float) -> bool:
    """Whether a command is a 7-value pose of finite numbers and a finite gripper: what every
    driver checks again before anything reaches an arm."""
    target = np.asarray(target_tcp_pose, dtype=np.float64).reshape(-1)
    return is_finite_pose(target) and math.isfinite(gripper)


def unit_quaternion(quaternion: np.ndarray) -> np.ndarray | None:
    """`quaternion` scaled to unit length, or None when it has no direction. Scaled by its
    largest component first, so huge or tiny finite values neither overflow nor underflow."""
    largest = float(np.max(np.abs(quaternion)))
    if not (math.isfinite(largest) and largest > 0.0):
        return None
    scaled = quaternion / largest
    norm = float(np.linalg.norm(scaled))
    if not (math.isfinite(norm) and norm > 0.0):
        return None
    return scaled / norm


def limit_step(
    current: np.ndarray, target: np.ndarray, max_step_m: float, max_step_rad: float
) -> np.ndarray:
    """`target` moved toward `current` so that it lies within the step limits of it."""
    offset = target[:3] - current[:3]
    distance = float(np.linalg.norm(offset))
    position = target[:3]
    if distance > max_step_m:
        position = current[:3] + offset * (max_step_m / distance)
    r_current = quat_to_mat(current[3:])
    delta = mat_to_rotvec(quat_to_mat(target[3:]) @ r_current.T)
    angle = float(np.linalg.norm(delta))
    if angle > max_step_rad:
        delta = delta * (max_step_rad / angle)
    return make_pose(position, rotvec_to_mat(delta) @ r_current)


class SafeRobot(Robot):
    """Wraps `robot`; limits and counters are per instance. Other attributes pass through."""

    def __init__(self, robot: Robot, config: SafetyConfig) -> None:
        problem = config.problem()
        if problem:
            raise ValueError(problem)
        self.robot = robot
        self.config = config
        self.spec = robot.spec
        low_x, low_y, low_z = config.workspace_low_m
        high_x, high_y, high_z = config.workspace_high_m
        self.box = WorkspaceBox((low_x, low_y, low_z), (high_x, high_y, high_z))
        period_s = 1.0 / robot.spec.control_hz
        self.max_step_m = min(config.max_step_m, config.max_linear_speed_m_per_s * period_s)
        self.max_step_rad = min(config.max_step_rad, config.max_angular_speed_rad_per_s * period_s)
        self.refused_commands = 0
        self.limited_commands = 0
        self.watchdog_holds = 0
        self._lock = threading.RLock()
        self._latched = threading.Event()
        self._last_command_s = time.monotonic()
        self._watchdog_fired = False
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        if config.watchdog_timeout_s > 0:
            self._watchdog = threading.Thread(
                target=self._watch, name="userl-safety-watchdog", daemon=True
            )
            self._watchdog.start()

    @property
    def paced_to_real_time(self) -> bool:  # type: ignore[override]
        return self.robot.paced_to_real_time

    def __getattr__(self, name: str) -> Any:  # e.g. a simulation's `world` for its cameras
        if name == "robot":
            raise AttributeError(name)
        return getattr(self.robot, name)

    # ------------------------------------------------------------------ hold latch
    @property
    def hold_latched(self) -> bool:
        return self._latched.is_set()

    def latch_hold(self) -> None:
        """The hold key: hold now and ignore commands until `clear_hold()`."""
        with self._lock:
            self._latched.set()
            self.robot.hold()

    def clear_hold(self) -> None:
        with self._lock:
            self._latched.clear()
            self._last_command_s = time.monotonic()

    # ------------------------------------------------------------------ Robot
    def connect(self) -> None:
        with self._lock:
            self.robot.connect()
            self._last_command_s = time.monotonic()

    def state(self) -> RobotState:
        with self._lock:
            return self.robot.state()

    def safe_target(self, target_tcp_pose: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """`(target to send, whether a limit changed it)`; None when refused: the input, the
        measured pose or the limited result is not finite, or the orientation has no
        direction. The output is checked itself, so no intermediate can leak a NaN."""
        target = np.asarray(target_tcp_pose, dtype=np.float64).reshape(-1)
        if not is_finite_pose(target):
            return None, False
        orientation = unit_quaternion(target[3:])
        if orientation is None:
            return None, False
        current = np.asarray(self.robot.state().tcp_pose, dtype=np.float64)
        if not is_finite_pose(current):
            return None, False
        boxed = np.concatenate([self.box.clip(target[:3]), orientation])
        safe = limit_step(current, boxed, self.max_step_m, self.max_step_rad)
        if not is_finite_pose(safe):
            return None, False
        moved_m = float(np.linalg.norm(safe[:3] - target[:3]))
        turned = 1.0 - abs(float(np.dot(safe[3:], orientation)))
        return safe, moved_m > 1e-9 or turned > 1e-12

    def command(self, target_tcp_pose: np.ndarray, gripper: float) -> None:
        with self._lock:
            self._last_command_s = time.monotonic()
            self._watchdog_fired = False
            if self._latched.is_set():
                return
            safe, limited = self.safe_target(target_tcp_pose)
            if safe is None or not math.isfinite(gripper):
                self.refused_commands += 1
                self.robot.hold()
                return
            self.limited_commands += int(limited)
            self.robot.command(safe, float(np.clip(gripper, 0.0, 1.0)))

    def tick(self) -> None:
        with self._lock:
            self.robot.tick()

    def reset(self, tcp_pose: np.ndarray, gripper: float) -> None:
        """A planned move (no step limit) to a pose inside the box; waits while latched."""
        pose = np.asarray(tcp_pose, dtype=np.float64).reshape(-1)
        if not is_finite_command(pose, gripper):
            raise ValueError(
                f"a reset pose must be 7 finite numbers and a finite gripper, got "
                f"{tcp_pose!r}, {gripper!r}; check the task's reset distribution"
            )
        while self._latched.is_set() and not self._stop.is_set():
            time.sleep(self.config.latch_poll_s)
        clipped = np.concatenate([self.box.clip(pose[:3]), pose[3:]])
        with self._lock:
            self.robot.reset(clipped, float(np.clip(gripper, 0.0, 1.0)))
            self._last_command_s = time.monotonic()
            self._watchdog_fired = False

    def hold(self) -> None:
        with self._lock:
            self.robot.hold()

    def close(self) -> None:
        self._stop.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join()
        with self._lock:
            self.robot.close()

    # ------------------------------------------------------------------ watchdog
    def _watch(self) -> None:
        period_s = 1.0 / self.config.watchdog_check_hz
        while not self._stop.wait(period_s):
            with self._lock:
                silent_s = time.monotonic() - self._last_command_s
                if silent_s >= self.config.watchdog_timeout_s and not self._watchdog_fired:
                    self._watchdog_fired = True
                    self.watchdog_holds += 1
                    self.robot.hold()


class SafeSceneRobot(SafeRobot):
    """A `SafeRobot` around a simulation: the task still arranges and reads its world."""

    def set_body_pose(self, name: str, pose: np.ndarray) -> None:
        with self._lock:
            self.robot.set_body_pose(name, pose)  # type: ignore[attr-defined]

    def body_pose(self, name: str) -> np.ndarray:
        with self._lock:
            return self.robot.body_pose(name)  # type: ignore[attr-defined]

    def body_velocity(self, name: str) -> np.ndarray:
        with self._lock:
            return self.robot.body_velocity(name)  # type: ignore[attr-defined]

    def joint_position(self, name: str) -> float:
        with self._lock:
            return self.robot.joint_position(name)  # type: ignore[attr-defined]

    def set_joint_position(self, name: str, value: float) -> None:
        with self._lock:
            self.robot.set_joint_position(name, value)  # type: ignore[attr-defined]


def with_safety(robot: Robot, config: SafetyConfig) -> Robot:
    """`robot` behind the safety layer (a simulation keeps its `SceneControl`); unchanged when
    `config.enabled` is false."""
    if not config.enabled:
        return robot
    if isinstance(robot, SceneControl):
        return SafeSceneRobot(robot, config)
    return SafeRobot(robot, config)
