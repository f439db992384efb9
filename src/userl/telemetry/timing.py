"""Timing statistics: control-period percentiles and rates over a sliding window."""

from __future__ import annotations

import time
from collections import deque

import numpy as np


def percentiles_ms(periods_s: list[float] | np.ndarray) -> dict[str, float]:
    """p50/p99/max of a list of periods, in milliseconds (zeros when empty)."""
    if len(periods_s) == 0:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    values_ms = np.asarray(periods_s, dtype=np.float64) * 1000.0
    return {
        "p50_ms": float(np.percentile(values_ms, 50)),
        "p99_ms": float(np.percentile(values_ms, 99)),
        "max_ms": float(values_ms.max()),
    }


class RateMeter:
    """Events per second over the last `window_s` seconds."""

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self._events: deque[tuple[float, int]] = deque()

    def add(self, count: int = 1, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._events.append((now, count))
        while self._events and now - self._events[0][0] > self.window_s:
            self._events.popleft()

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        while self._events and now - self._events[0][0] > self.window_s:
            self._events.popleft()
        if len(self._events) < 2:
            return 0.0
        span = now - self._events[0][0]
        return sum(count for _, count in list(self._events)[1:]) / span if span > 0 else 0.0
