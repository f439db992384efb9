"""Deadline pacing of a control loop: every robot, real or simulated, ticks through it."""

from __future__ import annotations

import time


class Pacer:
    """Blocks until the next control tick; deadlines advance by the period (work time is not
    added), and a tick later than one whole period restarts the schedule."""

    def __init__(self, control_hz: float) -> None:
        self.period_s = 1.0 / control_hz
        self._deadline_s: float | None = None
        self.late_ticks = 0

    def restart(self) -> None:
        self._deadline_s = None

    def wait(self) -> None:
        now = time.monotonic()
        if self._deadline_s is None or now > self._deadline_s + self.period_s:
            if self._deadline_s is not None:
                self.late_ticks += 1
            self._deadline_s = now + self.period_s
        else:
            self._deadline_s += self.period_s
        delay = self._deadline_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
