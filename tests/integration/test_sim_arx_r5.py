"""The simulated ARX R5: its numbers against the vendor's URDF, control, the 6-DoF adapter,
and the tasks' scripted experts on it."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from tests.robot_contract import check_robot_contract
from userl.config.loader import load_config
from userl.envs.factory import make_env
from userl.geometry import make_pose, quat_to_mat
from userl.hardware.base import SceneFragment
from userl.hardware.sim.arx_r5 import SimArxR5, SimArxR5Config
from userl.hardware.sim.r5 import R5_HOME_Q, R5_JOINTS, forward_kinematics
from userl.tasks.motion import tool_down

pytestmark = pytest.mark.integration

URDF = Path(__file__).parent.parent / "data" / "arx_r5" / "R5_master.urdf"
TASKS = ["pick_place", "peg_insertion", "charger", "cap_tightening", "table_cleanup"]


def numbers(text: str) -> list[float]:
    return [float(v) for v in text.split()]


def urdf_joints() -> list[dict[str, list[float]]]:
    """joint1..joint6 of the vendor's file: origin, axis, and the child link's inertial."""
    root = ET.parse(URDF).getroot()
    links = {link.get("name"): link for link in root.iter("link")}
    joints = []
    for joint in root.iter("joint"):
        origin, inertial = (
            joint.find("origin"),
            links[joint.find("child").get("link")].find("inertial"),
        )
        tensor = inertial.find("inertia")
        joints.append(
            {
                "xyz": numbers(origin.get("xyz")),
                "rpy": numbers(origin.get("rpy")),
                "axis": numbers(joint.find("axis").get("xyz")),
                "mass": [float(inertial.find("mass").get("value"))],
                "com": numbers(inertial.find("origin").get("xyz")),
                "inertia": [
                    float(tensor.get(k)) for k in ("ixx", "ixy", "ixz", "iyy", "iyz", "izz")
                ],
            }
        )
    return joints


def rotation(axis: list[float], angle: float) -> np.ndarray:
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def urdf_link6(q: np.ndarray) -> np.ndarray:
    """Link 6's pose in the base frame, read from the URDF file alone."""
    pose = np.eye(4)
    for joint, angle in zip(urdf_joints(), q, strict=True):
        roll, pitch, yaw = joint["rpy"]
        step = np.eye(4)
        step[:3, :3] = (
            rotation([0, 0, 1], yaw)
            @ rotation([0, 1, 0], pitch)
            @ rotation([1, 0, 0], roll)
            @ rotation(joint["axis"], angle)
        )
        step[:3, 3] = joint["xyz"]
        pose = pose @ step
    return pose


@pytest.fixture(scope="module")
def robot():
    arm = SimArxR5(SimArxR5Config(), SceneFragment())
    arm.connect()
    yield arm
    arm.close()


def test_encoded_table_is_the_vendor_urdf():
    for encoded, joint in zip(R5_JOINTS, urdf_joints(), strict=True):
        assert list(encoded.origin_xyz_m) == joint["xyz"]
        assert list(encoded.origin_rpy_rad) == joint["rpy"]
        assert list(encoded.axis) == joint["axis"]
        assert [encoded.mass_kg] == joint["mass"] and list(encoded.com_m) == joint["com"]
        assert list(encoded.inertia) == joint["inertia"]


def test_mujoco_arm_follows_the_urdf_kinematics(robot):
    base = np.asarray(robot.config.base_position_m)
    model, data = robot.world.model, robot.world.data
    rng = np.random.default_rng(0)
    for q in [np.zeros(6), R5_HOME_Q, *(R5_HOME_Q + rng.uniform(-0.4, 0.4, (4, 6)))]:
        robot.world.reset_joints(q, 1.0)
        link6 = urdf_link6(q)
        body = model.body("link6").id
        np.testing.assert_allclose(data.xpos[body] - base, link6[:3, 3], atol=1e-9)
        np.testing.assert_allclose(data.xmat[body].reshape(3, 3), link6[:3, :3], atol=1e-9)
        tcp = robot.state().tcp_pose
        expected = forward_kinematics(q)
        np.testing.assert_allclose(tcp[:3] - base, expected[:3, 3], atol=1e-9)
        np.testing.assert_allclose(quat_to_mat(tcp[3:]), expected[:3, :3], atol=1e-9)


def test_spec_contract_and_observation_size_match_the_franka(robot):
    assert robot.spec.dof == 6 and robot.spec.gripper_max_width_m == pytest.approx(0.088)
    check_robot_contract(robot, make_pose([0.5, 0.05, 0.15], tool_down(0.2)), 1e-3)
    arx = make_env(load_config(["task=pick_place", "robot=sim_arx_r5"]), seed=0)
    franka = make_env(load_config(["task=pick_place"]), seed=0)
    try:
        assert arx.observation_space == franka.observation_space
        assert arx.reset(seed=0)[0]["state"].shape == franka.reset(seed=0)[0]["state"].shape
    finally:
        arx.close()
        franka.close()


def test_tcp_follows_a_reachable_target(robot):
    start = make_pose([0.5, 0.0, 0.15], tool_down(0.0))
    robot.reset(start, 1.0)
    target = make_pose([0.55, 0.06, 0.1], tool_down(0.4))
    for _ in range(30):
        robot.command(target, 1.0)
        robot.tick()
    assert robot.last_projection_m == 0.0 and robot.last_projection_rad == 0.0
    pose = robot.state().tcp_pose
    assert np.linalg.norm(pose[:3] - target[:3]) < 0.003
    assert abs(float(np.dot(pose[3:], target[3:]))) > math.cos(math.radians(1.0) / 2)


def test_unreachable_targets_are_projected_and_the_amount_reported(robot):
    config = robot.config
    base = np.asarray(config.base_position_m)
    robot.reset(make_pose([0.5, 0.0, 0.15], tool_down(0.0)), 1.0)
    far = make_pose(base + [0.9, 0.0, 0.0], tool_down(0.0))
    robot.command(far, 1.0)
    assert robot.last_projection_m == pytest.approx(0.9 - config.max_reach_m)
    tilted = make_pose(
        [0.5, 0.0, 0.15],
        tool_down(0.0)
        @ np.array(
            [
                [1.0, 0.0, 0.0],
                [0.0, math.cos(1.0), -math.sin(1.0)],
                [0.0, math.sin(1.0), math.cos(1.0)],
            ]
        ),
    )
    robot.command(tilted, 1.0)
    assert robot.last_projection_m == pytest.approx(0.0, abs=1e-9)
    assert robot.last_projection_rad == pytest.approx(1.0 - math.radians(config.max_tilt_deg))
    for _ in range(30):
        robot.tick()
    reached = robot.state().tcp_pose
    tilt = math.acos(np.clip(-quat_to_mat(reached[3:])[2, 2], -1.0, 1.0))  # tool axis vs down
    assert tilt == pytest.approx(math.radians(config.max_tilt_deg), abs=math.radians(2.0))


def test_pick_place_expert_succeeds_on_the_r5(expert_success_rate):
    assert expert_success_rate("pick_place", 3, "robot=sim_arx_r5") == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_experts_succeed_on_50_seeded_episodes_on_the_r5(task, expert_success_rate):
    assert expert_success_rate(task, 50, "robot=sim_arx_r5") >= 0.9
