"""Real camera drivers; importing this package registers them (vendor modules load on use)."""

from userl.hardware.cameras import realsense, uvc  # noqa: F401
