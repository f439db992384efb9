"""Shared fixtures: a franky-sim server for the tests that drive the real franky-control."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def franky_sim() -> Iterator[str]:
    """The loopback address of a running franky-sim (a simulated Franka speaking libfranka's
    protocol), stopped at the end of the session."""
    pytest.importorskip("franky", reason="franky-control is not installed (pip install "
                        "'userl[hardware]')")
    pytest.importorskip("franky_sim", reason="franky-sim is not installed (pip install "
                        "'userl[hardware]')")
    from tests.franky_sim import FrankySim

    server = FrankySim()
    try:
        server.wait_ready()
        yield server.address
    finally:
        server.stop()
