"""The runtime stays in small modules with one job each: none of them may grow past
`MAX_LINES` (docs/design.md lists them and their jobs). A module about to pass it is split
along a job it has taken on, not trimmed."""

from __future__ import annotations

from pathlib import Path

import userl

RUNTIME = Path(userl.__file__).parent / "runtime"
MAX_LINES = 300  # lines per module under src/userl/runtime/


def line_count(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_runtime_module_is_over_the_limit() -> None:
    modules = sorted(RUNTIME.rglob("*.py"))
    assert modules, f"no modules found under {RUNTIME}"
    counts = {str(p.relative_to(RUNTIME)): line_count(p) for p in modules}
    assert {name: lines for name, lines in counts.items() if lines > MAX_LINES} == {}


def test_the_count_is_the_files_lines(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("a = 1\n" * (MAX_LINES + 1))
    assert line_count(module) == MAX_LINES + 1
