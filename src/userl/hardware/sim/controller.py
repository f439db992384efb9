"""Cartesian impedance (operational-space torque) control of the simulated arm."""

from __future__ import annotations

import math

import mujoco
import numpy as np

from userl.hardware.sim.config import SimArmConfig


class ImpedanceController:
    """tau = J^T clip(K e - D v) + bias + N (k_null (q_home - q) - d_null qd).

    Gains come from the config; the damping of each task axis is
    `2 * damping_ratio * sqrt(stiffness * effective mass)`, the effective mass being the
    diagonal of the operational-space inertia. The Jacobian is refreshed every physics step;
    the null-space projector and the damping once per control period (`refresh`).
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        data: mujoco.MjData,
        site_id: int,
        arm_dofs: int,
        home_q: np.ndarray,
        cfg: SimArmConfig,
    ) -> None:
        self.model, self.data, self.site_id, self.n = model, data, site_id, arm_dofs
        self.home_q = np.asarray(home_q, dtype=np.float64)
        self.stiffness = np.array(
            [cfg.translational_stiffness_n_per_m] * 3 + [cfg.rotational_stiffness_nm_per_rad] * 3
        )
        self.damping_ratio = cfg.damping_ratio
        self.damping = 2.0 * cfg.damping_ratio * np.sqrt(self.stiffness)
        self._minv_jt = np.zeros((6, model.nv))
        self.null_k = cfg.nullspace_stiffness_nm_per_rad
        self.null_d = 2.0 * cfg.damping_ratio * math.sqrt(self.null_k)
        self.max_force = cfg.max_tcp_force_n
        self.max_torque = cfg.max_tcp_torque_nm
        self.jac = np.zeros((6, model.nv))
        self.nullspace = np.eye(arm_dofs)
        self.target_pos = np.zeros(3)
        self.target_rot = np.eye(3)

    def set_target(self, position: np.ndarray, rotation: np.ndarray) -> None:
        self.target_pos[:] = position
        self.target_rot[:] = rotation

    def refresh(self) -> None:
        """Recompute N = I - J^T (J^+)^T and the damping at the current configuration (needs
        fresh kinematics and mass matrix, e.g. after mj_forward)."""
        mujoco.mj_jacSite(self.model, self.data, self.jac[:3], self.jac[3:], self.site_id)
        mujoco.mj_solveM(self.model, self.data, self._minv_jt, self.jac)
        task_inertia = np.linalg.inv(self.jac @ self._minv_jt.T + 1e-9 * np.eye(6))
        effective_mass = np.clip(np.diag(task_inertia), 1e-3, None)
        self.damping = 2.0 * self.damping_ratio * np.sqrt(self.stiffness * effective_mass)
        jac = self.jac[:, : self.n]
        jac_pinv_t = np.linalg.solve(jac @ jac.T + 1e-6 * np.eye(6), jac)
        self.nullspace = np.eye(self.n) - jac.T @ jac_pinv_t

    def apply(self) -> None:
        """Write the arm torques into `data.ctrl` (needs fresh kinematics, e.g. after mj_step1)."""
        data, n = self.data, self.n
        mujoco.mj_jacSite(self.model, data, self.jac[:3], self.jac[3:], self.site_id)
        jac = self.jac[:, :n]
        qvel = data.qvel[:n]
        velocity = jac @ qvel
        rot = data.site_xmat[self.site_id].reshape(3, 3)
        error = np.empty(6)
        error[:3] = self.target_pos - data.site_xpos[self.site_id]
        # orientation error sin(angle) * axis of target * current^T, from its skew part
        skew = self.target_rot @ rot.T
        error[3] = 0.5 * (skew[2, 1] - skew[1, 2])
        error[4] = 0.5 * (skew[0, 2] - skew[2, 0])
        error[5] = 0.5 * (skew[1, 0] - skew[0, 1])
        wrench = self.stiffness * error - self.damping * velocity
        force_norm = math.sqrt(wrench[0] ** 2 + wrench[1] ** 2 + wrench[2] ** 2)
        if force_norm > self.max_force:
            wrench[:3] *= self.max_force / force_norm
        torque_norm = math.sqrt(wrench[3] ** 2 + wrench[4] ** 2 + wrench[5] ** 2)
        if torque_norm > self.max_torque:
            wrench[3:] *= self.max_torque / torque_norm
        null = self.null_k * (self.home_q - data.qpos[:n]) - self.null_d * qvel
        data.ctrl[:n] = jac.T @ wrench + self.nullspace @ null + data.qfrc_bias[:n]
