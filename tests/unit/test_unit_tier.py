"""The unit tier's guard (tests/unit/conftest.py) works: starting Ray or building a MuJoCo
model inside a unit test fails it with the tier's rule, however the code under test gets
there, and a test's own stand-in for `ray.init` still takes precedence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from userl.config.loader import load_config

RULE = "tests/unit runs without physics and without Ray"


def test_starting_ray_fails_the_test_with_the_rule() -> None:
    import ray

    with pytest.raises(pytest.fail.Exception, match=f"ray.init called in a unit test: {RULE}"):
        ray.init(num_cpus=1)
    assert not ray.is_initialized()


def test_a_ray_call_that_would_start_ray_fails_the_test() -> None:
    """`ray.put` outside a Ray starts one (Ray's auto-init): that is caught too."""
    import ray

    with pytest.raises(pytest.fail.Exception, match="ray.init called in a unit test"):
        ray.put(1)
    assert not ray.is_initialized()


@pytest.mark.parametrize(
    ("name", "argument"),
    [
        ("from_xml_string", "<mujoco/>"),
        ("from_xml_path", "model.xml"),
        ("from_binary_path", "model.mjb"),
    ],
)
def test_building_a_mujoco_model_fails_the_test_with_the_rule(name: str, argument: str) -> None:
    import mujoco

    with pytest.raises(pytest.fail.Exception, match=f"mujoco.MjModel.{name} called.*{RULE}"):
        getattr(mujoco.MjModel, name)(argument)


def test_compiling_a_mujoco_spec_fails_the_test() -> None:
    import mujoco

    spec = mujoco.MjSpec()
    with pytest.raises(pytest.fail.Exception, match="mujoco.MjSpec.compile called"):
        spec.compile()


def test_a_simulated_environment_fails_the_test() -> None:
    """The way the project's code reaches physics: a task's environment."""
    from userl.envs.factory import make_env

    with pytest.raises(pytest.fail.Exception, match="mujoco.MjModel.from_xml_string called"):
        make_env(load_config(["task=peg_insertion"]), seed=0)


def test_the_guard_does_not_swallow_into_a_retry() -> None:
    """A local Ray start retries on errors (ray_session); the guard's failure is no `Exception`,
    so it ends the start at the first attempt instead of being retried or reported as Ray's."""
    from userl.runtime import ray_session

    assert not issubclass(pytest.fail.Exception, Exception)
    with pytest.raises(pytest.fail.Exception, match="ray.init called in a unit test"):
        ray_session.start_local_ray(num_cpus=1, object_store_bytes=1 << 26)


def test_a_tests_own_stand_in_for_ray_init_takes_precedence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ray

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(ray, "init", lambda **kwargs: calls.append(kwargs))
    ray.init(num_cpus=1)
    assert calls == [{"num_cpus": 1}]


def test_a_unit_test_that_starts_ray_or_physics_is_reported_failed(tmp_path: Path) -> None:
    """End to end, in a pytest of its own under the tier's conftest: each test that reaches
    Ray or MuJoCo is a failure naming the rule (with the guard gone, they would pass)."""
    (tmp_path / "conftest.py").write_text((Path(__file__).parent / "conftest.py").read_text())
    (tmp_path / "test_reaching_out.py").write_text(
        "import mujoco\n"
        "import ray\n\n\n"
        "def test_starts_ray():\n"
        "    ray.init(num_cpus=1)\n\n\n"
        "def test_builds_physics():\n"
        "    mujoco.MjModel.from_xml_string('<mujoco/>')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "2 failed" in result.stdout, result.stdout[-3000:]
    for what in ("ray.init", "mujoco.MjModel.from_xml_string"):
        assert f"{what} called in a unit test: {RULE}" in result.stdout, result.stdout[-3000:]
