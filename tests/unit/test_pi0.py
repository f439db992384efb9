"""policy=pi0: the policy boundary around transformers' PI0ForConditionalGeneration, pinned
against the library itself (its processor, its sampler, its checkpoint key mapping)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("transformers", reason="policy=pi0 needs the vla extra")

from userl.config.loader import load_config  # noqa: E402
from userl.core.errors import ConfigError  # noqa: E402
from userl.core.specs import ImageSpec, ObservationSpec  # noqa: E402
from userl.policies import build_policy  # noqa: E402
from userl.policies.pi0 import PI0Policy, PI0PolicyConfig, import_transformers  # noqa: E402
from userl.policies.vla_tokenizer import byte_tokenizer  # noqa: E402

torch.set_num_threads(1)
STATE_DIM, ACTION_DIM, VIEWS = 20, 7, ("front", "wrist")
INSTRUCTION = "Pick up the object and put it in the container."
SPEC = ObservationSpec(STATE_DIM, tuple(ImageSpec(v, 32, 32) for v in VIEWS), INSTRUCTION)


def tiny_config(**overrides) -> PI0PolicyConfig:
    """The pi0_tiny preset as `policy=pi0_tiny` loads it, with overrides."""
    cfg = load_config(["policy=pi0_tiny", "algo=hg_dagger"]).policy
    assert isinstance(cfg, PI0PolicyConfig)
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


def make(seed: int = 0, **overrides) -> PI0Policy:
    torch.manual_seed(seed)
    policy = build_policy(tiny_config(init_seed=seed, **overrides), SPEC, ACTION_DIM)
    assert isinstance(policy, PI0Policy)
    return policy


def observation(batch: int = 2, seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    obs = {"state": torch.randn(batch, STATE_DIM, generator=g)}
    for view in VIEWS:
        obs[view] = torch.randint(0, 256, (batch, 32, 32, 3), generator=g, dtype=torch.uint8)
    return obs


def library_inputs(policy: PI0Policy, obs: dict[str, torch.Tensor]) -> dict:
    """The same observation through the library's PI0Processor (its own tokenizer copy)."""
    transformers = import_transformers()
    images = transformers.PI0ImageProcessor(
        size={"max_height": 32, "max_width": 32}, pad_size={"height": 32, "width": 32}
    )
    images.image_seq_length = policy.tokens_per_view
    processor = transformers.PI0Processor(
        image_processor=images,
        tokenizer=byte_tokenizer(),
        max_state_dim=policy.cfg.max_state_dim,
        chunk_size=10,
        state_mean=[0.0] * STATE_DIM,
        state_std=[1.0] * STATE_DIM,
    )
    batch = obs["state"].shape[0]
    return processor(
        images=[[obs[v][i].numpy() for v in VIEWS] for i in range(batch)],
        text=[INSTRUCTION] * batch,
        state=obs["state"].numpy(),
        max_length=policy.tokens_per_view * len(VIEWS) + policy.cfg.prompt_tokens,
    )


# ----------------------------------------------------------------------------- the preset
def test_tiny_preset_is_a_few_hundred_thousand_parameters_and_acts_in_chunks():
    policy = make()
    count = sum(p.numel() for p in policy.parameters())
    assert 1e5 <= count <= 1e6, count
    chunk = policy.act(observation(3))
    assert chunk.shape == (3, 10, ACTION_DIM) and chunk.abs().max() <= 1.0
    assert policy.chunk_size == 10


def test_published_preset_has_pi0s_sizes_and_trains_the_expert_only():
    cfg = load_config(["policy=pi0", "algo=hg_dagger"]).policy
    assert isinstance(cfg, PI0PolicyConfig)
    assert (cfg.text_width, cfg.text_layers, cfg.expert_width, cfg.vision_layers) == (
        2048,
        18,
        1024,
        27,
    )
    assert (cfg.train, cfg.dtype, cfg.chunk_size) == ("expert", "bfloat16", 50)


