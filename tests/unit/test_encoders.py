"""Image encoders, the CNN policy, DrQ shifts and pretrained-weight loading."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from userl.algorithms import build_algorithm
from userl.algorithms.augment import augment_views, random_shift
from userl.algorithms.sac import SACConfig
from userl.core.errors import ConfigError
from userl.core.specs import ImageSpec, ObservationSpec
from userl.core.types import Batch
from userl.policies import build_policy
from userl.policies.cnn import CNNPolicyConfig
from userl.policies.encoders import (
    POOLINGS,
    EncoderWeightsError,
    ImageEncoder,
    ResNet10,
    SpatialSoftmax,
    ViewEncoder,
)

torch.set_num_threads(1)

STATE_DIM, ACTION_DIM, SIZE = 5, 7, 32
SPEC = ObservationSpec(STATE_DIM, (ImageSpec("front", SIZE, SIZE), ImageSpec("wrist", SIZE, SIZE)))
TINY = CNNPolicyConfig(
    image_size_px=SIZE,
    encoder_widths=[4, 8, 8, 8],
    encoder_strides=[1, 2, 1, 1],
    stem_kernel_size=3,
    group_norm_groups=2,
    view_latent_dim=6,
    hidden_dims=[16],
)


def observations(batch: int = 3, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    obs = {"state": torch.randn(batch, STATE_DIM, generator=g)}
    for view in SPEC.images:
        obs[view.name] = torch.randint(
            0, 256, (batch, SIZE, SIZE, 3), generator=g, dtype=torch.uint8
        )
    return obs


def test_image_encoder_shapes_and_state_concatenation():
    torch.manual_seed(0)
    encoder = ImageEncoder(TINY, SPEC)
    obs = observations()
    features = encoder(obs)
    assert encoder.feature_dim == 2 * 6 + STATE_DIM
    assert features.shape == (3, encoder.feature_dim)
    torch.testing.assert_close(features[:, -STATE_DIM:], obs["state"])
    assert set(encoder.views) == {"front", "wrist"}  # one trunk per view
    assert encoder.views["front"].trunk is not encoder.views["wrist"].trunk


def test_trunk_uses_group_norm_only_so_samples_are_independent():
    torch.manual_seed(0)
    encoder = ImageEncoder(TINY, SPEC)
    norms = [m for m in encoder.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert not norms and any(isinstance(m, nn.GroupNorm) for m in encoder.modules())
    obs = observations(4)
    alone = encoder({k: v[:1] for k, v in obs.items()})
    torch.testing.assert_close(encoder(obs)[:1], alone, rtol=1e-5, atol=1e-5)


def test_resnet10_has_ten_weight_layers_with_the_policy_head():
    trunk = ResNet10([64, 128, 256, 512], [1, 2, 2, 2], 7, 2, True, 8)
    convs = [m for m in trunk.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    assert len(convs) == 9  # + the policy's projection = 10
    assert trunk(torch.zeros(1, 3, 128, 128)).shape == (1, 512, 4, 4)


def test_spatial_softmax_returns_expected_keypoints():
    pool = SpatialSoftmax(2, 5, 7, TINY)
    x = torch.full((1, 2, 5, 7), -1e4)
    x[0, 0, 0, 0] = 1e4  # top-left: (x, y) = (-1, -1)
    x[0, 1, 4, 6] = 1e4  # bottom-right: (1, 1)
    torch.testing.assert_close(pool(x), torch.tensor([[-1.0, -1.0, 1.0, 1.0]]))


@pytest.mark.parametrize("pooling", POOLINGS.names())
def test_every_pooling_is_learned_and_gets_gradients(pooling):
    torch.manual_seed(0)
    view = ViewEncoder(dataclasses.replace(TINY, pooling=pooling), SIZE, SIZE)
    view(observations()["front"]).sum().backward()
    pool_params = list(view.pool.parameters())
    assert pool_params and all(p.grad is not None for p in pool_params)
    assert all(p.grad is not None for p in view.trunk.parameters())


def test_views_of_another_size_are_resized():
    view = ViewEncoder(TINY, 48, 48)
    assert view(torch.zeros(2, 48, 48, 3, dtype=torch.uint8)).shape == (2, 6)


def test_random_shift_matches_pad_and_crop():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (16, 10, 12, 3), generator=g, dtype=torch.uint8)
    torch.manual_seed(3)
    shifted = random_shift(images, 4)
    assert shifted.shape == images.shape and shifted.dtype == torch.uint8
    padded = nn.functional.pad(
        images.permute(0, 3, 1, 2).float(), (4, 4, 4, 4), mode="replicate"
    ).permute(0, 2, 3, 1)
    for i in range(16):  # every output is some crop of the edge-padded image
        crops = [padded[i, r : r + 10, c : c + 12] for r in range(9) for c in range(9)]
        assert any(torch.equal(crop, shifted[i].float()) for crop in crops)
    assert not all(torch.equal(shifted[i], images[i]) for i in range(16))  # it does shift
    assert torch.equal(random_shift(images, 0), images)


def test_augment_views_leaves_state_alone():
    obs = observations(8)
    out = augment_views(obs, 4)
    assert out["state"] is obs["state"] and out["front"].shape == obs["front"].shape
    state_only = {"state": obs["state"]}
    assert augment_views(state_only, 4) is state_only


def test_frozen_pretrained_weights_load_and_stay_fixed(tmp_path):
    torch.manual_seed(1)
    source = ResNet10(
        TINY.encoder_widths,
        TINY.encoder_strides,
        TINY.stem_kernel_size,
        TINY.stem_stride,
        TINY.stem_pool,
        TINY.group_norm_groups,
    )
    path = tmp_path / "trunk.pt"
    torch.save(source.state_dict(), path)
    sac = build_algorithm(
        SACConfig(num_critics=2, critic_hidden_dims=[16]),
        dataclasses.replace(TINY, encoder_weights=str(path)),
        SPEC,
        ACTION_DIM,
    )
    for view in sac.policy.encoder.views.values():
        for name, tensor in view.trunk.state_dict().items():
            torch.testing.assert_close(tensor, source.state_dict()[name])
        assert not any(p.requires_grad for p in view.trunk.parameters())
    synced = sac.policy_state_dict()
    assert synced and not any(".trunk." in name for name in synced)  # frozen: never shipped
    obs = observations(8)
    batch = Batch(
        obs,
        torch.rand(8, ACTION_DIM) * 2 - 1,
        torch.randn(8),
        observations(8, 1),
        torch.zeros(8),
        torch.zeros(8),
    )
    pool_before = sac.policy.encoder.views["front"].project[0].weight.clone()
    sac.update(batch)
    for view in sac.policy.encoder.views.values():
        for name, tensor in view.trunk.state_dict().items():
            torch.testing.assert_close(tensor, source.state_dict()[name])
    # the trainable part of the encoder learns from the critic
    assert not torch.equal(pool_before, sac.policy.encoder.views["front"].project[0].weight)


def test_missing_weights_file_is_one_line_config_error(tmp_path):
    cfg = dataclasses.replace(TINY, encoder_weights=str(tmp_path / "nope.pt"))
    with pytest.raises(ConfigError, match="no such file") as error:
        build_policy(cfg, SPEC, ACTION_DIM)
    assert "\n" not in str(error.value)


def test_mismatched_weights_file_is_named(tmp_path):
    wide = ResNet10([8, 8, 8, 8], [1, 2, 1, 1], 3, 2, True, 2)
    path = tmp_path / "wide.pt"
    torch.save(wide.state_dict(), path)
    cfg = dataclasses.replace(TINY, encoder_weights=str(path))
    with pytest.raises(EncoderWeightsError, match="does not match") as error:
        build_policy(cfg, SPEC, ACTION_DIM)
    assert "shape" in str(error.value) and "\n" not in str(error.value)
    (tmp_path / "junk.pt").write_text("not torch")
    with pytest.raises(EncoderWeightsError, match="not a torch state_dict"):
        build_policy(
            dataclasses.replace(TINY, encoder_weights=str(tmp_path / "junk.pt")), SPEC, ACTION_DIM
        )


def test_cnn_sac_shares_encoder_critic_trains_it_actor_does_not():
    torch.manual_seed(0)
    sac = build_algorithm(SACConfig(num_critics=3, critic_hidden_dims=[16]), TINY, SPEC, ACTION_DIM)
    assert sac.critic.encoder is sac.policy.encoder
    assert sac.target_critic.encoder is sac.policy.encoder
    encoder_ids = {id(p) for p in sac.policy.encoder.parameters()}
    assert encoder_ids <= {id(p) for p in sac.critic_params}
    assert not encoder_ids & {id(p) for p in sac.actor_params}
    batch = Batch(
        observations(8),
        torch.rand(8, ACTION_DIM) * 2 - 1,
        torch.randn(8),
        observations(8, 1),
        torch.zeros(8),
        torch.zeros(8),
    )
    loss, _ = sac.actor_loss(batch)
    loss.backward()
    assert all(p.grad is None for p in sac.policy.encoder.parameters())
    critic_loss, _ = sac.critic_loss(batch)
    critic_loss.backward()
    assert all(p.grad is not None for p in sac.policy.encoder.parameters())
    chunk = sac.policy.act(observations(2), deterministic=True)
    assert chunk.shape == (2, 1, ACTION_DIM) and chunk.abs().max() <= 1


def test_cnn_policy_needs_camera_views():
    with pytest.raises(ValueError, match="obs=image"):
        build_policy(TINY, ObservationSpec(STATE_DIM), ACTION_DIM)


def test_trunk_sees_nchw_memory_not_a_channels_last_view():
    """oneDNN's channels-last convolution backward corrupts the heap for few input channels on
    some CPUs (AMD EPYC, torch 2.13), so views reach the trunk in plain NCHW memory."""
    view = ViewEncoder(TINY, SIZE, SIZE)
    seen = []
    view.trunk.register_forward_pre_hook(lambda _module, args: seen.append(args[0]))
    view(observations()["front"]).sum().backward()
    assert seen and seen[0].is_contiguous()
