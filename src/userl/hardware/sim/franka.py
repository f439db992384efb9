"""The simulated Franka Panda behind the `Robot` interface (registered as `sim_franka`)."""

from __future__ import annotations

from userl.core.registry import ROBOTS
from userl.hardware.base import SceneFragment
from userl.hardware.sim.config import SimFrankaConfig
from userl.hardware.sim.panda import PandaArm
from userl.hardware.sim.robot import SimRobot


@ROBOTS.register("sim_franka", config=SimFrankaConfig)
class SimFranka(SimRobot):
    """MuJoCo Panda (7-DoF, built from its DH table), its base at the world origin."""

    def __init__(
        self, config: SimFrankaConfig, scene: SceneFragment | None = None, control_hz: float = 10.0
    ) -> None:
        super().__init__(config, PandaArm(), scene, control_hz)
