"""An ARX R5 (6-DoF) through arx-r5-sdk (`import arx_r5_sdk`), registered as `arx_r5`.

The common 7-D end-effector action becomes a TCP target in RobotEnv, exactly as for the
Franka. A 6-DoF arm cannot follow every such target: it has no redundant joint, so its
dexterous workspace is a thin shell of reach with a limited cone of orientations. The driver's
adapter, `R5Projection` (`hardware/r5_projection.py`, shared with the simulated R5), maps each
target onto the nearest pose the R5 follows reliably: the position is pulled into the shell
`min_reach_m .. max_reach_m` around the base origin, and the orientation, expressed as
roll/pitch/yaw about the last reset's orientation, is clipped to `max_tilt_deg` (roll, pitch)
and `max_yaw_deg`. How far each command was moved is kept in `last_projection_m` /
`last_projection_rad`. The SDK reports neither a wrench (zeros are given)
nor a calibrated gripper width (the commanded opening is given); the TCP velocity is the
finite difference of consecutive readings.

From the SDK's source (arx-r5-sdk 1.0.0, `single_arm.py`): poses are metres + quaternion
(w, x, y, z) both ways; the joint getters return 7 values (6 joints, then the gripper); the
setters return nothing (the native status is dropped), so a command is confirmed only by the
readings; the native interface is closed source and, until its first CAN frame, reads zeros:
`connect` waits for a pose with a unit quaternion and reports an arm that never sends one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from userl.core.registry import ROBOTS
from userl.core.specs import RobotSpec, RobotState
from userl.geometry import (
    mat_to_rotvec,
    quat_to_mat,
)
from userl.hardware.base import Robot, SceneFragment
from userl.hardware.r5_projection import R5Projection
from userl.hardware.robot_config import RobotConfig
from userl.hardware.safety import is_finite_command
from userl.hardware.vendor import HardwareUnavailable, Pacer, first_line, import_vendor, setting


@dataclass
class ArxR5Config(RobotConfig):
    """An ARX R5 (6-DoF) through arx-r5-sdk (`hardware/robots/arx_r5.py`)."""

    camera_driver: str = "realsense"
    can_port: str = ""  # CAN interface; empty: the variable named by can_port_env_var on the node
    can_port_env_var: str = "USERL_ARX_CAN_PORT"  # the environment variable on the node holding the
    # CAN interface when can_port is empty

    arm_type: int = 1  # the SDK's arm type: 1 = R5
    sdk_dt_s: float = 0.05  # the SDK's control time step
    gripper_max_width_m: float = 0.08  # the gripper's full opening
    gripper_command_closed: float = 0.0  # the SDK's catch position when closed ...
    gripper_command_open: float = 5.0  # ... and fully open
    min_reach_m: float = 0.1  # reachable shell: TCP distance from the base origin
    max_reach_m: float = 0.55  # ... to this
    max_tilt_deg: float = 30.0  # roll/pitch kept within +- this of the reset orientation
    max_yaw_deg: float = 90.0  # yaw kept within +- this of the reset orientation
    home_joints_rad: list[float] = field(default_factory=lambda: [0.0] * 6)  # the joint reset's
    # target

    joint_reset_every_episodes: int = 10  # joints home before every Nth reset (0: never)
    reset_tolerance_m: float = 0.005  # a reset is done once the TCP is this near the target
    reset_joint_tolerance_rad: float = 0.02  # a joint reset is done once every joint is this near
    reset_timeout_s: float = 5.0  # ... or after this long
    reset_poll_s: float = 0.05  # a reset checks the arm's pose this often
    first_state_timeout_s: float = 2.0  # connect waits this long for the arm's first CAN reading


ARX_R5_DOF = 6
QUATERNION_NORM_TOLERANCE = 0.1  # a reading whose quaternion is this far from unit is no pose


@ROBOTS.register("arx_r5", config=ArxR5Config)
class ArxR5Robot(Robot):
    """The arm on CAN interface `robot.can_port` (or `$USERL_ARX_CAN_PORT`)."""

    def __init__(
        self, config: ArxR5Config, scene: SceneFragment | None = None, control_hz: float = 10.0
    ) -> None:
        self.config = config
        self.spec = RobotSpec(
            name=config.name,
            dof=ARX_R5_DOF,
            control_hz=control_hz,
            has_gripper=True,
            gripper_max_width_m=config.gripper_max_width_m,
        )
        self.can_port = setting(config.can_port, config.can_port_env_var, "robot.can_port")
        self.sdk = import_vendor("arx_r5_sdk", "arx", "robot 'arx_r5'")
        self.projection = R5Projection(config)
        self.pacer = Pacer(control_hz)
        self.episodes = 0
        self.last_projection_m = 0.0
        self.last_projection_rad = 0.0
        self._arm: Any = None
        self._opening = 1.0
        self._previous: tuple[float, np.ndarray] | None = None  # (time, pose) of the last reading

    def connect(self) -> None:
        config = self.config
        try:
            self._arm = self.sdk.SingleArm(
                {"can_port": self.can_port, "type": config.arm_type, "dt": config.sdk_dt_s}
            )
        except Exception as error:  # any SDK failure here means: not reachable
            raise HardwareUnavailable(
                f"cannot open the ARX R5 on {self.can_port}: {first_line(error)}; check the CAN "
                f"adapter is up (ip link set {self.can_port} up type can bitrate 1000000) and "
                f"robot.can_port / ${config.can_port_env_var}"
            ) from None
        deadline = time.monotonic() + config.first_state_timeout_s
        while not self._reading_valid():
            if time.monotonic() > deadline:
                self._arm = None
                raise HardwareUnavailable(
                    f"the ARX R5 on {self.can_port} sends no pose (it reads zeros after "
                    f"{config.first_state_timeout_s} s); check the arm is powered, its CAN cable, "
                    f"and that {self.can_port} is the arm's interface (ip -details link show)"
                )
            time.sleep(config.reset_poll_s)
        self.projection.set_reference(self._pose()[3:])
        self.pacer.restart()

    def _reading_valid(self) -> bool:
        values = np.asarray(self._connected().get_ee_pose(), dtype=np.float64).reshape(-1)
        return (
            values.shape == (7,)
            and bool(np.all(np.isfinite(values)))
            and abs(float(np.linalg.norm(values[3:7])) - 1.0) < QUATERNION_NORM_TOLERANCE
        )

    def _connected(self) -> Any:
        if self._arm is None:
            raise HardwareUnavailable("the ARX R5 is not connected; call connect() first")
        return self._arm

    def _pose(self) -> np.ndarray:
        values = np.asarray(self._connected().get_ee_pose(), dtype=np.float64).reshape(-1)
        if values.shape != (7,) or not np.all(np.isfinite(values)) or not np.any(values[3:7]):
            raise HardwareUnavailable(
                f"the ARX R5 on {self.can_port} sent no valid pose "
                f"({values.tolist()}); check its power and CAN cable"
            )
        quat = values[3:7] / np.linalg.norm(values[3:7])
        return np.concatenate([values[:3], quat if quat[0] >= 0 else -quat])

    def state(self) -> RobotState:
        arm = self._connected()
        now, pose = time.monotonic(), self._pose()
        velocity = np.zeros(6)
        if self._previous is not None and now > self._previous[0]:
            dt = now - self._previous[0]
            before = self._previous[1]
            velocity[:3] = (pose[:3] - before[:3]) / dt
            velocity[3:] = mat_to_rotvec(quat_to_mat(pose[3:]) @ quat_to_mat(before[3:]).T) / dt
        self._previous = (now, pose)
        return RobotState(
            tcp_pose=pose,
            tcp_velocity=velocity,
            joint_positions=np.asarray(arm.get_joint_positions(), np.float64)[:ARX_R5_DOF],
            joint_velocities=np.asarray(arm.get_joint_velocities(), np.float64)[:ARX_R5_DOF],
            gripper_width_m=self._opening * self.config.gripper_max_width_m,
            wrench=np.zeros(6),
            timestamp_s=time.time(),
        )

    def _send(self, pose: np.ndarray, opening: float) -> None:
        arm, config = self._connected(), self.config
        arm.set_ee_pose([float(v) for v in pose[:3]], [float(v) for v in pose[3:]])
        self._opening = float(np.clip(opening, 0.0, 1.0))
        span = config.gripper_command_open - config.gripper_command_closed
        arm.set_catch_pos(config.gripper_command_closed + self._opening * span)

    def command(self, target_tcp_pose: np.ndarray, gripper: float) -> None:
        if not is_finite_command(target_tcp_pose, gripper):  # checked again before the arm
            self.hold()
            return
        target = np.asarray(target_tcp_pose, dtype=np.float64)
        projected = self.projection(target)
        self.last_projection_m, self.last_projection_rad = R5Projection.distance(projected, target)
        self._send(projected, gripper)

    def tick(self) -> None:
        self.pacer.wait()

    def hold(self) -> None:
        self._send(self._pose(), self._opening)

    def _wait_until(self, reached: Any, what: str) -> None:
        deadline = time.monotonic() + self.config.reset_timeout_s
        while not reached():
            if time.monotonic() > deadline:
                raise HardwareUnavailable(
                    f"the ARX R5 did not reach {what} within {self.config.reset_timeout_s} s; "
                    "check the arm is powered and enabled, and the pose is reachable"
                )
            time.sleep(self.config.reset_poll_s)

    def reset(self, tcp_pose: np.ndarray, gripper: float) -> None:
        """Every `joint_reset_every_episodes`-th reset first moves the joints home; then to
        the pose, which becomes the reference orientation of the projection."""
        arm, config = self._connected(), self.config
        every = config.joint_reset_every_episodes
        if every and self.episodes % every == 0:
            home = np.asarray(config.home_joints_rad, dtype=np.float64)
            arm.set_joint_positions([float(q) for q in home])
            self._wait_until(
                lambda: (
                    np.max(
                        np.abs(
                            np.asarray(arm.get_joint_positions(), np.float64)[:ARX_R5_DOF] - home
                        )
                    )
                    <= config.reset_joint_tolerance_rad
                ),
                "its home joints",
            )
        self.episodes += 1
        pose = np.asarray(tcp_pose, dtype=np.float64)
        self.projection.set_reference(pose[3:])
        target = self.projection(pose)
        self._send(target, gripper)
        self._wait_until(
            lambda: np.linalg.norm(self._pose()[:3] - target[:3]) <= config.reset_tolerance_m,
            "the reset pose",
        )
        self._previous = None
        self.pacer.restart()

    def close(self) -> None:
        self._arm = None
