"""Robot cells in the config: presets, a cells file, per-cell overrides, round trip, errors."""

from pathlib import Path

import pytest

from userl.config.cells import cell_config, cells_of
from userl.config.loader import ConfigError, load_config, load_config_file, to_yaml
from userl.tasks.charger import ChargerConfig
from userl.tasks.peg_insertion import PegInsertionConfig


def test_cell_presets_give_each_cell_its_task_and_the_command_line_applies_to_all() -> None:
    config = load_config(
        ["cells=[franka_peg,franka_charger]", "robot.realtime=true", "task.episode_steps=40"]
    )
    names = [cell.name for cell in config.cells]
    assert names == ["franka_peg", "franka_charger"]
    assert isinstance(config.cells[0].task, PegInsertionConfig)
    assert isinstance(config.cells[1].task, ChargerConfig)
    assert all(cell.robot.realtime for cell in config.cells)
    assert all(cell.task.episode_steps == 40 for cell in config.cells)
    assert config.task.name == "peg_insertion"  # the top-level groups are the first cell's
    charger = cell_config(config, config.cells[1])
    assert charger.task.name == "charger" and charger.cells == []


def test_a_run_without_cells_is_one_cell_of_its_top_level_groups() -> None:
    config = load_config(["task=charger"])
    (cell,) = cells_of(config)
    assert cell.name == "charger" and cell.task is config.task and cell.weight == 1.0


def test_cells_file_with_fields_weights_and_round_trip(tmp_path: Path) -> None:
    cells = tmp_path / "cells.yaml"
    cells.write_text(
        "left: franka_peg\n"
        "right:\n  task: {preset: charger, episode_steps: 30}\n"
        "  robot: sim_franka\n  weight: 3\n"
    )
    config = load_config([f"cells={cells}"])
    assert [c.name for c in config.cells] == ["left", "right"]
    assert config.cells[1].task.episode_steps == 30
    assert config.cells[0].task.episode_steps == 100
    assert config.cells[1].weight == 3.0
    saved = tmp_path / "config.yaml"
    saved.write_text(to_yaml(config))
    again = load_config_file(saved, ["eval.episodes=3"])
    assert again.cells == config.cells
    assert again.eval.episodes == 3


@pytest.mark.parametrize(
    ("cells", "named"),
    [
        ("[nope]", "nope"),
        ("[franka_peg,franka_peg]", "franka_peg"),
        ("missing.yaml", "missing.yaml"),
        ("{}", "cells"),
    ],
)
def test_bad_cells_are_one_line_naming_them(cells: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config([f"cells={cells}"])
    assert named in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("a:\n  tsak: charger\n", "tsak"),
        ("a:\n  task: nonexistent\n", "nonexistent"),
        ("a:\n  task: {episode_steps: 3}\n", "preset"),
        ("a:\n  task: {preset: charger, bogus: 1}\n", "bogus"),
        ("a:\n  weight: 0\n", "weight"),
    ],
)
def test_bad_cell_file_entries_name_the_cell_and_key(tmp_path: Path, body: str, named: str) -> None:
    path = tmp_path / "cells.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError) as caught:
        load_config([f"cells={path}"])
    assert named in str(caught.value)


def test_copies_of_a_robot_are_not_mixed_with_cells() -> None:
    with pytest.raises(ConfigError, match="num_robots"):
        load_config(["cells=[franka_peg,franka_charger]", "run.num_robots=2"])


def test_cli_exits_2_on_an_unknown_cell(capsys: pytest.CaptureFixture[str]) -> None:
    from userl.cli import main

    assert main(["config", "show", "cells=[franka_pegg]"]) == 2
    assert "franka_peg" in capsys.readouterr().err


def test_one_cell_is_overridden_on_the_command_line_by_its_name() -> None:
    config = load_config(
        [
            "cells=[franka_peg,franka_charger]",
            "cells.franka_charger.task.episode_steps=20",
            "cells.franka_charger.weight=2.5",
        ]
    )
    peg, charger = config.cells
    assert (peg.task.episode_steps, charger.task.episode_steps) == (100, 20)
    assert (peg.weight, charger.weight) == (1.0, 2.5)


@pytest.mark.parametrize(
    ("argument", "named"),
    [
        ("cells.franka_pegg.task.episode_steps=3", "franka_pegg"),
        ("cells.franka_peg.tsak.episode_steps=3", "tsak"),
        ("cells.franka_peg.task.bogus=3", "bogus"),
    ],
)
def test_bad_per_cell_overrides_name_the_key(argument: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(["cells=[franka_peg,franka_charger]", argument])
    assert named in str(caught.value)
