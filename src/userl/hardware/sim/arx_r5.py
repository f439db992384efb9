"""The simulated ARX R5 (6-DoF, `sim/r5.py`) behind the `Robot` interface, registered as
`sim_arx_r5`.

Its base is mounted at `base_position_m` on the table (the tasks lay out their scenes for the
Panda's reach from the origin; the smaller R5 stands closer to them), and every pose is in
the world (table) frame, like the simulated Panda's. Each TCP target first passes the real
driver's adapter, `R5Projection` (reach shell around the mount, tilt and yaw about the last
reset's orientation): the sim follows what the real R5 would be sent, and reports how far
each command was moved in `last_projection_m` / `last_projection_rad`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from userl.core.registry import ROBOTS
from userl.hardware.base import SceneFragment
from userl.hardware.r5_projection import R5Projection
from userl.hardware.sim.config import SimArmConfig
from userl.hardware.sim.r5 import R5Arm
from userl.hardware.sim.robot import SimRobot


@dataclass
class SimArxR5Config(SimArmConfig):
    """MuJoCo ARX R5 under the same impedance controller as the simulated Panda."""

    base_position_m: list[float] = field(default_factory=lambda: [0.25, 0.0, 0.15])  # the mount:
    # 0.25 m nearer the tasks than the Panda's, on a 0.15 m riser (tool-down, the R5's wrist limits
    # keep the TCP below ~0.13-0.19 m above its shoulder's mount height)

    joint_armature_kg_m2: float = 0.02  # reflected rotor inertia per joint (approximated)
    joint_damping_nms_per_rad: float = 0.2
    min_reach_m: float = 0.12  # the real driver's adapter with this arm model's limits: the reach
    # shell is the TCP's distance from the mount, from this ...

    max_reach_m: float = 0.5  # ... to this (tool-down, the TCP reaches ~0.5 m)
    max_tilt_deg: float = 30.0  # roll/pitch kept within +- this of the reset orientation
    max_yaw_deg: float = 120.0  # yaw kept within +- this of the reset orientation; wider than the
    # real driver's default (90) because the tasks' own workspaces allow +-95 degrees about
    # tool-down and their resets start up to 15 degrees off it


@ROBOTS.register("sim_arx_r5", config=SimArxR5Config)
class SimArxR5(SimRobot):
    """MuJoCo ARX R5 with its parallel gripper; targets pass the R5's projection."""

    def __init__(
        self, config: SimArxR5Config, scene: SceneFragment | None = None, control_hz: float = 10.0
    ) -> None:
        super().__init__(config, R5Arm(), scene, control_hz)
        self.projection = R5Projection(config, np.asarray(config.base_position_m, np.float64))
        self.last_projection_m = 0.0
        self.last_projection_rad = 0.0

    def command(self, target_tcp_pose: np.ndarray, gripper: float) -> None:
        target = self.checked_target(target_tcp_pose, gripper)
        projected = self.projection(target)
        self.last_projection_m, self.last_projection_rad = R5Projection.distance(projected, target)
        super().command(projected, gripper)

    def reset(self, tcp_pose: np.ndarray, gripper: float) -> None:
        """The reset pose becomes the projection's reference orientation, as on the real R5."""
        pose = self.checked_target(tcp_pose, gripper)
        self.projection.set_reference(pose[3:])
        super().reset(self.projection(pose), gripper)
