"""Where and when a benchmark record was made: the machine (CPU model, cores, GPU, torch
version, native bfloat16 matrix products) and the UTC date, kept in every record so a figure
never travels without them (`docs/results.md` shows both beside each row).

A record is a JSON object; `stamped` adds `machine` and `date` at its top level.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

CPU_INFO = Path("/proc/cpuinfo")
NOT_RECORDED = "not recorded"


def cpu_model(cpu_info: Path = CPU_INFO) -> str:
    """The CPU's model name as Linux lists it (`not recorded` where there is none)."""
    try:
        text = cpu_info.read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip() or NOT_RECORDED
    import platform

    return platform.processor() or NOT_RECORDED


def usable_cores() -> int:
    """The cores this process may run on (its affinity; all of them where unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 0


def machine() -> dict[str, Any]:
    """This machine as a record states it. `bf16_matmuls_native` is whether the CPU multiplies
    bfloat16 natively (what `algo.bf16_matmuls=auto` decides on a CPU learner)."""
    import torch

    from userl.algorithms.precision import native_bf16_matmuls

    return {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
        "torch": torch.__version__,
        "bf16_matmuls_native": native_bf16_matmuls(torch.device("cpu")),
    }


def utc_date() -> str:
    """Today's date in UTC, ISO format."""
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def stamped(record: dict[str, Any]) -> dict[str, Any]:
    """The record with this machine and today's UTC date (the record's own keys kept first)."""
    return {**record, "machine": machine(), "date": utc_date()}
