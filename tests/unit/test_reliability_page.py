"""docs/reliability.md names a regression test for every fault it lists: each named test must
exist, so the page cannot claim a guarantee nothing checks."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reliability.md"
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def table_rows() -> list[str]:
    return [
        line
        for line in PAGE.read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| Fault") and "---" not in line
    ]


def test_every_row_names_at_least_one_test() -> None:
    rows = table_rows()
    assert rows
    assert [row for row in rows if not TEST_REFERENCE.search(row)] == []


def test_every_named_test_exists() -> None:
    missing = []
    for path, name in TEST_REFERENCE.findall(PAGE.read_text()):
        source = ROOT / path
        if not source.is_file() or not re.search(rf"^def {name}\(", source.read_text(), re.M):
            missing.append(f"{path}::{name}")
    assert missing == []
