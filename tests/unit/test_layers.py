"""The layer rules of docs/design.md, checked on the source: the Ray-free layers never import
Ray, and the hardware layer knows nothing of learning."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import userl

PACKAGE = Path(userl.__file__).parent
RAY_FREE = [
    "core",
    "config",
    "hardware",
    "tasks",
    "envs",
    "rewards",
    "policies",
    "algorithms",
    "data",
    "rollout",
]
NOT_FOR_HARDWARE = [
    "userl.policies",
    "userl.algorithms",
    "userl.rollout",
    "userl.runtime",
    "userl.config",
    "userl.data",
    "userl.envs",
    "userl.tasks",
    "torch",
    "ray",
]


def imported_modules(path: Path) -> set[str]:
    """Every module an `import` anywhere in the file names (top level or inside functions);
    `from a import b` names `a` and `a.b` (b may be a module: `from userl import cli`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imports_of(layer: str) -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE)): imported_modules(path)
        for path in sorted((PACKAGE / layer).rglob("*.py"))
    }


def offending(imports: dict[str, set[str]], forbidden: list[str]) -> list[str]:
    return [
        f"{file} imports {name}"
        for file, names in imports.items()
        for name in sorted(names)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize("layer", RAY_FREE)
def test_ray_free_layers_never_import_ray(layer):
    assert offending(imports_of(layer), ["ray"]) == []


def test_hardware_knows_nothing_of_learning():
    assert offending(imports_of("hardware"), NOT_FOR_HARDWARE) == []


def test_the_checks_see_an_offending_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def later():\n    import ray.util\n")
    assert offending({"bad.py": imported_modules(module)}, ["ray"]) == ["bad.py imports ray.util"]


def test_loading_a_config_leaves_ray_unloaded():
    """`userl config show` (and every command before its run starts) loads a config, which
    imports every component module: none of them may pull in Ray."""
    code = (
        "import contextlib, io, sys\n"
        "from userl.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = main(['config', 'show', 'pipeline=sync'])\n"
        "print(status, 'ray' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["0", "False"]


def test_nothing_below_the_command_line_imports_it():
    """`userl.cli` only parses and dispatches: the tools, benchmarks and runtime it calls
    never call back into it."""
    below = {
        str(path.relative_to(PACKAGE)): imported_modules(path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "cli.py"
    }
    assert offending(below, ["userl.cli"]) == []


def test_importing_every_component_but_the_runtime_leaves_ray_unloaded():
    modules = ", ".join(f"userl.{layer}" for layer in RAY_FREE)
    code = f"import sys, {modules}; print('ray' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_data_knows_nothing_of_the_layers_above_it():
    """Stores, buffers and formats sit below environments and runs: the command glue that
    builds a task's config or environment lives in `tools/`."""
    above = [
        "userl.config.loader",
        "userl.envs",
        "userl.rollout",
        "userl.runtime",
        "userl.tools",
        "userl.cli",
    ]
    assert offending(imports_of("data"), above) == []
