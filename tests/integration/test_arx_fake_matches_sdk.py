"""The fake `arx_r5_sdk` (tests/fakes) against the real package's source: arx-r5-sdk 1.0.0 is
downloaded as an sdist with pip (it cannot install here) and its `single_arm.py` is parsed;
every public name and signature of `SingleArm` and the module's functions must match."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import tarfile

import pytest

from tests.fakes import arx_r5_sdk as fake

pytestmark = pytest.mark.integration
SDK_SPEC = "arx-r5-sdk==1.0.0"
SOURCE_NAME = "single_arm.py"
DOWNLOAD_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def sdk_source(tmp_path_factory: pytest.TempPathFactory) -> ast.Module:
    folder = tmp_path_factory.mktemp("arx_sdist")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--no-build-isolation",
                "--disable-pip-version-check",
                SDK_SPEC,
                "-d",
                str(folder),
            ],
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip download {SDK_SPEC} timed out (offline?)")
    archives = list(folder.glob("*.tar.gz"))
    if done.returncode != 0 or not archives:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot download {SDK_SPEC} (offline?): {last}")
    with tarfile.open(archives[0]) as archive:
        member = next(
            m for m in archive.getmembers() if m.name.endswith(f"arx_r5_sdk/{SOURCE_NAME}")
        )
        handle = archive.extractfile(member)
        assert handle is not None
        return ast.parse(handle.read().decode())


def parameters(function: ast.FunctionDef) -> list[tuple[str, bool]]:
    """(name, has a default) per parameter, `*args`/`**kwargs` as '*name'/'**name'."""
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    defaults = [False] * (len(positional) - len(arguments.defaults)) + [True] * len(
        arguments.defaults
    )
    result = [(a.arg, d) for a, d in zip(positional, defaults, strict=True)]
    if arguments.vararg:
        result.append(("*" + arguments.vararg.arg, False))
    result += [
        (a.arg, d is not None)
        for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    ]
    if arguments.kwarg:
        result.append(("**" + arguments.kwarg.arg, False))
    return result


def fake_parameters(function: object) -> list[tuple[str, bool]]:
    result = []
    for parameter in inspect.signature(function).parameters.values():  # type: ignore[arg-type]
        prefix = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}.get(
            parameter.kind, ""
        )
        result.append((prefix + parameter.name, parameter.default is not inspect.Parameter.empty))
    return result


def test_single_arm_methods_and_signatures_match_the_sdk(sdk_source: ast.Module) -> None:
    single_arm = next(
        node
        for node in sdk_source.body
        if isinstance(node, ast.ClassDef) and node.name == "SingleArm"
    )
    real = {
        node.name: node
        for node in single_arm.body
        if isinstance(node, ast.FunctionDef)
        and (not node.name.startswith("_") or node.name == "__init__")
    }
    faked = {
        name
        for name, _ in inspect.getmembers(fake.SingleArm, inspect.isfunction)
        if not name.startswith("_") or name == "__init__"
    }
    assert faked == set(real)
    for name, node in real.items():
        assert fake_parameters(getattr(fake.SingleArm, name)) == parameters(node), name


def test_module_functions_match_the_sdk(sdk_source: ast.Module) -> None:
    real = {node.name: node for node in sdk_source.body if isinstance(node, ast.FunctionDef)}
    assert real, "the SDK's single_arm.py defines module functions"
    for name, node in real.items():
        assert fake_parameters(getattr(fake, name)) == parameters(node), name
