"""Weight-sync latency, learner -> env worker on one machine, for policies of ~1M, 10M and
100M parameters: `userl bench sync [sizes=1,10,100] [repeats=N] [delta_share=0.01] out=F.json`.

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


def model_state(millions: int) -> dict[str, torch.Tensor]:
    return {f"layer{i}.weight": torch.randn(LAYER_PARAMETERS) for i in range(millions)}


@ray.remote(num_cpus=0)
class Publisher:
    def __init__(self, millions: int, delta: bool) -> None:
        torch.set_num_threads(1)
        self.state = model_state(millions)
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
    def __init__(self, millions: int) -> None:
        torch.set_num_threads(1)
        self.model = model_state(millions)

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


def measure(millions: int, repeats: int, delta: bool, changed_share: float) -> dict[str, Any]:
    publisher = Publisher.remote(millions, delta)  # type: ignore[attr-defined]
    subscriber = Subscriber.remote(millions)  # type: ignore[attr-defined]
    first = ray.get(publisher.publish.remote(1.0))
    ray.get(subscriber.wait_for.remote(publisher, first, 300.0))  # warm-up: a full snapshot
    latencies = []
    for _ in range(repeats):
        version = ray.get(publisher.publish.remote(changed_share))
        latencies.append(ray.get(subscriber.wait_for.remote(publisher, version, 300.0)))
    ray.kill(publisher)
    ray.kill(subscriber)
    changed_tensors = max(1, int(round(millions * changed_share))) if delta else millions
    sent = changed_tensors * LAYER_PARAMETERS * 4  # float32
    return {"parameters": millions * LAYER_PARAMETERS, "mode": "delta" if delta else "full",
            "changed_share": changed_share if delta else 1.0, "bytes_per_sync": sent,
            "latency_ms_p50": float(np.percentile(latencies, 50)),
            "latency_ms_p99": float(np.percentile(latencies, 99)), "repeats": repeats}


def run(arguments: list[str]) -> dict[str, Any]:
    options = dict(argument.split("=", 1) for argument in arguments)
    sizes = [int(v) for v in options.pop("sizes", "1,10,100").split(",")]
    repeats = int(options.pop("repeats", "20"))
    delta_share = float(options.pop("delta_share", "0.01"))
    if options:
        raise ValueError(f"unknown sync options: {', '.join(options)}; "
                         "use sizes=, repeats=, delta_share=")
    rows = []
    with local_ray(num_cpus=2, object_store_bytes=2 * 1024**3):
        for millions in sizes:
            rows.append(measure(millions, max(3, repeats // max(1, millions // 10)), False, 1.0))
        if max(sizes) >= 10:
            rows.append(measure(max(sizes), max(3, repeats // 5), True, delta_share))
    return {"rows": rows}


def table(result: dict[str, Any]) -> str:
    lines = [f"{'parameters':>11} {'mode':>5} {'MB/sync':>8} {'p50 ms':>8} {'p99 ms':>8}"]
    for row in result["rows"]:
        lines.append(f"{row['parameters']:>11,} {row['mode']:>5} "
                     f"{row['bytes_per_sync'] / 1e6:8.1f} {row['latency_ms_p50']:8.1f} "
                     f"{row['latency_ms_p99']:8.1f}")
    return "\n".join(lines)