def test_needs_camera_views_and_a_wide_enough_model():
    with pytest.raises(ConfigError, match="obs=image"):
        build_policy(tiny_config(), ObservationSpec(STATE_DIM), ACTION_DIM)
    with pytest.raises(ConfigError, match="max_state_dim"):
        build_policy(tiny_config(max_state_dim=8), SPEC, ACTION_DIM)


# ----------------------------------------------------------------------------- the math
def test_prompt_and_pixels_equal_the_library_processor():
    policy = make()
    obs = observation(2)
    ours, theirs = policy.inputs(obs), library_inputs(policy, obs)
    assert torch.equal(ours["input_ids"], theirs["input_ids"])
    assert torch.equal(ours["attention_mask"], theirs["attention_mask"])
    assert torch.allclose(ours["pixel_values"], theirs["pixel_values"], atol=1e-6)
    assert torch.equal(ours["pixel_attention_mask"], theirs["pixel_attention_mask"])
    assert torch.allclose(ours["state"], theirs["state"])


def test_pipeline_actions_equal_the_library_sampler_for_the_same_noise():
    policy = make().eval()
    obs = observation(2)
    noise = torch.randn(2, 10, 32, generator=torch.Generator().manual_seed(3))
    ours = policy.act(obs, noise=noise)
    reference = policy.model.sample_actions(
        noise=noise, num_steps=10, **library_inputs(policy, obs)
    )
    assert torch.allclose(ours, reference[..., :ACTION_DIM].clamp(-1, 1), atol=1e-5)
    assert not torch.allclose(ours, policy.act(obs))  # fresh noise: another chunk


def test_cached_prefix_equals_recomputation():
    """One denoising step on the cached prefix gives the velocity of the full forward pass
    that recomputes the prefix from pixels and tokens."""
    policy = make().eval()
    inputs = policy.inputs(observation(2))
    noise = torch.randn(2, 10, 32, generator=torch.Generator().manual_seed(4))
    time = torch.full((2,), 0.7)
    with torch.no_grad():
        full = policy.model(noise=noise, timestep=time, **inputs).logits
        cache = policy.prefix_cache(inputs)
        cached = policy.model(
            state=inputs["state"],
            noise=noise,
            timestep=time,
            attention_mask=inputs["attention_mask"],
            pixel_attention_mask=inputs["pixel_attention_mask"],
            past_key_values=cache,
        ).logits
    assert torch.allclose(full, cached, atol=1e-5)


def test_flow_matching_loss_falls_on_a_fixed_batch():
    policy = make().train()
    obs = observation(4)
    actions = torch.rand(4, 10, ACTION_DIM, generator=torch.Generator().manual_seed(5)) * 2 - 1
    optim = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=1e-3)
    losses = []
    for _ in range(40):
        torch.manual_seed(0)  # the same noise and times each step: a fixed objective
        loss = policy.imitation_loss(obs, actions)
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses[::10]


def test_masked_chunk_steps_and_padded_dims_do_not_count():
    """Labels past the episode end (mask 0) may be anything: the loss is the same."""
    policy = make().train()
    obs = observation(2)
    actions = torch.rand(2, 10, ACTION_DIM) * 2 - 1
    mask = torch.ones(2, 10)
    mask[:, 6:] = 0
    garbage = actions.clone()
    garbage[:, 6:] = 100.0
    torch.manual_seed(0)
    clean = policy.imitation_loss(obs, actions, mask=mask)
    torch.manual_seed(0)
    assert torch.allclose(clean, policy.imitation_loss(obs, garbage, mask=mask))
    torch.manual_seed(0)
    assert not torch.allclose(clean, policy.imitation_loss(obs, garbage))


