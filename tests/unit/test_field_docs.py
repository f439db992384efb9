"""Every config key's help is its own field's doc (`config/field_docs.py`'s rule), for every
key of every preset; every field has one, and no comment is attached to no field."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.adapter_base import ADAPTER_PRESETS, make_base_run
from userl.config.compatibility import partner_arguments
from userl.config.defaults import DEFAULT_PRESETS
from userl.config.describe import describe, section_header
from userl.config.field_docs import class_doc, comment_problems, field_docs
from userl.config.loader import load_config
from userl.config.preset_files import preset_names
from userl.config.schema import Config
from userl.core.registry import GROUPS, load_components


def config_classes() -> list[type]:
    """Config and every dataclass reachable from it or registered in a group."""
    load_components()
    todo: list[type] = [Config]
    todo += [cls for registry in GROUPS.values() for cls in registry._configs.values()]
    seen: list[type] = []
    while todo:
        cls = todo.pop()
        if cls in seen or not dataclasses.is_dataclass(cls):
            continue
        seen.append(cls)
        for hint in typing.get_type_hints(cls).values():
            todo += [a for a in (hint, *typing.get_args(hint)) if isinstance(a, type)]
    return seen


def is_section(cls: type, name: str) -> bool:
    """A field holding a nested config, documented by that config's class docstring."""
    hint = typing.get_type_hints(cls)[name]
    return isinstance(hint, type) and dataclasses.is_dataclass(hint) and bool(class_doc(hint))


def own_docs(cls: type) -> dict[str, str]:
    """The rule, read again here by plain line matching (not `field_docs`'s tokenizer):
    the field's trailing comment, then the `#` lines right below it."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass) or klass is object:
            continue
        lines, _ = inspect.getsourcelines(klass)
        body = ast.parse(inspect.cleandoc("\n" + "".join(lines))).body[0]
        for node in getattr(body, "body", []):
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            last = lines[(node.end_lineno or node.lineno) - 1]
            text = last.partition("  # ")[2].strip() if "  # " in last else ""
            if text.startswith("type: ignore"):
                text = text.partition("]")[2].lstrip(" #")
            parts = [text] if text else []
            below = node.end_lineno or node.lineno
            while parts and below < len(lines) and lines[below].lstrip().startswith("#"):
                parts.append(lines[below].strip().lstrip("#").strip())
                below += 1
            if parts:
                docs[node.target.id] = " ".join(parts)
    return docs


def help_by_key(text: str) -> Iterator[tuple[str, str]]:
    for line in text.splitlines():
        if line.startswith("  "):
            key = line.split(":")[0].strip()
            yield key, line.partition("  # ")[2]


NEEDS = {  # what a preset cannot load without
    "gym": [":CartPole-v1"],
    "classifier": ["", "reward.checkpoint=success.pt"],
    "cnn": ["", "obs=image"],
    "cnn_small": ["", "obs=image"],
}


def preset_configs(base: Path) -> Iterator[tuple[str, Config, dict[str, str]]]:
    """Every preset's config (`base`: a folder for the adapters' base run)."""
    base_run = make_base_run(base)
    for group in DEFAULT_PRESETS:
        for preset in preset_names(group):
            suffix, *more = NEEDS.get(preset, [""])
            if preset in ADAPTER_PRESETS:  # an adapter loads over a base run
                more = [*more, f"policy.base={base_run}"]
            argument = f"{group}={preset}{suffix}"
            partner = partner_arguments(group, preset)  # a pair that trains
            config = load_config([argument, *more, *partner])
            chosen = dict(text.split("=", 1) for text in partner)
            yield argument, config, {**DEFAULT_PRESETS, **chosen, group: preset}


@pytest.mark.parametrize("cls", config_classes(), ids=lambda cls: cls.__name__)
def test_every_comment_belongs_to_one_field_and_every_field_has_a_doc(cls: type) -> None:
    assert comment_problems(cls) == []
    docs = field_docs(cls)
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in docs and not is_section(cls, f.name)
    ]
    assert missing == [], f"{cls.__name__}: no doc for {missing}"


def test_every_key_of_every_preset_shows_its_own_fields_doc(tmp_path: Path) -> None:
    checked = 0
    for argument, config, presets in preset_configs(tmp_path / "base"):
        nodes: dict[str, typing.Any] = {"": config}
        todo: list[tuple[str, typing.Any]] = [("", config)]
        while todo:
            key, node = todo.pop()
            for item in dataclasses.fields(node):
                value = getattr(node, item.name)
                if dataclasses.is_dataclass(value):
                    nodes[f"{key}{item.name}."] = value
                    todo.append((f"{key}{item.name}.", value))
        expected = {
            f"{prefix}{name}": doc
            for prefix, node in nodes.items()
            for name, doc in own_docs(type(node)).items()
        }
        shown = dict(help_by_key(describe(config, presets)))
        for key, doc in shown.items():
            assert doc == expected.get(key, ""), f"{argument}: {key}"
            checked += 1
    assert checked > 500


def test_a_section_names_the_preset_it_was_built_from() -> None:
    config = load_config([])
    text = describe(config, DEFAULT_PRESETS)
    assert f"[algo] preset {DEFAULT_PRESETS['algo']} ({type(config.algo).__name__})" in text
    assert section_header("algo", config.algo).startswith("[algo] SACConfig")


@dataclass
class Example:
    """An example."""

    first: int = 1  # the first field's help
    # goes on below it

    second: int = 2  # the second's
    # which runs into the next field: it could be either's
    fifth: int = 5  # the fifth's

    # a block after a blank line belongs to nothing
    third: int = 3
    # nor does one under a field without a comment
    fourth: int = 4  # noqa: E501  # a pragma is not help

    def method(self) -> int:  # a method's comments are code comments
        # not help either
        return self.first


def test_the_rule_on_an_example() -> None:
    assert field_docs(Example) == {
        "first": "the first field's help goes on below it",
        "second": "the second's which runs into the next field: it could be either's",
        "fifth": "the fifth's",
        "fourth": "a pragma is not help",
    }
    problems = comment_problems(Example)
    assert len(problems) == 3
    assert "which runs into the next field" in problems[0]
    assert "a block after a blank line" in problems[1]
    assert "nor does one under" in problems[2]
