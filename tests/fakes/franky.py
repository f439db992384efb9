"""A fake `franky` (franky-control): the arm moves to each target at once; calls are recorded."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

CALLS: list[tuple[str, Any]] = []
FAIL_NEXT_MOVES: list[Exception] = []  # exceptions the next `move` calls raise, in order
UNREACHABLE: list[str] = []  # FCI addresses that refuse connections


class ControlException(Exception):
    pass


class CommandException(Exception):
    pass


class NetworkException(Exception):
    pass


class ReferenceType:
    Absolute = "absolute"
    Relative = "relative"


class Duration:
    def __init__(self, milliseconds: int) -> None:
        self.milliseconds = milliseconds


class Affine:
    def __init__(self, translation: Any = (0.0, 0.0, 0.0), quaternion: Any = (0.0, 0.0, 0.0, 1.0)):
        self.translation = np.asarray(translation, dtype=float)
        self.quaternion = np.asarray(quaternion, dtype=float)  # x y z w


class CartesianMotion:
    def __init__(self, target: Affine, reference_type: str = ReferenceType.Absolute) -> None:
        self.target, self.reference_type = target, reference_type


class CartesianImpedanceMotion:
    def __init__(self, target: Affine, duration: Duration, target_type: str,
                 translational_stiffness: float, rotational_stiffness: float) -> None:
        self.target, self.duration, self.target_type = target, duration, target_type
        self.translational_stiffness = translational_stiffness
        self.rotational_stiffness = rotational_stiffness


class JointMotion:
    def __init__(self, target: list[float]) -> None:
        self.target = list(target)


class Robot:
    def __init__(self, fci_hostname: str) -> None:
        if fci_hostname in UNREACHABLE:
            raise NetworkException(f"libfranka: Connection to {fci_hostname} timed out")
        CALLS.append(("Robot", fci_hostname))
        self.pose = Affine([0.4, 0.0, 0.3], [1.0, 0.0, 0.0, 0.0])  # tool down
        self.joints = np.zeros(7)
        self.relative_dynamics_factor = 1.0
        self.state = SimpleNamespace(K_F_ext_hat_K=np.arange(6, dtype=float))

    @property
    def current_cartesian_state(self) -> Any:
        twist = SimpleNamespace(linear=np.array([0.01, 0.0, 0.0]), angular=np.zeros(3))
        return SimpleNamespace(pose=SimpleNamespace(end_effector_pose=self.pose),
                               velocity=SimpleNamespace(end_effector_twist=twist))

    @property
    def current_joint_state(self) -> Any:
        return SimpleNamespace(position=self.joints.copy(), velocity=np.zeros(7))

    def recover_from_errors(self) -> bool:
        CALLS.append(("recover_from_errors", None))
        return True

    def set_collision_behavior(self, torque_thresholds: Any, force_thresholds: Any) -> None:
        CALLS.append(("set_collision_behavior", (torque_thresholds, force_thresholds)))

    def move(self, motion: Any, asynchronous: bool = False) -> None:
        CALLS.append(("move", (motion, asynchronous)))
        if FAIL_NEXT_MOVES:
            raise FAIL_NEXT_MOVES.pop(0)
        if isinstance(motion, JointMotion):
            self.joints = np.asarray(motion.target, dtype=float)
        else:
            self.pose = motion.target

    def stop(self) -> None:
        CALLS.append(("stop", None))


class Gripper:
    def __init__(self, fci_hostname: str) -> None:
        CALLS.append(("Gripper", fci_hostname))
        self.width = 0.08

    def move(self, width: float, speed: float) -> bool:
        CALLS.append(("gripper.move", (width, speed)))
        self.width = width
        return True

    def move_async(self, width: float, speed: float) -> None:
        CALLS.append(("gripper.move_async", (width, speed)))
        self.width = width

    def grasp(self, width: float, speed: float, force: float, epsilon_inner: float = 0.005,
              epsilon_outer: float = 0.005) -> bool:
        CALLS.append(("gripper.grasp", (width, speed, force, epsilon_outer)))
        self.width = width
        return True

    def grasp_async(self, width: float, speed: float, force: float, epsilon_inner: float = 0.005,
                    epsilon_outer: float = 0.005) -> None:
        CALLS.append(("gripper.grasp_async", (width, speed, force, epsilon_outer)))
        self.width = width


def reset() -> None:
    CALLS.clear()
    FAIL_NEXT_MOVES.clear()
    UNREACHABLE.clear()


def calls(name: str) -> list[Any]:
    return [args for call, args in CALLS if call == name]
