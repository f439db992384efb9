"""pi0, a vision-language-action policy, on transformers' own `PI0ForConditionalGeneration`.

The library holds the model: a PaliGemma prefix (SigLIP views + the instruction's tokens,
one KV cache) and a Gemma action expert attending to it, which denoises an H-step action
chunk by flow matching (t = 1 noise, t = 0 actions, `num_steps` Euler steps). This module
is the policy boundary around it:

- observation -> model inputs as `PI0Processor` builds them (the prompt is
  `<image> x tokens_per_view x views, <bos>, instruction, "\\n"`, right-padded; pixels in
  [-1, 1]); the instruction is the task's, tokenised once by the preset's tokenizer;
- state and actions zero-padded to the model's width and masked back, inputs cast to the
  model's dtype (pixels to the vision tower's: float32 by default, as SigLIP is fragile in
  bf16), actions clipped to [-1, 1];
- `policy.train` picks the trainable part; everything else is frozen (no gradient, not
  synced). What never reaches the actions is always frozen (`unused_prefixes`);
- `policy.weights=DIR` loads a local checkpoint through the library's own key mapping for
  the LeRobot / openpi layout (`model.paligemma_with_expert....`); any missing or unexpected
  key is an error naming it.

transformers is imported when a pi0 policy is built (the `vla` extra), not at registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from userl.core.errors import ConfigError
from userl.core.registry import POLICIES
from userl.core.shards import mean_denominator, row_draw
from userl.core.specs import ObservationSpec
from userl.policies.base import STATE_KEY, Policy, PolicyConfig
from userl.policies.conditioning import cell_ids
from userl.policies.sharding import ShardUnit, layer_units
from userl.policies.vla_tokenizer import IMAGE, load_tokenizer
from userl.policies.weights_files import safetensors_folder

TrainSet = Literal["expert", "expert_and_projections", "all"]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
EXPERT_PREFIX = "model.dit."
PROJECTION_PREFIXES = ("embed_action_time.", "action_out_proj.")
PREFIX_LAYERS = "model.vlm.language_model"  # the prefix's Gemma, which fills the KV cache


def unused_prefixes(text_layers: int) -> tuple[str, ...]:
    """Parameters that never reach the actions, so never train (nor travel): the expert's
    token embedding (it reads action embeddings) and, of the prefix's last layer, all but
    the keys and values the expert attends to (its queries, output, MLP, the final norm)."""
    last = f"model.vlm.language_model.layers.{text_layers - 1}."
    return (
        "model.dit.embed_tokens.",
        "model.vlm.language_model.norm.",
        *(
            last + part
            for part in (
                "self_attn.q_proj.",
                "self_attn.o_proj.",
                "mlp.",
                "post_attention_layernorm.",
            )
        ),
    )


@dataclass
class PI0PolicyConfig(PolicyConfig):
    """pi0 on transformers' PI0ForConditionalGeneration; sizes default to the published
    pi0 (PaliGemma 3B prefix: SigLIP So400m/14 at 224 px, Gemma 2B; Gemma 300M expert)."""

    NEEDS_VIEWS: ClassVar[bool] = True  # the config loader picks obs=image
    WEIGHTS_FORMAT: ClassVar[str] = "lerobot"  # `weights`: the LeRobot/openpi checkpoint layout
    SHARDS_LAYERS: ClassVar[bool] = True  # learner.sharding=fsdp: its transformer layers

    text_width: int = 2048  # the prefix: PaliGemma's Gemma
    text_layers: int = 18  # the expert has as many: it attends to each layer's cache
    text_mlp_width: int = 16384  # the prefix's feed-forward width
    attention_heads: int = 8  # query heads per layer (prefix and expert)
    kv_heads: int = 1  # key/value heads per layer (grouped-query attention)
    head_width: int = 256  # shared by prefix and expert (one KV cache)
    vocab_size: int = 257152  # 0: the tokenizer's length
    image_token_id: int = 257152  # -1: the tokenizer's <image> id
    vision_width: int = 1152  # the prefix's SigLIP
    vision_layers: int = 27  # SigLIP layers
    vision_mlp_width: int = 4304  # SigLIP feed-forward width
    vision_heads: int = 16  # SigLIP attention heads
    patch_px: int = 14  # SigLIP patch side
    image_size_px: int = 224  # views are resized to this square size (cameras deliver it)
    expert_width: int = 1024  # the action expert (a Gemma)
    expert_mlp_width: int = 4096  # the expert's feed-forward width
    expert_heads: int = 8  # the expert's attention heads
    chunk_size: int = 50  # H: actions per chunk, executed at the control rate
    max_state_dim: int = 32  # the model's state / action width; shorter vectors are padded
    max_action_dim: int = 32  # the model's action width; shorter vectors are padded
    flow_steps: int = 10  # Euler steps when sampling a chunk
    prompt_tokens: int = 48  # instruction tokens after padding (longer ones are an error)
    train: TrainSet = "expert"  # what trains: the expert; + state/action projections; all
    weights: str = ""  # local checkpoint folder (LeRobot/openpi layout); "" = random init
    tokenizer: str = ""  # local tokenizer folder; "" = the built-in byte tokenizer
    dtype: Literal["float32", "bfloat16"] = "float32"  # the weights' dtype
    vision_fp32: bool = True  # keep SigLIP and its projector in float32 (fragile in bf16)
    init_std: float = 0.02  # random init: std of the library's normal init
    init_seed: int = 0  # random init: every process (learner, robots, server) builds the same

    def problem(self) -> str | None:
        if self.text_width % self.attention_heads or self.expert_width % 2:
            return (
                f"policy.text_width={self.text_width} must divide by attention_heads and "
                f"expert_width={self.expert_width} by 2"
            )
        if self.image_size_px % self.patch_px:
            return (
                f"policy.image_size_px={self.image_size_px} must be a multiple of "
                f"policy.patch_px={self.patch_px}"
            )
        return None

    def view_size_px(self) -> int:
        return self.image_size_px


def import_transformers() -> Any:
    """transformers (the `vla` extra); torchvision first, which it imports when installed."""
    from userl.data.lerobot_client import import_torchvision

    import_torchvision()
    try:
        import transformers
    except ImportError:
        raise ConfigError("policy=pi0 needs transformers: pip install -e '.[vla]'") from None
    return transformers


def model_config(cfg: PI0PolicyConfig, vocab_size: int, image_token_id: int) -> Any:
    """The library's `PI0Config` for these sizes (per-element loss: the policy masks it)."""
    transformers = import_transformers()
    return transformers.PI0Config(
        vlm_config={
            "model_type": "paligemma",
            "text_config": {
                "model_type": "gemma",
                "hidden_size": cfg.text_width,
                "num_hidden_layers": cfg.text_layers,
                "intermediate_size": cfg.text_mlp_width,
                "num_attention_heads": cfg.attention_heads,
                "num_key_value_heads": cfg.kv_heads,
                "head_dim": cfg.head_width,
                "vocab_size": vocab_size,
                "initializer_range": cfg.init_std,
            },
            "vision_config": {
                "model_type": "siglip_vision_model",
                "hidden_size": cfg.vision_width,
                "intermediate_size": cfg.vision_mlp_width,
                "patch_size": cfg.patch_px,
                "image_size": cfg.image_size_px,
                "num_hidden_layers": cfg.vision_layers,
                "num_attention_heads": cfg.vision_heads,
                "vision_use_head": False,
            },
            "projection_dim": cfg.text_width,
            "image_token_id": image_token_id,
        },
        dit_config={
            "model_type": "gemma",
            "hidden_size": cfg.expert_width,
            "num_hidden_layers": cfg.text_layers,
            "intermediate_size": cfg.expert_mlp_width,
            "num_attention_heads": cfg.expert_heads,
            "num_key_value_heads": cfg.kv_heads,
            "head_dim": cfg.head_width,
            "initializer_range": cfg.init_std,
        },
        chunk_size=cfg.chunk_size,
        max_state_dim=cfg.max_state_dim,
        max_action_dim=cfg.max_action_dim,
        num_inference_steps=cfg.flow_steps,
        loss_reduction="none",
        initializer_range=cfg.init_std,
    )


