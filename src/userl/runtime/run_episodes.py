"""A run's episodes on disk: the source of truth the learner's buffers are built from, and
rebuilt from when the run is resumed."""

from __future__ import annotations

from pathlib import Path

from userl.core.types import Episode
from userl.data.store import EpisodeStore, LoadReport


class RunEpisodes:
    """Online episodes in the run's `episodes/`, demonstrations in its `demos/`, each written
    crash-safe before the learner acknowledges it. An online episode is stored once: a
    resend after a lost acknowledgement is known by its id."""

    def __init__(self, run_dir: Path) -> None:
        self.online = EpisodeStore(run_dir / "episodes").create()
        self.demos = EpisodeStore(run_dir / "demos").create()
        self.rejected = EpisodeStore(run_dir / "rejected")  # created on the first one
        self._stored_ids: set[str] = set()
        self.rejected_ids: set[str] = set()  # non-finite episodes kept aside

    def store(self, episode: Episode) -> bool:
        """Write an online episode; False if it is stored already (nothing is written) or
        holds NaN or infinite values (`reject`: kept aside, never replayed)."""
        if episode.episode_id in self._stored_ids:
            return False
        if columns := episode.nonfinite_fields():
            self.reject(episode, columns)
            return False
        self.online.write(episode)
        self._stored_ids.add(episode.episode_id)
        return True

    def reject(self, episode: Episode, columns: list[str]) -> None:
        """Keep a non-finite episode aside in the run's `rejected/` and say so: a robot or
        reward source that produced NaN needs looking at, and its data must not be trained
        on. Counted in `rejected_ids` (a resend is kept once)."""
        self._stored_ids.add(episode.episode_id)
        self.rejected_ids.add(episode.episode_id)
        path = self.rejected.create().write(episode)
        print(
            f"warning: episode from {episode.robot_id} rejected: NaN or infinite "
            f"{', '.join(columns)}; kept aside in {path}",
            flush=True,
        )

    def store_demo(self, episode: Episode) -> None:
        self.demos.write(episode)

    def load(self) -> tuple[LoadReport, LoadReport]:
        """Every stored demo and online episode (resume), as the demo and the online store's
        load reports; the online episodes count as stored."""
        demo_report = self.demos.load()
        online_report = self.online.load()
        self._stored_ids.update(episode.episode_id for episode in online_report.episodes)
        return demo_report, online_report
