"""Weight-sync latency, learner -> env worker on one machine, for policies of ~1M, 10M and
100M parameters, and for the trainable set of a pi0 preset (`pi0=PRESET`, default the
published `pi0`: its action expert, bf16; `pi0=none` skips it; needs the vla extra):
`userl bench sync [sizes=1,10,100] [repeats=N] [delta_share=0.01] [pi0=PRESET] out=F.json`.

A publisher actor (the learner's `WeightPublisher`) publishes a new version; a subscriber
actor (the env worker's `WeightSubscriber`) polls without blocking and installs it into a
model of the same shape. Latency = install time - publish time. For the 100M model it also
measures `delta` sync when only `delta_share` of the tensors changed (a partly frozen model).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import ray
import torch

from userl.runtime.ray_session import local_ray
from userl.runtime.weight_sync import WeightPublisher, WeightSubscriber

LAYER_PARAMETERS = 1_000_000  # each tensor holds this many float32 values
StateSpec = dict[str, tuple[tuple[int, ...], torch.dtype]]


def layers_spec(millions: int) -> StateSpec:
    return {f"layer{i}.weight": ((LAYER_PARAMETERS,), torch.float32) for i in range(millions)}


def pi0_spec(preset: str) -> StateSpec:
    """What a pi0 preset trains, hence syncs (its `policy.train` set)."""
    from userl.config.compatibility import partner_arguments
    from userl.config.loader import load_config
    from userl.policies.pi0 import trainable_shapes

    arguments = [f"policy={preset}", *partner_arguments("policy", preset)]
    return trainable_shapes(load_config(arguments).policy)  # type: ignore[arg-type]


def model_state(spec: StateSpec) -> dict[str, torch.Tensor]:
    return {name: torch.randn(shape).to(dtype) for name, (shape, dtype) in spec.items()}


@ray.remote(num_cpus=0)
class Publisher:
    def __init__(self, spec: StateSpec, delta: bool) -> None:
        torch.set_num_threads(1)
        self.state = model_state(spec)
        self.publisher = WeightPublisher(delta=delta)

    def publish(self, changed_share: float) -> int:
        names = list(self.state)
        for name in names[: max(1, int(round(len(names) * changed_share)))]:
            self.state[name] += 1.0
        return self.publisher.publish(self.state).version

    def latest_weights(self, known_version: int, want_full: bool = False) -> Any:
        return self.publisher.latest(known_version, want_full)


@ray.remote(num_cpus=0)
class Subscriber:
    def __init__(self, spec: StateSpec) -> None:
        torch.set_num_threads(1)
        self.model = model_state(spec)

        def install(version: int, state: dict[str, torch.Tensor], complete: bool) -> None:
            for name, tensor in state.items():
                self.model[name].copy_(tensor)

        self.weights = WeightSubscriber(install, poll_interval_s=0.0)

    def wait_for(self, publisher: Any, version: int, timeout_s: float) -> float:
        deadline = time.monotonic() + timeout_s
        while self.weights.version < version and time.monotonic() < deadline:
            self.weights.poll(publisher)
        if self.weights.version < version:
            raise TimeoutError(f"version {version} not installed within {timeout_s} s")
        return self.weights.latencies_ms[-1]


def measure(
    spec: StateSpec, repeats: int, delta: bool, changed_share: float, label: str = ""
) -> dict[str, Any]:
    publisher = Publisher.remote(spec, delta)  # type: ignore[attr-defined]
    subscriber = Subscriber.remote(spec)  # type: ignore[attr-defined]
    first = ray.get(publisher.publish.remote(1.0))
    ray.get(subscriber.wait_for.remote(publisher, first, 300.0))  # warm-up: a full snapshot
    latencies = []
    for _ in range(repeats):
        version = ray.get(publisher.publish.remote(changed_share))
        latencies.append(ray.get(subscriber.wait_for.remote(publisher, version, 300.0)))
    ray.kill(publisher)
    ray.kill(subscriber)
    sizes = [int(np.prod(shape)) * dtype.itemsize for shape, dtype in spec.values()]
    changed_tensors = max(1, int(round(len(sizes) * changed_share))) if delta else len(sizes)
    sent = sum(sizes[:changed_tensors])
    return {
        "model": label or "layers",
        "parameters": sum(int(np.prod(shape)) for shape, _ in spec.values()),
        "mode": "delta" if delta else "full",
        "changed_share": changed_share if delta else 1.0,
        "bytes_per_sync": sent,
        "latency_ms_p50": float(np.percentile(latencies, 50)),
        "latency_ms_p99": float(np.percentile(latencies, 99)),
        "repeats": repeats,
    }


def run(arguments: list[str]) -> dict[str, Any]:
    options = dict(argument.split("=", 1) for argument in arguments)
    sizes = [int(v) for v in options.pop("sizes", "1,10,100").split(",")]
    repeats = int(options.pop("repeats", "20"))
    delta_share = float(options.pop("delta_share", "0.01"))
    pi0 = options.pop("pi0", "pi0")
    if options:
        raise ValueError(
            f"unknown sync options: {', '.join(options)}; use sizes=, repeats=, delta_share=, pi0="
        )
    rows = []
    with local_ray(num_cpus=2, object_store_bytes=2 * 1024**3):
        for millions in sizes:
            rows.append(
                measure(
                    layers_spec(millions), max(3, repeats // max(1, millions // 10)), False, 1.0
                )
            )
        if max(sizes) >= 10:
            rows.append(measure(layers_spec(max(sizes)), max(3, repeats // 5), True, delta_share))
        if pi0 != "none":
            spec = pi0_spec(pi0)
            millions = sum(int(np.prod(shape)) for shape, _ in spec.values()) // 10**6
            rows.append(
                measure(
                    spec,
                    max(3, repeats // max(1, millions // 10)),
                    False,
                    1.0,
                    label=f"{pi0} trainable",
                )
            )
    return {"rows": rows}


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{'model':>18} {'parameters':>11} {'mode':>5} {'MB/sync':>8} {'p50 ms':>8} {'p99 ms':>8}"
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['model']:>18} {row['parameters']:>11,} {row['mode']:>5} "
            f"{row['bytes_per_sync'] / 1e6:8.1f} {row['latency_ms_p50']:8.1f} "
            f"{row['latency_ms_p99']:8.1f}"
        )
    return "\n".join(lines)
