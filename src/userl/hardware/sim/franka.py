"""The simulated Franka Panda behind the `Robot` interface (registered as `sim_franka`)."""

from __future__ import annotations

import numpy as np

from userl.core.registry import ROBOTS
from userl.core.specs import RobotSpec, RobotState
from userl.hardware.base import Robot, SceneFragment
from userl.hardware.pacing import Pacer
from userl.hardware.sim.config import SimFrankaConfig
from userl.hardware.sim.panda import PANDA_GRIPPER_MAX_WIDTH_M
from userl.hardware.sim.world import ARM_DOFS, SimWorld


@ROBOTS.register("sim_franka", config=SimFrankaConfig)
class SimFranka(Robot):
    """MuJoCo Panda. `tick()` advances physics by one control period; with `realtime=true`
    it then waits for the period's wall-clock deadline (deadlines advance by the period, so
    work time is not added to the sleep; a late tick restarts the schedule)."""

    def __init__(self, config: SimFrankaConfig, scene: SceneFragment | None = None,
                 control_hz: float = 10.0) -> None:
        self.config = config
        self.paced_to_real_time = config.realtime
        self.control_period_s = 1.0 / control_hz
        self.world = SimWorld(config, scene or SceneFragment(), control_hz)
        self.spec = RobotSpec(name=config.name, dof=ARM_DOFS, control_hz=control_hz,
                              has_gripper=True, gripper_max_width_m=PANDA_GRIPPER_MAX_WIDTH_M)
        self._gripper = 1.0
        self.pacer = Pacer(control_hz)

    def connect(self) -> None:
        self.pacer.restart()

    def state(self) -> RobotState:
        world = self.world
        return RobotState(
            tcp_pose=world.tcp_pose(),
            tcp_velocity=world.tcp_velocity(),
            joint_positions=world.data.qpos[:ARM_DOFS].copy(),
            joint_velocities=world.data.qvel[:ARM_DOFS].copy(),
            gripper_width_m=world.gripper_width_m(),
            wrench=world.tcp_contact_wrench(),
            timestamp_s=float(world.data.time),
        )

    def command(self, target_tcp_pose: np.ndarray, gripper: float) -> None:
        target = np.asarray(target_tcp_pose, dtype=np.float64)
        if target.shape != (7,) or not np.all(np.isfinite(target)) or not np.isfinite(gripper):
            raise ValueError(f"a TCP target must be 7 finite numbers, got {target_tcp_pose!r}")
        self._gripper = float(np.clip(gripper, 0.0, 1.0))
        self.world.set_target(target[:3], target[3:] / np.linalg.norm(target[3:]), self._gripper)

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
