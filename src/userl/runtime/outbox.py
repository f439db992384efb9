"""An env worker's finished episodes on their way to the learner.

Every finished episode is first written to the robot's spool on local disk and leaves it
only when the learner acknowledges it as stored. Episodes left in the spool (by a crash, or
a learner that vanished) are shipped again on start; the learner drops duplicates by
episode id. A shipment that failed is retried later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ray

from userl.core.types import Episode
from userl.data.store import EpisodeStore, LoadReport, read_episode_file


class Outbox:
    """One robot's spool and the acknowledgements it waits for: episode id -> (spool file,
    the learner's `add_episode` reference, or None when it must be shipped again)."""

    def __init__(self, spool_dir: str, robot_id: str) -> None:
        self.robot_id = robot_id
        self.spool = EpisodeStore(spool_dir).create()
        self._in_flight: dict[str, tuple[Path, Any]] = {}

    def __len__(self) -> int:
        """Episodes not acknowledged yet."""
        return len(self._in_flight)

    def send(self, episode: Episode, learner: Any) -> None:
        """Spool the episode, then ship it."""
        path = self.spool.write(episode)
        self._in_flight[episode.episode_id] = (path, learner.add_episode.remote(episode))

    def _acks(self) -> list[Any]:
        return [ack for _, ack in self._in_flight.values() if ack is not None]

    def wait(self, timeout_s: float, every: bool = False) -> None:
        """Wait (bounded) for one acknowledgement, or for `every` one under way."""
        acks = self._acks()
        if acks:
            ray.wait(acks, num_returns=len(acks) if every else 1, timeout=timeout_s)

    def ship_spooled(self, learner: Any) -> None:
        """Ship spooled episodes that have no acknowledgement under way."""
        report = LoadReport()
        for path in self.spool.files():
            episode_id = path.stem.rsplit("_", 1)[-1]
            entry = self._in_flight.get(episode_id)
            if entry is not None and entry[1] is not None:
                continue
            try:
                episode = read_episode_file(path)
            except ValueError as error:
                report.unreadable.append((path.name, str(error)))
                continue
            self._in_flight[episode_id] = (path, learner.add_episode.remote(episode))
        for name, reason in report.unreadable:
            print(f"{self.robot_id}: unreadable spooled episode {name}: {reason}", flush=True)

    def release_acknowledged(self) -> None:
        """Drop acknowledged episodes from the spool; a failed shipment is retried later."""
        pending = {
            ack: episode_id for episode_id, (_, ack) in self._in_flight.items() if ack is not None
        }
        if not pending:
            return
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
        for ack in ready:
            episode_id = pending[ack]
            path, _ = self._in_flight[episode_id]
            try:
                ray.get(ack, timeout=0)
            except (ray.exceptions.RayError, TimeoutError):
                self._in_flight[episode_id] = (path, None)  # not stored: ship again later
                continue
            self.spool.delete(path)
            del self._in_flight[episode_id]

    def flush(self, learner: Any, timeout_s: float) -> int:
        """Ship what is spooled and wait (bounded) for every acknowledgement; returns the
        number of episodes still unacknowledged (they stay in the spool)."""
        self.ship_spooled(learner)
        self.wait(timeout_s, every=True)
        self.release_acknowledged()
        return len(self)
