"""Graspable objects and containers for the simulated tasks, built of primitive geoms.

An object's body frame sits at its grasp point (the middle of its graspable part); it rests on
the table with that point `rest_height_m` above the table top. Fingers close across the body's
y axis, where the object is `grasp_width_m` wide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from userl.geometry import make_pose, quat_to_mat, yaw_rotation
from userl.hardware.sim.mjcf import OBJECT_CONTACT, SCENE_CONTACT, fmt

# Contact of movable objects: sliding, torsional, rolling friction; condim 4 resists the
# object pivoting about the fingers' closing axis; a stiff, damped soft contact (solref).
OBJECT_FRICTION = "1.2 0.02 0.0001"
OBJECT_SOLREF = "0.01 1"
OBJECT_CONDIM = 4
PARK_Z_M = -0.3  # unused objects rest on a hidden shelf this far below the table top


@dataclass(frozen=True)
class ObjectShape:
    """One kind of object: its MJCF geoms (in the body frame), its size for grasping, and its
    yaw symmetry (the fingers may grasp it at any yaw modulo this; 0 = round, any yaw)."""

    geoms_xml: str
    mass_kg: float
    grasp_width_m: float
    rest_height_m: float  # grasp point above the surface it rests on
    top_height_m: float  # highest point above the grasp point
    yaw_symmetry_rad: float
    rgba: str


def _geom(kind: str, size: str, pos: str = "0 0 0", extra: str = "") -> str:
    return (
        f'<geom type="{kind}" size="{size}" pos="{pos}" friction="{OBJECT_FRICTION}" '
        f'condim="{OBJECT_CONDIM}" solref="{OBJECT_SOLREF}" {OBJECT_CONTACT} {extra}/>'
    )


SHAPES: dict[str, ObjectShape] = {
    # a rubber duck: a body lying along x, a head above its front, a flat beak
    "duck": ObjectShape(
        geoms_xml=(
            _geom("capsule", "0.02 0.013", extra='euler="0 1.5708 0"')
            + _geom("box", "0.022 0.014 0.004", "0 0 -0.016")  # a flat base: no rolling
            + _geom("sphere", "0.013", "0.018 0 0.027")
            + _geom("box", "0.008 0.007 0.003", "0.034 0 0.028", extra='rgba="0.95 0.5 0.1 1"')
        ),
        mass_kg=0.06,
        grasp_width_m=0.04,
        rest_height_m=0.02,
        top_height_m=0.04,
        yaw_symmetry_rad=math.pi,
        rgba="0.98 0.85 0.1 1",
    ),
    "block": ObjectShape(
        geoms_xml=_geom("box", "0.02 0.02 0.02"),
        mass_kg=0.05,
        grasp_width_m=0.04,
        rest_height_m=0.02,
        top_height_m=0.02,
        yaw_symmetry_rad=math.pi / 2,
        rgba="0.2 0.7 0.3 1",
    ),
    "can": ObjectShape(
        geoms_xml=_geom("cylinder", "0.02 0.03"),
        mass_kg=0.06,
        grasp_width_m=0.04,
        rest_height_m=0.03,
        top_height_m=0.03,
        yaw_symmetry_rad=0.0,
        rgba="0.2 0.4 0.9 1",
    ),
}


def object_xml(body: str, shape: ObjectShape, park_xy_m: tuple[float, float]) -> str:
    """A free body holding the shape's geoms, parked below the table until placed."""
    return (
        f'<body name="{body}" pos="{park_xy_m[0]:.4g} {park_xy_m[1]:.4g} '
        f'{PARK_Z_M + shape.rest_height_m:.4g}"><freejoint name="{body}"/>'
        f'<inertial pos="0 0 0" mass="{shape.mass_kg}" diaginertia="2e-5 2e-5 2e-5"/>'
        f"{_colour_all(shape)}</body>"
    )


def _colour_all(shape: ObjectShape) -> str:
    """The shape's geoms, each given the shape's colour unless it sets its own."""
    parts = shape.geoms_xml.split("<geom ")
    out = parts[0]
    for part in parts[1:]:
        out += "<geom " + (part if "rgba=" in part else f'rgba="{shape.rgba}" ' + part)
    return out


def park_shelf_xml(half_size_m: float) -> str:
    """The hidden shelf below the table where unused objects wait."""
    return (
        f'<geom name="park_shelf" type="box" pos="0.4 0 {PARK_Z_M - 0.01}" '
        f'size="{half_size_m} {half_size_m} 0.01" rgba="0.3 0.3 0.3 1" {SCENE_CONTACT}/>'
    )


def resting_pose(
    xy_m: np.ndarray, yaw_rad: float, shape: ObjectShape, surface_z_m: float
) -> np.ndarray:
    """The pose of an object resting upright on a surface at `xy_m`, turned by `yaw_rad`."""
    return make_pose([xy_m[0], xy_m[1], surface_z_m + shape.rest_height_m], yaw_rotation(yaw_rad))


def open_box_geoms(
    inner_half_x_m: float,
    inner_half_y_m: float,
    wall_height_m: float,
    wall_thickness_m: float,
    rgba: str,
) -> str:
    """A floor and four walls around an inner area, in the body frame (floor top at z=0)."""
    t, hx, hy, h = wall_thickness_m, inner_half_x_m, inner_half_y_m, wall_height_m
    boxes = [
        ((0.0, 0.0, -t / 2), (hx + 2 * t, hy + 2 * t, t / 2)),
        ((hx + t, 0.0, h / 2), (t, hy + 2 * t, h / 2)),
        ((-hx - t, 0.0, h / 2), (t, hy + 2 * t, h / 2)),
        ((0.0, hy + t, h / 2), (hx, t, h / 2)),
        ((0.0, -hy - t, h / 2), (hx, t, h / 2)),
    ]
    return "".join(
        f'<geom type="box" pos="{fmt(p)}" size="{fmt(s)}" rgba="{rgba}" {SCENE_CONTACT}/>'
        for p, s in boxes
    )


def inside_box(
    point: np.ndarray,
    box_pose: np.ndarray,
    inner_half_x_m: float,
    inner_half_y_m: float,
    wall_height_m: float,
) -> bool:
    """Whether `point` lies within a box's inner area and below its rim (box frame)."""
    local = quat_to_mat(box_pose[3:]).T @ (np.asarray(point) - box_pose[:3])
    return bool(
        abs(local[0]) < inner_half_x_m
        and abs(local[1]) < inner_half_y_m
        and local[2] < wall_height_m
    )
