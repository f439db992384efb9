"""What each cell's robots have delivered to the learner; the run's totals are their sums."""

from __future__ import annotations

from dataclasses import dataclass, field

from userl.core.types import Episode
from userl.telemetry.timing import RateMeter


@dataclass
class CellCounters:
    """One cell's online env steps, episodes, successes, intervened steps and takeovers, and
    the rate at which its steps arrive (episodes reloaded on resume count, but not toward the
    rate)."""

    env_steps: int = 0
    episodes: int = 0
    successes: int = 0
    interventions: int = 0  # intervened (human-controlled) steps
    takeovers: int = 0  # times a human took over
    rate: RateMeter = field(default_factory=RateMeter)

    def count(self, episode: Episode) -> None:
        self.env_steps += len(episode)
        self.episodes += 1
        self.successes += int(episode.success)
        self.interventions += episode.intervened_steps
        self.takeovers += episode.takeovers

    def effort(self) -> dict[str, int]:
        """The human effort so far, stamped on each learning-curve point: online episodes,
        intervened steps and takeovers (cumulative; differences give them per episode)."""
        return {
            "online_episodes": self.episodes,
            "intervened_steps": self.interventions,
            "takeovers": self.takeovers,
        }

    @property
    def success_rate(self) -> float:
        return self.successes / max(self.episodes, 1)


def total_effort(cells: list[CellCounters]) -> dict[str, int]:
    """`CellCounters.effort` summed over every cell."""
    efforts = [cell.effort() for cell in cells]
    return {key: sum(e[key] for e in efforts) for key in efforts[0]} if efforts else {}


def total(cells: list[CellCounters], name: str) -> int:
    """A counter summed over every cell (`env_steps`, `episodes`, ...)."""
    return sum(getattr(cell, name) for cell in cells)
