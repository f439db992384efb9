"""pi0's weights written in the published (LeRobot / openpi) layout, sharded, read back through
`policy.weights=DIR`; and a bfloat16 pi0 built in its dtype, as a loaded one is."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")

from userl.config.loader import load_config  # noqa: E402
from userl.core.specs import ImageSpec, ObservationSpec  # noqa: E402
from userl.policies import build_policy  # noqa: E402
from userl.policies.pi0 import PI0Policy  # noqa: E402
from userl.policies.pi0_checkpoint import (  # noqa: E402
    INDEX_FILE,
    published_key,
    save_published,
    shard_groups,
)

torch.set_num_threads(1)
STATE_DIM, ACTION_DIM = 20, 7
SPEC = ObservationSpec(STATE_DIM, (ImageSpec("front", 32, 32),), "Pick up the object.")
SHARD_BYTES = 64 * 1024  # small, so that the tiny model takes several shards


def make(seed: int = 0, **overrides: object) -> PI0Policy:
    cfg = load_config(["policy=pi0_tiny", "algo=hg_dagger"]).policy
    cfg.init_seed = seed  # type: ignore[attr-defined]
    for key, value in overrides.items():
        setattr(cfg, key, value)
    policy = build_policy(cfg, SPEC, ACTION_DIM)
    assert isinstance(policy, PI0Policy)
    return policy


def test_published_keys():
    assert published_key("model.vlm.language_model.embed_tokens.weight") == (
        "model.paligemma_with_expert.paligemma.lm_head.weight"
    )
    assert published_key("model.dit.layers.0.mlp.up_proj.weight") == (
        "model.paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.weight"
    )
    assert published_key("model.vlm.vision_tower.embeddings.patch_embedding.weight") == (
        "model.paligemma_with_expert.paligemma.model.vision_tower.embeddings.patch_embedding.weight"
    )
    assert published_key("embed_action_time.action_in_proj.weight") == (
        "model.action_in_proj.weight"
    )
    assert published_key("action_out_proj.bias") == "model.action_out_proj.bias"


def test_shards_keep_order_and_bound_each_but_an_oversized_tensor():
    sizes = {"a": 40, "b": 40, "c": 100, "d": 10, "e": 10}
    assert shard_groups(sizes, 80) == [["a", "b"], ["c"], ["d", "e"]]
    assert shard_groups(sizes, 1000) == [list(sizes)]


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_sharded_published_checkpoint_loads_back_exactly(tmp_path, dtype):
    source = make(seed=3, dtype=dtype)
    files = save_published(source.model, tmp_path / "ckpt", SHARD_BYTES)
    assert len(files) > 2
    index = json.loads((tmp_path / "ckpt" / INDEX_FILE).read_text())
    assert set(index["weight_map"].values()) == {f.name for f in files}
    assert all(k.startswith("model.") for k in index["weight_map"])
    loaded = make(seed=4, dtype=dtype, weights=str(tmp_path / "ckpt"))
    state, back = source.model.state_dict(), loaded.model.state_dict()
    assert set(back) == set(state)
    assert all(back[k].dtype == v.dtype and torch.equal(back[k], v) for k, v in state.items())
    noise = torch.randn(1, 10, 32)
    obs = {
        "state": torch.randn(1, STATE_DIM),
        "front": torch.randint(0, 256, (1, 32, 32, 3), dtype=torch.uint8),
    }
    # the same weights act alike (to float rounding: the loaded tensors' memory differs)
    tolerance = {"float32": 1e-6, "bfloat16": 5e-2}[dtype]
    assert torch.allclose(
        loaded.act(obs, noise=noise), source.act(obs, noise=noise), atol=tolerance
    )


def test_bf16_random_init_is_built_as_a_loaded_model_is(tmp_path):
    """Built in bfloat16 (no float32 copy first): the weights are bf16 and the buffers that
    the library keeps in float32 (RoPE frequencies, the time sinusoid) stay float32, as
    from_pretrained leaves them; casting a float32 build would round them to bf16."""
    policy = make(dtype="bfloat16")
    assert policy.model.model.dit.layers[0].mlp.up_proj.weight.dtype == torch.bfloat16
    buffers = dict(policy.model.named_buffers())
    assert buffers["model.vlm.language_model.rotary_emb.inv_freq"].dtype == torch.float32
    assert buffers["model.dit.rotary_emb.inv_freq"].dtype == torch.float32
    save_published(policy.model, tmp_path / "ckpt", SHARD_BYTES)
    loaded = make(dtype="bfloat16", weights=str(tmp_path / "ckpt"))
    for name, buffer in loaded.model.named_buffers():
        assert buffers[name].dtype == buffer.dtype, name
        assert torch.equal(buffers[name], buffer), name


def test_a_float32_checkpoints_vision_weights_load_unrounded_into_a_bf16_model(tmp_path):
    """vision_fp32 keeps SigLIP in float32: a float32 checkpoint's vision weights are read as
    they are, not rounded through bfloat16 (the language model and expert are bf16)."""
    source = make(seed=5)  # float32 throughout: values bf16 cannot hold
    save_published(source.model, tmp_path / "ckpt", SHARD_BYTES)
    loaded = make(dtype="bfloat16", weights=str(tmp_path / "ckpt"))
    state, back = source.model.state_dict(), loaded.model.state_dict()
    vision = [k for k in state if k.startswith("model.vlm.vision_tower.")]
    assert vision and all(torch.equal(back[k], state[k]) for k in vision)
    patch = "model.vlm.vision_tower.embeddings.patch_embedding.weight"
    assert not torch.equal(state[patch].bfloat16().float(), state[patch])  # bf16 would round
    assert back["model.dit.layers.0.mlp.up_proj.weight"].dtype == torch.bfloat16
    projector = [k for k in state if k.startswith("model.vlm.multi_modal_projector.")]
    assert projector and all(back[k].dtype == torch.float32 for k in projector)
