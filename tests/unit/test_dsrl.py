"""DSRL and residual SAC over a frozen flow base (#41): the base never changes nor travels,
the noise -> chunk map is deterministic and invertible, the residual is bounded and ramps
in, and the config refuses a pair that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.adapter_base import make_base_run
from userl.algorithms import build_algorithm
from userl.algorithms.dsrl import DSRL
from userl.algorithms.residual_sac import ResidualSAC
from userl.config.loader import load_config, to_yaml
from userl.core.errors import ConfigError
from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.policies import build_policy
from userl.policies.adapters import NoiseAdapterPolicy
from userl.policies.frozen_base import base_sha256
from userl.policies.residual_adapter import ResidualAdapterPolicy

STATE_DIM, ACTION_DIM, BATCH = 6, 7, 16
SPEC = ObservationSpec(STATE_DIM)


@pytest.fixture
def base_run(tmp_path: Path) -> Path:
    return make_base_run(tmp_path / "base")


def dsrl_config(base: Path, *arguments: str):  # type: ignore[no-untyped-def]
    return load_config(
        [
            "algo=dsrl",
            f"policy.base={base}",
            "algo.batch_size=16",
            "algo.critic_hidden_dims=[16]",
            "policy.hidden_dims=[8]",
            *arguments,
        ]
    )


def random_batch(actions: torch.Tensor | None = None) -> Batch:
    return Batch(
        observations={"state": torch.randn(BATCH, STATE_DIM)},
        actions=torch.rand(BATCH, ACTION_DIM) * 1.6 - 0.8 if actions is None else actions,
        rewards=torch.randn(BATCH),
        next_observations={"state": torch.randn(BATCH, STATE_DIM)},
        terminated=torch.zeros(BATCH),
        intervened=torch.zeros(BATCH),
    )


def test_base_is_bit_identical_after_updates_and_never_published(base_run: Path) -> None:
    config = dsrl_config(base_run)
    algo = build_algorithm(config.algo, config.policy, SPEC, ACTION_DIM)
    assert isinstance(algo, DSRL)
    policy = algo.policy
    assert isinstance(policy, NoiseAdapterPolicy)
    start = base_sha256(policy.base)
    actor_before = {k: v.clone() for k, v in algo.policy_state_dict().items()}
    assert all(not p.requires_grad for p in policy.base.parameters())
    optimised = {id(p) for group in algo.actor_optim.param_groups for p in group["params"]}
    optimised |= {id(p) for group in algo.critic_optim.param_groups for p in group["params"]}
    assert not optimised & {id(p) for p in policy.base.parameters()}
    for _ in range(5):
        metrics = algo.update(random_batch())
    assert algo.grad_steps == 5
    assert base_sha256(policy.base) == start
    published = algo.policy_state_dict()
    assert published and not any(name.startswith("base.") for name in published)
    assert any(not torch.equal(v, actor_before[k]) for k, v in published.items())  # it learned
    report = algo.report()["adapter"]
    assert report["base_sha256_start"] == report["base_sha256_end"] == start
    assert 0 < report["trainable_fraction"] == metrics["adapter/trainable_fraction"] < 1
    assert metrics["adapter/inversion_error"] < 1e-3


def test_noise_to_chunk_is_deterministic_and_invertible(base_run: Path) -> None:
    policy = build_policy(dsrl_config(base_run).policy, SPEC, ACTION_DIM)
    assert isinstance(policy, NoiseAdapterPolicy)
    obs = {"state": torch.randn(BATCH, STATE_DIM)}
    latent = torch.rand(BATCH, policy.latent_dim) * 2 - 1
    with torch.no_grad():
        first = policy.decode_latent(obs, latent)
        torch.manual_seed(123)  # a different random stream changes nothing
        second = policy.decode_latent(obs, latent)
        assert first.shape == (BATCH, policy.chunk_size, ACTION_DIM)
        assert torch.equal(first, second)
        recovered = policy.encode_actions(obs, first, iterations=30)
        assert (recovered - latent).abs().max() < 1e-3
        chunk = policy.act(obs, deterministic=True)
        assert torch.equal(chunk, policy.act(obs, deterministic=True))


def test_checkpoint_leaves_base_out_and_resume_refuses_a_changed_base(base_run: Path) -> None:
    config = dsrl_config(base_run)
    algo = build_algorithm(config.algo, config.policy, SPEC, ACTION_DIM)
    algo.update(random_batch())
    state = algo.state_dict()
    assert not any(k.startswith("base.") for k in state["policy"])
    again = build_algorithm(config.algo, config.policy, SPEC, ACTION_DIM)
    again.load_state_dict(state)
    assert again.grad_steps == 1
    state["base_sha256"] = "0" * 64
    with pytest.raises(ConfigError, match="changed since this run started"):
        again.load_state_dict(state)


def test_config_errors(tmp_path: Path, base_run: Path) -> None:
    cases = {
        ("algo=dsrl",): "policy.base is empty",
        ("algo=dsrl", "policy=mlp"): "trains policy=noise_adapter",
        ("algo=dsrl", f"policy.base={tmp_path / 'none'}"): "no userl run there",
        (
            "algo=sac",
            "policy=noise_adapter",
            f"policy.base={base_run}",
        ): "cannot train policy=noise_adapter",
        ("algo=dsrl", f"policy.base={base_run}", "task=charger"): "give a base of this task",
        ("algo=dsrl", f"policy.base={base_run}", "policy.noise_scale=0"): "noise_scale",
        ("algo=dsrl", f"policy.base={base_run}", "policy.base_checkpoint=best"): "best",
    }
    mlp_run = tmp_path / "mlp_run"
    mlp_run.mkdir()
    (mlp_run / "config.yaml").write_text(to_yaml(load_config(["policy=mlp"])))
    cases[("algo=dsrl", f"policy.base={mlp_run}")] = "holds policy=mlp"
    for arguments, expected in cases.items():
        with pytest.raises(ConfigError, match=expected) as error:
            load_config(list(arguments))
        assert "\n" not in str(error.value)
    assert load_config(["algo=dsrl", f"policy.base={base_run}"]).policy.name == "noise_adapter"


def test_a_base_of_other_sizes_is_one_line(tmp_path: Path) -> None:
    run = make_base_run(tmp_path / "base")
    config = dsrl_config(run)
    with pytest.raises(ConfigError, match="do not fit"):
        build_policy(config.policy, ObservationSpec(STATE_DIM + 3), ACTION_DIM)


def residual_config(base: Path, *arguments: str):  # type: ignore[no-untyped-def]
    return load_config(
        [
            "algo=residual_sac",
            f"policy.base={base}",
            "algo.batch_size=16",
            "algo.critic_hidden_dims=[16]",
            "policy.hidden_dims=[8]",
            *arguments,
        ]
    )


def test_residual_sac_keeps_the_base_and_bounds_the_correction(base_run: Path) -> None:
    config = residual_config(base_run, "policy.residual_scale=0.1")
    algo = build_algorithm(config.algo, config.policy, SPEC, ACTION_DIM)
    assert isinstance(algo, ResidualSAC)
    policy = algo.policy
    start = base_sha256(policy.base)
    obs = {"state": torch.randn(BATCH, STATE_DIM)}
    base_actions = policy.base_actions(obs)
    assert torch.equal(policy.act(obs, deterministic=True)[:, 0], base_actions)  # starts as base
    for _ in range(5):
        metrics = algo.update(random_batch())
    assert base_sha256(policy.base) == start and algo.report()["adapter"]["base_unchanged"]
    published = algo.policy_state_dict()
    assert published and not any(name.startswith("base.") for name in published)
    assert metrics["adapter/residual_norm"] > 0
    assert 0 < metrics["adapter/trainable_fraction"] < 1
    corrected, _ = policy.sample(obs)
    unclipped = (base_actions.abs() < 0.9).all(dim=-1)
    delta = (corrected - base_actions)[unclipped]
    assert delta.abs().max() <= 0.1 + 1e-6


def test_residual_exploration_ramps_in(base_run: Path) -> None:
    config = residual_config(base_run, "policy.residual_warmup_env_steps=32")
    policy = build_policy(config.policy, SPEC, ACTION_DIM)
    assert isinstance(policy, ResidualAdapterPolicy)
    torch.nn.init.constant_(policy.mean.bias, 1.0)  # a residual far from zero
    obs = {"state": torch.randn(BATCH, STATE_DIM)}
    base_actions = policy.base_actions(obs)
    first = policy.act(obs)[:, 0]
    assert torch.equal(first, base_actions.clamp(-1, 1))  # ramp 0: the base alone
    assert policy.ramp() == 0.5  # BATCH env steps of 32
    policy.act(obs)
    assert policy.ramp() == 1.0
    assert not torch.equal(policy.act(obs)[:, 0], base_actions)


def test_residual_config_errors(base_run: Path) -> None:
    for arguments, expected in {
        ("algo=residual_sac",): "policy.base is empty",
        ("algo=residual_sac", "policy=flow_g"): "trains policy=residual_adapter",
        ("algo=residual_sac", f"policy.base={base_run}", "policy.residual_scale=0"): "residual",
        ("algo=dsrl", "policy=residual_adapter", f"policy.base={base_run}"): "cannot train",
    }.items():
        with pytest.raises(ConfigError, match=expected) as error:
            load_config(list(arguments))
        assert "\n" not in str(error.value)
