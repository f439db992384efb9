"""An env worker's finished episodes on their way to the learner.

Every finished episode is first written to the robot's spool on local disk and leaves it
only when the learner acknowledges it as stored. Episodes left in the spool (by a crash, or
a learner that vanished) are shipped again on start; the learner drops duplicates by
episode id. A shipment that failed is retried later.

An episode the spool cannot take (a full or read-only disk) is kept in memory, shipped all
the same, and written again as soon as there is room (`respool`); the env worker holds the
robot meanwhile. Until it is in the spool or acknowledged it is `unwritten`, and a stop
names it. Unfinished spool writes from before a crash are recovered or removed on start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ray

from userl.core.types import Episode
from userl.data.store import EpisodeStore, LoadReport, read_episode_file


class Outbox:
    """One robot's spool and the acknowledgements it waits for: episode id -> (spool file,
    or None for an episode held in memory; the learner's `add_episode` reference, or None
    when it must be shipped again)."""

    def __init__(self, spool_dir: str, robot_id: str) -> None:
        self.robot_id = robot_id
        self.spool = EpisodeStore(spool_dir).create()
        if (line := self.spool.recover_partials().line(self.spool.root)) is not None:
            print(f"{robot_id}: {line}", flush=True)
        self._in_flight: dict[str, tuple[Path | None, Any]] = {}
        self._unwritten: dict[str, tuple[Episode, str]] = {}  # id -> (episode, why)

    def __len__(self) -> int:
        """Episodes not acknowledged yet (spooled or held in memory)."""
        return len(self._in_flight)

    @property
    def unwritten(self) -> int:
        """Finished episodes held in memory only: not spooled, not acknowledged."""
        return len(self._unwritten)

    def describe_unwritten(self) -> str:
        """'robot_0's episode ab12 of 100 steps (OSError: [Errno 28] ...), ...' for a stop
        line; '' when every episode is on disk."""
        return "; ".join(
            f"{episode.robot_id}'s episode {episode_id} of {len(episode)} steps ({why})"
            for episode_id, (episode, why) in self._unwritten.items()
        )

    def send(self, episode: Episode, learner: Any) -> None:
        """Spool the episode (in memory when the disk refuses it), then ship it."""
        path = self._spool(episode)
        self._in_flight[episode.episode_id] = (path, learner.add_episode.remote(episode))

    def _spool(self, episode: Episode) -> Path | None:
        """The spool file written for `episode`, or None when the disk refused it (it is
        then held in memory, with the reason)."""
        try:
            path = self.spool.write(episode)
        except OSError as error:
            self._unwritten[episode.episode_id] = (episode, f"{type(error).__name__}: {error}")
            return None
        self._unwritten.pop(episode.episode_id, None)
        return path

    def respool(self) -> int:
        """Write episodes held in memory to the spool, oldest first, while the disk takes
        them; returns how many are still held."""
        for episode_id, (episode, _) in list(self._unwritten.items()):
            path = self._spool(episode)
            if path is None:
                break
            ack = self._in_flight.get(episode_id, (None, None))[1]
            self._in_flight[episode_id] = (path, ack)
            print(f"{self.robot_id}: episode {episode_id} written to {path}", flush=True)
        return self.unwritten

    def _acks(self) -> list[Any]:
        return [ack for _, ack in self._in_flight.values() if ack is not None]

    def wait(self, timeout_s: float, every: bool = False) -> None:
        """Wait (bounded) for one acknowledgement, or for `every` one under way."""
        acks = self._acks()
        if acks:
            ray.wait(acks, num_returns=len(acks) if every else 1, timeout=timeout_s)

    def ship_spooled(self, learner: Any) -> None:
        """Ship spooled and held episodes that have no acknowledgement under way."""
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
        for episode_id, (episode, _) in self._unwritten.items():
            if self._in_flight.get(episode_id, (None, None))[1] is None:
                self._in_flight[episode_id] = (None, learner.add_episode.remote(episode))
        for name, reason in report.unreadable:
            print(f"{self.robot_id}: unreadable spooled episode {name}: {reason}", flush=True)

    def release_acknowledged(self) -> None:
        """Drop acknowledged episodes from the spool (and from memory); a failed shipment is
        retried later."""
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
            if path is not None:
                self.spool.delete(path)
            self._unwritten.pop(episode_id, None)  # the learner stored it
            del self._in_flight[episode_id]

    def flush(self, learner: Any, timeout_s: float) -> int:
        """Write what memory holds if the disk now takes it, ship what is spooled and wait
        (bounded) for every acknowledgement; returns the number of episodes still
        unacknowledged (they stay in the spool, or are named: `describe_unwritten`)."""
        self.respool()
        self.ship_spooled(learner)
        self.wait(timeout_s, every=True)
        self.release_acknowledged()
        if self._unwritten:
            print(
                f"{self.robot_id}: {self.unwritten} finished episode(s) could not be written "
                f"and are lost when the run stops: {self.describe_unwritten()}",
                flush=True,
            )
        return len(self)
