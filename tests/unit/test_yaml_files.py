"""A user's YAML file with a Python tag or broken syntax is one line naming the file, exit 2,
and nothing in it runs; a cells file and a cluster file go through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from userl.cli import main
from userl.core.errors import ConfigError
from userl.core.yaml_files import read_yaml

TAGGED = 'cells:\n  - !!python/object/apply:os.system ["touch {marker}"]\n'


def test_plain_yaml_reads_as_data(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("a: [1, 2]\nb: text\n")
    assert read_yaml(path, "a test file") == {"a": [1, 2], "b": "text"}


@pytest.mark.parametrize("text", [TAGGED, "a: [1, 2\n", "a: !!python/name:os.system\n"])
def test_a_tag_or_broken_syntax_is_one_line_naming_the_file(tmp_path: Path, text: str) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "bad.yaml"
    path.write_text(text.format(marker=marker))
    with pytest.raises(ConfigError) as error:
        read_yaml(path, "cells=bad.yaml")
    message = str(error.value)
    assert "\n" not in message and str(path) in message and "plain YAML" in message
    assert not marker.exists()


@pytest.mark.parametrize(("command", "key"), [("config", "cells"), ("train", "cluster")])
def test_the_cli_refuses_a_tagged_file_with_exit_2_and_writes_nothing(
    tmp_path: Path, command: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "bad.yaml"
    path.write_text(TAGGED.format(marker=marker))
    arguments = ["show"] if command == "config" else []
    runs = tmp_path / "runs"
    assert main([command, *arguments, f"{key}={path}", f"run.root={runs}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "plain YAML" in lines[0]
    assert not marker.exists() and not runs.exists()
