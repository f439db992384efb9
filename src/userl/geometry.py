"""Pose math in numpy. Quaternions are (w, x, y, z); poses are xyz + quaternion (7,)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def quat_to_mat(quat: np.ndarray) -> np.ndarray:
    w, x, y, z = np.asarray(quat, dtype=np.float64) / np.linalg.norm(quat)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def mat_to_quat(mat: np.ndarray) -> np.ndarray:
    """Rotation matrix to a unit quaternion with w >= 0."""
    m = np.asarray(mat, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        quat = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        quat = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        quat = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        quat = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    q = np.asarray(quat)
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q


def rotvec_to_mat(rotvec: np.ndarray) -> np.ndarray:
    """Rodrigues' formula: a rotation vector (axis * angle, rad) to a rotation matrix."""
    v = np.asarray(rotvec, dtype=np.float64)
    angle = float(np.linalg.norm(v))
    if angle < 1e-12:
        return np.eye(3)
    k = v / angle
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + math.sin(angle) * kx + (1.0 - math.cos(angle)) * (kx @ kx)


def mat_to_rotvec(mat: np.ndarray) -> np.ndarray:
    """The rotation vector (axis * angle, angle in [0, pi]) of a rotation matrix."""
    q = mat_to_quat(mat)
    sin_half = float(np.linalg.norm(q[1:]))
    if sin_half < 1e-12:
        return np.zeros(3)
    angle = 2.0 * math.atan2(sin_half, q[0])
    return q[1:] / sin_half * angle


def yaw_rotation(yaw_rad: float) -> np.ndarray:
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def euler_zyx_to_mat(roll_rad: float, pitch_rad: float, yaw_rad: float) -> np.ndarray:
    """R = Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, sr = math.cos(roll_rad), math.sin(roll_rad)
    cp, sp = math.cos(pitch_rad), math.sin(pitch_rad)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    return yaw_rotation(yaw_rad) @ ry @ rx


def mat_to_euler_zyx(mat: np.ndarray) -> np.ndarray:
    """(roll, pitch, yaw) with R = Rz(yaw) Ry(pitch) Rx(roll)."""
    m = np.asarray(mat)
    pitch = math.asin(float(np.clip(-m[2, 0], -1.0, 1.0)))
    roll = math.atan2(m[2, 1], m[2, 2])
    yaw = math.atan2(m[1, 0], m[0, 0])
    return np.array([roll, pitch, yaw])


def make_pose(position: ArrayLike, rotation: np.ndarray) -> np.ndarray:
    """A (7,) pose from a position and a rotation matrix."""
    return np.concatenate([np.asarray(position, dtype=np.float64), mat_to_quat(rotation)])


def relative_pose(frame: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """`pose` expressed in `frame` (both (7,) in the same parent frame)."""
    r_frame = quat_to_mat(frame[3:])
    position = r_frame.T @ (np.asarray(pose[:3]) - frame[:3])
    return make_pose(position, r_frame.T @ quat_to_mat(pose[3:]))


def rot_x_mat(angle_rad: float) -> np.ndarray:
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
