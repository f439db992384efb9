"""The learner's faster update computes what the original one did, bit for bit.

`reference_update` is SAC's update as it stood before the speed work (per-tensor Adam, one
Polyak lerp per tensor, every loss read back), kept here verbatim. Two algorithms built from
one seed take the same batches under the same random state: with the per-tensor optimiser
(`algo.fused_optimizer=false`) every parameter, target, optimiser state and metric is
identical; with the fused Adam kernel (the default) they agree to float32 rounding.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from userl.algorithms import build_algorithm
from userl.algorithms.sac import SAC, SACConfig
from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Batch
from userl.policies.cnn import CNNPolicyConfig
from userl.policies.mlp import MLPPolicyConfig

torch.set_num_threads(1)
STATE_DIM, ACTION_DIM, BATCH, UPDATES = 6, 3, 32, 4


def reference_update(
    sac: SAC, optims: dict[str, torch.optim.Optimizer], batch: Batch
) -> dict[str, float]:
    """The original `SAC.update`, with `_critic_loss`, `_step` and `_update_target` inlined."""
    cfg = sac.cfg

    def step(optim: torch.optim.Optimizer, loss: torch.Tensor, params) -> None:
        optim.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip_norm > 0:
            nn.utils.clip_grad_norm_(params, cfg.grad_clip_norm)
        optim.step()

    obs, next_obs = sac.augment(batch.observations), sac.augment(batch.next_observations)
    features = sac.critic.encoder(obs)
    with torch.no_grad():
        next_features = sac.policy.encoder(next_obs)
        next_actions, next_log_prob = sac.policy.sample(next_obs, next_features)
        heads = torch.randperm(sac.critic.num_heads, device=sac.device)
        heads = heads[: cfg.critic_subset]
        next_q = sac.target_critic(next_obs, next_actions, heads, features=next_features)
        next_q = next_q.min(dim=0).values
        if cfg.backup_entropy:
            next_q = next_q - sac.temperature * next_log_prob
        target = batch.rewards + cfg.gamma * (1.0 - batch.terminated) * next_q
    q = sac.critic(obs, batch.actions, features=features)
    critic_loss = F.mse_loss(q, target.unsqueeze(0).expand_as(q))
    metrics = {"train/q_mean": q.mean().item(), "train/target_q": target.mean().item()}
    features = features.detach()
    step(optims["critic"], critic_loss, sac.critic_params)
    with torch.no_grad():
        for target_p, online in zip(
            sac.target_critic.net.parameters(), sac.critic.net.parameters(), strict=True
        ):
            target_p.lerp_(online, cfg.tau)
    metrics["train/critic_loss"] = critic_loss.item()
    if sac.grad_steps % cfg.critic_actor_ratio == 0:
        actor_loss, log_prob = sac.actor_loss(batch, obs, features)
        step(optims["actor"], actor_loss, sac.actor_params)
        temperature_loss = sac.temperature_loss(log_prob)
        step(optims["temperature"], temperature_loss, [sac.log_temperature])
        sac.actor_steps += 1
        metrics["train/actor_loss"] = actor_loss.item()
        metrics["train/entropy"] = -log_prob.mean().item()
    metrics["train/temperature"] = sac.temperature.item()
    sac.grad_steps += 1
    return metrics


SETTINGS = {
    "state_10_heads": (MLPPolicyConfig(hidden_dims=[32, 32]), ()),
    "views_2_heads": (
        CNNPolicyConfig(
            image_size_px=16,
            encoder_widths=[4, 8],
            encoder_strides=[1, 2],
            stem_kernel_size=3,
            group_norm_groups=2,
            view_latent_dim=8,
            hidden_dims=[32, 32],
        ),
        (ImageSpec("front", 16, 16), ImageSpec("wrist", 16, 16)),
    ),
}


def build(setting: str, **algo) -> SAC:
    policy, views = SETTINGS[setting]
    heads = 10 if setting.startswith("state") else 2
    algo = {"bf16_matmuls": "off"} | algo  # the reference is float32 arithmetic
    config = SACConfig(
        num_critics=heads,
        critic_subset=2,
        critic_hidden_dims=[32, 32],
        grad_clip_norm=10.0,
        **algo,
    )
    torch.manual_seed(0)
    sac = build_algorithm(config, policy, ObservationSpec(STATE_DIM, views), ACTION_DIM)
    assert isinstance(sac, SAC)
    return sac


def batches(setting: str) -> list[Batch]:
    _, views = SETTINGS[setting]
    g = torch.Generator().manual_seed(1)

    def observation() -> dict[str, torch.Tensor]:
        obs = {"state": torch.randn(BATCH, STATE_DIM, generator=g)}
        for view in views:
            obs[view.name] = torch.randint(
                0, 256, (BATCH, 16, 16, 3), generator=g, dtype=torch.uint8
            )
        return obs

    return [
        Batch(
            observations=observation(),
            next_observations=observation(),
            actions=torch.rand(BATCH, ACTION_DIM, generator=g) * 2 - 1,
            rewards=torch.randn(BATCH, generator=g),
            terminated=(torch.rand(BATCH, generator=g) < 0.2).float(),
            intervened=torch.zeros(BATCH),
        )
        for _ in range(UPDATES)
    ]


def tensors(sac: SAC) -> dict[str, torch.Tensor]:
    state = sac.state_dict()
    out = {
        f"{group}.{name}": value
        for group in ("policy", "critic", "target_critic")
        for name, value in state[group].items()
    }
    out["log_temperature"] = state["log_temperature"]
    for group in ("actor_optim", "critic_optim", "temperature_optim"):
        for index, entry in state[group]["state"].items():
            for key, value in entry.items():
                out[f"{group}.{index}.{key}"] = torch.as_tensor(value)
    return out


def run_both(setting: str, fused: bool):
    reference = build(setting, fused_optimizer=False)
    optims = {
        "actor": torch.optim.Adam(reference.actor_params, lr=reference.cfg.actor_lr),
        "critic": torch.optim.Adam(reference.critic_params, lr=reference.cfg.critic_lr),
        "temperature": torch.optim.Adam(
            [reference.log_temperature], lr=reference.cfg.temperature_lr
        ),
    }
    reference.actor_optim, reference.critic_optim = optims["actor"], optims["critic"]
    reference.temperature_optim = optims["temperature"]  # so state_dict() reports them
    current = build(setting, fused_optimizer=fused)
    metrics = []
    for index, batch in enumerate(batches(setting)):
        torch.manual_seed(100 + index)
        expected = reference_update(reference, optims, batch)
        torch.manual_seed(100 + index)
        got = current.update(batch, metrics=index % 2 == 0)  # skipping a read changes nothing
        metrics.append((expected, got))
    return reference, current, metrics


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_update_is_bit_identical_to_the_original(setting: str) -> None:
    reference, current, metrics = run_both(setting, fused=False)
    expected, got = tensors(reference), tensors(current)
    assert expected.keys() == got.keys()
    for name, value in expected.items():
        assert torch.equal(value, got[name]), name
    for index, (expected_metrics, got_metrics) in enumerate(metrics):
        assert got_metrics == (expected_metrics if index % 2 == 0 else {})
    assert current.grad_steps == reference.grad_steps == UPDATES
    assert any(
        not torch.equal(a, b)
        for a, b in zip(tensors(build(setting)).values(), got.values(), strict=True)
    ), "the updates moved"


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_fused_adam_agrees_to_rounding(setting: str) -> None:
    reference, current, metrics = run_both(setting, fused=True)
    expected, got = tensors(reference), tensors(current)
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value, rtol=1e-4, atol=1e-5, msg=name)
    for expected_metrics, got_metrics in metrics[::2]:
        assert got_metrics.keys() == expected_metrics.keys()
        for name, value in expected_metrics.items():
            assert got_metrics[name] == pytest.approx(value, rel=1e-4, abs=1e-5), name


@pytest.mark.slow  # torch.compile (algo.compile, off by default) takes most of a minute cold
def test_compiled_ensemble_matches_eager() -> None:
    """`algo.compile=default`: the same updates to float32 rounding (fused element-wise
    kernels); a bad mode is one line naming the key."""
    eager, compiled = build("state_10_heads"), build("state_10_heads", compile="default")
    for index, batch in enumerate(batches("state_10_heads")[:2]):
        torch.manual_seed(100 + index)
        expected = eager.update(batch)
        torch.manual_seed(100 + index)
        got = compiled.update(batch)
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, rel=1e-4, abs=1e-5), name
    for name, value in tensors(eager).items():
        torch.testing.assert_close(tensors(compiled)[name], value, rtol=1e-4, atol=1e-5)
    from userl.config.loader import load_config
    from userl.core.errors import ConfigError

    with pytest.raises(ConfigError, match="'algo.compile'.*'fast'"):
        load_config(["algo.compile=fast"])
