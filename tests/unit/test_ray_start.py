"""A local Ray whose node misses Ray's start-up limit on a busy machine is started again."""

from __future__ import annotations

import pytest
import ray

from userl.runtime import ray_session

# Ray's own words when its raylet did not register in time (ray/_private/node.py)
RAY_STARTUP_TIMEOUT = Exception(
    "The current node timed out during startup. This could happen because some of the "
    "raylet failed to startup or the GCS has become overloaded."
)


def scripted_init(monkeypatch: pytest.MonkeyPatch, outcomes: list[Exception | None]) -> list[int]:
    calls: list[int] = []

    def init(**_: object) -> None:
        calls.append(1)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "shutdown", lambda: None)
    return calls


def test_a_late_node_is_started_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = scripted_init(monkeypatch, [RAY_STARTUP_TIMEOUT, None])
    ray_session.start_local_ray(num_cpus=2, object_store_bytes=1 << 26)
    assert len(calls) == 2
    assert "attempt 2 of" in capsys.readouterr().err


def test_other_start_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = scripted_init(monkeypatch, [ValueError("bad num_cpus"), None])
    with pytest.raises(ValueError, match="bad num_cpus"):
        ray_session.start_local_ray(num_cpus=2, object_store_bytes=1 << 26)
    assert len(calls) == 1


def test_the_last_late_start_is_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = scripted_init(monkeypatch, [RAY_STARTUP_TIMEOUT] * ray_session.RAY_START_ATTEMPTS)
    with pytest.raises(Exception, match="timed out during startup"):
        ray_session.start_local_ray(num_cpus=2, object_store_bytes=1 << 26)
    assert len(calls) == ray_session.RAY_START_ATTEMPTS
