"""The update-to-data governor's arithmetic, shared by the learner (ceiling) and the env
workers (floor), so that a floor equal to the ceiling is always reachable."""

from __future__ import annotations

import math


def update_ceiling(env_steps: int, utd_max: float) -> int:
    """The most online gradient steps allowed after `env_steps` stored env steps."""
    return math.floor(utd_max * env_steps)


def floor_met(online_updates: int, env_steps: int, utd_min: float) -> bool:
    """True when the learner has made at least `utd_min` updates per stored env step
    (rounded down the same way as the ceiling)."""
    return online_updates >= math.floor(utd_min * env_steps)
