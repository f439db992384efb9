"""Simulated RGB cameras (registered as `sim`): MuJoCo cameras of a `SimFranka`'s world."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mujoco
import numpy as np

from userl.core.registry import CAMERAS
from userl.hardware.base import Camera, Robot

if TYPE_CHECKING:
    from userl.hardware.robot_config import RobotConfig


class RendererPool:
    """One `mujoco.Renderer` per image size, kept for the world's life."""

    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}

    def get(self, height_px: int, width_px: int) -> mujoco.Renderer:
        key = (height_px, width_px)
        if key not in self._renderers:
            self._renderers[key] = mujoco.Renderer(self.model, height_px, width_px)
        return self._renderers[key]

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()


@CAMERAS.register("sim")
class SimCamera(Camera):
    simulated = True
    """Renders the named MJCF camera of the robot's world (no shadows, no anti-aliasing)."""

    def __init__(self, name: str, robot: Robot, config: RobotConfig) -> None:
        world = getattr(robot, "world", None)
        if world is None:
            raise ValueError(
                f"camera driver 'sim' needs a simulated robot, got {config.name!r}; "
                "set robot.camera_driver to a real camera driver"
            )
        if world.renderers is None:
            world.renderers = RendererPool(world.model)
        self.name = name
        self.height_px, self.width_px = config.image_height_px, config.image_width_px
        self._world = world
        self._camera_id = world.model.camera(name).id
        self._renderer = world.renderers.get(config.image_height_px, config.image_width_px)
        self._frame = np.zeros((config.image_height_px, config.image_width_px, 3), np.uint8)

    def read(self) -> np.ndarray:
        self._renderer.update_scene(self._world.data, camera=self._camera_id)
        return self._renderer.render(out=self._frame).copy()

    def close(self) -> None:
        self._world.renderers.close()
