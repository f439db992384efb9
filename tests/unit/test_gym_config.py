"""`task=gym:<id>` and its free-form `task.kwargs.*` in the config loader."""

import pytest

from userl.config.loader import ConfigError, load_config, load_config_file, to_yaml
from userl.envs.gym_env import GymTaskConfig


def test_preset_argument_sets_the_id_and_kwargs_are_free_form(tmp_path) -> None:
    config = load_config(
        [
            "task=gym:Reacher-v5",
            "task.kwargs.reward_dist_weight=2",
            "task.kwargs.xml_file=arm.xml",
            "task.module=my_envs",
        ]
    )
    assert isinstance(config.task, GymTaskConfig)
    assert (config.task.id, config.task.module) == ("Reacher-v5", "my_envs")
    assert config.task.kwargs == {"reward_dist_weight": 2, "xml_file": "arm.xml"}
    aliased = load_config(
        ["task=gym:Reacher-v5", "gym.kwargs.reward_dist_weight=3", "gym.module=my_envs"]
    )  # the spelling: gym.* is task.*
    assert aliased.task.kwargs == {"reward_dist_weight": 3} and aliased.task.module == "my_envs"
    saved = tmp_path / "config.yaml"
    saved.write_text(to_yaml(config))
    again = load_config_file(saved)  # a run's saved config reloads with its kwargs
    assert again.task.kwargs == config.task.kwargs and again.task.id == "Reacher-v5"


@pytest.mark.parametrize(
    "arguments, named",
    [
        (["task=peg_insertion:x"], "takes no ':argument'"),
        (["task=gym:"], "needs a value after the colon"),
        (["task=gym:Reacher-v5", "task.bogus=1"], "task.bogus"),
        (["task=nope:Reacher-v5"], "unknown task preset 'nope'"),
    ],
)
def test_bad_gym_arguments_name_the_problem(arguments, named) -> None:
    with pytest.raises(ConfigError, match=named):
        load_config(arguments)
