"""Ctrl-C belongs to the driver: it stops the workers in order, so they ignore SIGINT."""

from __future__ import annotations

import signal
import threading


def ignore_interrupts() -> None:
    """Ignore SIGINT in this worker process (only possible from its main thread)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class StopRequested(Exception):
    """Raised at a safe point after Ctrl-C (or SIGTERM): stop in order, keep everything."""


class GracefulStop:
    """While active, the first SIGINT/SIGTERM only sets a flag that `check()` turns into
    `StopRequested` at a safe point (never inside a call to Ray); a second one interrupts
    at once. Outside the main thread it installs nothing (the caller handles stopping)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def check(self) -> None:
        if self.requested:
            raise StopRequested
