"""What a file that should be a zip (an `.npz` episode, a `.pt` checkpoint) is instead.

NumPy reads any file that is not a zip or an `.npy` as a pickle, and torch reads it as a
legacy pickle checkpoint, so a text file named `.npz` or `.pt` is otherwise reported as
"pickled (object) data"; this names what it is.
"""

from __future__ import annotations

from pathlib import Path

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first bytes (with members / empty)
TEXT_PROBE_BYTES = 4096  # how much of a file is tried as UTF-8 to call it text


def not_a_zip(head: bytes, size: int | None = None) -> str | None:
    """None when `head` (a file's first bytes) starts a zip file; otherwise what the file is,
    e.g. 'a text file of 12 bytes'. `size`: the whole file's length (default `len(head)`)."""
    if head.startswith(ZIP_MAGIC):
        return None
    size = len(head) if size is None else size
    if not head:
        return "an empty file (0 bytes)"
    if head.startswith(b"\x93NUMPY"):
        what = "a single NumPy array (.npy)"
    else:
        what = "a text file" if _is_text(head[:TEXT_PROBE_BYTES]) else "binary data of another kind"
    return f"{what} of {size} bytes"


def _is_text(probe: bytes) -> bool:
    """Whether `probe` is UTF-8 without control bytes other than whitespace (a character cut
    at the probe's end still counts)."""
    try:
        text = probe.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(probe) - 3:
            return False
        text = probe[: error.start].decode("utf-8")
    return all(c.isprintable() or c in "\t\n\r\f" for c in text)


def file_not_a_zip(path: Path) -> str | None:
    """`not_a_zip` of the file at `path`, reading its first bytes only; raises OSError."""
    with open(path, "rb") as handle:
        head = handle.read(TEXT_PROBE_BYTES)
    return not_a_zip(head, path.stat().st_size)
