"""Crash-safe files: a file is either the old one or the whole new one, never half written."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

PARTIAL_SUFFIX = ".partial"


def fsync_directory(path: Path) -> None:
    """Make a rename inside `path` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write(
    path: Path, write: Callable[[BinaryIO], object], temporary: Path | None = None
) -> None:
    """Write `path` through `write(handle)`: into `temporary` (default `path` + '.partial'),
    fsynced, atomically renamed over `path`, then the folder fsynced. A write that fails (a full
    disk: `OSError` ENOSPC) removes `temporary` and raises."""
    temporary = temporary or path.with_name(path.name + PARTIAL_SUFFIX)
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)  # a full disk leaves no half-written file behind
        raise
    os.replace(temporary, path)
    fsync_directory(path.parent)
