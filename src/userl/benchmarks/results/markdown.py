"""Markdown pieces the results page is made of: tables, figures formatted one way, heading
anchors, links between the page, README and the records, and the machines the rows ran on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

NONE = "—"
NOT_RECORDED = "not recorded"
MACHINES_HEADING = "Machines"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table's lines (a `|` inside a cell is escaped)."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(row) for row in rows)]


def rate(value: float | None) -> str:
    """A success rate or a gain: two decimals."""
    return NONE if value is None else f"{value:.2f}"


def signed(value: float | None) -> str:
    """A difference of rates, with its sign."""
    return NONE if value is None else f"{value:+.2f}"


def minutes(value: float | None) -> str:
    """Robot-minutes or wall minutes: one decimal."""
    return NONE if value is None else f"{value:.1f}"


def seconds(value: float | None, decimals: int = 2) -> str:
    """A time in seconds."""
    return NONE if value is None else f"{value:.{decimals}f}"


def count(value: float) -> str:
    """A count with thousands separators."""
    return f"{round(value):,}"


def kilo_steps(env_steps: float) -> str:
    """Env steps in thousands, as a curve's x axis reads them (`0`, `2.1k`)."""
    return "0" if env_steps == 0 else f"{env_steps / 1000:.1f}k"


def anchor(heading: str) -> str:
    """The anchor GitHub and MkDocs both give `heading` (other characters than words, digits,
    spaces and hyphens dropped); a heading they would anchor differently is a ValueError."""
    kept = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    github = kept.replace(" ", "-")
    if github != re.sub(r"[-\s]+", "-", kept):
        raise ValueError(f"heading {heading!r}: use single spaces between words, no ' - '")
    return github


def dates(values: Iterable[str]) -> str:
    """The dates of a row's records: one, or the first and the last (and `not recorded`
    where some record has none)."""
    given = set(values)
    known = sorted(given - {NOT_RECORDED})
    parts = [known[0] if len(known) == 1 else f"{known[0]} to {known[-1]}"] if known else []
    if NOT_RECORDED in given:
        parts.append(NOT_RECORDED)
    return ", ".join(parts) or NONE


class Machines:
    """The machines a page's rows ran on, numbered in the order the page first names them
    (M1, M2, ...), each described once in the page's machines section."""

    def __init__(self) -> None:
        self.described: dict[str, dict[str, Any]] = {}

    def label(self, machine: dict[str, Any]) -> str:
        """The machine's label, linked to its description."""
        key = json.dumps(machine, sort_keys=True)
        if key not in self.described:
            self.described[key] = machine
        number = list(self.described).index(key) + 1
        return f"[M{number}](#{anchor(MACHINES_HEADING)})"

    def labels(self, machines: Iterable[dict[str, Any]]) -> str:
        """The labels of a row's machines (one per distinct machine)."""
        found = list(dict.fromkeys(self.label(m) for m in machines))
        return ", ".join(found) if found else NONE

    def section(self) -> list[str]:
        """The machines section: one row per machine named on the page."""
        rows = []
        for number, machine in enumerate(self.described.values(), start=1):
            native = machine.get("bf16_matmuls_native")
            rows.append(
                [
                    f"M{number}",
                    str(machine.get("cpu", NOT_RECORDED)),
                    str(machine.get("cores", NOT_RECORDED)),
                    str(machine.get("gpu", NOT_RECORDED)),
                    str(machine.get("torch", NOT_RECORDED)),
                    NOT_RECORDED if native is None else ("yes" if native else "no"),
                    str(machine.get("note", "")),
                ]
            )
        header = ["machine", "CPU", "cores", "GPU", "torch", "native bf16 matmuls (CPU)", "note"]
        return [f"## {MACHINES_HEADING}", "", *table(header, rows)]
