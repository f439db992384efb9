"""Config composition: presets, overrides, unknown keys, types and ranges, round trip."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from userl.algorithms.sac import SACConfig
from userl.config.loader import ConfigError, load_config, load_config_file, to_yaml
from userl.config.pipelines import SyncPipelineConfig


def test_defaults_compose_from_presets() -> None:
    config = load_config([])
    assert config.task.name == "peg_insertion"
    assert isinstance(config.algo, SACConfig)
    assert config.algo.num_critics == 10  # the rlpd preset is the default
    assert config.algo.demo_fraction == 0.5
    assert config.pipeline.name == "async"


def test_a_config_built_in_code_is_the_command_lines_default_run() -> None:
    """One table of defaults: `Config()` (tests, tools) holds the components, with the
    values, that the command line composes with no arguments."""
    from dataclasses import fields

    from userl.config.schema import Config

    built, loaded = Config(), load_config([])
    for group in fields(Config):
        assert getattr(built, group.name) == getattr(loaded, group.name), group.name
    assert isinstance(built.algo, SACConfig) and built.algo.num_critics == 10  # rlpd


def test_group_selection_and_overrides() -> None:
    config = load_config(
        [
            "pipeline=sync",
            "algo=sac",
            "run.env_steps=2000",
            "algo.gamma=0.9",
            "policy.hidden_dims=[64,64]",
            "obs=image",
        ]
    )
    assert isinstance(config.pipeline, SyncPipelineConfig)
    assert config.algo.num_critics == 2
    assert config.run.env_steps == 2000
    assert config.algo.gamma == pytest.approx(0.9)
    assert config.policy.hidden_dims == [64, 64]
    assert config.obs == "image"


def test_later_override_wins_and_text_fields_stay_text() -> None:
    config = load_config(["run.seed=1", "run.seed=2", "run.name=0123"])
    assert config.run.seed == 2
    assert config.run.name == "0123"


@pytest.mark.parametrize(
    ("argument", "named"),
    [
        ("algo.bogus=1", "algo.bogus"),
        ("bogus=1", "bogus"),
        ("run.env_step=10", "run.env_step"),
        ("algo.gamma=abc", "algo.gamma"),
        ("algo.gamma=2", "algo.gamma"),
        ("algo.batch_size=0", "algo.batch_size"),
        ("task=nonexistent", "task"),
        ("obs=rgb", "obs"),
        ("algo.critic_subset=11", "algo.critic_subset"),
        ("run", "run"),
        ("run=1", "run"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(argument: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config([argument])
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_saved_config_round_trips(tmp_path: Path) -> None:
    config = load_config(["algo.gamma=0.95", "run.env_steps=123", "pipeline=sync"])
    path = tmp_path / "config.yaml"
    path.write_text(to_yaml(config))
    again = load_config_file(path)
    assert again == config
    assert load_config_file(path, ["run.env_steps=7"]).run.env_steps == 7


@given(
    key=st.from_regex(r"[a-z_]{1,12}(\.[a-z_]{1,12}){0,2}", fullmatch=True),
    value=st.text(alphabet="abc0123456789.-", max_size=8),
)
def test_random_keys_never_crash(key: str, value: str) -> None:
    """Any key=value either composes or fails with a one-line ConfigError."""
    try:
        load_config([f"{key}={value}"])
    except ConfigError as error:
        assert "\n" not in str(error)


def test_cameras_deliver_views_at_the_image_policys_size_unless_given():
    small = load_config(["obs=image", "policy=cnn_small"])
    assert (small.robot.image_height_px, small.robot.image_width_px) == (64, 64)
    resized = load_config(["obs=image", "policy=cnn_small", "policy.image_size_px=32"])
    assert resized.robot.image_height_px == 32
    given = load_config(["obs=image", "policy=cnn_small", "robot.image_height_px=96"])
    assert (given.robot.image_height_px, given.robot.image_width_px) == (96, 128)
    assert load_config(["policy=mlp"]).robot.image_height_px == 128


def test_a_misspelt_key_suggests_the_closest_keys() -> None:
    with pytest.raises(ConfigError, match=r"'algo.gama'; did you mean algo.gamma"):
        load_config(["algo.gama=0.9"])


def test_every_component_config_knows_its_registered_name() -> None:
    from userl.core.registry import GROUPS, load_components

    load_components()
    for group, registry in GROUPS.items():
        for name in registry.names():
            assert registry.config(name)().name == name, (group, name)


def test_described_config_lists_every_key_with_type_value_default_and_help() -> None:
    from userl.config.describe import describe

    text = describe(load_config(["algo=rlpd", "run.seed=3"]))
    lines = {line.split(":")[0].strip(): line for line in text.splitlines() if ": " in line}
    assert lines["algo.num_critics"].startswith("  algo.num_critics: int = 10  [default: 2]")
    assert "# target = min over this many heads" in lines["algo.critic_subset"]
    assert "[default: 0]" in lines["run.seed"]
    assert "Literal['state', 'image']" in lines["obs"]
    from userl.config.validation import _leaves

    every_key = {key for key, _, _ in _leaves(load_config(["algo=rlpd"]))}
    assert {
        line.split(":")[0].strip() for line in text.splitlines() if line.startswith("  ")
    } == every_key


def test_closed_set_values_stay_text() -> None:
    """YAML would read `off` as false; a Literal field keeps the word it was given."""
    assert load_config(["algo.compile=off"]).algo.compile == "off"
    assert load_config(["obs=image"]).obs == "image"


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("run.name=../outside", "run.name"),
        ("run.name=/abs/path", "run.name"),
        ("run.name=..", "run.name"),
        ("robot.safety.watchdog_timeout_s=.inf", "robot.safety.watchdog_timeout_s"),
        ("policy.log_std_max=.nan", "policy.log_std_max"),
        ("algo.actor_lr=.inf", "algo.actor_lr"),
        ("task.action_scale_m=.inf", "task.action_scale_m"),
    ],
)
def test_a_run_name_outside_the_root_or_a_non_finite_number_is_refused(
    override: str, named: str
) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config([override])
