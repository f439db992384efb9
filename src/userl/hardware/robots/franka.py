"""A Franka Panda / FR3 through franky-control (`import franky`), registered as `franka`.

Motion: each command preempts the running motion with a new end-effector target, either a
Cartesian impedance motion (`motion=impedance`: compliant, for contact-rich tasks) or a
Cartesian trajectory motion (`motion=waypoint`: time-optimal, stiff). An impedance motion never
ends by itself, and franky refuses a motion of another type while one runs
(`InvalidMotionTypeException`), so the driver owns each motion's lifetime: the next target of
the same type preempts it, and a reset (or any motion of another type) first stops it
(`robot.stop()` + `join_motion()`). Poses convert between userl's `xyz + (w, x, y, z)` and
franky's `Affine(translation, (x, y, z, w))`. The gripper moves to a width when opening and
grasps with force when closing, on its own thread (`GripperWorker`): a gripper call blocks
until the fingers stop, so the control loop never waits on one. A control error (reflex, limit)
or a failure of franky's trajectory planner (a plain `RuntimeError` "Motion planner failed
with error code N" from Ruckig; it ends the motion) is recovered automatically up to
`max_error_recoveries` times in a row. A blocking move (a reset's) is started asynchronously
and joined within a bound derived from its distance and the dynamics fraction
(`motion_bound_s`): one that overruns is stopped and recovered the same way, so no reset holds
the caller forever. `robot.realtime_config`
is franky's `RealtimeConfig`: `enforce` on a robot node (libfranka refuses a kernel without
PREEMPT_RT), `ignore` for development and franky-sim.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from userl.core.registry import ROBOTS, Registry
from userl.core.specs import RobotSpec, RobotState
from userl.geometry import make_pose, quat_to_mat, yaw_rotation
from userl.hardware.base import Robot, SceneFragment
from userl.hardware.robot_config import RobotConfig
from userl.hardware.robots.gripper_worker import GripperWorker
from userl.hardware.safety import is_finite_command
from userl.hardware.vendor import (
    HardwareUnavailable,
    NoAnswer,
    Pacer,
    answered_within,
    first_line,
    import_vendor,
    setting,
)

PANDA_HOME_JOINTS_RAD = [
    0.0,
    -0.7853981633974483,
    0.0,
    -2.356194490192345,
    0.0,
    1.5707963267948966,
    0.7853981633974483,
]


@dataclass
class FrankaConfig(RobotConfig):
    """A Franka Panda / FR3 through franky-control (`hardware/robots/franka.py`)."""

    camera_driver: str = "realsense"
    ip: str = ""  # FCI address; empty: the variable named by ip_env_var on the robot node
    ip_env_var: str = "USERL_FRANKA_IP"  # the environment variable on the robot node holding the
    # FCI address when ip is empty

    motion: str = "impedance"  # impedance (Cartesian impedance) | waypoint (Cartesian motion)
    translational_stiffness_n_per_m: float = 2000.0  # impedance motion: Cartesian translational
    # stiffness

    rotational_stiffness_nm_per_rad: float = 150.0  # impedance motion: Cartesian rotational
    # stiffness

    realtime_config: str = "enforce"  # enforce (a PREEMPT_RT robot node) | ignore (franky-sim)
    connect_timeout_s: float = 60.0  # the arm's and the gripper's connect answer within this
    motion_stop_timeout_s: float = 5.0  # a running motion stopped before a reset ends within this
    gripper_reset_timeout_s: float = 10.0  # a reset waits this long for the gripper to settle
    release_timeout_s: float = 10.0  # closing waits this long for franky to let go of the arm
    dynamics_fraction: float = 0.1  # share of the robot's velocity/acceleration/jerk limits
    collision_force_threshold_n: float = 30.0  # the arm stops on a contact force above this
    collision_torque_threshold_nm: float = 20.0  # the arm stops on a contact torque above this
    max_error_recoveries: int = 3  # consecutive automatic recoveries before giving up
    motion_timeout_floor_s: float = 30.0  # a blocking move (a reset) is stopped once it runs past
    # max(this, motion_timeout_margin x its time at the arm's speed limits scaled by
    # dynamics_fraction); see motion_bound_s

    motion_timeout_margin: float = 4.0  # times the move's duration at the scaled speed limits (see
    # motion_timeout_floor_s)

    max_translation_speed_m_per_s: float = 1.7  # the arm's Cartesian translation speed limit
    max_rotation_speed_rad_per_s: float = 2.5  # the arm's Cartesian rotation speed limit
    max_joint_speed_rad_per_s: float = 2.175  # the slowest joint's speed limit
    reached_tolerance_m: float = 0.01  # a blocking move counts as done only with the TCP position
    # within this of the reset pose; a motion that ends short (preempted or aborted) is recovered
    # and sent again like an overrun

    reached_tolerance_rad: float = 0.05  # every joint within this of the home joints
    gripper_max_width_m: float = 0.08  # the gripper's full opening
    gripper_speed_m_per_s: float = 0.1  # gripper finger speed
    gripper_force_n: float = 20.0  # grasping force when closing on an object
    gripper_grasp_below_fraction: float = 0.5  # openings below this grasp with force
    gripper_epsilon_outer_m: float = 0.08  # a grasp succeeds with an object up to this narrower
    gripper_deadband_fraction: float = 0.05  # smaller opening changes are not sent
    home_joints_rad: list[float] = field(default_factory=lambda: list(PANDA_HOME_JOINTS_RAD))  # the
    # joint reset's target

    joint_reset_every_episodes: int = 10  # joints home before every Nth reset (0: never)
    reset_xy_noise_m: float = 0.0  # reset pose shifted within +- this per axis (on the task's)
    reset_yaw_noise_deg: float = 0.0  # reset yaw shifted within +- this (on the task's)
    reset_seed: int = 0  # seed of the reset noise


FRANKA_DOF = 7
# The start of libfranky's std::runtime_error when Ruckig cannot plan a motion's trajectory
# (e.g. "-111", ErrorSynchronizationCalculation); the motion ends and the arm can move again.
PLANNER_FAILURE = "Motion planner failed"
# robot.realtime_config -> the member of franky.RealtimeConfig
REALTIME_CONFIGS: dict[str, Callable[[ModuleType], Any]] = {
    "enforce": lambda franky: franky.RealtimeConfig.Enforce,
    "ignore": lambda franky: franky.RealtimeConfig.Ignore,
}

MotionBuilder = Callable[[ModuleType, Any, FrankaConfig], Any]
FRANKA_MOTIONS: Registry = Registry("franka motion")  # robot.motion -> MotionBuilder


def impedance_motion(franky: ModuleType, target: Any, config: FrankaConfig) -> Any:
    """Regulates toward `target` until preempted or stopped (it has no duration)."""
    return franky.CartesianImpedanceMotion(
        target=target,
        target_type=franky.ReferenceType.Absolute,
        translational_stiffness=config.translational_stiffness_n_per_m,
        rotational_stiffness=config.rotational_stiffness_nm_per_rad,
    )


def waypoint_motion(franky: ModuleType, target: Any, config: FrankaConfig) -> Any:
    return franky.CartesianMotion(target, franky.ReferenceType.Absolute)


FRANKA_MOTIONS.register("impedance")(impedance_motion)
FRANKA_MOTIONS.register("waypoint")(waypoint_motion)


def motion_bound_s(
    config: FrankaConfig, distance_m: float = 0.0, angle_rad: float = 0.0, joint_rad: float = 0.0
) -> float:
    """How long a blocking move may run before it counts as stuck: `margin` times the slowest of
    its translation, rotation and largest joint travel at the arm's speed limits scaled by
    `dynamics_fraction`, and never less than the floor (a short move still accelerates and
    settles, and a loaded link answers late)."""
    fraction = config.dynamics_fraction
    full_speed_s = max(
        distance_m / (config.max_translation_speed_m_per_s * fraction),
        angle_rad / (config.max_rotation_speed_rad_per_s * fraction),
        joint_rad / (config.max_joint_speed_rad_per_s * fraction),
    )
    return max(config.motion_timeout_floor_s, config.motion_timeout_margin * full_speed_s)


def rotation_angle_rad(quat_a: np.ndarray, quat_b: np.ndarray) -> float:
    """The angle of the rotation between two unit quaternions (w, x, y, z), in [0, pi]."""
    dot = min(1.0, abs(float(np.dot(quat_a, quat_b))))
    return 2.0 * math.acos(dot)


def to_affine(franky: ModuleType, pose: np.ndarray) -> Any:
    """userl pose (xyz, w x y z) -> franky Affine (translation, x y z w)."""
    w, x, y, z = (float(v) for v in pose[3:])
    return franky.Affine([float(v) for v in pose[:3]], [x, y, z, w])


def from_affine(affine: Any) -> np.ndarray:
    """franky Affine -> userl pose (xyz, w x y z), w >= 0."""
    x, y, z, w = (float(v) for v in affine.quaternion)
    quat = np.array([w, x, y, z]) / math.sqrt(w * w + x * x + y * y + z * z)
    return np.concatenate(
        [np.asarray(affine.translation, dtype=np.float64), quat if quat[0] >= 0 else -quat]
    )


@ROBOTS.register("franka", config=FrankaConfig)
class FrankaRobot(Robot):
    """The arm and its gripper at the FCI address `robot.ip` (or `$USERL_FRANKA_IP`)."""

    def __init__(
        self, config: FrankaConfig, scene: SceneFragment | None = None, control_hz: float = 10.0
    ) -> None:
        self.config = config
        self.motion = FRANKA_MOTIONS.get(config.motion)
        if config.realtime_config not in REALTIME_CONFIGS:
            raise HardwareUnavailable(
                f"robot.realtime_config={config.realtime_config!r} is not one of "
                f"{', '.join(REALTIME_CONFIGS)}; use enforce on a robot node, ignore for franky-sim"
            )
        self.spec = RobotSpec(
            name=config.name,
            dof=FRANKA_DOF,
            control_hz=control_hz,
            has_gripper=True,
            gripper_max_width_m=config.gripper_max_width_m,
        )
        self.ip = setting(config.ip, config.ip_env_var, "robot.ip")
        self.franky = import_vendor("franky", "franka", "robot 'franka'")
        self.pacer = Pacer(control_hz)
        self.episodes = 0
        self.recoveries = 0
        self.motions_stopped = 0  # running motions stopped before a reset or another motion type
        self._rng = np.random.default_rng(config.reset_seed)
        self._arm: Any = None
        self._hand: Any = None
        self._gripper_worker: GripperWorker | None = None
        self._gripper_sent: float | None = None
        self._running: type | None = None  # the type of the asynchronous motion in progress

    # ------------------------------------------------------------------ connection
    def connect(self) -> None:
        franky, config = self.franky, self.config
        realtime = REALTIME_CONFIGS[config.realtime_config](franky)
        try:
            self._arm = answered_within(
                lambda: franky.Robot(self.ip, realtime_config=realtime),
                config.connect_timeout_s,
                "the connect",
            )
        except franky.RealtimeException as error:
            raise HardwareUnavailable(
                f"the Franka at {self.ip} needs a real-time kernel on this node "
                f"({first_line(error)}); boot a PREEMPT_RT kernel (uname -v shows PREEMPT_RT), "
                "or set robot.realtime_config=ignore for franky-sim and development only"
            ) from None
        except NoAnswer as error:  # libfranka waits on a robot that serves one client at a time
            raise HardwareUnavailable(
                f"the Franka at {self.ip} took the connection but {error}: another program "
                "(a second userl, a franky or libfranka script) may hold it; stop that program, "
                f"or raise robot.connect_timeout_s on a slow link"
            ) from None
        except Exception as error:  # any other vendor failure here means: not reachable
            raise HardwareUnavailable(
                f"cannot reach the Franka at {self.ip}: {first_line(error)}; check the network "
                "cable, that FCI is enabled in Desk and the brakes are open, and robot.ip / "
                f"${config.ip_env_var}"
            ) from None
        try:
            self._hand = answered_within(
                lambda: franky.Gripper(self.ip), config.connect_timeout_s, "the gripper connect"
            )
            self._arm.recover_from_errors()
        except Exception as error:  # the arm answered; its gripper or error state did not
            self._arm = None
            raise HardwareUnavailable(
                f"the Franka at {self.ip} answered but its gripper did not: {first_line(error)}; "
                "check the hand is attached and enabled in Desk"
            ) from None
        self._arm.relative_dynamics_factor = config.dynamics_fraction
        self._arm.set_collision_behavior(
            config.collision_torque_threshold_nm, config.collision_force_threshold_n
        )
        self._gripper_worker = GripperWorker(f"franka-{self.ip}")
        self._gripper_sent = None
        self._running = None
        self.pacer.restart()

    def _connected(self) -> tuple[Any, Any]:
        if self._arm is None:
            raise HardwareUnavailable("the Franka is not connected; call connect() first")
        return self._arm, self._hand

    # ------------------------------------------------------------------ reading
    def state(self) -> RobotState:
        arm, hand = self._connected()
        cartesian = arm.current_cartesian_state
        twist = cartesian.velocity.end_effector_twist
        joints = arm.current_joint_state
        return RobotState(
            tcp_pose=from_affine(cartesian.pose.end_effector_pose),
            tcp_velocity=np.concatenate(
                [
                    np.asarray(twist.linear, dtype=np.float64),
                    np.asarray(twist.angular, dtype=np.float64),
                ]
            ),
            joint_positions=np.asarray(joints.position, dtype=np.float64),
            joint_velocities=np.asarray(joints.velocity, dtype=np.float64),
            gripper_width_m=float(hand.width),
            wrench=np.asarray(arm.state.K_F_ext_hat_K, dtype=np.float64),
            timestamp_s=time.time(),
        )

    # ------------------------------------------------------------------ motions
    def stop_motion(self) -> None:
        """End the asynchronous motion in progress (an impedance motion never ends by itself):
        `robot.stop()`, then join it; a stopped motion ends in franky's "preempted" error."""
        if self._running is None:
            return
        arm, _ = self._connected()
        self._running = None
        self.motions_stopped += 1
        try:
            arm.stop()
            finished = arm.join_motion(self.config.motion_stop_timeout_s)
        except Exception as error:
            if self._recoverable(error):
                return  # the preemption (or the error that ended it); recovered by the next move
            raise
        if not finished:
            raise HardwareUnavailable(
                f"the Franka's motion did not stop within {self.config.motion_stop_timeout_s} s; "
                "stop the arm with the enable button and check Desk"
            )

    def _recoverable(self, error: BaseException) -> bool:
        """A control or command error, or franky's planner failure: the motion ended and the
        arm takes the next one after `recover_from_errors()`."""
        franky = self.franky
        return isinstance(error, (franky.ControlException, franky.CommandException)) or (
            type(error) is RuntimeError and str(error).startswith(PLANNER_FAILURE)
        )

    def _move(self, make_motion: Callable[[], Any]) -> None:
        """An asynchronous `arm.move` (it returns at once), after stopping a running motion of
        another type; recovers from control errors and planner failures up to
        `max_error_recoveries` in a row, each try with a new motion (franky starts a motion
        object once). Blocking moves go through `_move_within`."""
        arm, _ = self._connected()
        motion = make_motion()
        if self._running is not None and type(motion) is not self._running:
            self.stop_motion()
        while True:
            try:
                arm.move(motion, asynchronous=True)
                self._running = type(motion)
                self.recoveries = 0
                return
            except Exception as error:
                if not self._recoverable(error):
                    raise
                if self.recoveries >= self.config.max_error_recoveries:
                    given_up_after, self.recoveries = self.recoveries, 0  # next call starts over
                    raise HardwareUnavailable(
                        f"the Franka keeps failing ({first_line(error)}) after "
                        f"{given_up_after} recoveries; check the arm and Desk, then restart"
                    ) from None
                self.recoveries += 1
                self._running = None  # a control error or a planner failure ends the motion
                arm.recover_from_errors()
                motion = make_motion()

    def _move_within(
        self,
        make_motion: Callable[[], Any],
        bound_s: float,
        what: str,
        reached: Callable[[], bool],
    ) -> None:
        """A blocking move with a bound: stop the running motion, start a new motion
        asynchronously and join it within `bound_s`. A control error, a planner failure or an
        overrun (stopped with `robot.stop()`) is recovered and a new motion sent (franky starts
        a motion object once), up to `max_error_recoveries` in a row; then one line naming
        `what`, the bound and the fix."""
        arm, _ = self._connected()
        self.stop_motion()
        while True:
            motion = make_motion()
            try:
                arm.move(motion, asynchronous=True)
                self._running = type(motion)
                finished = arm.join_motion(bound_s)
            except Exception as error:
                if not self._recoverable(error):
                    raise
                self._running = None  # a control error or a planner failure ends the motion
                failure = first_line(error)
            else:
                if finished and reached():
                    self._running = None
                    self.recoveries = 0
                    return
                if finished:
                    self._running = None
                    failure = "ended short of its target"
                else:
                    self.stop_motion()  # bounded by motion_stop_timeout_s
                    failure = f"did not finish within {bound_s:.3g} s"
            if self.recoveries >= self.config.max_error_recoveries:
                given_up_after, self.recoveries = self.recoveries, 0  # next call starts over
                raise HardwareUnavailable(
                    f"the Franka's move to {what} failed ({failure}) after {given_up_after} "
                    "recoveries; check the arm and Desk for an obstacle or a "
                    "reflex, or raise robot.motion_timeout_floor_s / motion_timeout_margin"
                ) from None
            self.recoveries += 1
            arm.recover_from_errors()

    # ------------------------------------------------------------------ gripper
    def _gripper(self, opening: float) -> None:
        """Queue a move to the opening, or a grasp with force below the grasp threshold; a
        command still pending is replaced. Never waits on the gripper."""
        config = self.config
        _, hand = self._connected()
        worker = self._checked_gripper_worker()
        if (
            self._gripper_sent is not None
            and abs(opening - self._gripper_sent) < config.gripper_deadband_fraction
        ):
            return
        self._gripper_sent = opening
        width = opening * config.gripper_max_width_m
        speed = config.gripper_speed_m_per_s
        if opening < config.gripper_grasp_below_fraction:
            worker.submit(
                lambda: hand.grasp(
                    width,
                    speed,
                    config.gripper_force_n,
                    epsilon_outer=config.gripper_epsilon_outer_m,
                )
            )
        else:
            worker.submit(lambda: hand.move(width, speed))

    def _checked_gripper_worker(self) -> GripperWorker:
        """The worker, after raising the failure of its last call (one line), if any."""
        worker = self._gripper_worker
        if worker is None:
            raise HardwareUnavailable("the Franka is not connected; call connect() first")
        error = worker.take_error()
        if error is not None:
            raise HardwareUnavailable(
                f"the Franka gripper failed: {error}; check the hand in "
                "Desk (homing may be needed), then restart"
            )
        return worker

    # ------------------------------------------------------------------ commands
    def command(self, target_tcp_pose: np.ndarray, gripper: float) -> None:
        if not is_finite_command(target_tcp_pose, gripper):  # checked again before the arm
            self.hold()
            return
        target = np.asarray(target_tcp_pose, dtype=np.float64)
        self._move(lambda: self.motion(self.franky, to_affine(self.franky, target), self.config))
        self._gripper(float(np.clip(gripper, 0.0, 1.0)))

    def tick(self) -> None:
        self.pacer.wait()

    def hold(self) -> None:
        pose = self.state().tcp_pose
        self._move(lambda: self.motion(self.franky, to_affine(self.franky, pose), self.config))

    def reset(self, tcp_pose: np.ndarray, gripper: float) -> None:
        """Stops the running motion; every `joint_reset_every_episodes`-th reset first moves
        the joints home; then a Cartesian move to the (optionally further randomised) pose,
        each waited for within its `motion_bound_s`, and the gripper to its opening (waited for
        within `gripper_reset_timeout_s`)."""
        config, franky = self.config, self.franky
        every = config.joint_reset_every_episodes
        if every and self.episodes % every == 0:
            home = np.asarray(config.home_joints_rad, dtype=np.float64)
            travel = float(np.max(np.abs(home - self.state().joint_positions)))
            self._move_within(
                lambda: franky.JointMotion([float(q) for q in home]),
                motion_bound_s(config, joint_rad=travel),
                f"the home joints {np.round(home, 3).tolist()}",
                lambda: bool(
                    np.max(np.abs(home - self.state().joint_positions))
                    <= config.reached_tolerance_rad
                ),
            )
        self.episodes += 1
        pose = self.randomised(np.asarray(tcp_pose, dtype=np.float64))
        now = self.state().tcp_pose
        self._move_within(
            lambda: franky.CartesianMotion(to_affine(franky, pose), franky.ReferenceType.Absolute),
            motion_bound_s(
                config,
                distance_m=float(np.linalg.norm(pose[:3] - now[:3])),
                angle_rad=rotation_angle_rad(pose[3:], now[3:]),
            ),
            f"the reset pose {np.round(pose, 3).tolist()}",
            lambda: bool(
                np.linalg.norm(self.state().tcp_pose[:3] - pose[:3]) <= config.reached_tolerance_m
            ),
        )
        self._gripper_sent = None
        self._gripper(float(np.clip(gripper, 0.0, 1.0)))
        if not self._checked_gripper_worker().wait_idle(config.gripper_reset_timeout_s):
            raise HardwareUnavailable(
                f"the Franka gripper did not settle within {config.gripper_reset_timeout_s} s "
                "during a reset; check the hand in Desk"
            )
        self._checked_gripper_worker()  # a failed reset move is reported now
        self.pacer.restart()

    def randomised(self, pose: np.ndarray) -> np.ndarray:
        """`pose` shifted within +- reset_xy_noise_m and turned within +- reset_yaw_noise_deg."""
        config = self.config
        if not (config.reset_xy_noise_m or config.reset_yaw_noise_deg):
            return pose
        shift = self._rng.uniform(-config.reset_xy_noise_m, config.reset_xy_noise_m, 2)
        yaw = math.radians(
            self._rng.uniform(-config.reset_yaw_noise_deg, config.reset_yaw_noise_deg)
        )
        position = pose[:3] + np.array([shift[0], shift[1], 0.0])
        return make_pose(position, yaw_rotation(yaw) @ quat_to_mat(pose[3:]))

    def close(self) -> None:
        """Stop the arm's motion and the gripper worker; safe to call twice. franky drops its
        connections when its objects are freed, so the driver lets go of them here (a caller
        holding one keeps the robot from the next connect), on a thread bounded by
        `robot.release_timeout_s`: a destructor that never returns is left behind with one
        warning instead of hanging the program that closes the robot."""
        if self._arm is not None:
            try:
                self.stop_motion()
                self._arm.stop()
            except Exception as error:  # closing goes on; the arm stops when the link drops
                print(f"warning: stopping the Franka: {first_line(error)}", flush=True)
        if self._gripper_worker is not None:
            self._gripper_worker.close(self.config.gripper_reset_timeout_s)
        held = [self._arm, self._hand]
        self._arm = self._hand = self._gripper_worker = None
        try:  # franky's destructor joins its control loop, which can wait on the link forever
            answered_within(held.clear, self.config.release_timeout_s, "the release")
        except NoAnswer as error:
            print(
                f"warning: letting go of the Franka at {self.ip}: {error}; its connection "
                "stays open until this process ends",
                flush=True,
            )