# ----------------------------------------------------------------------------- what trains
@pytest.mark.parametrize("train", ["expert", "expert_and_projections", "all"])
def test_frozen_parameters_get_no_gradient_and_are_not_synced(train):
    from userl.algorithms.hg_dagger import HGDAgger

    config = load_config(
        ["policy=pi0_tiny", "algo=hg_dagger", "obs=image", f"policy.train={train}"]
    )
    algorithm = HGDAgger(config.algo, config.policy, SPEC, ACTION_DIM)
    policy = algorithm.policy
    loss = policy.imitation_loss(observation(2), torch.zeros(2, 10, ACTION_DIM))
    loss.backward()
    names = dict(policy.named_parameters())
    frozen = {n for n, p in names.items() if not p.requires_grad}
    trains = set(names) - frozen
    assert all(names[n].grad is None for n in frozen)
    assert all(names[n].grad is not None for n in trains)
    assert set(algorithm.policy_state_dict()) == trains
    assert (
        all(
            n.startswith("model.model.dit.")
            for n in trains
            if "embed_action_time" not in n and "action_out_proj" not in n
        )
        or train == "all"
    )
    assert "model.model.dit.embed_tokens.weight" in frozen  # never read by the expert
    assert "model.model.vlm.language_model.layers.1.mlp.up_proj.weight" in frozen  # after
    assert "model.model.vlm.language_model.layers.1.self_attn.k_proj.weight" in names  # the KV
    has_projections = any("action_out_proj" in n for n in trains)
    assert has_projections == (train != "expert")
    assert any(n.startswith("model.model.vlm.") for n in trains) == (train == "all")


def test_bf16_model_accepts_the_pipelines_inputs():
    policy = make(dtype="bfloat16")
    vlm = policy.model.model.vlm
    assert vlm.language_model.embed_tokens.weight.dtype == torch.bfloat16
    assert policy.model.model.dit.layers[0].mlp.up_proj.weight.dtype == torch.bfloat16
    assert next(vlm.vision_tower.parameters()).dtype == torch.float32  # SigLIP kept in fp32
    obs = observation(2)
    chunk = policy.act(obs)
    assert chunk.dtype == torch.float32 and torch.isfinite(chunk).all()
    loss = policy.imitation_loss(obs, torch.zeros(2, 10, ACTION_DIM))
    loss.backward()
    assert torch.isfinite(loss)
    all_bf16 = make(dtype="bfloat16", vision_fp32=False)
    assert next(all_bf16.model.model.vlm.vision_tower.parameters()).dtype == torch.bfloat16
    assert torch.isfinite(all_bf16.act(obs)).all()


# ----------------------------------------------------------------------------- local weights
def lerobot_key(name: str) -> str:
    """Our model's key in the LeRobot / openpi PyTorch layout (PI0Pytorch under `model.`:
    `paligemma_with_expert.paligemma` a PaliGemmaForConditionalGeneration whose tied
    embedding is saved as `lm_head`, `paligemma_with_expert.gemma_expert` a GemmaForCausalLM,
    the projections at the top)."""
    if name == "model.vlm.language_model.embed_tokens.weight":
        return "model.paligemma_with_expert.paligemma.lm_head.weight"
    if name == "model.dit.embed_tokens.weight":
        return "model.paligemma_with_expert.gemma_expert.lm_head.weight"
    if name.startswith("model.vlm."):
        return "model.paligemma_with_expert.paligemma.model." + name[len("model.vlm.") :]
    if name.startswith("model.dit."):
        return "model.paligemma_with_expert.gemma_expert.model." + name[len("model.dit.") :]
    if name.startswith("embed_action_time."):
        return "model." + name[len("embed_action_time.") :]
    return "model." + name  # action_out_proj


def write_lerobot_checkpoint(folder: Path, state: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {lerobot_key(k): v.contiguous() for k, v in state.items()},
        str(folder / "model.safetensors"),
    )


