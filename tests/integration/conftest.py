"""Integration-test isolation: no test inherits a Ray, or a Ray's actors, another one left.

Modules with several in-process trainings share one local Ray (`shared_ray`): each `train()`
joins it and kills its own actors at the end, which saves a Ray start per training."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from userl.cli import main

SHARED_RAY_CPUS = 8  # logical CPUs: enough for the largest run a test starts (4 robots + 2)


@pytest.fixture(scope="module")
def shared_ray() -> Iterator[None]:
    """One private loopback Ray for the module, shut down after its last test."""
    from userl.runtime.ray_session import local_ray

    with local_ray(num_cpus=SHARED_RAY_CPUS):
        yield


@pytest.fixture(autouse=True)
def no_ray_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """A failed test may leave its Ray or its named actors up: after every test, kill any
    named actor left in the module's shared Ray, and shut down any other Ray, so one failure
    does not cascade into the next test."""
    yield
    import ray

    if not ray.is_initialized():
        return
    if "shared_ray" not in request.fixturenames:
        ray.shutdown()
        return
    for entry in ray.util.list_named_actors(all_namespaces=True):
        actor = ray.get_actor(entry["name"], namespace=entry["namespace"])
        ray.kill(actor, no_restart=True)


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`bench(name, *arguments)`: `userl bench NAME ... out=F.json` through `main`, run from
    `tmp_path`; the figures from the JSON it writes."""
    monkeypatch.chdir(tmp_path)

    def run(name: str, *arguments: str) -> dict[str, Any]:
        out = tmp_path / f"{name}.json"
        assert main(["bench", name, *arguments, f"out={out}"]) == 0, capsys.readouterr().err
        assert capsys.readouterr().out.strip(), "the benchmark prints its table"
        return json.loads(out.read_text())

    return run
