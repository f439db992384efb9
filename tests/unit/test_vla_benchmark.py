"""`userl bench vla`'s options: the multi-task default, task weights and the short version."""

from __future__ import annotations

import pytest

from userl.benchmarks import vla
from userl.core.errors import ConfigError


def test_defaults_train_one_policy_on_both_tasks_with_table_cleanup_weighted_twice():
    options, overrides = vla.parse([])
    assert options["multitask"] == "true" and overrides == []
    assert vla.task_weights(options["task_weights"]) == {"table_cleanup": 2.0}
    assert vla.task_weights("") == {}


@pytest.mark.parametrize(
    "bad",
    ["table_cleanup", "table_cleanup:x", "table_cleanup:0", ":2", "pick_place:1,table_cleanup:-1"],
)
def test_a_malformed_task_weight_is_a_one_line_error_before_any_run(bad):
    with pytest.raises(ConfigError, match="task_weights=table_cleanup:2"):
        vla.parse([f"task_weights={bad}"])


def test_short_keeps_what_is_given_and_puts_its_overrides_first():
    options, overrides = vla.parse(["short=true", "demos=3", "task.episode_steps=40"])
    assert options["demos"] == "3" and options["episodes"] == vla.SHORT["episodes"]
    assert overrides == [*vla.SHORT_OVERRIDES, "task.episode_steps=40"]


def test_multitask_cells_file_carries_each_tasks_weight(tmp_path):
    options, _ = vla.parse(["task_weights=table_cleanup:3", "episodes=5"])
    overrides = vla.multitask_overrides(options, ["pick_place", "table_cleanup"], "sync", tmp_path)
    assert f"cells={tmp_path / 'cells.yaml'}" in overrides
    assert "run.episodes=10" in overrides  # episodes per task x tasks
    from userl.config.loader import load_config

    config = load_config(overrides)
    assert [(c.name, c.task.name, c.weight) for c in config.cells] == [
        ("pick_place", "pick_place", 1.0),
        ("table_cleanup", "table_cleanup", 3.0),
    ]
