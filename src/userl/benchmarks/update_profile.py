"""Where one learner update's time goes: `torch.profiler` over a few updates, each operator's
own (self) CPU time summed into categories; what no operator accounts for is the Python,
autograd-engine and dispatch overhead around them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

MATRIX_OPS = ("aten::bmm", "aten::baddbmm", "aten::mm", "aten::addmm", "aten::addbmm")
SAMPLE_LABEL = "sample"


def category(name: str) -> str:
    """The category of a profiler event (an operator, or the sampling range)."""
    lowered = name.lower()
    if name == SAMPLE_LABEL:
        return "sampling"
    if name in MATRIX_OPS or "conv" in lowered:
        return "matrix_products"
    if "adam" in lowered or lowered.startswith("optimizer."):
        return "optimizer"
    if "lerp" in lowered:
        return "polyak"
    return "element_wise_and_other_ops"


def profile_updates(
    sample: Callable[[], Any], update: Callable[[Any], object], updates: int
) -> dict[str, float]:
    """Milliseconds per update in each category; `wall_ms` is the profiled update's time."""
    import torch
    from torch.profiler import ProfilerActivity, profile, record_function

    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        started = time.perf_counter()
        for _ in range(updates):
            with record_function(SAMPLE_LABEL):
                batch = sample()
            update(batch)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        wall_ms = (time.perf_counter() - started) * 1000.0 / updates
    totals: dict[str, float] = {}
    for event in profiler.key_averages():
        name = category(event.key)
        totals[name] = totals.get(name, 0.0) + event.self_cpu_time_total / 1000.0 / updates
    breakdown = {name: round(ms, 2) for name, ms in sorted(totals.items())}
    breakdown["python_autograd_dispatch"] = round(max(0.0, wall_ms - sum(totals.values())), 2)
    breakdown["wall_ms"] = round(wall_ms, 2)
    return breakdown
