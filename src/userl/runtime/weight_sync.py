"""Versioned weight snapshots from the learner to whoever acts (env workers, inference).

The learner publishes a snapshot (only the policy's trainable tensors) into Ray's object
store; consumers ask for the newest one without waiting and install it when it arrives:
latest wins, and one `ray.put` per version serves every consumer (requests coalesce).
With `delta` sync a snapshot holds only the tensors that changed since the previous
version; a consumer that is not on that previous version asks for a full one, which is
made once per version, on demand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import ray
import torch

StateDict = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Snapshot:
    version: int
    reference: Any  # ObjectRef of a state dict (all tensors, or the changed ones)
    base_version: int | None  # None: complete; else apply on top of this version
    bytes: int
    published_at_s: float  # time.time() when published (same-machine latency figures)


def state_bytes(state: StateDict) -> int:
    return sum(t.numel() * t.element_size() for t in state.values())


class WeightPublisher:
    """The learner's side: versions, deltas, and full snapshots made once on demand."""

    def __init__(self, delta: bool) -> None:
        self.delta = delta
        self.version = 0
        self._latest: Snapshot | None = None
        self._current: StateDict = {}
        self._full: Snapshot | None = None
        self.published_s = time.monotonic()  # when the newest version was published

    def due(self, grad_steps: int, every_updates: int, every_s: float) -> bool:
        """Whether a learner that trains on its own publishes after `grad_steps` updates:
        every `every_updates` of them, and at least every `every_s` seconds (0: by updates
        only)."""
        late = bool(every_s) and time.monotonic() - self.published_s >= every_s
        return grad_steps % every_updates == 0 or late

    def publish(self, state: StateDict) -> Snapshot:
        self.version += 1
        self.published_s = time.monotonic()
        changed = state
        base = None
        if self.delta and self._current:
            changed = {
                k: v
                for k, v in state.items()
                if k not in self._current or not torch.equal(v, self._current[k])
            }
            base = self.version - 1
        self._current = {k: v.clone() for k, v in state.items()} if self.delta else state
        self._latest = Snapshot(
            self.version, ray.put(changed), base, state_bytes(changed), time.time()
        )
        self._full = self._latest if base is None else None
        return self._latest

    def latest(self, known_version: int, want_full: bool = False) -> Snapshot | None:
        """The newest snapshot if newer than `known_version`; complete when the caller is
        not on its base version (or asks for it)."""
        latest = self._latest
        if latest is None or latest.version <= known_version:
            return None
        if latest.base_version is None or (latest.base_version == known_version and not want_full):
            return latest
        if self._full is None or self._full.version != latest.version:
            self._full = Snapshot(
                latest.version,
                ray.put(self._current),
                None,
                state_bytes(self._current),
                latest.published_at_s,
            )
        return self._full


class WeightSubscriber:
    """A consumer's side: one request in flight at a time, never blocking the caller."""

    def __init__(self, install: Any, poll_interval_s: float) -> None:
        self._install = install  # install(version, state_dict, complete: bool)
        self.poll_interval_s = poll_interval_s
        self.version = 0
        self.latest_known_version = 0
        self._pending: Any = None
        self._last_request_s = 0.0
        self.latencies_ms: list[float] = []
        self.bytes_received = 0

    def poll(self, publisher: Any) -> bool:
        """Ask or check for a newer snapshot; install it if it has arrived. True if installed."""
        if self._pending is None:
            now = time.monotonic()
            if now - self._last_request_s >= self.poll_interval_s:
                self._last_request_s = now
                self._pending = publisher.latest_weights.remote(self.version)
            return False
        ready, _ = ray.wait([self._pending], timeout=0)
        if not ready:
            return False
        snapshot: Snapshot | None = ray.get(self._pending)
        self._pending = None
        if snapshot is None:
            return False
        self.apply(snapshot)
        return True

    def apply(self, snapshot: Snapshot) -> None:
        self.latest_known_version = max(self.latest_known_version, snapshot.version)
        if snapshot.base_version is not None and snapshot.base_version != self.version:
            return  # a delta on another base: the next poll asks again and gets a full one
        self._install(snapshot.version, ray.get(snapshot.reference), snapshot.base_version is None)
        self.version = snapshot.version
        self.latencies_ms.append((time.time() - snapshot.published_at_s) * 1000.0)
        self.bytes_received += snapshot.bytes

    def drain_metrics(self) -> dict[str, float]:
        """Sync figures since the last call (for one episode's statistics)."""
        figures = {
            "sync_latency_ms": sum(self.latencies_ms) / len(self.latencies_ms)
            if self.latencies_ms
            else 0.0,
            "sync_bytes": float(self.bytes_received),
            "sync_installs": float(len(self.latencies_ms)),
        }
        self.latencies_ms.clear()
        self.bytes_received = 0
        return figures
