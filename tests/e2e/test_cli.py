"""The command line contract: bad input exits 2 with one line naming the problem."""

import subprocess
import sys
from pathlib import Path

import pytest


def userl(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "userl.cli", *arguments], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["train", "algo.bogus=1"], "algo.bogus"),
        (["train", "task=bogus"], "bogus"),
        (["train", "algo.gamma=x"], "algo.gamma"),
        (["eval", "episodes=3"], "run="),
        (["data", "stats", "/nonexistent/store"], "/nonexistent/store"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_bad_input_exits_2_with_one_line(arguments: list[str], named: str) -> None:
    result = userl(*arguments)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr


def test_existing_run_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "summary.json").write_text("{}")
    result = userl("train", f"run.root={tmp_path}", "run.name=taken")
    assert result.returncode == 2
    assert "already exists" in result.stderr
    assert (tmp_path / "taken" / "summary.json").read_text() == "{}"
