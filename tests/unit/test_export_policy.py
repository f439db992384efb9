"""`userl export-policy` and `policy.weights=DIR`: a run's policy as config.json +
model.safetensors, loaded back into a policy that acts the same; bad input is one line,
exit 2, and nothing on disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from userl.cli import main
from userl.config.loader import load_config, to_yaml
from userl.core.errors import ConfigError
from userl.core.specs import ImageSpec, ObservationSpec
from userl.policies import build_policy
from userl.policies.exported import CONFIG_FILE, WEIGHTS_FILE, load_exported, write_exported
from userl.tools.export_policy import export_policy, policy_observation

STATE = ObservationSpec(state_dim=12)
VIEWS = ObservationSpec(state_dim=12, images=(ImageSpec("front", 64, 64),))


def observations(spec: ObservationSpec, batch: int = 5) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    obs = {"state": torch.randn(batch, spec.state_dim, generator=generator)}
    for view in spec.images:
        shape = (batch, view.height_px, view.width_px, 3)
        obs[view.name] = torch.randint(0, 255, shape, generator=generator, dtype=torch.uint8)
    return obs


def trained_like(policy: torch.nn.Module) -> None:
    """Weights unlike a fresh policy's, so a load that did nothing cannot pass."""
    with torch.no_grad():
        for parameter in policy.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))


@pytest.mark.parametrize(
    ("overrides", "spec"), [(["policy=mlp"], STATE), (["policy=cnn_small", "obs=image"], VIEWS)]
)
def test_an_export_loads_back_and_acts_the_same(
    tmp_path: Path, overrides: list[str], spec: ObservationSpec
) -> None:
    config = load_config(overrides).policy
    policy = build_policy(config, spec, 7).eval()
    trained_like(policy)
    write_exported(tmp_path / "export", policy, config, spec, 7, {"run": "r"})
    document = json.loads((tmp_path / "export" / CONFIG_FILE).read_text())
    assert document["policy"]["name"] == config.name and document["observation"]["action_dim"] == 7
    assert load_file(str(tmp_path / "export" / WEIGHTS_FILE)).keys() == policy.state_dict().keys()
    loaded_config = load_config([*overrides, f"policy.weights={tmp_path / 'export'}"]).policy
    loaded = build_policy(loaded_config, spec, 7).eval()
    obs = observations(spec)
    with torch.no_grad():
        expected = policy.act(obs, deterministic=True)
        actual = loaded.act(obs, deterministic=True)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def test_a_policy_config_unlike_the_exported_one_is_one_line_naming_the_keys(
    tmp_path: Path,
) -> None:
    config = load_config(["policy.hidden_dims=[32,32]"]).policy
    write_exported(tmp_path, build_policy(config, STATE, 7), config, STATE, 7, {})
    with pytest.raises(ConfigError, match=r"policy.hidden_dims=\[32, 32\]") as error:
        load_config([f"policy.weights={tmp_path}"])
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="'mlp' policy and this config builds 'cnn'"):
        load_config(["policy=cnn_small", "obs=image", f"policy.weights={tmp_path}"])


def test_an_export_for_another_observation_is_refused_in_one_line(tmp_path: Path) -> None:
    config = load_config([]).policy
    write_exported(tmp_path, build_policy(config, STATE, 7), config, STATE, 7, {})
    other = ObservationSpec(state_dim=13)
    with pytest.raises(ConfigError, match="exported for state 12, views none, 7 actions"):
        load_exported(build_policy(config, other, 7), str(tmp_path), other, 7)


@pytest.mark.parametrize("content", [None, "not json", json.dumps({"format": "other"})])
def test_a_folder_that_is_not_an_export_is_one_line(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / CONFIG_FILE).write_text(content)
        (tmp_path / WEIGHTS_FILE).write_bytes(b"")
    with pytest.raises(ConfigError, match=f"policy.weights={tmp_path}") as error:
        load_config([f"policy.weights={tmp_path}"])
    assert "\n" not in str(error.value)


def fake_run(folder: Path, checkpoint: bool = True) -> torch.nn.Module:
    """A run folder as `userl train` leaves it: its config and, with `checkpoint`, the
    latest checkpoint's policy tensors (what `Checkpoints.save` keeps of it)."""
    config = load_config(["run.name=fake"])
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(to_yaml(config))
    spec, action_dim = policy_observation(config)
    policy = build_policy(config.policy, spec, action_dim).eval()
    trained_like(policy)
    if checkpoint:
        (folder / "checkpoints").mkdir()
        state = {"policy": policy.state_dict(), "env_steps": 300, "grad_steps": 40}
        torch.save(state, folder / "checkpoints" / "latest.pt")
    return policy


def test_export_policy_writes_the_runs_checkpointed_policy(tmp_path: Path) -> None:
    policy = fake_run(tmp_path / "run")
    report = export_policy(str(tmp_path / "run"), str(tmp_path / "out"))
    assert report["env_steps"] == 300 and report["policy"] == "mlp"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    config = load_config([f"policy.weights={tmp_path / 'out'}"])
    spec, _ = policy_observation(config)
    loaded = build_policy(config.policy, spec, 7)
    state = np.random.default_rng(0).normal(size=(4, spec.state_dim)).astype(np.float32)
    obs = {"state": torch.as_tensor(state)}
    with torch.no_grad():
        torch.testing.assert_close(loaded.act(obs, True), policy.act(obs, True))


def bad_export(tmp_path: Path, capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    assert main(["export-policy", *arguments]) == 2
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing written
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    return err


def test_export_policy_bad_input_is_exit_2_one_line_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = f"out={tmp_path / 'out'}"
    assert "no run there" in bad_export(tmp_path, capsys, f"run={tmp_path / 'nope'}", out)
    fake_run(tmp_path / "fresh", checkpoint=False)
    assert "has no checkpoint" in bad_export(tmp_path, capsys, f"run={tmp_path / 'fresh'}", out)
    fake_run(tmp_path / "run")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    full = f"out={tmp_path / 'full'}"
    assert "not empty" in bad_export(tmp_path, capsys, f"run={tmp_path / 'run'}", full)
    assert "needs run=" in bad_export(tmp_path, capsys, out)
    assert "not 'x=1'" in bad_export(tmp_path, capsys, f"run={tmp_path / 'run'}", out, "x=1")


@pytest.mark.parametrize("algo", ["rlpd", "hg_dagger"])
def test_trainings_algorithm_starts_from_the_export(tmp_path: Path, algo: str) -> None:
    """`userl train policy.weights=DIR`: the learner's policy (the one it trains and syncs
    to the robots) holds the export's tensors before its first update."""
    from userl.algorithms import build_algorithm

    config = load_config([]).policy
    policy = build_policy(config, STATE, 7)
    trained_like(policy)
    write_exported(tmp_path, policy, config, STATE, 7, {})
    run = load_config([f"algo={algo}", f"policy.weights={tmp_path}"])
    algorithm = build_algorithm(run.algo, run.policy, STATE, 7)
    synced = algorithm.policy_state_dict()
    assert synced and all(torch.equal(synced[k], policy.state_dict()[k]) for k in synced)
