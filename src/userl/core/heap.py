"""Keep freed host memory in the process instead of returning it to the OS.

Each learner update allocates and frees tensors of a few MB (activations, gradients). glibc
serves blocks that large with fresh `mmap`s and unmaps them on free, so every update pays a
page fault per 4 KiB page it touches again, a large share of a small policy's update time on
a CPU. Raising glibc's mmap and trim thresholds makes freed blocks stay in the heap for reuse
(what PyTorch's CUDA caching allocator does on a GPU). Other C libraries: a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX_BYTES = 32 * 1024 * 1024  # glibc caps the mmap threshold here (64-bit)


def keep_freed_memory(keep_bytes: int) -> bool:
    """Let the heap keep up to `keep_bytes` of freed memory and serve blocks up to
    min(keep_bytes, 32 MiB) from it; 0 leaves malloc alone. True if glibc took it."""
    if keep_bytes <= 0:
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    trim = min(keep_bytes, 2**31 - 1)
    mmap = min(keep_bytes, MMAP_THRESHOLD_MAX_BYTES)
    return bool(mallopt(M_TRIM_THRESHOLD, trim)) and bool(mallopt(M_MMAP_THRESHOLD, mmap))
