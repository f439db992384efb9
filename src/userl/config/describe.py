"""`userl config show` / `userl train --help`: every key of a resolved config, with its type,
value, default and the one-line help written beside the field in its config class."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import tokenize
import typing
from collections.abc import Iterator
from typing import Any

_COMMENTS: dict[type, dict[str, str]] = {}


def field_comments(cls: type) -> dict[str, str]:
    """Field name -> the comment on its line (and `#` lines right below it), over the MRO."""
    if cls in _COMMENTS:
        return _COMMENTS[cls]
    comments: dict[str, str] = _COMMENTS.setdefault(cls, {})
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        comments.update(_class_comments(source))
    return comments


def _class_comments(source: str) -> dict[str, str]:
    source = inspect.cleandoc("\n" + source) if source.startswith(" ") else source
    by_line: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            by_line[token.start[0]] = token.string.lstrip("#").strip()
    lines = source.splitlines()
    found: dict[str, str] = {}
    body = ast.parse(source).body[0]
    field_starts = {n.lineno for n in getattr(body, "body", []) if isinstance(n, ast.AnnAssign)}
    for node in getattr(body, "body", []):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            parts = [by_line[node.end_lineno]] if node.end_lineno in by_line else []
            line = (node.end_lineno or node.lineno) + 1
            below = list[str]()
            while parts and line in by_line and lines[line - 1].lstrip().startswith("#"):
                below.append(by_line[line])  # the trailing comment goes on below ...
                line += 1
            if line not in field_starts:  # ... unless the block sits right above a field
                parts.extend(below)
            line, above = node.lineno - 1, list[str]()
            while line in by_line and lines[line - 1].lstrip().startswith("#"):
                above.insert(0, by_line[line])  # a comment block right above the field
                line -= 1
            parts = parts or above
            if parts:
                found[node.target.id] = " ".join(parts)
    return found


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


def describe_lines(node: Any, prefix: str = "") -> Iterator[str]:
    """One line per leaf key: `key: type = value  [default: d]  # help`; a section header
    (with the class's first docstring line) before each nested config."""
    hints = typing.get_type_hints(type(node), include_extras=False)
    comments = field_comments(type(node))
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
        if item.name in comments:
            line += f"  # {comments[item.name]}"
        yield line
    for key, value in sections:
        doc = (inspect.getdoc(type(value)) or "").split("\n\n")[0].replace("\n", " ")
        yield ""
        yield f"[{key}] {type(value).__name__}" + (f": {doc}" if doc else "")
        yield from describe_lines(value, key + ".")


def describe(config: Any) -> str:
    return "\n".join(describe_lines(config)).lstrip("\n")
