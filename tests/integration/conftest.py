"""Integration-test isolation: no test inherits a Ray another one left running."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def no_ray_left_behind() -> Iterator[None]:
    """A failed test may leave its local Ray (and named actors) up; shut it down after
    every test, so one failure does not cascade into the next test's Ray."""
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()
