"""`learner.sharding=fsdp` is refused at config load, in one line and exit 2 before Ray
starts, with one learner rank or with a policy that has no transformer layers (the line
names the policies that have them, read from their configs' `SHARDS_LAYERS`); which modules
a layer-wise sharding takes from a transformer stack."""

from __future__ import annotations

import pytest
from torch import nn

from userl.cli import main
from userl.config.compatibility import layered_policies
from userl.config.loader import load_config
from userl.core.errors import ConfigError
from userl.policies.sharding import layer_units

PI0 = ("algo=hg_dagger", "policy=pi0_tiny", "obs=image", "algo.batch_size=32")


def test_the_policies_with_layers_are_read_from_their_configs():
    assert layered_policies() == ["pi0", "pi0_tiny"]


def test_fsdp_with_one_rank_is_one_line():
    with pytest.raises(ConfigError) as refused:
        load_config([*PI0, "learner.sharding=fsdp"])
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("learner.sharding=fsdp shards the policy over the learner's ranks")
    assert "learner.devices=1; set learner.devices=2 or more" in message


def test_fsdp_with_a_policy_without_layers_names_those_with_layers():
    with pytest.raises(ConfigError) as refused:
        load_config(["algo=hg_dagger", "policy=mlp", "learner.devices=2", "learner.sharding=fsdp"])
    message = str(refused.value)
    assert "\n" not in message
    assert "policy=mlp has none; it takes policy=pi0|pi0_tiny" in message


def test_fsdp_over_two_ranks_with_pi0_loads():
    config = load_config([*PI0, "learner.devices=2", "learner.sharding=fsdp"])
    assert config.learner.sharding == "fsdp"
    assert load_config(list(PI0)).learner.sharding == "replicate"


def test_a_bad_sharding_is_exit_2_and_one_line_before_ray(capsys):
    assert main(["train", *PI0, "learner.sharding=fsdp"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "learner.sharding=fsdp" in error
    assert main(["config", "show", "learner.sharding=zero3"]) == 2
    assert "learner.sharding" in capsys.readouterr().err


class Stack(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(2, 2)
        self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.trained, self.frozen = Stack(), Stack()
        self.frozen.requires_grad_(False)


def test_layer_units_are_each_trained_layer_then_its_stack():
    model = Model()
    units = layer_units(model)
    assert [unit.module for unit in units] == [*model.trained.layers, model.trained]
    assert {unit.reshard_after_forward for unit in units} == {None}
    kept = layer_units(model, whole_until_backward=("trained",))
    assert [unit.reshard_after_forward for unit in kept] == [False, False, None]
