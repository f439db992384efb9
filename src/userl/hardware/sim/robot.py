"""A simulated arm behind the `Robot` interface; each arm registers a subclass."""

from __future__ import annotations

import numpy as np

from userl.core.specs import RobotSpec, RobotState
from userl.hardware.base import Robot, SceneFragment
from userl.hardware.pacing import Pacer
from userl.hardware.sim.arm import SimArm
from userl.hardware.sim.config import SimArmConfig
from userl.hardware.sim.world import SimWorld


class SimRobot(Robot):
    """A MuJoCo arm. `tick()` advances physics by one control period; with `realtime=true`
    it then waits for the period's wall-clock deadline (deadlines advance by the period, so
    work time is not added to the sleep; a late tick restarts the schedule). Poses are in the
    world (table) frame, in which the tasks lay out their scenes."""

    def __init__(
        self,
        config: SimArmConfig,
        arm: SimArm,
        scene: SceneFragment | None = None,
        control_hz: float = 10.0,
    ) -> None:
        self.config = config
        self.paced_to_real_time = config.realtime
        self.control_period_s = 1.0 / control_hz
        self.world = SimWorld(config, scene or SceneFragment(), control_hz, arm)
        self.spec = RobotSpec(
            name=config.name,
            dof=arm.dofs,
            control_hz=control_hz,
            has_gripper=True,
            gripper_max_width_m=arm.gripper.max_width_m,
        )
        self._gripper = 1.0
        self.pacer = Pacer(control_hz)

    def connect(self) -> None:
        self.pacer.restart()

    def state(self) -> RobotState:
        world = self.world
        return RobotState(
            tcp_pose=world.tcp_pose(),
            tcp_velocity=world.tcp_velocity(),
            joint_positions=world.data.qpos[: world.dofs].copy(),
            joint_velocities=world.data.qvel[: world.dofs].copy(),
            gripper_width_m=world.gripper_width_m(),
            wrench=world.tcp_contact_wrench(),
            timestamp_s=float(world.data.time),
        )

    @staticmethod
    def checked_target(target_tcp_pose: np.ndarray, gripper: float) -> np.ndarray:
        target = np.asarray(target_tcp_pose, dtype=np.float64)
        if target.shape != (7,) or not np.all(np.isfinite(target)) or not np.isfinite(gripper):
            raise ValueError(f"a TCP target must be 7 finite numbers, got {target_tcp_pose!r}")
        return np.concatenate([target[:3], target[3:] / np.linalg.norm(target[3:])])

    def command(self, target_tcp_pose: np.ndarray, gripper: float) -> None:
        target = self.checked_target(target_tcp_pose, gripper)
        self._gripper = float(np.clip(gripper, 0.0, 1.0))
        self.world.set_target(target[:3], target[3:], self._gripper)

    def tick(self) -> None:
        self.world.step_control_period()
        if self.paced_to_real_time:
            self.pacer.wait()

    @property
    def late_ticks(self) -> int:
        return self.pacer.late_ticks

    def reset(self, tcp_pose: np.ndarray, gripper: float) -> None:
        pose = np.asarray(tcp_pose, dtype=np.float64)
        self._gripper = float(np.clip(gripper, 0.0, 1.0))
        self.world.reset_joints(self.world.solve_ik(pose), self._gripper)
        self.pacer.restart()

    def hold(self) -> None:
        pose = self.world.tcp_pose()
        self.world.set_target(pose[:3], pose[3:], self._gripper)

    def close(self) -> None:
        self.pacer.restart()

    # SceneControl: the task arranges the simulated world
    def set_body_pose(self, name: str, pose: np.ndarray) -> None:
        self.world.set_body_pose(name, np.asarray(pose, dtype=np.float64))

    def body_pose(self, name: str) -> np.ndarray:
        return self.world.body_pose(name)

    def body_velocity(self, name: str) -> np.ndarray:
        return self.world.body_velocity(name)

    def joint_position(self, name: str) -> float:
        return self.world.joint_position(name)

    def set_joint_position(self, name: str, value: float) -> None:
        self.world.set_joint_position(name, value)