VISION_MODULES = ("vision_tower", "multi_modal_projector")  # kept in float32 by vision_fp32
_MODEL_CLASSES: dict[bool, Any] = {}


def model_class(vision_fp32: bool) -> Any:
    """The library's PI0ForConditionalGeneration; with `vision_fp32` a subclass whose SigLIP
    and projector `from_pretrained` reads in float32 straight from the checkpoint (the
    library's `_keep_in_fp32_modules_strict`), instead of rounding a float32 checkpoint's
    vision weights to bfloat16 and casting them back."""
    if vision_fp32 not in _MODEL_CLASSES:
        base = import_transformers().PI0ForConditionalGeneration
        _MODEL_CLASSES[vision_fp32] = (
            type(base.__name__, (base,), {"_keep_in_fp32_modules_strict": list(VISION_MODULES)})
            if vision_fp32
            else base
        )
    return _MODEL_CLASSES[vision_fp32]


def load_weights(model_cls: Any, config: Any, folder: str, dtype: torch.dtype) -> Any:
    """The checkpoint in `folder` through the library's key mapping; every missing or
    unexpected key (or shape mismatch) is a ConfigError naming it."""
    path = safetensors_folder(folder, "policy.weights")  # never a pickle (.bin)
    import_transformers().utils.logging.disable_progress_bar()
    model, info = model_cls.from_pretrained(
        str(path),
        config=config,
        dtype=dtype,
        local_files_only=True,
        use_safetensors=True,
        output_loading_info=True,
    )
    for kind, fix in (
        ("missing_keys", "the checkpoint lacks it: check the preset's sizes"),
        ("unexpected_keys", "this preset has no such tensor: check the sizes"),
        ("mismatched_keys", "shapes differ: check the preset's sizes"),
    ):
        keys = sorted(str(key) for key in info.get(kind) or ())
        if keys:
            shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
            raise ConfigError(f"policy.weights={folder}: {kind.replace('_', ' ')} {shown} ({fix})")
    return model


