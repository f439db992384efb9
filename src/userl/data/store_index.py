"""The episode store's index: one JSON line per stored file, with its SHA-256.

The files are the truth; the index is a fast listing and a second checksum. An index
that is missing, has a damaged line, or disagrees with the files is rebuilt from them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from userl.core.files import atomic_write

INDEX_NAME = "index.jsonl"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class StoreIndex:
    def __init__(self, root: Path) -> None:
        self.path = root / INDEX_NAME

    def append(self, entry: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def read(self) -> dict[str, dict[str, Any]] | None:
        """File name -> entry, or None when the index is missing or a line is damaged."""
        if not self.path.is_file():
            return None
        entries: dict[str, dict[str, Any]] = {}
        try:
            for line in self.path.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                entries[entry["file"]] = entry
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None
        return entries

    def rewrite(self, entries: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries)
        atomic_write(self.path, lambda handle: handle.write(text.encode("utf-8")))
