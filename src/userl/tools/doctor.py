"""`userl doctor`: is this machine ready? One line per check, with the fix when it is not."""

from __future__ import annotations

import importlib
import platform
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

from userl.config.schema import Config
from userl.core.registry import CAMERAS, ROBOTS, Registry
from userl.hardware.vendor import first_line

MIN_PYTHON = (3, 10)
REQUIRED_PACKAGES = ("numpy", "torch", "mujoco", "ray", "gymnasium", "omegaconf", "tensorboard")
HEAD_CONNECT_TIMEOUT_S = 2.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"[{'ok' if self.ok else 'FAIL':>4}] {self.name}: {self.detail}"


def check_python() -> list[Check]:
    ok = sys.version_info[:2] >= MIN_PYTHON
    detail = platform.python_version() + ("" if ok else "; install Python 3.10 or newer")
    return [Check("python", ok, detail)]


def check_packages() -> list[Check]:
    checks = []
    for name in REQUIRED_PACKAGES:
        try:
            checks.append(Check(f"package {name}", True, metadata.version(name)))
        except metadata.PackageNotFoundError:
            checks.append(Check(f"package {name}", False, "missing; run: pip install -e ."))
    return checks


def check_gpu() -> list[Check]:
    import torch

    if torch.cuda.is_available():
        return [Check("gpu", True, torch.cuda.get_device_name(0))]
    return [Check("gpu", True, "none; training runs on the CPU (fine for state-based policies)")]


def check_ray(config: Config) -> list[Check]:
    import ray

    checks = [Check("ray", True, ray.__version__)]
    if config.cluster:
        from userl.runtime.placement import load_cluster

        head = load_cluster(config.cluster).head_address
        host, _, port = head.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=HEAD_CONNECT_TIMEOUT_S):
                checks.append(Check("ray head", True, f"{head} answers"))
        except (OSError, ValueError) as error:
            checks.append(Check("ray head", False, f"{head} unreachable ({first_line(error)}); "
                                "start it with `ray start --head` on the GPU box"))
    return checks


def check_robot(config: Config) -> list[Check]:
    name = config.robot.name
    try:
        robot = ROBOTS.get(name)(config.robot, control_hz=config.task.control_hz)
        robot.connect()
        pose = robot.state().tcp_pose
        robot.close()
    except Exception as error:  # every driver failure is reported, not raised
        return [Check(f"robot {name}", False, first_line(error))]
    where = [round(float(v), 3) for v in pose[:3]]
    return [Check(f"robot {name}", True, f"reachable; TCP at {where}")]


def check_cameras(config: Config) -> list[Check]:
    driver = config.robot.camera_driver
    if driver == "sim":
        return [Check("cameras", True, "simulated")]
    checks = []
    for view in config.robot.camera_names:
        try:
            camera = CAMERAS.get(driver)(view, None, config.robot)
            frame = camera.read()
            camera.close()
            checks.append(Check(f"camera {view}", True, f"{driver}, frame {frame.shape}"))
        except Exception as error:  # reported, not raised
            checks.append(Check(f"camera {view}", False, first_line(error)))
    if driver == "realsense":
        checks.append(realsense_listing())
    return checks


def realsense_listing() -> Check:
    from userl.hardware.cameras.realsense import realsense_serials

    try:
        serials = realsense_serials()
    except Exception as error:  # reported, not raised
        return Check("realsense serials", False, first_line(error))
    return Check("realsense serials", bool(serials), ", ".join(serials) or
                 "none connected; plug the cameras into USB 3 ports")


def check_spacemouse(config: Config) -> list[Check]:
    needed = config.teleop.name == "spacemouse"
    try:
        module = importlib.import_module("pyspacemouse")
    except ImportError:
        detail = "pyspacemouse not installed; pip install 'userl[teleop]'"
        return [Check("spacemouse", not needed, detail + ("" if needed else " (not configured)"))]
    try:
        found = list(module.list_devices())
    except Exception as error:  # HID access problems are reported, not raised
        return [Check("spacemouse", not needed, first_line(error))]
    if found:
        return [Check("spacemouse", True, ", ".join(found))]
    return [Check("spacemouse", not needed, "none found; plug it in and install the udev rule "
                  "from docs/real-robot.md")]


CHECKS: list[Callable[[Config], list[Check]]] = [
    lambda config: check_python(),
    lambda config: check_packages(),
    lambda config: check_gpu(),
    check_ray,
    check_robot,
    check_cameras,
    check_spacemouse,
]


def run_doctor(config: Config) -> list[Check]:
    import userl.hardware.cameras  # noqa: F401  (registers the drivers)
    import userl.hardware.robots  # noqa: F401
    import userl.hardware.sim.franka  # noqa: F401

    return [check for run in CHECKS for check in run(config)]


PREFLIGHTS: Registry = Registry("preflight")  # by the task config's ENV_BUILDER


def preflight(config: Config) -> None:
    """Before a run on this machine alone: what the task's environment needs can be built here
    (a robot's driver, a gymnasium environment), else one line naming the problem. With
    `config.cluster` the robot lives on another node, so nothing is checked here."""
    if config.cluster:
        return
    PREFLIGHTS.get(getattr(config.task, "ENV_BUILDER", "robot"))(config)


@PREFLIGHTS.register("robot")
def robot_preflight(config: Config) -> None:
    """The configured robot's driver can be built (its vendor module is installed and its
    address is set), else a one-line `HardwareUnavailable`."""
    import userl.hardware.robots  # noqa: F401  (registers the drivers)
    import userl.hardware.sim.franka  # noqa: F401

    robot = ROBOTS.get(config.robot.name)(config.robot, control_hz=config.task.control_hz)
    robot.close()


@PREFLIGHTS.register("gym")
def gym_preflight(config: Config) -> None:
    """The gymnasium environment can be made with its kwargs, and nothing asks for its
    (absent) scripted expert; else a one-line ConfigError."""
    from userl.config.loader import ConfigError
    from userl.envs.gym_env import make_gym_env

    if config.demos.episodes > 0 and not config.demos.path:
        raise ConfigError(f"task=gym:{config.task.id} has no scripted expert to record "  # type: ignore[attr-defined]
                          f"demos.episodes={config.demos.episodes}; set demos.episodes=0 or "
                          "give demos.path= (an episode store or a LeRobot dataset)")
    make_gym_env(config).close()