def trainable(name: str, train: TrainSet, unused: tuple[str, ...]) -> bool:
    """Whether parameter `name` of PI0ForConditionalGeneration trains under `train`."""
    if name.startswith(unused):
        return False
    if train == "all":
        return True
    expert = name.startswith(EXPERT_PREFIX)
    return expert or (train == "expert_and_projections" and name.startswith(PROJECTION_PREFIXES))


def hold_last_labelled(actions: Tensor, mask: Tensor) -> Tensor:
    """Each unlabelled step (mask 0) of the chunks (B, H, A) takes the last labelled action
    before it (as LeRobot pads past the episode end): the chunk's tokens attend to each
    other, so what stands there must not be arbitrary even where the loss ignores it."""
    steps = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    last = torch.where(mask > 0, steps, torch.zeros_like(steps)).cummax(dim=1).values
    return actions.gather(1, last.unsqueeze(-1).expand_as(actions))


def trainable_shapes(
    cfg: PI0PolicyConfig, vocab_size: int = 260, image_token_id: int = 3
) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Name -> (shape, dtype) of what trains (and syncs) under `cfg`, from a model built on
    the meta device: no memory, any size (vocab/image id are the byte tokenizer's unless
    the preset sets them)."""
    transformers = import_transformers()
    config = model_config(
        cfg,
        cfg.vocab_size or vocab_size,
        cfg.image_token_id if cfg.image_token_id >= 0 else image_token_id,
    )
    with torch.device("meta"):
        model = transformers.PI0ForConditionalGeneration(config)
    unused = unused_prefixes(cfg.text_layers)
    vision = ("model.vlm.vision_tower.", "model.vlm.multi_modal_projector.")
    return {
        name: (
            tuple(p.shape),
            torch.float32 if cfg.vision_fp32 and name.startswith(vision) else DTYPES[cfg.dtype],
        )
        for name, p in model.named_parameters()
        if trainable(name, cfg.train, unused)
    }


@POLICIES.register("pi0", config=PI0PolicyConfig)
class PI0Policy(Policy):
    """The policy boundary around the library's pi0; see the module docstring."""

    def __init__(self, cfg: PI0PolicyConfig, obs_spec: ObservationSpec, action_dim: int) -> None:
        super().__init__()
        import_transformers()  # the vla extra, or one line saying how to install it
        if not obs_spec.images:
            raise ConfigError("policy=pi0 needs camera views; train with obs=image")
        # several cells: the model reads each cell's zero-padded state; its instruction, not
        # the layout's mask and ids, tells the tasks apart (as pi0 pads across embodiments)
        model_state_dim = obs_spec.cells.state_dim if obs_spec.cells else obs_spec.state_dim
        if model_state_dim > cfg.max_state_dim or action_dim > cfg.max_action_dim:
            raise ConfigError(
                f"policy.max_state_dim={cfg.max_state_dim} / max_action_dim="
                f"{cfg.max_action_dim} are below the env's state {model_state_dim}"
                f" / action {action_dim}; raise them"
            )
        self.cfg = cfg
        self.action_dim = action_dim
        self.state_dim = model_state_dim
        self.chunk_size = cfg.chunk_size
        self.views = obs_spec.image_names
        self.tokenizer = load_tokenizer(
            cfg.tokenizer
            or (
                cfg.weights
                if cfg.weights and any(Path(cfg.weights).expanduser().glob("tokenizer*"))
                else ""
            )
        )
        image_id = self.tokenizer.convert_tokens_to_ids(IMAGE)
        if cfg.image_token_id >= 0 and cfg.image_token_id != image_id:
            raise ConfigError(
                f"policy.image_token_id={cfg.image_token_id} but the tokenizer's "
                f"{IMAGE} is {image_id}; set policy.image_token_id=-1"
            )
        self.tokens_per_view = (cfg.image_size_px // cfg.patch_px) ** 2
        self._prompts: dict[str, tuple[Tensor, Tensor]] = {}
        self.instruction = obs_spec.instruction
        self.layout = obs_spec.cells  # several cells: each row's task id picks its instruction
        for instruction in self.layout.instructions if self.layout else (self.instruction,):
            self.prompt(instruction)  # one too long is an error now, before any weights load
        config = model_config(cfg, cfg.vocab_size or len(self.tokenizer), image_id)
        self.dtype = DTYPES[cfg.dtype]
        model_cls = model_class(cfg.vision_fp32)
        self.model: Any  # PI0ForConditionalGeneration (an nn.Module; transformers is optional)
        if cfg.weights:
            self.model = load_weights(model_cls, config, cfg.weights, self.dtype)
        else:
            with torch.random.fork_rng(devices=[]):  # frozen parts never sync: same init
                torch.manual_seed(cfg.init_seed)  # everywhere, whatever the process's seed
                # built in its dtype, as from_pretrained builds it: no float32 copy of the
                # weights at any time, and the float32 buffers (RoPE frequencies) stay so
                self.model = model_cls._from_config(config, dtype=self.dtype)
        vlm = self.model.model.vlm
        if cfg.vision_fp32:
            vlm.vision_tower.float()
            vlm.multi_modal_projector.float()  # the library casts its output to the text's
        self.pixel_dtype = next(vlm.vision_tower.parameters()).dtype
        unused = unused_prefixes(cfg.text_layers)
        for name, parameter in self.model.named_parameters():
            parameter.requires_grad_(trainable(name, cfg.train, unused))

    def shard_units(self) -> list[ShardUnit]:
        """Each trained transformer layer (the expert's; with `train=all` the prefix's Gemma
        and SigLIP layers too), then the stack that runs them: `learner.sharding=fsdp`. The
        prefix's layers stay whole until their backward: their keys and values reach the
        expert through the KV cache, a path FSDP's backward hooks do not see."""
        return layer_units(self.model, whole_until_backward=(PREFIX_LAYERS,))

    # ------------------------------------------------------------------ inputs
    def prompt(self, instruction: str) -> tuple[Tensor, Tensor]:
        """Token ids and attention mask (1, L) of the prompt, as `PI0Processor` builds it."""
        if instruction not in self._prompts:
            text = (
                IMAGE * self.tokens_per_view * len(self.views)
                + (self.tokenizer.bos_token or "")
                + instruction
                + "\n"
            )
            length = self.tokens_per_view * len(self.views) + self.cfg.prompt_tokens
            encoded = self.tokenizer(
                text,
                padding="max_length",
                max_length=length,
                padding_side="right",
                add_special_tokens=False,
                return_tensors="pt",
            )
            if encoded["input_ids"].shape[1] > length:
                needs = encoded["input_ids"].shape[1] - self.tokens_per_view * len(self.views)
                raise ConfigError(
                    f"the instruction {instruction!r} takes {needs} tokens, more than "
                    f"policy.prompt_tokens={self.cfg.prompt_tokens}; raise policy.prompt_tokens "
                    f"to {needs} or more, or give PaliGemma's tokenizer (policy.tokenizer=DIR): "
                    "the built-in byte tokenizer takes a token per byte"
                )
            self._prompts[instruction] = (encoded["input_ids"], encoded["attention_mask"])
        return self._prompts[instruction]

    def prompts(self, state: Tensor) -> tuple[Tensor, Tensor]:
        """The prompt of each row: the task's own instruction ((1, L) for a single task,
        (B, L) with several cells, from each row's task id)."""
        if self.layout is None:
            return self.prompt(self.instruction)
        task_ids, _ = cell_ids(state, self.layout.task_id_index)
        rows = [self.prompt(self.layout.instructions[int(t)]) for t in task_ids.tolist()]
        return torch.cat([r[0] for r in rows]), torch.cat([r[1] for r in rows])

    def pixels(self, obs: dict[str, Tensor]) -> Tensor:
        """uint8 views (B, H, W, 3) each -> (B, views, 3, S, S) in [-1, 1], in the vision
        tower's dtype."""
        size = (self.cfg.image_size_px, self.cfg.image_size_px)
        stacked = []
        for name in self.views:
            x = obs[name].permute(0, 3, 1, 2).float().div(255.0)
            if tuple(x.shape[-2:]) != size:
                x = F.interpolate(
                    x, size=size, mode="bilinear", antialias=True, align_corners=False
                )
            stacked.append(x * 2.0 - 1.0)  # PI0ImageProcessor: mean 0.5, std 0.5
        return torch.stack(stacked, dim=1).to(self.pixel_dtype)

    def inputs(self, obs: dict[str, Tensor]) -> dict[str, Tensor]:
        """The library model's inputs for a batch of observations (all on its device)."""
        state = obs[STATE_KEY]
        batch, device = state.shape[0], state.device
        ids, mask = self.prompts(state)
        return {
            "state": F.pad(
                state[..., : self.state_dim].float(), (0, self.cfg.max_state_dim - self.state_dim)
            ).to(self.dtype),
            "input_ids": ids.to(device).expand(batch, -1),
            "attention_mask": mask.to(device).expand(batch, -1),  # (1, L) or (B, L) each
            "pixel_values": self.pixels(obs),
            "pixel_attention_mask": torch.ones(
                batch, len(self.views), dtype=torch.bool, device=device
            ),
        }

    def cached_velocity(
        self,
        inputs: dict[str, Tensor],
        cache: Any,
        prefix_length: int,
        noise: Tensor,
        timestep: Tensor,
    ) -> Tensor:
        """One evaluation of the action expert's velocity at `noise` and `timestep` over the
        prefix's KV cache, which is cropped back to the prefix afterwards (as the library's
        sampler does), so that no later evaluation attends to this one."""
        velocity = self.model(
            state=inputs["state"],
            noise=noise,
            timestep=timestep,
            attention_mask=inputs["attention_mask"],
            pixel_attention_mask=inputs["pixel_attention_mask"],
            past_key_values=cache,
        ).logits
        cache.crop(prefix_length - cache.get_seq_length())
        return velocity

    def prefix_cache(self, inputs: dict[str, Tensor]) -> Any:
        """The VLM prefix's KV cache (as `sample_actions` builds it); no gradient when the
        prefix is frozen."""
        vlm = self.model.model
        trains = any(p.requires_grad for p in vlm.vlm.parameters()) and torch.is_grad_enabled()
        with torch.set_grad_enabled(trains):
            embeds = vlm.embed_prefix(
                inputs["input_ids"], inputs["pixel_values"], inputs["pixel_attention_mask"]
            )
            return vlm.vlm(
                inputs_embeds=embeds,
                attention_mask=inputs["attention_mask"],
                position_ids=inputs["attention_mask"].cumsum(-1) - 1,
                token_type_ids=torch.zeros_like(embeds[:, :, 0]),
                use_cache=True,
            ).past_key_values

    # ------------------------------------------------------------------ acting
    def act(
        self, obs: dict[str, Tensor], deterministic: bool = False, noise: Tensor | None = None
    ) -> Tensor:
        """An action chunk (B, H, action_dim) in [-1, 1]: the library's `sample_actions`
        from `noise` (B, H, max_action_dim), N(0, I) unless given (zeros if deterministic)."""
        inputs = self.inputs(obs)
        shape = (inputs["state"].shape[0], self.chunk_size, self.cfg.max_action_dim)
        if noise is None:
            noise = (
                torch.zeros(shape, device=inputs["state"].device)
                if deterministic
                else torch.randn(shape, device=inputs["state"].device)
            )
        with torch.no_grad():
            actions = self.model.sample_actions(
                noise=noise.to(self.dtype), num_steps=self.cfg.flow_steps, **inputs
            )
        return actions[..., : self.action_dim].float().clamp(-1.0, 1.0)

    def act_guided(
        self,
        obs: dict[str, Tensor],
        previous: Tensor,
        weights: Tensor,
        max_guidance: float,
        deterministic: bool = False,
    ) -> Tensor:
        """The next chunk guided toward the actions still running (real-time chunking:
        `policies/pi0_rtc.py`)."""
        from userl.policies.pi0_rtc import pi0_guided_chunk

        return pi0_guided_chunk(self, obs, previous, weights, max_guidance, deterministic)

    def sample(
        self, obs: dict[str, Tensor], features: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        raise ConfigError(
            "policy=pi0 has no action likelihood for SAC; train it with algo=hg_dagger"
        )

    # ------------------------------------------------------------------ learning
    def imitation_loss(
        self,
        obs: dict[str, Tensor],
        actions: Tensor,
        features: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> Tensor:
        """Flow matching on action chunks (B, H, A) (or single actions (B, A), a chunk of
        one step), over the steps where `mask` (B, H) is 1 and the env's action dims; the
        unlabelled steps hold the last labelled action."""
        if actions.dim() == 2:
            actions = actions.unsqueeze(1)
        if mask is None:
            mask = actions.new_ones(actions.shape[:2])
        steps = actions.shape[1]
        if steps < self.chunk_size:  # pad the chunk; the padded steps are masked out
            actions = F.pad(actions, (0, 0, 0, self.chunk_size - steps))
            mask = F.pad(mask, (0, self.chunk_size - steps))
        actions = hold_last_labelled(actions, mask)
        inputs = self.inputs(obs)
        padded = F.pad(actions.float(), (0, self.cfg.max_action_dim - actions.shape[-1]))
        cache = self.prefix_cache(inputs)
        timestep, noise = self.flow_draws(inputs["state"])
        output = self.model(
            state=inputs["state"],
            noise=noise,
            timestep=timestep,
            attention_mask=inputs["attention_mask"],
            pixel_attention_mask=inputs["pixel_attention_mask"],
            past_key_values=cache,
            actions=padded.to(self.dtype),
        )
        per_element = output.loss.float()[..., : self.action_dim].mean(-1)  # (B, H)
        weights = mask.float()
        return (per_element * weights).sum() / mean_denominator(weights.sum(), 1.0)

    def flow_draws(self, state: Tensor) -> tuple[Tensor, Tensor]:
        """The flow-matching time (Beta-distributed, as the library samples it) and noise of
        each row, drawn here (in the library's order) so a data-parallel rank draws them for
        the global batch and keeps its own rows (`core/shards.py`)."""
        config, rows = self.model.config, state.shape[0]
        beta = torch.distributions.Beta(
            torch.tensor(config.time_sampling_beta_alpha, dtype=torch.float32),
            torch.tensor(config.time_sampling_beta_beta, dtype=torch.float32),
        )
        time = row_draw(rows, lambda n: beta.sample((n,)))
        timestep = (time * config.time_sampling_scale + config.time_sampling_offset).float()
        shape = (self.chunk_size, config.max_action_dim)
        noise = row_draw(
            rows, lambda n: torch.randn((n, *shape), device=state.device, dtype=state.dtype)
        )
        return timestep.to(state.device), noise
