"""The unit tier's rule, enforced: no test here starts Ray or builds a MuJoCo model.

`make test-fast` runs this tier alone, so it stays fast and runs anywhere; a test that needs
physics or a Ray cluster belongs in tests/integration, where `make test` runs it. Each guarded
entry point is replaced, for the length of every test, by one that fails the test and names the
rule; the guard raises pytest's failure outcome, which code catching `Exception` (a retry loop)
does not swallow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

RULE = (
    "tests/unit runs without physics and without Ray (`make test-fast`); "
    "a test that needs them belongs in tests/integration"
)


def forbidden(what: str) -> Callable[..., object]:
    """A stand-in for `what` that fails the calling test with the tier's rule."""

    def refuse(*_args: object, **_kwargs: object) -> object:
        pytest.fail(f"{what} called in a unit test: {RULE}")

    return refuse


@pytest.fixture(autouse=True)
def no_physics_no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `ray.init` and every way of building a MuJoCo model fail the test. A test that
    replaces one of them itself (a scripted `ray.init`) still may: its patch comes later."""
    import mujoco
    import ray

    monkeypatch.setattr(ray, "init", forbidden("ray.init"))
    for name in ("from_xml_string", "from_xml_path", "from_binary_path"):
        monkeypatch.setattr(mujoco.MjModel, name, staticmethod(forbidden(f"mujoco.MjModel.{name}")))
    monkeypatch.setattr(mujoco.MjSpec, "compile", forbidden("mujoco.MjSpec.compile"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home without a Ray token and no Ray auth variables (restored afterwards)."""
    from userl.runtime.ray_session import AUTH_MODE_ENV, TOKEN_ENV, TOKEN_PATH_ENV

    monkeypatch.setenv("HOME", str(tmp_path))
    for name in (AUTH_MODE_ENV, TOKEN_ENV, TOKEN_PATH_ENV):
        monkeypatch.setenv(name, "placeholder")  # recorded, so teardown restores the original
        monkeypatch.delenv(name)
    return tmp_path
