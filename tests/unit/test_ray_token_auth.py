"""A lab cluster is joined only with Ray's token authentication (RAY_AUTH_MODE=token and the
cluster's token on this machine); local runs use a private Ray on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from userl.config.loader import ConfigError
from userl.runtime.ray_session import (
    AUTH_MODE_ENV,
    TOKEN_ENV,
    TOKEN_PATH_ENV,
    ray_token_source,
    require_token_auth,
)


def test_without_a_token_joining_a_cluster_is_refused_in_one_line(home: Path) -> None:
    with pytest.raises(ConfigError, match=r"no Ray cluster token .*~/.ray/auth_token") as error:
        require_token_auth()
    assert "\n" not in str(error.value)


def test_the_token_file_turns_on_token_authentication(home: Path) -> None:
    token = home / ".ray" / "auth_token"
    token.parent.mkdir()
    token.write_text("f" * 64)
    assert require_token_auth() == str(token)
    assert os.environ[AUTH_MODE_ENV] == "token"


def test_token_sources_follow_rays_precedence(home: Path, monkeypatch) -> None:
    elsewhere = home / "lab_token"
    elsewhere.write_text("a" * 64)
    monkeypatch.setenv(TOKEN_PATH_ENV, str(elsewhere))
    assert ray_token_source() == str(elsewhere)
    monkeypatch.setenv(TOKEN_ENV, "b" * 64)
    assert ray_token_source() == f"${TOKEN_ENV}"
    elsewhere.write_text("")
    monkeypatch.delenv(TOKEN_ENV)
    assert ray_token_source() is None  # an empty token file is no token


def test_authentication_turned_off_is_refused_for_a_lab_cluster(home: Path, monkeypatch) -> None:
    monkeypatch.setenv(AUTH_MODE_ENV, "disabled")
    with pytest.raises(ConfigError, match="RAY_AUTH_MODE=disabled"):
        require_token_auth()
