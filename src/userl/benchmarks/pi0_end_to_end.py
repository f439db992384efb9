"""A pi0 preset end to end in one process, from random weights, as a lab's first run of the
published checkpoint would go: the policy built at the preset's size in its own dtype, its
weights written in the LeRobot / openpi checkpoint layout (`policies/pi0_checkpoint.py`) and
the model freed, the checkpoint loaded back through `policy.weights=DIR` into an HG-DAgger
learner, then one action chunk for one robot and one HG-DAgger update of the trainable set
(`vla_step_times`: the same timing as `bench vla device=...` and `bench gpu`), and one
weight sync of that set through the learner's publisher and a robot's subscriber.

The sync's consumer is the learner's own model put back on the weights from before the
update (a robot one version behind), not a second copy of the model: the published pi0 in
bfloat16 is 7 GB, and two of them beside the optimiser would not fit the memory bound of a
24 GB machine. Ray carries the snapshot as it does between processes (`ray.put`, `ray.get`).

The record holds the step figures, the checkpoint's size and files, what the sync carried
and the peak resident memory of the process (on a CPU; on CUDA the peak GPU memory).
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

import torch

from userl.benchmarks import gpu_sections, vla_step_times
from userl.benchmarks.provenance import stamped

SHARD_BYTES = 2 * 1024**3  # largest checkpoint shard (bytes), the hub's usual cut
SYNC_STORE_MARGIN = 2  # Ray's object store holds this many snapshots of the trainable set
MIN_OBJECT_STORE_BYTES = 256 * 1024 * 1024  # Ray's store is never smaller than this
BYTES_PER_GB = 1e9


def write_random_checkpoint(
    preset: str, folder: Path, shard_bytes: int, overrides: list[str]
) -> dict[str, Any]:
    """Build `policy=preset` with its random init, write it to `folder` in the published
    layout and free it; its sizes and how long each part took."""
    from userl.core.specs import ACTION_DIM
    from userl.policies import build_policy
    from userl.policies.pi0 import PI0Policy
    from userl.policies.pi0_checkpoint import save_published

    config, spec = vla_step_times.step_config(preset, 1, overrides)
    started = time.monotonic()
    policy = build_policy(config.policy, spec, ACTION_DIM)
    built = time.monotonic()
    assert isinstance(policy, PI0Policy)  # step_config checked the preset
    files = save_published(policy.model, folder, shard_bytes)
    figures = {
        "build_s": round(built - started, 2),
        "save_s": round(time.monotonic() - built, 2),
        "checkpoint_files": len(files),
        "checkpoint_gb": round(sum(f.stat().st_size for f in files) / BYTES_PER_GB, 3),
    }
    del policy
    gc.collect()
    return figures


def trainable_state(learner: Any) -> dict[str, torch.Tensor]:
    """The trainable tensors the learner publishes (a copy, on the CPU)."""
    state: dict[str, torch.Tensor] = learner.policy_state_dict()
    return state


def weight_sync(learner: Any, before: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Publish the learner's trainable set; a subscriber on the weights `before` (its model
    the learner's, put back on them) installs the snapshot. What it carried and whether the
    consumer then holds exactly the published tensors."""
    from userl.runtime.ray_session import local_ray
    from userl.runtime.weight_sync import WeightPublisher, WeightSubscriber, state_bytes

    published = trainable_state(learner)
    store = max(SYNC_STORE_MARGIN * state_bytes(published), MIN_OBJECT_STORE_BYTES)
    model = learner.policy
    model.load_state_dict(before, strict=False)  # the robot, one version behind
    installed: dict[str, Any] = {}

    def install(version: int, state: dict[str, torch.Tensor], complete: bool) -> None:
        result = model.load_state_dict(state, strict=False)
        installed.update(version=version, complete=complete, tensors=len(state))
        installed["unexpected_keys"] = list(result.unexpected_keys)

    with local_ray(num_cpus=1, object_store_bytes=int(store)):
        publisher = WeightPublisher(delta=False)
        publisher.publish(published)
        subscriber = WeightSubscriber(install, poll_interval_s=0.0)
        snapshot = publisher.latest(subscriber.version)
        if snapshot is not None:
            subscriber.apply(snapshot)
    now = dict(model.named_parameters())
    return {
        **installed,
        "bytes": subscriber.bytes_received,
        "latency_ms": round(subscriber.latencies_ms[0], 1) if subscriber.latencies_ms else None,
        "holds_published": all(torch.equal(now[k].detach().cpu(), v) for k, v in published.items()),
        "changed_by_update": sum(not torch.equal(before[k], v) for k, v in published.items()),
    }


def run(
    preset: str,
    root: Path,
    device: str,
    batch_size: int,
    warmup: int,
    repeats: int,
    shard_bytes: int = SHARD_BYTES,
    overrides: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Checkpoint, load, chunk, update and sync of `policy=preset` on `device`; the record,
    stamped with the machine and date."""
    folder = root / f"{preset}-checkpoint"
    started = time.monotonic()
    checkpoint = write_random_checkpoint(preset, folder, shard_bytes, list(overrides))
    loading = time.monotonic()
    weights = [*overrides, f"policy.weights={folder}"]
    config, spec, learner = vla_step_times.step_learner(preset, device, batch_size, weights)
    load_s = time.monotonic() - loading
    before = trainable_state(learner)
    steps = vla_step_times.time_steps(preset, config, spec, learner, batch_size, repeats, warmup)
    sync = weight_sync(learner, before)
    peak_mb, counts = gpu_sections.peak_memory_mb(device)
    optimiser_dtypes = sorted(
        {str(t.dtype) for s in learner.optim.state.values() for t in s.values() if t.dim()}
    )
    return stamped(
        {
            **steps,
            "warmup": warmup,
            "chunk_s": round(steps["chunk_ms"] / 1e3, 3),
            "checkpoint": checkpoint,
            "load_s": round(load_s, 2),
            "optimiser": type(learner.optim).__name__,
            "optimiser_state_dtypes": optimiser_dtypes,
            "sync": sync,
            "peak_memory_gb": round(peak_mb * gpu_sections.BYTES_PER_MB / BYTES_PER_GB, 2),
            "peak_memory_counts": counts,
            "threads": torch.get_num_threads(),
            "wall_s": round(time.monotonic() - started, 1),
        }
    )
