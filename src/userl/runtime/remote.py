"""Bounded calls into Ray actors: the driver and the workers never wait on an answer forever.

A hung learner or a lost robot node must end a run with an error, not stall it, so every
call that waits for an actor's answer names how long it may wait: `run.remote_timeout_s` for
the calls of a running system, `run.start_timeout_s` for the first calls to actors that are
still being built. After that Ray raises `GetTimeoutError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ray


def call(method: Any, *args: Any, timeout_s: float, **kwargs: Any) -> Any:
    """`method.remote(*args, **kwargs)` on its actor, and its answer within `timeout_s`
    seconds (`call(learner.stats, timeout_s=config.run.remote_timeout_s)`)."""
    return ray.get(method.remote(*args, **kwargs), timeout=timeout_s)


def call_each(methods: Iterable[Any], *args: Any, timeout_s: float) -> list[Any]:
    """The same call on several actors at once (`[w.set_weights for w in workers]`), their
    answers in order, all within `timeout_s` seconds."""
    return ray.get([method.remote(*args) for method in methods], timeout=timeout_s)
