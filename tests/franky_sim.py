"""franky-sim (PyPI): a MuJoCo Franka behind the libfranka network protocol, so userl's
FrankaRobot runs on the real franky-control against it. Each test module that needs it starts
its own server on a loopback address of its own (127.x.y.z; libfranka's ports are fixed),
waits for it to say it is ready, and stops it by its own PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

READY_LINE = "Connect to the server using"  # franky-sim prints this once it serves
FCI_PORT = 1337  # libfranka's robot port (the gripper's is 1338)
START_TIMEOUT_S = 300.0  # generous: MuJoCo loads slowly on a busy 2-core machine
STOP_TIMEOUT_S = 30.0
LOG_LINES = 40


def free_loopback_address() -> str:
    """A 127.x.y.z address whose FCI port nobody holds (another session's server)."""
    for offset in range(1, 250):
        address = f"127.0.{(os.getpid() + offset) % 250 + 1}.{offset % 250 + 1}"
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, FCI_PORT))
            except OSError:
                continue
            return address
    raise RuntimeError("no free loopback address for franky-sim")


class FrankySim:
    """One franky-sim server process on `address`."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address or free_loopback_address()
        executable = Path(sys.executable).with_name("franky-sim")
        command = (
            [str(executable)]
            if executable.exists()
            else [sys.executable, "-m", "franky_sim.run_server"]
        )
        self.process = subprocess.Popen(
            [*command, "-s", "mujoco", "--hostname", self.address],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, name="franky-sim-log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line.rstrip())
            if READY_LINE in line:
                self.ready.set()
        self.ready.set()  # the process ended: wake the waiter, which sees it exited

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        if not self.ready.wait(timeout_s) or self.process.poll() is not None:
            self.stop()
            tail = " | ".join(list(self.log)[-5:])
            raise RuntimeError(f"franky-sim on {self.address} did not become ready: {tail}")

    def stop(self) -> None:
        """SIGTERM to the server's own PID, then SIGKILL to that PID if it lingers. Not Ctrl+C:
        a suite started in the background of a non-interactive shell ignores SIGINT, and so do
        the servers it starts (each waited out its 30 s before the SIGKILL)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT_S)
        self._reader.join(STOP_TIMEOUT_S)
