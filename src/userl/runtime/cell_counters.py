"""What each cell's robots have delivered to the learner; the run's totals are their sums."""

from __future__ import annotations

from dataclasses import dataclass, field

from userl.core.types import Episode
from userl.telemetry.timing import RateMeter


@dataclass
class CellCounters:
    """One cell's online env steps, episodes, successes and intervened steps, and the rate
    at which its steps arrive (episodes reloaded on resume count, but not toward the rate)."""

    env_steps: int = 0
    episodes: int = 0
    successes: int = 0
    interventions: int = 0
    rate: RateMeter = field(default_factory=RateMeter)

    def count(self, episode: Episode) -> None:
        self.env_steps += len(episode)
        self.episodes += 1
        self.successes += int(episode.success)
        self.interventions += episode.intervened_steps

    @property
    def success_rate(self) -> float:
        return self.successes / max(self.episodes, 1)


def total(cells: list[CellCounters], name: str) -> int:
    """A counter summed over every cell (`env_steps`, `episodes`, ...)."""
    return sum(getattr(cell, name) for cell in cells)
