"""The records kept under `docs/`, read for the results page: every JSON file, grouped by its
folder (a collection), each told apart by its content. A collection's `about.json` gives its
title, a paragraph on what its records are, and where its plots (PNG files) are drawn.

Kinds: a learning run (`<setting>-<task>-seed<k>.bench.json` with a result, as
`bench learning` writes it), a VLA run (`bench vla`'s JSON, rows with a BC start), one
`userl train` run's summary (its evaluations at the start and the end), and any other
benchmark's JSON (listed with its date and machine). Tables derived from records
(`learning_table.json`, `learning_curves.json`) are not records. Only the files are read, so a
clean clone regenerates the same page.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from userl.benchmarks.learning_plan import env_steps_override
from userl.benchmarks.learning_runs import RECORD_SUFFIX, setting_and_task
from userl.benchmarks.results.markdown import NOT_RECORDED
from userl.core.errors import ConfigError

ABOUT = "about.json"
DERIVED = frozenset({"learning_table.json", "learning_curves.json"})
SEED = re.compile(r"-seed(\d+)$")


@dataclass(frozen=True)
class Record:
    """One JSON record: its path relative to the docs folder (POSIX) and its content."""

    path: str
    data: dict[str, Any]

    @property
    def machine(self) -> dict[str, Any]:
        """The machine it ran on, as recorded (every field `not recorded` where none is)."""
        machine = self.data.get("machine")
        return dict(machine) if isinstance(machine, dict) else {"cpu": NOT_RECORDED}

    @property
    def date(self) -> str:
        """Its UTC date, as recorded."""
        return str(self.data.get("date", NOT_RECORDED))


@dataclass(frozen=True)
class LearningRun:
    """A finished `bench learning` run: one seed of a setting on a task."""

    record: Record
    setting: str
    task: str
    seed: int

    @property
    def result(self) -> dict[str, Any]:
        """Its curve and figures."""
        return dict(self.record.data["result"])

    @property
    def budget_env_steps(self) -> int:
        """Its online budget in env steps (0 where it counted episodes)."""
        return env_steps_override(self.record.data["overrides"]) or 0


@dataclass(frozen=True)
class Collection:
    """The records of one folder under docs/, by kind, and its plots."""

    folder: str
    title: str
    about: str
    learning: tuple[LearningRun, ...]
    vla: tuple[Record, ...]
    other: tuple[Record, ...]
    plots: tuple[str, ...]
    runs: tuple[Record, ...] = ()  # `userl train` summaries: success before and after


def learning_run(record: Record) -> LearningRun | None:
    """The record as a finished learning run, or None when it is not one."""
    name = Path(record.path).name
    if not name.endswith(RECORD_SUFFIX) or record.data.get("result") is None:
        return None
    setting, task = setting_and_task(Path(record.path))
    seed = SEED.search(name.removesuffix(RECORD_SUFFIX))
    if seed is None:
        raise ConfigError(f"{record.path}: no -seed<k> in the name")
    return LearningRun(record, setting, task, int(seed.group(1)))


def is_vla(record: Record) -> bool:
    """Whether the record is `bench vla`'s: rows with a BC start and a success after."""
    rows = record.data.get("rows")
    return isinstance(rows, list) and bool(rows) and all("bc_success" in r for r in rows)


def is_run(record: Record) -> bool:
    """Whether the record is one `userl train` run's summary: its evaluation at the start
    and at the end, and its counters."""
    keys = ("initial_eval_success_rate", "eval_success_rate", "env_steps", "grad_steps")
    return all(key in record.data for key in keys)


def about(folder: Path, relative: str) -> dict[str, str]:
    """A collection's `about.json`: its `title`, its paragraph (`about`) and the folder its
    plots are drawn into (`plots`, relative to its own; itself by default)."""
    path = folder / ABOUT
    data = json.loads(path.read_text()) if path.is_file() else {}
    return {
        "title": str(data.get("title", f"Records in {relative}")),
        "about": str(data.get("about", "")),
        "plots": str(data.get("plots", ".")),
    }


def read(path: Path, docs: Path) -> Record | None:
    """A record file, or None for JSON that is not an object (a derived table)."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        return None
    return Record(path.relative_to(docs).as_posix(), data)


def collection(folder: Path, docs: Path) -> Collection | None:
    """The collection of the records directly in `folder`, or None when it holds none."""
    learning: list[LearningRun] = []
    vla: list[Record] = []
    runs: list[Record] = []
    other: list[Record] = []
    for path in sorted(folder.glob("*.json")):
        if path.name == ABOUT or path.name in DERIVED:
            continue
        record = read(path, docs)
        if record is None:
            continue
        run = learning_run(record)
        if run is not None:
            learning.append(run)
        elif is_vla(record):
            vla.append(record)
        elif is_run(record):
            runs.append(record)
        else:
            other.append(record)
    if not (learning or vla or runs or other):
        return None
    relative = folder.relative_to(docs).as_posix()
    described = about(folder, relative)
    drawn = Path(os.path.normpath(folder / described["plots"]))
    plots = tuple(p.relative_to(docs).as_posix() for p in sorted(drawn.glob("*.png")))
    return Collection(
        relative,
        described["title"],
        described["about"],
        tuple(learning),
        tuple(vla),
        tuple(other),
        plots,
        tuple(runs),
    )


def collections(docs: Path) -> list[Collection]:
    """Every collection under `docs`, by folder path."""
    if not docs.is_dir():
        raise ConfigError(f"docs={docs} is not a folder; give the folder that holds the records")
    folders = sorted({p.parent for p in docs.rglob("*.json")}, key=lambda p: p.as_posix())
    found = [collection(folder, docs) for folder in folders]
    return [c for c in found if c is not None]
