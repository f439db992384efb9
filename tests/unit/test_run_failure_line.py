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


def test_an_actor_whose_creation_failed_is_named_by_the_cause_not_its_description() -> None:
    """A read-only or full disk as a restarted env worker builds its spool: Ray's
    `ActorDiedError` quotes the creation's traceback under the actor's description."""
    cause = OSError(30, "Read-only file system", "/runs/x/spool/robot_0")
    creation = ray.exceptions.RayTaskError(
        "EnvWorker.__init__",
        'Traceback (most recent call last):\n  File "env_worker.py", line 60, in __init__\n'
        f"    spool.mkdir()\n{type(cause).__name__}: {cause}",
        cause,
        actor_repr="\x1b[36menv_worker/robot_0:EnvWorker\x1b[39m",
    )
    died = ray.exceptions.ActorDiedError(creation)
    assert str(died).splitlines()[0] != failure_line(died)  # the description comes first
    assert failure_line(died) == (
        "OSError: [Errno 30] Read-only file system: '/runs/x/spool/robot_0'"
    )


def test_a_cause_wrapped_twice_is_unwrapped() -> None:
    cause = OSError(28, "No space left on device", "/runs/x/checkpoints/latest.pt.partial")
    inner = ray.exceptions.RayTaskError("Learner.save_checkpoint", "Traceback ...\n", cause)
    outer = ray.exceptions.RayTaskError("EnvWorker.run", "Traceback ...\n", inner)
    assert failure_line(outer) == (
        "OSError: [Errno 28] No space left on device: '/runs/x/checkpoints/latest.pt.partial'"
    )


def test_an_actor_that_died_without_a_traceback_keeps_rays_first_line() -> None:
    died = ray.exceptions.ActorDiedError()
    assert failure_line(died) == str(died).strip().splitlines()[0]
