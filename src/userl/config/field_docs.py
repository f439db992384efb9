"""Each config field's help text, read from its class's source by one rule.

The rule: **a field's doc is the comment at the end of its own line (the last line, for a
field written over several lines), continued by the `#` lines directly below it; a
doc that goes on below is followed by a blank line** (or the end of the fields):

    remote_timeout_s: float = 120.0  # every wait on another worker gives up after this
    # (a wait on several episodes: after this per episode)

    start_timeout_s: float = 600.0  # waiting for a worker to be built

So every comment line of a config class body touches exactly one field, and a comment can
never be read as its neighbour's help. `comment_problems` names each comment that breaks
the rule, and `tests/unit/test_field_docs.py` fails on it: a block that continues no
field's trailing comment (at the top of the body, after a blank line, or below a field with
no comment of its own: a block written above a field), and a continuation that runs into
the next field without a blank line (which could be either field's). Comments directly
above a method (or at the end of the fields) belong to that code, not to a field. A field
that holds a nested config is documented by that config class's docstring; a subclass that
declares a field again without a comment keeps its base's doc. Type-checker and linter
pragmas (`# type: ignore`, `# noqa`) are not help.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import re
import tokenize
from dataclasses import dataclass, field

PRAGMA = re.compile(r"^(type:\s*ignore(\[[^\]]*\])?|noqa(:[\w, ]*)?)\s*")


@dataclass
class ClassDocs:
    """What one class body's comments say: each field's doc, and the comment lines (by
    source line number within the class) that break the rule."""

    docs: dict[str, str] = field(default_factory=dict)
    unattached: list[tuple[int, str]] = field(default_factory=list)


def _comment_text(raw: str) -> str:
    text = raw.lstrip("#").strip()
    while True:  # `# type: ignore[x]  # help` -> `help`
        match = PRAGMA.match(text)
        if not match:
            return text
        text = text[match.end() :].lstrip("#").strip()


def read_class(source: str) -> ClassDocs:
    """The docs and unattached comments of the first class in `source`, by the rule."""
    source = inspect.cleandoc("\n" + source) if source.startswith(" ") else source
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = _comment_text(token.string)
    lines = source.splitlines()
    standalone = {n for n in comments if lines[n - 1].lstrip().startswith("#")}
    body = ast.parse(source).body[0]
    statements = list(getattr(body, "body", []))
    result = ClassDocs()
    claimed: set[int] = set()
    field_starts = {n.lineno for n in statements if isinstance(n, ast.AnnAssign)}
    for node in statements:
        last = node.end_lineno or node.lineno
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            parts = [comments[n] for n in range(node.lineno, last + 1) if n in comments]
            parts = [part for part in parts if part]
            line = last + 1
            while parts and line in standalone:  # the trailing comment goes on below
                parts.append(comments[line])
                claimed.add(line)
                line += 1
            if line > last + 1 and line in field_starts:
                result.unattached.append((last + 1, comments[last + 1]))
            if parts:
                result.docs[node.target.id] = " ".join(part for part in parts if part)
        claimed.update(range(node.lineno, last + 1))
    code_starts = {n.lineno for n in statements if not isinstance(n, ast.AnnAssign)}
    for line in sorted(standalone - claimed):
        after = line
        while after + 1 in standalone:
            after += 1
        if after + 1 in code_starts or after >= max(n.lineno for n in statements):
            continue  # a comment on a method, or after the last field: not help
        result.unattached.append((line, comments[line]))
    return result


def _sources(cls: type) -> list[tuple[type, str]]:
    found = []
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            try:
                found.append((klass, inspect.getsource(klass)))
            except (OSError, TypeError):
                continue
    return found


_DOCS: dict[type, dict[str, str]] = {}


def field_docs(cls: type) -> dict[str, str]:
    """Field name -> its doc by the rule, over the class's dataclass bases (a subclass's own
    doc wins; a field it declares again without one keeps the base's)."""
    if cls not in _DOCS:
        docs: dict[str, str] = {}
        for _, source in _sources(cls):
            docs.update(read_class(source).docs)
        _DOCS[cls] = docs
    return _DOCS[cls]


def comment_problems(cls: type) -> list[str]:
    """One line per comment in `cls` or its dataclass bases that breaks the rule, naming the
    class and the comment."""
    return [
        f"{klass.__module__}.{klass.__qualname__}: comment {text!r} (line {line} of the "
        f"class) is not one field's doc: write it after a field's trailing comment, and "
        f"leave a blank line before the next field"
        for klass, source in _sources(cls)
        for line, text in read_class(source).unattached
    ]


def class_doc(cls: type) -> str:
    """The first paragraph of the class's docstring (its nearest base's, when it has none),
    on one line ('' without one)."""
    for klass in cls.__mro__:
        doc = klass.__dict__.get("__doc__") or ""
        if doc and not doc.startswith(klass.__name__ + "("):  # not dataclasses' signature
            return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    return ""
