"""`userl bench vla algos=...`: the RL rows' options are checked before any run, and each
adapter run is the benchmark's run over the frozen base, on the base's observations."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from userl.benchmarks import vla, vla_rl
from userl.core.errors import ConfigError


@pytest.mark.parametrize(
    ("argument", "named"),
    [
        ("algos=hg_dagger,ppo", "'ppo'"),
        ("operators=sometimes", "'sometimes'"),
        ("base_policy=pi9", "base_policy=pi9"),
    ],
)
def test_a_bad_rl_option_is_one_line_naming_it(argument: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named) as error:
        vla.parse(["algos=hg_dagger,dsrl", argument])
    assert "\n" not in str(error.value)


def test_without_algos_the_table_is_the_hg_dagger_one() -> None:
    options, _ = vla.parse([])
    assert options["algos"] == ""


def test_an_adapter_run_drops_hg_daggers_algorithm_policy_and_pretraining(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.yaml").write_text(yaml.safe_dump({"obs": "image", "task": {"name": "x"}}))
    run = [*vla.BASE, "algo.pretrain_updates=300", "teleop=none", "run.name=a"]
    dsrl = vla_rl.adapter_overrides(run, "dsrl", base)
    assert not any(a.startswith(("algo=hg_dagger", "policy=pi0", "algo.pretrain")) for a in dsrl)
    assert dsrl[-3:] == ["algo=dsrl", f"policy.base={base}", "obs=image"]
    assert "teleop=none" in dsrl and "run.name=a" in dsrl  # the operator and name stay
    residual = vla_rl.adapter_overrides(run, "residual_sac", base)
    assert residual[-3:] == ["algo=residual_sac", f"policy.base={base}", "obs=image"]


def test_the_base_run_stops_once_behaviour_cloning_is_done() -> None:
    base = vla_rl.base_overrides(["algo.pretrain_updates=300"], "flow_g")
    assert base[-2:] == ["policy=flow_g", f"run.grad_steps={vla_rl.BASE_GRAD_STEPS}"]
    assert 0 < vla_rl.BASE_GRAD_STEPS <= 300
