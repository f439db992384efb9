"""Console progress for everything long (training, collect, eval, export, import,
train-reward): a bar on a terminal (rich), and where the output is not a terminal (a log
file, CI, a pipe) one plain line per update, at most one every `every_s` seconds, so that a
log stays readable. What a line says comes from pure functions of given counters."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TextIO, TypeVar

Closing = TypeVar("Closing", bound="ClosedOnExit")


class ClosedOnExit:
    """A progress display used in a `with` block: it is closed when the block ends."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: Closing) -> Closing:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


Clock = Callable[[], float]


def duration(seconds: float) -> str:
    """A span as a person reads it: '45s', '3m05s', '2h07m'; '?' when it is unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, rest_s = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{rest_s:02d}s"
    hours, rest_min = divmod(minutes, 60)
    return f"{hours}h{rest_min:02d}m"


def number(value: float) -> str:
    """A count as a whole number, anything else with one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def remaining_s(done: float, total: float, elapsed_s: float) -> float:
    """Seconds left at the pace so far (inf before the first item is done)."""
    if done <= 0:
        return math.inf
    return max(total - done, 0.0) * elapsed_s / done


def count_line(
    label: str,
    done: float,
    total: float | None,
    unit: str,
    elapsed_s: float,
    info: str = "",
) -> str:
    """`collect: 3/20 episodes  successes=2  elapsed 12s  eta 1m08s`: how many of how many
    (no total: how many so far), what the caller adds, the time spent and the time left."""
    parts = [f"{label}: {number(done)}{'/' + number(total) if total else ''} {unit}"]
    if info:
        parts.append(info)
    parts.append(f"elapsed {duration(elapsed_s)}")
    if total:
        parts.append(f"eta {duration(remaining_s(done, total, elapsed_s))}")
    return "  ".join(parts)


def training_fields(stats: Mapping[str, float], rates: Mapping[str, float]) -> str:
    """The learner's counters in a line: env steps, episodes, recent success, intervened
    (human-controlled) steps, updates, the rates (`rates`: `env_steps_per_s`,
    `updates_per_s`, taken by the caller over whole stretches of time) and the weights'
    version."""
    return (
        f"env_steps={int(stats.get('env_steps', 0))} "
        f"episodes={int(stats.get('episodes', 0))} "
        f"success(last 20)={stats.get('recent_success_rate', 0.0):.2f} "
        f"interventions={int(stats.get('interventions', 0))} "
        f"grad_steps={int(stats.get('grad_steps', 0))} "
        f"updates/s={rates.get('updates_per_s', 0.0):.1f} "
        f"env_steps/s={rates.get('env_steps_per_s', 0.0):.1f} "
        f"weights=v{int(stats.get('weight_version', 0))}"
    )


def training_line(
    stats: Mapping[str, float], rates: Mapping[str, float], elapsed_s: float, budget: str = ""
) -> str:
    """The training console line: elapsed time, `training_fields`, and `budget` (how far the
    binding budget is and the time left to it) when there is one."""
    line = f"[{elapsed_s:7.1f}s] {training_fields(stats, rates)}"
    return f"{line} | {budget}" if budget else line


class ConsoleProgress(ClosedOnExit):
    """One task's progress on the console. On a terminal a rich bar at `done` of `total`
    with the caller's line beside it, redrawn at every update (rich keeps other prints above
    it). Elsewhere the line alone, printed at the first update and then at most once every
    `every_s` seconds; `close` prints the last state if it was not printed."""

    def __init__(
        self,
        label: str,
        every_s: float,
        stream: TextIO | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.label, self.every_s, self.clock = label, every_s, clock
        self.stream = stream if stream is not None else sys.stdout
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last_print: float | None = None
        self.pending: str | None = None  # the newest line not printed yet
        self._bar: Any = None
        self._task: Any = None

    def show(self, done: float, total: float | None, line: str) -> None:
        """Progress now: `done` of `total` (None: no total known), described by `line`."""
        if self.terminal:
            self._draw(done, total, line)
            return
        now = self.clock()
        if self.last_print is None or now - self.last_print >= self.every_s:
            self.last_print, self.pending = now, None
            print(line, file=self.stream, flush=True)
        else:
            self.pending = line

    def note(self, text: str) -> None:
        """A message of its own line, above the bar on a terminal."""
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """The bar stays as last drawn; a plain output gets the last line it skipped."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self.pending is not None:
            print(self.pending, file=self.stream, flush=True)
            self.pending = None

    def _draw(self, done: float, total: float | None, line: str) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[line]}"),
                console=Console(file=self.stream),
                auto_refresh=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=total, line=line)
        self._bar.update(self._task, completed=done, total=total, line=line, refresh=True)


class CountProgress(ClosedOnExit):
    """Progress of a known number of items (episodes, epochs): `advance` after each one;
    the line is `count_line`'s, with whatever `info` the caller gives."""

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str,
        every_s: float,
        stream: TextIO | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.label, self.total, self.unit, self.clock = label, total, unit, clock
        self.done = 0
        self.started = clock()
        self.console = ConsoleProgress(label, every_s, stream, clock)

    def advance(self, count: int = 1, info: str = "") -> None:
        self.set(self.done + count, info)

    def note(self, text: str) -> None:
        """A message of its own line (a warning), above the bar on a terminal."""
        self.console.note(text)

    def on_item(self, done: int, total: int) -> None:
        """`done` of `total` items: the callback a reader or writer is given."""
        self.set(done, total=total)

    def set(self, done: int, info: str = "", total: int | None = None) -> None:
        """`done` items so far (of `total`, where it was not known when this began)."""
        self.done = done
        self.total = total if total is not None else self.total
        elapsed_s = self.clock() - self.started
        line = count_line(self.label, done, self.total, self.unit, elapsed_s, info)
        self.console.show(done, self.total, line)

    def close(self) -> None:
        self.console.close()
