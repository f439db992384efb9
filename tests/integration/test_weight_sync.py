"""Weight sync: versions, latest wins, coalesced requests, deltas with a full fallback."""

import time

import pytest
import ray
import torch

from userl.runtime.weight_sync import WeightPublisher, WeightSubscriber

# the module's one private Ray (a Ray of its own would be shut down after its first test by
# the conftest's isolation, and the later tests would start Ray's default one)
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shared_ray")]


def weights(value: float) -> dict[str, torch.Tensor]:
    return {"frozen_like": torch.zeros(4), "layer": torch.full((3,), value)}


def test_latest_wins_and_requests_coalesce() -> None:
    publisher = WeightPublisher(delta=False)
    for value in (1.0, 2.0, 3.0):
        publisher.publish(weights(value))
    first, second = publisher.latest(0), publisher.latest(1)
    assert first.version == second.version == 3  # intermediate versions are skipped
    assert first.reference == second.reference  # one object serves every consumer
    assert publisher.latest(3) is None
    assert torch.equal(ray.get(first.reference)["layer"], torch.full((3,), 3.0))


def test_delta_sends_only_changed_tensors_and_falls_back_to_full() -> None:
    publisher = WeightPublisher(delta=True)
    publisher.publish(weights(1.0))
    publisher.publish(weights(2.0))
    delta = publisher.latest(known_version=1)
    assert delta.base_version == 1 and set(ray.get(delta.reference)) == {"layer"}
    full = publisher.latest(known_version=0)  # not on the base: a complete snapshot
    assert full.base_version is None and set(ray.get(full.reference)) == {"frozen_like", "layer"}
    assert publisher.latest(known_version=0).reference == full.reference  # made once


@ray.remote
class PublisherActor:
    def __init__(self) -> None:
        self.publisher = WeightPublisher(delta=True)

    def publish(self, value: float) -> int:
        return self.publisher.publish(weights(value)).version

    def latest_weights(self, known_version: int, want_full: bool = False):
        return self.publisher.latest(known_version, want_full)


POLL_BOUND_S = 120.0  # generous: a fetch in the background may wait for a busy machine
POLL_PAUSE_S = 0.01


def polled_until(condition) -> None:
    """Poll (as an env worker does between control steps) until `condition()` holds."""
    deadline = time.monotonic() + POLL_BOUND_S
    while not condition():
        assert time.monotonic() < deadline, f"not installed within {POLL_BOUND_S:.0f} s"
        time.sleep(POLL_PAUSE_S)


def test_subscriber_installs_without_blocking_and_catches_up_after_a_missed_delta() -> None:
    actor = PublisherActor.remote()
    installed = {}

    def install(version, state, complete):
        installed.update(state)
        installed["version"] = version

    subscriber = WeightSubscriber(install, poll_interval_s=0.0)
    ray.get(actor.publish.remote(1.0))

    def reached(version: int) -> bool:
        subscriber.poll(actor)
        return subscriber.version == version

    polled_until(lambda: reached(1))
    assert subscriber.version == 1 and torch.equal(installed["layer"], torch.full((3,), 1.0))
    ray.get([actor.publish.remote(2.0), actor.publish.remote(3.0)])  # version 2 is missed
    polled_until(lambda: reached(3))
    assert subscriber.version == 3 and torch.equal(installed["layer"], torch.full((3,), 3.0))
    assert subscriber.drain_metrics()["sync_installs"] == 2
