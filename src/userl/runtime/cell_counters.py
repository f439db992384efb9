"""What each cell's robots have delivered to the learner; the run's totals are their sums."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from userl.core.types import Episode
from userl.telemetry.timing import RateMeter

RECENT_EPISODES = 20  # window of the console's recent success rate


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


class Cells:
    """The run's cells as the learner counts them: which cell each robot's episodes belong
    to, and each cell's `CellCounters` (`cells[i]`). `several`: a run of several cells
    (`cells=`), whose cells are also reported one by one."""

    def __init__(self, names: list[str], several: bool) -> None:
        self.names = names
        self.several = several
        self.counters = [CellCounters() for _ in names]
        self._recent_success: deque[float] = deque(maxlen=RECENT_EPISODES)

    def __getitem__(self, index: int) -> CellCounters:
        return self.counters[index]

    def index_of(self, robot_id: str) -> int:
        """The cell an env worker's episodes belong to: worker `robot_<i>` runs cell i of a
        multi-cell run; every robot of a single-cell run is cell 0."""
        if not self.several:
            return 0
        index = robot_id.rpartition("_")[2]
        if not index.isdigit() or int(index) >= len(self.names):
            raise ValueError(
                f"episode from {robot_id!r}, which runs none of the cells {', '.join(self.names)}"
            )
        return int(index)

    def count(self, episode: Episode) -> int:
        """An online episode (new, or reloaded on resume) into its cell's counters; returns
        the cell."""
        cell = self.index_of(episode.robot_id)
        self.counters[cell].count(episode)
        self._recent_success.append(float(episode.success))
        return cell

    def total(self, name: str) -> int:
        return total(self.counters, name)

    def effort(self) -> dict[str, int]:
        return total_effort(self.counters)

    def totals(self) -> dict[str, float]:
        """The run's online env steps, episodes and intervened steps, the success over the
        last `RECENT_EPISODES` episodes (0: none yet), and the data rate now."""
        recent = self._recent_success
        return {
            "env_steps": self.total("env_steps"),
            "episodes": self.total("episodes"),
            "interventions": self.total("interventions"),
            "recent_success_rate": sum(recent) / len(recent) if recent else 0.0,
            "env_steps_per_s": sum(cell.rate.rate() for cell in self.counters),
        }

    def stats(self) -> dict[str, dict[str, float]]:
        """Per cell: online env steps and episodes, the share of them that succeeded, its
        intervened steps and the data rate now."""
        return {
            name: {
                "env_steps": cell.env_steps,
                "episodes": cell.episodes,
                "success_rate": cell.success_rate,
                "interventions": cell.interventions,
                "env_steps_per_s": cell.rate.rate(),
            }
            for name, cell in zip(self.names, self.counters, strict=True)
        }

    def episode_scalars(self, episode: Episode) -> dict[str, float]:
        """With several cells: `env/<cell>/...` of the cell the episode belongs to."""
        if not self.several:
            return {}
        index = self.index_of(episode.robot_id)
        cell, tag = self.counters[index], f"env/{self.names[index]}"
        return {
            f"{tag}/success": float(episode.success),
            f"{tag}/return": episode.episode_return,
            f"{tag}/env_steps_per_s": cell.rate.rate(),
            f"{tag}/env_steps": cell.env_steps,
        }
