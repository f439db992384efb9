"""Executing a policy's action chunks at the control rate.

A chunk of H actions is executed one per control step. The next chunk is asked for when
`prefetch_steps` actions remain (a remote server computes it meanwhile); when it arrives,
the actions for the steps that passed since it was asked for are dropped (they belong to
steps already executed), and the rest replaces the queue. Whenever the queue runs dry the
robot waits for a chunk: that wait is `action_wait_ms` (0 when chunks come early enough).
An intervention cuts the chunk short (`cut`): the policy replans from where the person left.
Each received chunk gets an id; the queue knows which chunk its actions come from and that
chunk's realised delay d (the steps skipped), which the episode records per step.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np


class ChunkQueue:
    """The actions still to execute, the steps since the pending request, and the waits."""

    def __init__(self) -> None:
        self._queue: deque[np.ndarray] = deque()
        self.steps_since_request = 0
        self.waits_ms: list[float] = []
        self._wait_started: float | None = None
        self.running_waits_ms: list[float] = []  # of chunks asked for while actions remained
        self._asked_while_running = False
        self.chunk_id = -1  # the latest received chunk's id (every queued action is from it)
        self.chunk_delay = -1  # its realised delay: the steps executed while it was computed

    def __len__(self) -> int:
        return len(self._queue)

    def remaining(self) -> np.ndarray:
        """The actions still to execute (r, A); (0, 0) when none."""
        return np.stack(list(self._queue)) if self._queue else np.zeros((0, 0), np.float32)

    def cut(self) -> None:
        """Drop the rest of the chunk."""
        self._queue.clear()

    def requested(self) -> None:
        """A request for the next chunk was just sent."""
        self.steps_since_request = 0
        self._asked_while_running = bool(self._queue)

    def start_wait(self) -> None:
        """The queue is empty and the robot now waits for a chunk (from the first call)."""
        if self._wait_started is None:
            self._wait_started = time.monotonic()

    def receive(self, chunk: np.ndarray) -> None:
        """A chunk arrived: its actions for steps already executed are skipped."""
        skip = min(self.steps_since_request, len(chunk) - 1)
        self._queue = deque(np.asarray(chunk, np.float32)[skip:])
        self.chunk_id += 1
        self.chunk_delay = self.steps_since_request
        waited_s = 0.0 if self._wait_started is None else time.monotonic() - self._wait_started
        self.waits_ms.append(waited_s * 1000.0)
        if self._asked_while_running:
            self.running_waits_ms.append(waited_s * 1000.0)
        self._wait_started = None

    def pop(self) -> np.ndarray:
        """The next action (the queue must not be empty)."""
        self.steps_since_request += 1
        return self._queue.popleft()

    def drain_waits_ms(self) -> list[float]:
        waits, self.waits_ms = self.waits_ms, []
        return waits

    def drain_running_waits_ms(self) -> list[float]:
        """The waits for chunks asked for while the previous one still ran: stalls in the
        middle of motion (not the first chunk of an episode or after a person let go, which
        the arm waits for at rest)."""
        waits, self.running_waits_ms = self.running_waits_ms, []
        return waits


def wait_metrics(waits_ms: list[float]) -> dict[str, float]:
    """`action_wait_ms` (mean) and its p99 over the chunks of one episode."""
    if not waits_ms:
        return {"action_wait_ms": 0.0, "action_wait_ms_p99": 0.0}
    return {
        "action_wait_ms": float(np.mean(waits_ms)),
        "action_wait_ms_p99": float(np.percentile(waits_ms, 99)),
    }


def running_wait_metrics(waits_ms: list[float]) -> dict[str, float]:
    """`action_wait_ms_running_p99`: the p99 of the waits in motion (0 without any)."""
    return {"action_wait_ms_running_p99": float(np.percentile(waits_ms, 99)) if waits_ms else 0.0}


def boundary_jump(actions: np.ndarray, chunk_ids: np.ndarray) -> float:
    """The largest change between consecutive executed actions where one policy chunk gives
    way to the next (max-abs over the action's components); 0 without such a boundary. What
    real-time chunking shrinks (`rollout/chunking.py`)."""
    ids = np.asarray(chunk_ids)
    joins = np.flatnonzero((ids[1:] != ids[:-1]) & (ids[1:] >= 0) & (ids[:-1] >= 0)) + 1
    if not len(joins):
        return 0.0
    steps = np.abs(np.asarray(actions)[joins] - np.asarray(actions)[joins - 1])
    return float(steps.max())
