"""A failed run ends on one line naming the actor's own error, not Ray's wrapper around it."""

from __future__ import annotations

import ray

from userl.core.errors import TrainingDiverged
from userl.runtime.run_loop import failure_line


def test_an_actor_error_is_named_by_its_cause() -> None:
    cause = TrainingDiverged("100 updates in a row were not finite; check the data\nmore")
    wrapped = ray.exceptions.RayTaskError("Learner.train", "Traceback ...\n", cause)
    assert failure_line(wrapped) == (
        "TrainingDiverged: 100 updates in a row were not finite; check the data"
    )


def test_a_plain_error_keeps_its_first_line() -> None:
    assert failure_line(RuntimeError("the learner stopped\ndetails")) == "the learner stopped"
