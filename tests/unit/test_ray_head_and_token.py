"""A cluster head that nothing answers at is one line naming the address, before Ray's join
(which retries it for minutes); the token file a local Ray start makes is its owner's alone."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from userl.core.errors import ConfigError
from userl.runtime.ray_session import (
    AUTH_MODE_ENV,
    TOKEN_ENV,
    TOKEN_PATH_ENV,
    cluster_ray,
    ensure_private_token,
    probe_head,
)


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def listening() -> Iterator[str]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield f"127.0.0.1:{server.getsockname()[1]}"


def test_a_head_nothing_listens_at_is_one_line_before_ray_joins(
    home: Path, monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> None:
    """`ray.init` is never reached (the unit tier fails any test that calls it)."""
    monkeypatch.setenv(TOKEN_ENV, "f" * 64)
    address = f"127.0.0.1:{unused_port}"
    with (
        pytest.raises(ConfigError, match="no Ray cluster answers at") as error,
        cluster_ray(address, timeout_s=30.0),
    ):
        pass
    assert address in str(error.value) and "\n" not in str(error.value)


def test_a_head_that_answers_passes_the_probe(listening: str) -> None:
    probe_head(listening, timeout_s=30.0)


def test_a_head_address_without_a_port_is_named(home: Path) -> None:
    with pytest.raises(ConfigError, match="not host:port"):
        probe_head("10.0.0.1", timeout_s=1.0)


def test_a_local_start_makes_its_token_owner_only_whatever_the_umask(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTH_MODE_ENV, "token")
    umask = os.umask(0)
    try:
        made = ensure_private_token()
    finally:
        os.umask(umask)
    assert made == home / ".ray" / "auth_token"
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert stat.S_IMODE(made.parent.stat().st_mode) == 0o700
    assert len(made.read_text()) == 64


def test_an_existing_token_or_a_token_in_the_environment_is_left_alone(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTH_MODE_ENV, "token")
    monkeypatch.setenv(TOKEN_ENV, "f" * 64)
    assert ensure_private_token() is None and not (home / ".ray").exists()
    monkeypatch.delenv(TOKEN_ENV)
    token = home / "lab_token"
    token.write_text("a" * 64)
    monkeypatch.setenv(TOKEN_PATH_ENV, str(token))
    assert ensure_private_token() is None and token.read_text() == "a" * 64


def test_no_token_is_made_with_authentication_off(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTH_MODE_ENV, "disabled")
    assert ensure_private_token() is None and not (home / ".ray").exists()
