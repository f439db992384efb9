"""`userl config show` / `userl train --help`: every key of a resolved config, with its type,
value, default and its field's doc (`config/field_docs.py` says which comment that is)."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from userl.config.field_docs import class_doc, field_docs
from userl.config.preset_files import PRESET_DIR


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default(item: dataclasses.Field) -> Any:
    if item.default is not dataclasses.MISSING:
        return item.default
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return None


def preset_doc(group: str, preset: str) -> str:
    """The comment block at the top of a preset file, on one line ('' without one)."""
    path = PRESET_DIR / group / f"{preset}.yaml"
    lines = path.read_text().splitlines() if path.is_file() else []
    block = []
    for line in lines:
        if not line.startswith("#"):
            break
        block.append(line.lstrip("#").strip())
    return " ".join(block)


def section_header(key: str, value: Any, preset: str | None = None) -> str:
    """`[key] Class: doc`, or with the preset it was built from, `[key] preset P (Class):
    the preset file's own doc` (so `[algo]` says rlpd, not only the SAC class it uses)."""
    cls = type(value)
    if preset is None:
        doc = class_doc(cls)
        return f"[{key}] {cls.__name__}" + (f": {doc}" if doc else "")
    doc = preset_doc(key, preset) or class_doc(cls)
    return f"[{key}] preset {preset} ({cls.__name__})" + (f": {doc}" if doc else "")


def describe_lines(
    node: Any, prefix: str = "", presets: Mapping[str, str] | None = None
) -> Iterator[str]:
    """One line per leaf key: `key: type = value  [default: d]  # doc`; a section header
    (the preset's or the class's doc) before each nested config."""
    hints = typing.get_type_hints(type(node), include_extras=False)
    docs = field_docs(type(node))
    sections = []
    for item in dataclasses.fields(node):
        value = getattr(node, item.name)
        key = f"{prefix}{item.name}"
        if dataclasses.is_dataclass(value):
            sections.append((key, value))
            continue
        if isinstance(value, list) and value and all(dataclasses.is_dataclass(v) for v in value):
            sections.extend(
                (f"{key}.{getattr(v, 'name', '') or i}", v)  # e.g. each cell
                for i, v in enumerate(value)
            )
            value = [getattr(v, "name", i) for i, v in enumerate(value)]
        line = f"  {key}: {_type_name(hints.get(item.name, item.type))} = {value!r}"
        default = _default(item)
        if default != value and item.name != "name":
            line += f"  [default: {default!r}]"
        if item.name in docs:
            line += f"  # {docs[item.name]}"
        yield line
    for key, value in sections:
        yield ""
        yield section_header(key, value, (presets or {}).get(key))
        yield from describe_lines(value, key + ".")


def describe(config: Any, presets: Mapping[str, str] | None = None) -> str:
    """The whole listing; `presets` (group -> preset name) names each group's preset."""
    return "\n".join(describe_lines(config, presets=presets)).lstrip("\n")
