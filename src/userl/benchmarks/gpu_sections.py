"""The parts of `userl bench gpu`, each measured on its own: learner update rates, pi0's
step times with peak memory, one short `userl train` with the learner and inference on the
device, and pi0 + HG-DAgger in the sync and async pipelines. The figures come from the
benchmarks that already measure them (`learner`, `vla_step_times`, `vla`); this module only
sets them up the way the GPU check asks and collects what they report."""

from __future__ import annotations

import resource
import sys
from pathlib import Path
from typing import Any

# The learner settings a row is measured under: the learner's `algo.` fields they set.
VARIANTS: dict[str, dict[str, str]] = {
    "float32": {"compile": "off", "image_encoder_bf16": "false", "bf16_matmuls": "off"},
    "bf16": {"compile": "off", "image_encoder_bf16": "true", "bf16_matmuls": "auto"},
    "compile": {"compile": "reduce-overhead", "image_encoder_bf16": "false", "bf16_matmuls": "off"},
}
# What each size runs: the pi0 preset timed, and the policy of the short training.
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"pi0": "pi0_tiny", "train": ["policy=mlp"]},
    "full": {"pi0": "pi0", "train": ["policy=cnn", "obs=image"]},
}
# The short training: async, the policy served by a remote inference actor (which Ray places
# on the device beside the learner), no evaluation before, one after.
TRAIN_BASE = [
    "pipeline=async",
    "pipeline.inference=remote",
    "demos.episodes=2",
    "eval.at_start=false",
    "eval.episodes=1",
    "eval.video_every_s=0",
    "run.log_every_s=30",
]
# Both pipelines' pi0 + HG-DAgger runs serve the policy from the device, as the paper's
# setting does (a pi0 copy per env worker would run on the CPU).
PROFILE_OVERRIDES = ["pipeline.inference=remote"]
BYTES_PER_MB = 1024 * 1024
RSS_UNIT_BYTES = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes | kilobytes


def learner_row(
    policy: str, heads: int, batch_size: int, seconds: float, variant: str, device: str
) -> dict[str, Any]:
    """Updates/s of `policy` under `variant` on `device` (a `bench learner` row)."""
    from userl.benchmarks import learner

    options = {
        **learner.DEFAULTS,
        **VARIANTS[variant],
        "device": device,
        "seconds": str(seconds),
        "batch_size": str(batch_size),
        "state_dim": str(learner.STATE_DIM),
    }
    return {"device": device, "variant": variant, **learner._updates_per_s(policy, heads, options)}


def release_device_memory(device: str) -> None:
    """Give the GPU memory of a finished (or failed) step back, so the next step has it."""
    import gc

    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def peak_memory_mb(device: str) -> tuple[float, str]:
    """The peak memory so far and what it counts: on CUDA the tensors torch allocated on the
    GPU (since the last reset), on a CPU this process's peak resident memory."""
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / BYTES_PER_MB, "cuda_max_memory_allocated"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * RSS_UNIT_BYTES
    return peak / BYTES_PER_MB, "process_peak_rss"


def pi0_steps(
    size: str, device: str, chunk_steps: int, flow_steps: int, batch: int, repeats: int
) -> dict[str, Any]:
    """One chunk for one robot and one HG-DAgger update (`bench vla device=...`'s step
    times) of the size's pi0 preset, and the peak memory they took."""
    import torch

    from userl.benchmarks.vla_step_times import step_times

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    overrides = [f"policy.chunk_size={chunk_steps}", f"policy.flow_steps={flow_steps}"]
    result = step_times(SIZES[size]["pi0"], device, batch, repeats, overrides)
    peak, kind = peak_memory_mb(device)
    return {**result, "peak_memory_mb": round(peak, 1), "peak_memory_counts": kind}


def train_run(size: str, grad_steps: int, wall_s: float, root: Path) -> dict[str, Any]:
    """One short `userl train`: learner and remote inference wherever Ray places them (on
    the machine's GPU when it has one, `runtime/placement.py`)."""
    from userl.benchmarks.vla import train_run as run_training
    from userl.runtime.placement import local_gpus

    overrides = [
        *TRAIN_BASE,
        *SIZES[size]["train"],
        f"run.grad_steps={grad_steps}",
        f"run.wall_s={wall_s:.0f}",
        f"run.root={root}",
        "run.name=train",
    ]
    summary, run_wall_s = run_training(overrides)
    inference = summary.get("inference") or {}
    return {
        "overrides": overrides,
        "learner_device": "cuda" if local_gpus() else "cpu",
        "inference_on_gpu": bool(inference.get("on_gpu", 0.0)),
        "grad_steps": summary["grad_steps"],
        "env_steps": summary["env_steps"],
        "episodes": summary["episodes"],
        "updates_per_s": summary["updates_per_s"],
        "training_s_per_update": summary["training_s_per_update"],
        "generation_s_per_episode": summary["generation_s_per_episode"],
        "stop_reason": summary.get("stop_reason"),
        "wall_s": round(run_wall_s, 2),
        "run": summary["run"],
    }


def sync_async_profile(
    size: str, episodes: int, batch_size: int, wall_s: float, root: Path
) -> dict[str, Any]:
    """pi0 + HG-DAgger on pick_place in each pipeline (`bench vla short=true`, its updates at
    `batch_size`): generation s/episode and training s/update, the shape of the paper's
    table."""
    from userl.benchmarks import vla

    arguments = [
        "tasks=pick_place",
        "pipelines=sync,async",
        "multitask=false",
        "short=true",
        f"episodes={episodes}",
        "eval_episodes=1",
        f"root={root}",
        f"policy={SIZES[size]['pi0']}",
        f"run.wall_s={wall_s:.0f}",
        f"algo.batch_size={batch_size}",
        *PROFILE_OVERRIDES,
    ]
    result = vla.run(arguments)
    return {
        "arguments": arguments,
        **{
            row["pipeline"]: {
                "generation_s_per_episode": row["generation_s_per_episode"],
                "training_s_per_update": row["training_s_per_update"],
                "grad_steps": row["grad_steps"],
                "episodes": row["episodes"],
                "wall_s": round(row["wall_s"], 2),
            }
            for row in result["rows"]
        },
        "sync_to_async": result["sync_to_async"].get("pick_place", {}),
    }
