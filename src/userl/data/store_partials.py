"""Unfinished writes in an episode store: `.partial` files.

Every store file is written under a `.partial` name and renamed when whole (`atomic_write`),
so a `.partial` is a write that a crash or a full disk interrupted. One that holds a whole,
readable episode (the crash came between its fsync and its rename) is recovered under its
final name; any other (empty, cut short, a temporary index) is removed. `userl data stats`
lists them without touching them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from userl.core.files import PARTIAL_SUFFIX, fsync_directory


@dataclass
class PartialReport:
    """What `recover_partials` did: file names recovered as episodes, and removed."""

    recovered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def line(self, where: Path) -> str | None:
        """One line saying what was done at `where`, or None when there was nothing."""
        if not self.recovered and not self.removed:
            return None
        return (
            f"{where}: unfinished writes found: {len(self.recovered)} whole episode(s) "
            f"recovered, {len(self.removed)} incomplete file(s) removed"
            + (f" ({', '.join(self.removed)})" if self.removed else "")
        )


def partial_files(root: Path) -> list[Path]:
    """The `.partial` files in `root` (read-only)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.name.endswith(PARTIAL_SUFFIX) and p.is_file())


def describe_partials(root: Path) -> list[str]:
    """'name: N bytes' for each `.partial` file, for `data stats` (read-only)."""
    described = []
    for path in partial_files(root):
        try:
            size = path.stat().st_size
        except OSError:
            continue  # removed meanwhile
        described.append(f"{path.name}: {size} bytes, an unfinished write")
    return described


def recover_partials(
    root: Path, final_suffix: str, is_whole: Callable[[Path], bool]
) -> PartialReport:
    """Recover (rename to its final name, `final_suffix` in place of `.partial`) each
    `.partial` file in `root` that `is_whole` accepts and whose final name is free; remove
    the rest. Run on resume, before the store is read."""
    report = PartialReport()
    for path in partial_files(root):
        stem = path.name[: -len(PARTIAL_SUFFIX)]
        final = root / (stem if stem.endswith(final_suffix) else stem + final_suffix)
        if not final.exists() and is_whole(path):
            os.replace(path, final)
            report.recovered.append(final.name)
        else:
            path.unlink(missing_ok=True)
            report.removed.append(path.name)
    if report.recovered or report.removed:
        fsync_directory(root)
    return report
