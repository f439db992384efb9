"""The episode store: one `.npz` file per finished episode, written crash-safely.

Format (documented in docs/data.md, the episode store): `episodes/<ms-timestamp>_<robot>_<id>.npz`,
an uncompressed NumPy zip whose members are `obs.<key>` (T+1 rows), `actions`,
`policy_actions`, `rewards`, `terminated`, `truncated`, `intervened`, `policy_versions`
(T rows), optionally `step_success` (T rows: the reward source's success after each step,
the labels of a reward classifier), optionally `chunk_ids` and `chunk_delays` (T rows: each
executed action's policy chunk and that chunk's realised inference delay in steps) and `meta`
(a JSON string: episode id, robot id, task, source, success, info).
A file is written under a temporary name, fsynced, then atomically renamed, so after a
crash an episode is either whole or absent. Zip CRC-32 checksums catch damaged files;
damaged or truncated files are reported and skipped, and the rest loads.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from userl.core.errors import ConfigError
from userl.core.files import atomic_write
from userl.core.types import Episode
from userl.data.file_kind import not_a_zip
from userl.data.store_index import StoreIndex, sha256_of
from userl.data.store_partials import PartialReport, describe_partials, recover_partials

SUFFIX = ".npz"
TEMP_SUFFIX = ".partial"
_COLUMNS = (
    "actions",
    "policy_actions",
    "rewards",
    "terminated",
    "truncated",
    "intervened",
    "policy_versions",
)
STEP_SUCCESS = "step_success"  # optional column
CHUNK_COLUMNS = ("chunk_ids", "chunk_delays")  # optional: absent in older stores


@dataclass
class LoadReport:
    """What a full read of the store found."""

    episodes: list[Episode] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    # (file name, columns): well-formed episodes holding NaN or infinity, never loaded
    nonfinite: list[tuple[str, str]] = field(default_factory=list)

    def refuse_nonfinite(self, where: Path) -> None:
        """A `ConfigError` naming the first non-finite episode file at `where`, if any: such
        data is never trained on or passed on."""
        if self.nonfinite:
            name, columns = self.nonfinite[0]
            more = f" (and {len(self.nonfinite) - 1} more)" if len(self.nonfinite) > 1 else ""
            raise ConfigError(
                f"{where / name} holds NaN or infinite values in {columns}{more}; delete or "
                "re-record that episode (userl data stats lists them)"
            )


def nonfinite_entry(name: str, episode: Episode) -> tuple[str, str] | None:
    """(name, its non-finite columns) for a `LoadReport`, or None for a finite episode."""
    columns = episode.nonfinite_fields()
    return (name, ", ".join(columns)) if columns else None


def encode_episode(episode: Episode) -> dict[str, np.ndarray]:
    members = {f"obs.{key}": value for key, value in episode.observations.items()}
    members.update({name: getattr(episode, name) for name in _COLUMNS})
    if episode.step_success is not None:
        members[STEP_SUCCESS] = np.asarray(episode.step_success, bool)
    for name in CHUNK_COLUMNS:
        if getattr(episode, name) is not None:
            members[name] = np.asarray(getattr(episode, name), np.int64)
    meta = {
        "episode_id": episode.episode_id,
        "robot_id": episode.robot_id,
        "task": episode.task,
        "source": episode.source,
        "success": bool(episode.success),
        "info": episode.info,
    }
    members["meta"] = np.array(json.dumps(meta))
    return members


def decode_episode(members: dict[str, np.ndarray]) -> Episode:
    meta = json.loads(str(members["meta"]))
    observations = {k[4:]: v for k, v in members.items() if k.startswith("obs.")}
    lengths = {len(members[name]) for name in _COLUMNS}
    if len(lengths) != 1:
        raise ValueError(f"columns of different lengths {sorted(lengths)}")
    steps = lengths.pop()
    step_success = members.get(STEP_SUCCESS)
    if step_success is not None and len(step_success) != steps:
        raise ValueError(f"{STEP_SUCCESS} has {len(step_success)} rows, not {steps}")
    chunks = {name: members[name] for name in CHUNK_COLUMNS if name in members}
    for name, column in chunks.items():
        if len(column) != steps:
            raise ValueError(f"{name} has {len(column)} rows, not {steps}")
    if not observations or any(len(v) != steps + 1 for v in observations.values()):
        raise ValueError(f"observations must have {steps + 1} rows")
    return Episode(
        robot_id=meta["robot_id"],
        task=meta["task"],
        observations=observations,
        success=bool(meta["success"]),
        episode_id=meta["episode_id"],
        source=meta.get("source", "policy"),
        info=meta.get("info", {}),
        step_success=None if step_success is None else step_success.astype(bool),
        **{name: column.astype(np.int64) for name, column in chunks.items()},  # type: ignore[arg-type]
        **{name: members[name] for name in _COLUMNS},  # type: ignore[arg-type]
    )


def read_episode_file(path: Path, expected_sha256: str | None = None) -> Episode:
    """Read one episode file; raises ValueError naming the damage."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ValueError(f"{type(err).__name__}: {err}") from None
    return read_episode_bytes(data, expected_sha256)


def read_episode_bytes(data: bytes, expected_sha256: str | None = None) -> Episode:
    """Decode one episode file's bytes; raises ValueError naming the damage."""
    if (kind := not_a_zip(data)) is not None:
        raise ValueError(f"not a NumPy .npz archive (a zip file): it is {kind}")
    try:
        if expected_sha256 is not None and sha256_of(data) != expected_sha256:
            raise ValueError("SHA-256 differs from the index")
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            members = {name: archive[name] for name in archive.files}
        return decode_episode(members)
    except (
        zipfile.BadZipFile,
        OSError,
        KeyError,
        EOFError,
        ValueError,
        json.JSONDecodeError,
    ) as err:
        raise ValueError(f"{type(err).__name__}: {err}") from None


