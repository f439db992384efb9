"""Where the learner's matrix products may run in bfloat16 (`algo.bf16_matmuls`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import torch

CPU_INFO = Path("/proc/cpuinfo")
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})  # x86 flags with bf16 dot products


@cache
def cpu_flags(cpu_info: Path = CPU_INFO) -> frozenset[str]:
    """The CPU's feature flags as Linux lists them; empty where there is no such file."""
    try:
        text = cpu_info.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_bf16_matmuls(device: torch.device) -> bool:
    """True where the device multiplies bfloat16 natively: a CPU with AVX512-BF16 or AMX
    (without them oneDNN emulates bfloat16, no faster than float32). GPUs answer False:
    `auto` keeps float32 there (`on` or `image_encoder_bf16` choose bfloat16)."""
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    return bool(NATIVE_BF16_FLAGS & cpu_flags())


def bf16_matmuls_enabled(setting: str, device: torch.device) -> bool:
    """Resolve `algo.bf16_matmuls` (auto | on | off) for `device`."""
    return setting == "on" or (setting == "auto" and native_bf16_matmuls(device))