def test_lerobot_layout_checkpoint_loads_back_exactly(tmp_path):
    source = make(seed=7)
    state = source.model.state_dict()
    write_lerobot_checkpoint(tmp_path / "ckpt", state)
    loaded = make(seed=8, weights=str(tmp_path / "ckpt"))
    mapped = loaded.model.state_dict()
    assert set(mapped) == set(state)
    assert all(torch.equal(mapped[k], v) for k, v in state.items())
    obs = observation(1)
    noise = torch.randn(1, 10, 32)
    # the same weights act alike (to float rounding: the loaded tensors' memory differs)
    assert torch.allclose(loaded.act(obs, noise=noise), source.act(obs, noise=noise), atol=1e-6)


def test_a_missing_or_unexpected_key_is_an_error_naming_it(tmp_path):
    state = make().model.state_dict()
    missing = {k: v for k, v in state.items() if k != "action_out_proj.bias"}
    write_lerobot_checkpoint(tmp_path / "missing", missing)
    with pytest.raises(ConfigError, match=r"missing keys .*action_out_proj\.bias"):
        make(weights=str(tmp_path / "missing"))
    write_lerobot_checkpoint(tmp_path / "extra", state)
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(tmp_path / "extra" / "model.safetensors"))
    tensors["model.paligemma_with_expert.stray.weight"] = torch.zeros(2)
    save_file(tensors, str(tmp_path / "extra" / "model.safetensors"))
    with pytest.raises(ConfigError, match=r"unexpected keys .*stray\.weight"):
        make(weights=str(tmp_path / "extra"))
    with pytest.raises(ConfigError, match="no \\*.safetensors"):
        make(weights=str(tmp_path / "nowhere"))


def test_instruction_goes_through_the_tokenizer():
    policy = make()
    ids, mask = policy.prompt(INSTRUCTION)
    text_ids = ids[0, policy.tokens_per_view * len(VIEWS) :][
        mask[0, policy.tokens_per_view * len(VIEWS) :].bool()
    ]
    assert policy.tokenizer.decode(text_ids) == "<bos>" + INSTRUCTION + "\n"
    other = policy.prompt("Close the lid.")[0]
    assert not torch.equal(ids, other)
    with pytest.raises(ConfigError, match="prompt_tokens"):
        policy.prompt("x" * 200)
    assert np.all(mask.numpy()[0, : policy.tokens_per_view * len(VIEWS)] == 1)


@pytest.mark.parametrize("train", ["expert", "all"])
def test_trainable_shapes_name_exactly_what_the_policy_trains(train):
    """The sync benchmark's pi0 row sizes the trainable set from a meta-device model; it is
    the real policy's (whose names carry the policy's `model.` prefix)."""
    from userl.policies.pi0 import trainable_shapes

    policy = make(train=train)
    real = {
        name.removeprefix("model."): (tuple(p.shape), p.dtype)
        for name, p in policy.named_parameters()
        if p.requires_grad
    }
    assert trainable_shapes(tiny_config(train=train)) == real


def test_random_init_is_the_same_in_every_process():
    """Frozen parameters never travel in weight sync, so the learner, every robot and the
    inference server must build them alike, whatever each process's own seed."""
    torch.manual_seed(1)
    first = build_policy(tiny_config(train="expert"), SPEC, ACTION_DIM)
    torch.manual_seed(2)
    second = build_policy(tiny_config(train="expert"), SPEC, ACTION_DIM)
    assert all(
        torch.equal(a, b)
        for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True)
    )
    assert not torch.equal(
        make(seed=3).model.action_out_proj.weight, make(seed=4).model.action_out_proj.weight
    )  # policy.init_seed


