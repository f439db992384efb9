"""RECAP from a behaviour-cloned start (`algo=recap policy.weights=DIR`, #43): the export of
an unlabelled flow loads into the labelled flow, every tensor under the wrapped field's name
and the label embedding at zero, so the labelled flow acts exactly as the one it came from;
a policy that cannot be that start is refused in one line naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from userl.algorithms import build_algorithm
from userl.config.loader import load_config
from userl.core.errors import ConfigError
from userl.core.specs import ObservationSpec
from userl.policies import build_policy
from userl.policies.exported import load_exported, write_exported

STATE = ObservationSpec(state_dim=12)
SMALL = "policy.hidden_dims=[16,16]"


def exported_flow(folder: Path, overrides: list[str]) -> torch.nn.Module:
    """A flow policy of `overrides`, its weights moved off their init, exported to `folder`."""
    config = load_config(overrides).policy
    policy = build_policy(config, STATE, 7).eval()
    with torch.no_grad():
        for parameter in policy.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    write_exported(folder, policy, config, STATE, 7, {"run": "bc"})
    return policy


def sampled(policy: torch.nn.Module, obs: dict[str, torch.Tensor]) -> torch.Tensor:
    torch.manual_seed(3)
    with torch.no_grad():
        return policy.act(obs, deterministic=False)


@pytest.mark.parametrize("guidance", ["1", "2.5"])
def test_a_labelled_flow_starts_as_the_behaviour_cloned_flow(tmp_path: Path, guidance: str) -> None:
    bc = exported_flow(tmp_path, ["algo=hg_dagger", "policy=flow_g", SMALL])
    config = load_config(
        ["algo=recap", "policy=flow_g", SMALL, f"policy.guidance={guidance}"]
        + [f"policy.weights={tmp_path}"]
    ).policy
    assert config.advantage_labels  # type: ignore[attr-defined]
    labelled = build_policy(config, STATE, 7).eval()
    state = labelled.state_dict()
    assert torch.count_nonzero(state["velocity.embedding.weight"]) == 0  # every label a no-op
    for key, tensor in bc.state_dict().items():
        mine = key.replace("velocity.", "velocity.field.", 1)
        assert torch.equal(state[mine], tensor), key
    obs = {"state": torch.randn(6, STATE.state_dim)}
    with torch.no_grad():
        assert torch.equal(labelled.act(obs, True), bc.act(obs, True))
    assert torch.allclose(sampled(labelled, obs), sampled(bc, obs), atol=1e-6)


def test_recap_trains_from_the_start_it_was_given(tmp_path: Path) -> None:
    bc = exported_flow(tmp_path, ["algo=hg_dagger", "policy=flow_g", SMALL])
    run = load_config(["algo=recap", "policy=flow_g", SMALL, f"policy.weights={tmp_path}"])
    algorithm = build_algorithm(run.algo, run.policy, STATE, 7)
    synced = algorithm.policy_state_dict()  # what the robots load before the first update
    for key, tensor in bc.state_dict().items():
        assert torch.equal(synced[key.replace("velocity.", "velocity.field.", 1)], tensor), key
    assert torch.count_nonzero(synced["velocity.embedding.weight"]) == 0


def test_a_recap_export_loads_back_as_it_was(tmp_path: Path) -> None:
    """A labelled export (a RECAP run's) keeps its trained label embedding."""
    recap = exported_flow(tmp_path, ["algo=recap", "policy=flow_g", SMALL])
    config = load_config(["algo=recap", "policy=flow_g", SMALL, f"policy.weights={tmp_path}"])
    loaded = build_policy(config.policy, STATE, 7)
    for key, tensor in recap.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], tensor), key


@pytest.mark.parametrize(
    ("exported", "loading", "says"),
    [
        (["policy=mlp", SMALL], ["policy=flow_g"], "holds a 'mlp' policy"),
        (["algo=hg_dagger", "policy=flow_t"], ["policy=flow_g"], "holds a 'flow_t' policy"),
        (["algo=hg_dagger", "policy=flow_g", SMALL], ["policy=flow_g"], "policy.hidden_dims=[16"),
        (
            ["algo=recap", "policy=flow_g", SMALL],
            ["algo=hg_dagger", "policy=flow_g", SMALL],
            "policy.advantage_labels=true",
        ),
    ],
)
def test_a_start_of_another_policy_is_one_line_naming_the_key(
    tmp_path: Path, exported: list[str], loading: list[str], says: str
) -> None:
    exported_flow(tmp_path, exported)
    algo = [] if any(o.startswith("algo=") for o in loading) else ["algo=recap"]
    with pytest.raises(ConfigError, match=f"^policy.weights={tmp_path}") as error:
        load_config([*algo, *loading, f"policy.weights={tmp_path}"])
    assert says in str(error.value) and "\n" not in str(error.value)


def test_a_start_for_another_observation_is_refused_in_one_line(tmp_path: Path) -> None:
    exported_flow(tmp_path, ["algo=hg_dagger", "policy=flow_g", SMALL])
    config = load_config(["algo=recap", "policy=flow_g", SMALL, f"policy.weights={tmp_path}"])
    other = ObservationSpec(state_dim=13)
    policy = build_policy(load_config(["algo=recap", "policy=flow_g", SMALL]).policy, other, 7)
    with pytest.raises(ConfigError, match="exported for state 12, views none, 7 actions"):
        load_exported(policy, config.policy.weights, other, 7)
