"""`userl bench vla device=cuda`: the step times of a pi0 preset on one device, without a
simulator: one action chunk for one robot (the remote inference worker's unit) and one
HG-DAgger update on a batch of chunk labels (the learner's), each the median of timed
repeats after warm-up, with the parameter counts (all, trainable) and, on a GPU, the peak
memory. The weights are the preset's random init (or `policy.weights=DIR`): step times do not
depend on them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

WARMUP_REPEATS = 2  # untimed calls first: allocations, kernels, autotuning
STEP_TASK = "pick_place"  # whose views, state and instruction the inputs have
# instruction tokens the step task's instruction needs with the built-in byte tokenizer (a
# token per byte; PaliGemma's takes far fewer): the published preset's 48 are too few for it
STEP_PROMPT_TOKENS = 64


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_s(
    call: Callable[[], Any], repeats: int, device: torch.device, warmup: int = WARMUP_REPEATS
) -> float:
    """The median wall time of `call` over `repeats` timed calls, after `warmup` untimed."""
    for _ in range(warmup):
        call()
    _synchronise(device)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        _synchronise(device)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def random_observations(
    spec: Any, batch: int, device: torch.device, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """A batch of observations of `spec`: uint8 views (B, H, W, 3) and a state (B, S)."""
    obs = {"state": torch.randn(batch, spec.state_dim, generator=generator).to(device)}
    for view in spec.images:
        obs[view.name] = torch.randint(
            0,
            256,
            (batch, view.height_px, view.width_px, 3),
            generator=generator,
            dtype=torch.uint8,
        ).to(device)
    return obs


def label_batch(
    spec: Any,
    batch: int,
    chunk: int,
    action_dim: int,
    device: torch.device,
    generator: torch.Generator,
) -> Any:
    """A learner batch of human chunk labels, the last quarter of each chunk masked out (as
    past an episode's end)."""
    from userl.core.types import Batch

    obs = random_observations(spec, batch, device, generator)
    chunks = (torch.rand(batch, chunk, action_dim, generator=generator) * 2 - 1).to(device)
    mask = torch.ones(batch, chunk)
    mask[:, chunk - chunk // 4 :] = 0.0
    zeros = torch.zeros(batch, device=device)
    return Batch(
        observations=obs,
        actions=chunks[:, 0],
        rewards=zeros,
        next_observations=obs,
        terminated=zeros,
        intervened=torch.ones(batch, device=device),
        action_chunks=chunks,
        action_chunk_mask=mask.to(device),
    )


def step_times(
    preset: str,
    device_name: str,
    batch_size: int,
    repeats: int,
    overrides: list[str],
    warmup: int = WARMUP_REPEATS,
) -> dict[str, Any]:
    """Chunk and update times of `policy=preset` under `algo=hg_dagger` on `device_name`."""
    config, spec, learner = step_learner(preset, device_name, batch_size, overrides)
    return time_steps(preset, config, spec, learner, batch_size, repeats, warmup)


def step_config(preset: str, batch_size: int, overrides: list[str]) -> tuple[Any, Any]:
    """The config and observation spec the step times run `policy=preset` (a pi0 preset)
    under: `algo=hg_dagger` on the step task's views, state and instruction."""
    from userl.config.loader import load_config
    from userl.core.errors import ConfigError
    from userl.core.registry import TASKS
    from userl.envs.factory import expected_observation_spec
    from userl.policies.pi0 import PI0PolicyConfig

    config = load_config(
        [
            f"task={STEP_TASK}",
            f"policy={preset}",
            "algo=hg_dagger",
            f"algo.batch_size={batch_size}",
            f"policy.prompt_tokens={STEP_PROMPT_TOKENS}",
            *overrides,
        ]
    )
    if not isinstance(config.policy, PI0PolicyConfig):
        raise ConfigError(f"step_times={preset} is not a pi0 preset; use pi0 or pi0_tiny")
    return config, expected_observation_spec(config, TASKS.build(config.task))


def step_learner(
    preset: str, device_name: str, batch_size: int, overrides: list[str]
) -> tuple[Any, Any, Any]:
    """The config, observation spec and HG-DAgger learner of `policy=preset` (a pi0 preset)
    on `device_name`, as the step times build them (`policy.weights=DIR` among `overrides`
    loads a checkpoint)."""
    from userl.algorithms import build_algorithm
    from userl.core.specs import ACTION_DIM

    config, spec = step_config(preset, batch_size, overrides)
    torch.manual_seed(0)
    learner = build_algorithm(config.algo, config.policy, spec, ACTION_DIM, device_name)
    return config, spec, learner


def time_steps(
    preset: str, config: Any, spec: Any, learner: Any, batch_size: int, repeats: int, warmup: int
) -> dict[str, Any]:
    """One chunk for one robot and one update of `learner` (`step_learner`'s), each the
    median of `repeats` timed calls after `warmup` untimed ones."""
    from userl.core.specs import ACTION_DIM

    pi0, device_name = config.policy, str(learner.device)
    device = torch.device(device_name)
    policy = learner.policy
    generator = torch.Generator().manual_seed(0)
    one = random_observations(spec, 1, device, generator)
    last: dict[str, torch.Tensor] = {}  # the last chunk, checked below
    chunk_s = median_s(
        lambda: last.update(chunk=policy.act(one, deterministic=True)), repeats, device, warmup
    )
    batch = label_batch(spec, batch_size, policy.chunk_size, ACTION_DIM, device, generator)
    policy.train()
    update_s = median_s(lambda: learner.update(batch, metrics=False), repeats, device, warmup)
    parameters = sum(p.numel() for p in policy.parameters())
    trainable = sum(p.numel() for p in policy.parameters() if p.requires_grad)
    result = {
        "preset": preset,
        "device": device_name,
        "dtype": pi0.dtype,
        "train": pi0.train,
        "views": len(spec.images),
        "view_px": spec.images[0].height_px,
        "chunk_steps": policy.chunk_size,
        "flow_steps": pi0.flow_steps,
        "batch_size": batch_size,
        "repeats": repeats,
        "parameters": parameters,
        "trainable_parameters": trainable,
        "chunk_ms": round(chunk_s * 1e3, 2),
        "chunk_ms_per_control_step": round(chunk_s * 1e3 / policy.chunk_size, 3),
        "update_s": round(update_s, 4),
        "chunk_shape": list(last["chunk"].shape),
        "chunk_finite": bool(torch.isfinite(last["chunk"]).all()),
        "updates_applied": learner.grad_steps,  # a non-finite loss is skipped, not counted
    }
    if device.type == "cuda":
        result["peak_memory_gb"] = round(torch.cuda.max_memory_allocated(device) / 1e9, 2)
    return result


def table(result: dict[str, Any]) -> str:
    return (
        f"{result['preset']} on {result['device']} ({result['dtype']}, train="
        f"{result['train']}; {result['parameters'] / 1e6:.1f}M parameters, "
        f"{result['trainable_parameters'] / 1e6:.1f}M trainable): one {result['chunk_steps']}"
        f"-step chunk {result['chunk_ms']:.1f} ms, one update (batch "
        f"{result['batch_size']}) {result['update_s']:.3f} s"
        + (f", peak memory {result['peak_memory_gb']} GB" if "peak_memory_gb" in result else "")
    )
