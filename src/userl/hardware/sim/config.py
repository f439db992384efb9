"""The simulated arms' configs: physics, controller gains and camera placement."""

from __future__ import annotations

from dataclasses import dataclass, field

from userl.hardware.robot_config import RobotConfig


@dataclass
class SimArmConfig(RobotConfig):
    """What every simulated arm is configured with (a MuJoCo arm under a Cartesian
    impedance-style controller); each arm's config sets its own defaults."""

    physics_dt_s: float = 0.002  # MuJoCo time step
    translational_stiffness_n_per_m: float = 600.0  # impedance controller: translational stiffness
    rotational_stiffness_nm_per_rad: float = 30.0  # impedance controller: rotational stiffness
    damping_ratio: float = 1.0  # impedance controller: damping relative to critical
    nullspace_stiffness_nm_per_rad: float = 10.0  # pull of the redundant joints toward the home
    # posture

    max_tcp_force_n: float = 60.0  # the controller's wrench is clipped to this
    max_tcp_torque_nm: float = 10.0  # the controller's torque is clipped to this
    gripper_force_n: float = 40.0  # the fingers' maximum force
    gripper_stiffness_n_per_m: float = 2000.0  # finger position servo gain
    gripper_damping_n_s_per_m: float = 400.0  # finger slide damping: closes at ~force/this m/s
    joint_armature_kg_m2: float = 0.1  # reflected rotor inertia per joint
    joint_damping_nms_per_rad: float = 0.5  # viscous friction per joint
    ik_tolerance_m: float = 1e-5  # reset: inverse kinematics stops below this pose error
    ik_max_iterations: int = 200  # reset: inverse kinematics iterations at most
    base_position_m: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # arm mount
    front_camera_pos_m: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.35])  # the front
    # camera's position, base frame

    front_camera_lookat_m: list[float] = field(default_factory=lambda: [0.55, 0.0, 0.05])  # the
    # point it looks at, base frame

    wrist_camera_pos_m: list[float] = field(default_factory=lambda: [0.07, 0.0, -0.1])  # TCP frame
    wrist_camera_lookat_m: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.05])  # TCP
    camera_fovy_deg: float = 50.0  # the cameras' vertical field of view


@dataclass
class SimFrankaConfig(SimArmConfig):
    """MuJoCo Panda with a Cartesian impedance-style controller, its base at the origin."""
