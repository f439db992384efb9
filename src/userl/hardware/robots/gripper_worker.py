"""Gripper commands off the control loop: a vendor gripper call blocks until the fingers stop
(up to seconds), and a second call sent while one runs may block as long or hang. One worker
thread runs the calls one at a time; a new command replaces a pending one (the newest width
wins), so `submit` never waits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from userl.hardware.vendor import first_line


class GripperWorker:
    """Runs at most one gripper call at a time, the newest submitted next."""

    def __init__(self, name: str) -> None:
        self._cond = threading.Condition()
        self._pending: Callable[[], Any] | None = None
        self._busy = False
        self._closed = False
        self.completed = 0  # calls run to the end (successful or not)
        self.replaced = 0  # pending calls dropped for a newer one
        self.error: str | None = None  # the last call's exception, one line, until taken
        self._thread = threading.Thread(target=self._run, name=f"{name}-gripper", daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[], Any]) -> None:
        """Queue `call`, replacing one still pending; returns at once."""
        with self._cond:
            if self._pending is not None:
                self.replaced += 1
            self._pending = call
            self._cond.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until nothing is pending or running; False after `timeout_s`."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._pending is None and not self._busy, timeout=timeout_s
            )

    def take_error(self) -> str | None:
        with self._cond:
            error, self.error = self.error, None
            return error

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                call = self._pending
                if self._closed or call is None:
                    return
                self._pending, self._busy = None, True
            error = None
            try:
                call()
            except Exception as exc:  # reported to the control loop by take_error()
                error = first_line(exc)
            with self._cond:
                self._busy = False
                self.completed += 1
                if error is not None:
                    self.error = error
                self._cond.notify_all()

    def close(self, timeout_s: float) -> None:
        """Drop what is pending; wait up to `timeout_s` for a running call to end."""
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify_all()
        self._thread.join(timeout=timeout_s)
