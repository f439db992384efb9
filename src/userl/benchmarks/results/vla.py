"""A VLA collection's section of the results page: `bench vla` runs grouped by setting (one
policy over the tasks or one per task, batch weights, demos, behaviour-cloning updates, online
episodes, pipeline, extra overrides) and task, each seed's BC start and success after the
online episodes, with the runs' interventions, timings, machine and date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from statistics import mean
from typing import Any

from userl.benchmarks.results.learning import task_order
from userl.benchmarks.results.markdown import Machines, count, dates, rate, seconds, signed, table
from userl.benchmarks.results.records import Collection, Record

WEIGHT_OVERRIDE = "cells."  # `cells.<task>.weight=W`: a task's batch weight given as override
WEIGHT_SUFFIX = ".weight"


@dataclass(frozen=True)
class VlaSetting:
    """What a `bench vla` run trained, apart from its seed and the task a row is on."""

    policy: str
    multitask: bool
    weights: str  # "task:weight,..." or "equal"
    demos: str
    pretrain: str
    episodes: str
    pipeline: str
    extra: tuple[str, ...]

    def describe(self) -> str:
        """The setting in words."""
        scope = "one policy for all tasks" if self.multitask else "one policy per task"
        weights = f", weights {self.weights}" if self.multitask else ""
        extra = f", {' '.join(self.extra)}" if self.extra else ""
        return (
            f"{self.policy}, {scope}{weights}; {self.demos} demos, {self.pretrain} BC updates, "
            f"{self.episodes} online episodes per task{extra}"
        )

    def order(self) -> tuple[bool, bool, bool, int, int, tuple[str, ...]]:
        """Sort key: one policy over the tasks first, sync first, weighted first."""
        return (
            not self.multitask,
            self.pipeline != "sync",
            self.weights == "equal",
            int(self.demos),
            int(self.pretrain),
            self.extra,
        )


@dataclass(frozen=True)
class VlaRow:
    """One task's row of one record."""

    record: Record
    setting: VlaSetting
    seed: str
    row: dict[str, Any]


def is_weight(override: str) -> bool:
    """Whether an override sets a cell's batch weight."""
    key = override.partition("=")[0]
    return key.startswith(WEIGHT_OVERRIDE) and key.endswith(WEIGHT_SUFFIX)


def weights(options: dict[str, str], overrides: list[str]) -> str:
    """The tasks' batch weights: the `task_weights` option, or `cells.<task>.weight=`
    overrides, or equal."""
    given = options.get("task_weights", "")
    if given:
        return given
    found = [
        f"{key.removeprefix(WEIGHT_OVERRIDE).removesuffix(WEIGHT_SUFFIX)}:{value}"
        for key, _, value in (o.partition("=") for o in overrides if is_weight(o))
    ]
    return ",".join(found) or "equal"


def policy(overrides: list[str]) -> str:
    """The policy preset the runs trained: the last `policy=` override, else the benchmark's."""
    from userl.benchmarks.vla import BASE

    given = [o.partition("=")[2] for o in [*BASE, *overrides] if o.startswith("policy=")]
    return given[-1] if given else "not recorded"


def vla_rows(record: Record) -> list[VlaRow]:
    """The record's rows, each with the setting it ran."""
    options: dict[str, str] = record.data.get("options", {})
    overrides: list[str] = record.data.get("overrides", [])
    tasks = [t for t in options.get("tasks", "").split(",") if t]
    multitask = options.get("multitask", "false").lower() == "true" and len(tasks) > 1
    rows = []
    for row in record.data["rows"]:
        setting = VlaSetting(
            policy=policy(overrides),
            multitask=multitask,
            weights=weights(options, overrides) if multitask else "equal",
            demos=options.get("demos", "?"),
            pretrain=options.get("pretrain", "?"),
            episodes=options.get("episodes", "?"),
            pipeline=str(row.get("pipeline", options.get("pipelines", "?"))),
            extra=tuple(
                o
                for o in overrides
                if not (multitask and is_weight(o)) and not o.startswith("policy=")
            ),
        )
        rows.append(VlaRow(record, setting, options.get("seed", "?"), row))
    return rows


def seed_order(seed: str) -> tuple[int, str]:
    """Seeds in numeric order (one not recorded first)."""
    return (int(seed), "") if seed.isdigit() else (-1, seed)


def grouped(records: Iterable[Record]) -> dict[tuple[VlaSetting, str], list[VlaRow]]:
    """The rows by setting and task, seeds in order."""
    found: dict[tuple[VlaSetting, str], list[VlaRow]] = {}
    for record in records:
        for row in vla_rows(record):
            found.setdefault((row.setting, str(row.row["task"])), []).append(row)
    return {
        key: sorted(found[key], key=lambda r: (seed_order(r.seed), r.record.path))
        for key in sorted(found, key=lambda k: (k[0].order(), task_order(k[1])))
    }


def before_after(rows: list[VlaRow]) -> str:
    """Each seed's BC start and success after the online episodes."""
    return "; ".join(
        f"seed {r.seed}: {rate(r.row['bc_success'])} → **{rate(r.row['online_success'])}**"
        for r in rows
    )


def section_rows(
    groups: dict[tuple[VlaSetting, str], list[VlaRow]], machines: Machines, prefix: str
) -> list[list[str]]:
    """The table's rows, one per setting and task."""
    rows = []
    for (setting, task), found in groups.items():
        rows.append(
            [
                setting.describe(),
                task,
                setting.pipeline,
                before_after(found),
                signed(mean(r.row["gain"] for r in found)),
                f"{mean(r.row['interventions_per_episode'] for r in found):.1f}",
                seconds(mean(r.row["generation_s_per_episode"] for r in found)),
                seconds(mean(r.row["training_s_per_update"] for r in found), 3),
                ", ".join(count(r.row["grad_steps"]) for r in found),
                ", ".join(
                    f"[{r.record.path.rsplit('/', 1)[-1]}]({prefix}{r.record.path})" for r in found
                ),
                machines.labels(r.record.machine for r in found),
                dates(r.record.date for r in found),
            ]
        )
    return rows


def section(collection: Collection, machines: Machines, prefix: str = "") -> list[str]:
    """The collection's VLA table (its heading is the page's)."""
    header = [
        "setting",
        "task",
        "pipeline",
        "BC start → after online episodes",
        "gain (mean)",
        "interventions / episode",
        "generation s / episode",
        "training s / update",
        "updates",
        "records",
        "machine",
        "date",
    ]
    rows = section_rows(grouped(collection.vla), machines, prefix)
    return [*table(header, rows), ""]
