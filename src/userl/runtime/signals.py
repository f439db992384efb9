"""Ctrl-C belongs to the driver: it stops the workers in order, so they ignore SIGINT."""

from __future__ import annotations

import signal
import threading


def ignore_interrupts() -> None:
    """Ignore SIGINT in this worker process (only possible from its main thread)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
