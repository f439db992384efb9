"""Measured figures live in records (docs/results.md is generated from them), never in code:
no docstring or comment under src/ or tests/ carries a calendar date, the mark of a figure
copied from a run. A date found here belongs in a record's `date`."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("src", "tests")
DATE = re.compile(r"\b(19|20)\d\d-(0[1-9]|1[0-2])\b")  # year-month, as in an ISO date


def prose(source: str) -> list[tuple[int, str]]:
    """The comments and docstrings of a module's source, with their line numbers."""
    found = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                found.append((node.body[0].lineno, docstring))
    return found


def dated(folder: Path) -> list[str]:
    """`path:line: text` for every comment or docstring under `folder` that holds a date."""
    hits = []
    for path in sorted(folder.rglob("*.py")):
        for line, text in prose(path.read_text()):
            match = DATE.search(text)
            if match:
                hits.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    return hits


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_dates_in_docstrings_or_comments(folder: str) -> None:
    hits = dated(ROOT / folder)
    assert not hits, "dates in prose (move the figure into a record):\n" + "\n".join(hits)


def test_the_scan_finds_dates_in_comments_and_docstrings_only() -> None:
    year = "20" + "26"  # built, so this file holds no date itself
    source = (
        f'"""Module, measured {year}-12-04."""\n'
        f"x = '{year}-12-04'  # a comment of {year}-11\n"
        f'def f() -> None:\n    """Read 0.9 ({year}-12)."""\n'
    )
    texts = [text for _, text in prose(source)]
    assert [bool(DATE.search(t)) for t in texts] == [True, True, True]
    assert not DATE.search("a string 1.0-12 or 2026-13 or version 3.10-14")
