"""Freed host memory stays in the learner process: tensors of an update's size are reused
without page-faulting fresh memory in each time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from userl.core.heap import keep_freed_memory

PROBE = """
import resource, sys, torch
from userl.core.heap import keep_freed_memory
kept = keep_freed_memory(int(sys.argv[1]))
torch.ones(2_000_000).sum()  # first touch of the heap either way
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    torch.ones(2_000_000).sum()  # 8 MB, allocated, written and freed, as an update does
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(keep_bytes: int) -> tuple[bool, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(keep_bytes)], capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    return out[0] == "True", int(out[1])


def test_zero_leaves_malloc_alone() -> None:
    assert keep_freed_memory(0) is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_kept_memory_is_reused_without_page_faults() -> None:
    kept, with_keep = faults(1 << 30)
    _, without = faults(0)
    assert kept
    pages_per_tensor = 8_000_000 // 4096
    # kept: at most one block's pages are new; without: freed blocks went back to the OS and
    # were faulted in again (glibc's adaptive threshold still returns several of the 20)
    assert with_keep <= 1.2 * pages_per_tensor, with_keep
    assert without >= with_keep + 2 * pages_per_tensor, (with_keep, without)
