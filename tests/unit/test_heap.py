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
torch.set_num_threads(1)
x, w = torch.randn(10, 256, 256), torch.randn(10, 256, 256)

def layer():  # an ensemble layer's temporaries: 2.6 MB each, allocated and freed
    h = torch.nn.functional.layer_norm(torch.bmm(x, w), (256,))
    return (torch.sigmoid(h * 2.0) * x).sum()

for _ in range(3):
    layer()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    layer()
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
TENSOR_PAGES = 10 * 256 * 256 * 4 // 4096


def faults(keep_bytes: int) -> tuple[bool, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(keep_bytes)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    return out[0] == "True", int(out[1])


def test_zero_leaves_malloc_alone() -> None:
    assert keep_freed_memory(0) is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_kept_memory_is_reused_without_page_faults() -> None:
    kept, with_keep = faults(1 << 30)
    _, without = faults(0)
    assert kept
    assert without >= 5 * TENSOR_PAGES, without  # returned to the OS and faulted back in
    # reused: a tensor or two of fresh pages while the heap settles (more when another
    # process shares the cores), against every temporary of every update without it
    assert with_keep * 10 <= without, (with_keep, without)
