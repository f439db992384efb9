"""`userl doctor`: is this machine ready? One line per check, with the fix when it is not."""

from __future__ import annotations

import importlib
import platform
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.core.registry import CAMERAS, ROBOTS, Registry, load_components
from userl.hardware.vendor import HardwareUnavailable, first_line

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
        from userl.runtime.ray_session import require_token_auth

        try:
            checks.append(
                Check("ray token", True, f"token authentication, token from {require_token_auth()}")
            )
        except ValueError as error:  # ConfigError: no token, or authentication turned off
            checks.append(Check("ray token", False, str(error)))
        head = load_cluster(config.cluster).head_address
        host, _, port = head.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=HEAD_CONNECT_TIMEOUT_S):
                checks.append(Check("ray head", True, f"{head} answers"))
        except (OSError, ValueError) as error:
            checks.append(
                Check(
                    "ray head",
                    False,
                    f"{head} unreachable ({first_line(error)}); "
                    "start it with `ray start --head` on the GPU box",
                )
            )
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
    camera_class = CAMERAS.get(driver)
    if camera_class.simulated:
        return [Check("cameras", True, "simulated")]
    checks = []
    # every camera the config names, the reward-only ones too, each once
    views = dict.fromkeys([*config.robot.camera_names, *config.robot.reward_camera_names])
    for view in views:
        try:
            camera = camera_class(view, None, config.robot)
            frame = camera.read()
            camera.close()
            checks.append(Check(f"camera {view}", True, f"{driver}, frame {frame.shape}"))
        except Exception as error:  # reported, not raised
            checks.append(Check(f"camera {view}", False, first_line(error)))
    listing = device_listing(driver, camera_class)
    return checks if listing is None else [*checks, listing]


def device_listing(driver: str, camera_class: Any) -> Check | None:
    """The driver's connected devices, where the driver can list them."""
    try:
        devices = camera_class.connected_devices()
    except Exception as error:  # reported, not raised
        return Check(f"{driver} devices", False, first_line(error))
    if devices is None:
        return None
    return Check(
        f"{driver} devices",
        bool(devices),
        ", ".join(devices) or "none connected; plug the cameras into USB 3 ports",
    )


def check_spacemouse(config: Config) -> list[Check]:
    """The connected SpaceMice (pyspacemouse 2.x); a failure only when one is configured."""
    from userl.hardware.teleop.spacemouse import connected_spacemice

    needed = config.teleop.name == "spacemouse"
    unused = "" if needed else " (not configured)"
    try:
        module = importlib.import_module("pyspacemouse")
    except ImportError:
        return [
            Check(
                "spacemouse",
                not needed,
                "pyspacemouse not installed; pip install 'userl[teleop]'" + unused,
            )
        ]
    try:
        found = connected_spacemice(module)
    except HardwareUnavailable as error:  # HID access problems are reported, not raised
        return [Check("spacemouse", not needed, str(error) + unused)]
    if found:
        return [Check("spacemouse", True, ", ".join(found))]
    return [
        Check(
            "spacemouse",
            not needed,
            "none found; plug it in and install the udev rule from docs/real-robot.md" + unused,
        )
    ]


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
    load_components()
    return [check for run in CHECKS for check in run(config)]


PREFLIGHTS: Registry = Registry("preflight")  # by the task config's ENV_BUILDER


def preflight(config: Config) -> None:
    """Before a run on this machine alone: what the task's environment needs can be built here
    (a robot's driver, a gymnasium environment), else one line naming the problem. With
    `config.cluster` the robot lives on another node, so nothing is checked here."""
    if config.cluster:
        return
    load_components()
    PREFLIGHTS.get(config.task.ENV_BUILDER)(config)
    weights_preflight(config)


def weights_preflight(config: Config) -> None:
    """`policy.weights=DIR` (an export) was made for this run's observation and action,
    else a one-line ConfigError before Ray starts (a worker would otherwise fail to build)."""
    from userl.policies.exported import EXPORT_FORMAT, observation_problem
    from userl.tools.export_policy import policy_observation

    if not config.policy.weights or config.policy.WEIGHTS_FORMAT != EXPORT_FORMAT:
        return
    spec, action_dim = policy_observation(config)
    problem = observation_problem(config.policy.weights, spec, action_dim)
    if problem:
        raise ConfigError(problem)


@PREFLIGHTS.register("robot")
def robot_preflight(config: Config) -> None:
    """The configured robot's driver can be built (its vendor module is installed and its
    address is set), else a one-line `HardwareUnavailable`; the reward source can be built
    for the task's views (a classifier's cameras and image size), else a `ConfigError`."""
    robot = ROBOTS.build(config.robot, control_hz=config.task.control_hz)
    robot.close()
    from userl.envs.factory import make_reward

    make_reward(config).close()  # a reward model that does not fit the views: one line


@PREFLIGHTS.register("gym")
def gym_preflight(config: Config) -> None:
    """The gymnasium environment can be made with its kwargs, and nothing asks for its
    (absent) scripted expert; else a one-line ConfigError."""
    from userl.envs.gym_env import make_gym_env

    if config.demos.episodes > 0 and not config.demos.path:
        raise ConfigError(
            f"task=gym:{config.task.id} has no scripted expert to record "  # type: ignore[attr-defined]
            f"demos.episodes={config.demos.episodes}; set demos.episodes=0 or "
            "give demos.path= (an episode store or a LeRobot dataset)"
        )
    make_gym_env(config).close()