def index_entry(name: str, data: bytes, episode: Episode) -> dict[str, object]:
    return {
        "file": name,
        "episode_id": episode.episode_id,
        "robot_id": episode.robot_id,
        "source": episode.source,
        "steps": len(episode),
        "success": bool(episode.success),
        "intervened_steps": episode.intervened_steps,
        "sha256": sha256_of(data),
    }


class EpisodeStore:
    """A folder of episode files; safe to append from one writer while readers read."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.index = StoreIndex(self.root)

    def create(self) -> EpisodeStore:
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.suffix == SUFFIX and p.is_file())

    def episode_ids(self) -> set[str]:
        return {p.stem.rsplit("_", 1)[-1] for p in self.files()}

    def write(self, episode: Episode) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        robot = "".join(c if c.isalnum() or c in "-." else "-" for c in episode.robot_id)
        name = f"{int(time.time() * 1000):013d}_{robot}_{episode.episode_id}"
        final = self.root / f"{name}{SUFFIX}"
        temporary = self.root / f"{name}{TEMP_SUFFIX}"
        buffer = io.BytesIO()
        np.savez(buffer, **encode_episode(episode))  # type: ignore[arg-type]
        data = buffer.getvalue()
        atomic_write(final, lambda handle: handle.write(data), temporary)
        with contextlib.suppress(OSError):  # the episode is whole; an index that disagrees
            self.index.append(index_entry(final.name, data, episode))  # is rebuilt from files
        return final

    def delete(self, path: Path) -> None:
        """Remove one episode file (a spool after acknowledgement); the index follows."""
        path.unlink(missing_ok=True)

    def is_store(self) -> bool:
        """Whether the folder holds an episode store: its index, an episode or an unfinished
        write."""
        return self.index.path.is_file() or bool(self.files()) or bool(describe_partials(self.root))

    def recover_partials(self) -> PartialReport:
        """Unfinished writes (`store_partials`): a whole episode is recovered under its final
        name, anything else removed. Run on resume and when a spool opens; never by a read."""
        return recover_partials(self.root, SUFFIX, self._is_whole_episode)

    @staticmethod
    def _is_whole_episode(path: Path) -> bool:
        try:
            read_episode_file(path)
        except ValueError:
            return False
        return True

    def checked_index(self, rewrite: bool = True) -> tuple[dict[str, dict[str, object]], bool]:
        """The index, rebuilt from the files when it is missing, damaged or out of date (and
        written back unless `rewrite` is false: a read-only look never writes); returns (file
        name -> entry, whether it was rebuilt)."""
        entries = self.index.read()
        names = {p.name for p in self.files()}
        if entries is not None and set(entries) == names:
            return entries, False
        rebuilt: list[dict[str, Any]] = []
        for path in self.files():
            try:
                data = path.read_bytes()
                episode = read_episode_bytes(data)
            except (OSError, ValueError):
                continue  # damaged: left out of the index, reported by load()
            rebuilt.append(index_entry(path.name, data, episode))
        if rewrite and self.root.is_dir():
            self.index.rewrite(rebuilt)
        return {entry["file"]: entry for entry in rebuilt}, True

    def iter_episodes(self, report: LoadReport | None = None) -> Iterator[Episode]:
        """Every readable, finite episode in file order; damage (zip CRC or the index's
        SHA-256) and NaN or infinite values are added to `report` and the file skipped."""
        entries = self.index.read() or {}
        for path in self.files():
            expected = entries.get(path.name, {}).get("sha256")
            try:
                episode = read_episode_file(path, expected)
            except ValueError as reason:
                if report is not None:
                    report.unreadable.append((path.name, str(reason)))
                continue
            if (entry := nonfinite_entry(path.name, episode)) is None:
                yield episode
            elif report is not None:
                report.nonfinite.append(entry)

    def load(self) -> LoadReport:
        report = LoadReport()
        report.episodes = list(self.iter_episodes(report))
        return report

    def stats(self) -> dict[str, object]:
        """What the store holds; read-only (a stale index is reported, not rewritten)."""
        _, index_stale = self.checked_index(rewrite=False)
        report = LoadReport()
        per_robot: Counter[str] = Counter()
        per_source: Counter[str] = Counter()
        episodes = transitions = intervened = successes = 0
        for episode in self.iter_episodes(report):
            episodes += 1
            transitions += len(episode)
            intervened += episode.intervened_steps
            successes += int(episode.success)
            per_robot[episode.robot_id] += 1
            per_source[episode.source] += 1
        return {
            "path": str(self.root),
            "episodes": episodes,
            "transitions": transitions,
            "successes": successes,
            "success_rate": successes / episodes if episodes else 0.0,
            "per_robot_episodes": dict(per_robot),
            "per_source_episodes": dict(per_source),
            "intervened_steps": intervened,
            "unreadable_files": len(report.unreadable),
            "unreadable": [f"{name}: {reason}" for name, reason in report.unreadable],
            "nonfinite_episodes": len(report.nonfinite),
            "nonfinite": [f"{name}: {columns}" for name, columns in report.nonfinite],
            "index": "stale (rebuilt on the next write)" if index_stale else "ok",
            "partial_files": len(partials := describe_partials(self.root)),
            "partial": partials,  # recovered or removed on resume
        }
