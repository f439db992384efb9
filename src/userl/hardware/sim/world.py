"""The MuJoCo world of a simulated arm: model, data, stepping, IK reset, readouts."""

from __future__ import annotations

import mujoco
import numpy as np

from userl.geometry import mat_to_rotvec, quat_to_mat
from userl.hardware.base import SceneFragment
from userl.hardware.sim.arm import SimArm
from userl.hardware.sim.config import SimArmConfig
from userl.hardware.sim.controller import ImpedanceController
from userl.hardware.sim.mjcf import build_world_xml


class SimWorld:
    """Owns the MuJoCo model and data; advances physics by control periods."""

    def __init__(
        self, cfg: SimArmConfig, scene: SceneFragment, control_hz: float, arm: SimArm
    ) -> None:
        self.cfg, self.arm, self.dofs = cfg, arm, arm.dofs
        self.finger_actuators = [arm.dofs, arm.dofs + 1]
        self.model = mujoco.MjModel.from_xml_string(build_world_xml(cfg, scene, arm))
        self.data = mujoco.MjData(self.model)
        self.substeps = max(1, round(1.0 / (control_hz * cfg.physics_dt_s)))
        self.tcp_site = self.model.site("tcp").id
        self.finger_qpos = [self.model.joint(f"{s}_finger").qposadr[0] for s in ("left", "right")]
        self.hand_bodies = self._subtree_bodies(self.model.body("hand").id)
        self.controller = ImpedanceController(
            self.model, self.data, self.tcp_site, arm.dofs, arm.home_q, cfg
        )
        self._mocap = {name: self.model.body(name).mocapid[0] for name in scene.mocap_bodies}
        self._force = np.zeros(6)
        self.renderers = None  # a camera driver keeps its renderers here
        self.reset_joints(arm.home_q, 1.0)

    def _subtree_bodies(self, root: int) -> set[int]:
        bodies = {root}
        for body in range(root + 1, self.model.nbody):
            if self.model.body_parentid[body] in bodies:
                bodies.add(body)
        return bodies

    # ------------------------------------------------------------------ commands
    def set_target(self, position: np.ndarray, quat: np.ndarray, gripper: float) -> None:
        self.controller.set_target(position, quat_to_mat(quat))
        finger = float(np.clip(gripper, 0.0, 1.0)) * self.arm.gripper.max_width_m / 2
        self.data.ctrl[self.finger_actuators] = finger

    def step_control_period(self) -> None:
        """Advance one control period: physics sub-steps with the controller in the loop."""
        model, data, controller = self.model, self.data, self.controller
        controller.refresh()
        for _ in range(self.substeps):
            mujoco.mj_step1(model, data)
            controller.apply()
            mujoco.mj_step2(model, data)
        mujoco.mj_forward(model, data)

    def set_body_pose(self, name: str, pose: np.ndarray) -> None:
        """Place a mocap body, or a free body (at rest), at `pose` (7,)."""
        if name in self._mocap:
            self.data.mocap_pos[self._mocap[name]] = pose[:3]
            self.data.mocap_quat[self._mocap[name]] = pose[3:]
        else:
            joint = self._free_joint(name)
            address, dof = self.model.jnt_qposadr[joint], self.model.jnt_dofadr[joint]
            self.data.qpos[address : address + 7] = pose
            self.data.qvel[dof : dof + 6] = 0.0
        mujoco.mj_forward(self.model, self.data)

    def _free_joint(self, name: str) -> int:
        body = self.model.body(name)
        joint = int(body.jntadr[0])
        if body.jntnum[0] != 1 or self.model.jnt_type[joint] != mujoco.mjtJoint.mjJNT_FREE:
            raise ValueError(f"body {name!r} is neither a mocap body nor a free body")
        return joint

    def body_pose(self, name: str) -> np.ndarray:
        body = self.model.body(name).id
        return np.concatenate([self.data.xpos[body], self.data.xquat[body]])

    def body_velocity(self, name: str) -> np.ndarray:
        """Linear (m/s) then angular (rad/s) velocity of a body's frame, world axes."""
        velocity = np.empty(6)
        mujoco.mj_objectVelocity(
            self.model, self.data, mujoco.mjtObj.mjOBJ_BODY, self.model.body(name).id, velocity, 0
        )
        return np.concatenate([velocity[3:], velocity[:3]])

    def joint_position(self, name: str) -> float:
        """A hinge or slide joint's position (rad or m)."""
        return float(self.data.qpos[self.model.joint(name).qposadr[0]])

    def set_joint_position(self, name: str, value: float) -> None:
        """Set a hinge or slide joint's position, at rest."""
        joint = self.model.joint(name)
        self.data.qpos[joint.qposadr[0]] = value
        self.data.qvel[joint.dofadr[0]] = 0.0
        mujoco.mj_forward(self.model, self.data)

    # ------------------------------------------------------------------ reset
    def reset_joints(self, q: np.ndarray, gripper: float) -> None:
        """Place the arm at joint angles q with zero velocity (keeps mocap poses)."""
        mocap_pos, mocap_quat = self.data.mocap_pos.copy(), self.data.mocap_quat.copy()
        mujoco.mj_resetData(self.model, self.data)
        self.data.mocap_pos[:], self.data.mocap_quat[:] = mocap_pos, mocap_quat
        self.data.qpos[: self.dofs] = q
        finger = float(np.clip(gripper, 0.0, 1.0)) * self.arm.gripper.max_width_m / 2
        self.data.qpos[self.finger_qpos] = finger
        mujoco.mj_forward(self.model, self.data)
        pose = self.tcp_pose()
        self.set_target(pose[:3], pose[3:], gripper)

    def solve_ik(self, tcp_pose: np.ndarray) -> np.ndarray:
        """Joint angles that put the TCP at `tcp_pose` (damped least squares from home)."""
        model, arm, dofs = self.model, self.arm, self.dofs
        scratch = mujoco.MjData(model)
        scratch.qpos[:dofs] = arm.home_q
        target_rot = quat_to_mat(tcp_pose[3:])
        jac = np.zeros((6, model.nv))
        for _ in range(self.cfg.ik_max_iterations):
            mujoco.mj_kinematics(model, scratch)
            mujoco.mj_comPos(model, scratch)
            error = np.concatenate(
                [
                    tcp_pose[:3] - scratch.site_xpos[self.tcp_site],
                    mat_to_rotvec(target_rot @ scratch.site_xmat[self.tcp_site].reshape(3, 3).T),
                ]
            )
            if np.linalg.norm(error) < self.cfg.ik_tolerance_m:
                break
            mujoco.mj_jacSite(model, scratch, jac[:3], jac[3:], self.tcp_site)
            arm_jac = jac[:, :dofs]
            step = arm_jac.T @ np.linalg.solve(arm_jac @ arm_jac.T + 1e-4 * np.eye(6), error)
            pinv = np.linalg.pinv(arm_jac)
            q = scratch.qpos[:dofs]
            step += (np.eye(dofs) - pinv @ arm_jac) @ (0.1 * (arm.home_q - q))
            scratch.qpos[:dofs] = np.clip(q + step, arm.lower_rad, arm.upper_rad)
        return scratch.qpos[:dofs].copy()

    # ------------------------------------------------------------------ readouts
    def tcp_pose(self) -> np.ndarray:
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, self.data.site_xmat[self.tcp_site])
        return np.concatenate([self.data.site_xpos[self.tcp_site], quat])

    def tcp_velocity(self) -> np.ndarray:
        """Linear (m/s) then angular (rad/s) velocity of the TCP in the base frame."""
        velocity = np.empty(6)
        mujoco.mj_objectVelocity(
            self.model, self.data, mujoco.mjtObj.mjOBJ_SITE, self.tcp_site, velocity, 0
        )
        return np.concatenate([velocity[3:], velocity[:3]])

    def gripper_width_m(self) -> float:
        return float(self.data.qpos[self.finger_qpos].sum())

    def tcp_contact_wrench(self) -> np.ndarray:
        """An ideal wrist F/T sensor: the contact force (N) and torque about the TCP (Nm) that
        the world exerts on the hand, fingers and held objects, in the TCP frame."""
        data, model = self.data, self.model
        tcp = data.site_xpos[self.tcp_site]
        total = np.zeros(6)
        for index in range(data.ncon):
            contact = data.contact[index]
            body1 = model.geom_bodyid[contact.geom1]
            body2 = model.geom_bodyid[contact.geom2]
            in1, in2 = body1 in self.hand_bodies, body2 in self.hand_bodies
            if in1 == in2:
                continue
            mujoco.mj_contactForce(model, data, index, self._force)
            # the contact force acts on geom2 from geom1 along the frame's first row (normal)
            force = contact.frame.reshape(3, 3).T @ self._force[:3]
            if in1:
                force = -force
            total[:3] += force
            total[3:] += np.cross(contact.pos - tcp, force)
        rot = data.site_xmat[self.tcp_site].reshape(3, 3)
        return np.concatenate([rot.T @ total[:3], rot.T @ total[3:]])
