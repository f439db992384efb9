"""Real robot drivers; importing this package registers them (vendor modules load on use)."""

from userl.hardware.robots import arx_r5, franka  # noqa: F401