def test_a_saved_tokenizer_folder_is_used_offline(tmp_path):
    from transformers import PreTrainedTokenizerFast

    from userl.policies.vla_tokenizer import load_tokenizer

    byte_tokenizer().save_pretrained(str(tmp_path / "tok"))
    policy = make(tokenizer=str(tmp_path / "tok"))
    assert torch.equal(policy.prompt(INSTRUCTION)[0], make().prompt(INSTRUCTION)[0])
    from tokenizers import Tokenizer, models

    bare = Tokenizer(models.WordLevel({"<pad>": 0, "<bos>": 1, "a": 2}, unk_token="<pad>"))
    PreTrainedTokenizerFast(tokenizer_object=bare, bos_token="<bos>").save_pretrained(
        str(tmp_path / "bare")
    )  # a tokenizer without <image>: it gains one, as in PI0Processor
    assert load_tokenizer(str(tmp_path / "bare")).convert_tokens_to_ids("<image>") == 3
    with pytest.raises(ConfigError, match="policy.tokenizer="):
        load_tokenizer(str(tmp_path / "nowhere"))


def test_each_row_gets_its_own_cells_instruction():
    """In a multi-cell run the prompt of each row is its task's instruction (its task id)."""
    from userl.core.specs import CellLayout
    from userl.envs.cells import pad_state

    layout = CellLayout(
        state_dim=STATE_DIM - 2,
        task_names=("pick", "peg"),
        instructions=(INSTRUCTION, "Insert the peg into the hole."),
        embodiment_names=("franka",),
    )
    spec = ObservationSpec(layout.vector_dim, SPEC.images, INSTRUCTION, cells=layout)
    torch.manual_seed(0)
    policy = build_policy(tiny_config(max_state_dim=64), spec, ACTION_DIM)
    assert isinstance(policy, PI0Policy)
    obs = observation(batch=3)
    obs["state"] = torch.as_tensor(
        np.stack(
            [pad_state(np.zeros(STATE_DIM - 2, np.float32), layout, task, 0) for task in (1, 0, 1)]
        )
    )
    ids = policy.inputs(obs)["input_ids"]
    assert torch.equal(ids[0], policy.prompt("Insert the peg into the hole.")[0][0])
    assert torch.equal(ids[1], policy.prompt(INSTRUCTION)[0][0])
    assert torch.equal(ids[2], ids[0]) and not torch.equal(ids[0], ids[1])
    assert policy.act(obs, deterministic=True).shape == (3, policy.chunk_size, ACTION_DIM)


def test_cells_model_reads_each_cells_padded_state_not_the_layouts_mask_and_ids():
    """The model's state is a cell's zero-padded real state (pi0's own padding); the layout's
    mask and ids stay out (the instruction tells the tasks apart), so a layout wider than
    `max_state_dim` fits as long as the largest cell's state does (table_cleanup's 58 of 64)."""
    from userl.core.specs import CellLayout
    from userl.envs.cells import pad_state

    layout = CellLayout(
        state_dim=58,
        task_names=("pick", "cleanup"),
        instructions=(INSTRUCTION, "Put all the objects into the box."),
        embodiment_names=("franka",),
    )
    assert layout.vector_dim > 64
    spec = ObservationSpec(layout.vector_dim, SPEC.images, INSTRUCTION, cells=layout)
    torch.manual_seed(0)
    policy = build_policy(tiny_config(max_state_dim=64), spec, ACTION_DIM)
    assert isinstance(policy, PI0Policy)
    short, long = np.arange(1, 21, dtype=np.float32), np.arange(1, 59, dtype=np.float32)
    obs = observation(batch=2)
    obs["state"] = torch.as_tensor(
        np.stack([pad_state(short, layout, 0, 0), pad_state(long, layout, 1, 0)])
    )
    state = policy.inputs(obs)["state"]
    assert state.shape == (2, 64)
    assert torch.equal(state[0, :20], torch.as_tensor(short)) and not state[0, 20:].any()
    assert torch.equal(state[1, :58], torch.as_tensor(long)) and not state[1, 58:].any()
    with pytest.raises(ConfigError, match="max_state_dim=32"):
        build_policy(tiny_config(max_state_dim=32), spec, ACTION_DIM)
