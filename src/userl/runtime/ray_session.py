"""Start and stop the local Ray: bound to 127.0.0.1, dashboard off, no usage reporting. A lab
cluster is joined only with Ray's token authentication (`RAY_AUTH_MODE=token`, the cluster's
shared token on this machine): without it anyone on the network could run code on the robot
node."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ray

from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.runtime.placement import ray_address

LOCAL_ADDRESS = "127.0.0.1"
AUTH_MODE_ENV = "RAY_AUTH_MODE"
TOKEN_ENV = "RAY_AUTH_TOKEN"
TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"
DEFAULT_TOKEN_PATH = "~/.ray/auth_token"  # where `ray get-auth-token --generate` writes it


def ray_token_source() -> str | None:
    """Where Ray finds this machine's cluster token, in Ray's order of precedence, or None."""
    if os.environ.get(TOKEN_ENV):
        return f"${TOKEN_ENV}"
    path = Path(os.environ.get(TOKEN_PATH_ENV) or DEFAULT_TOKEN_PATH).expanduser()
    try:
        return str(path) if path.read_text().strip() else None
    except OSError:
        return None


def require_token_auth() -> str:
    """Make this process use token authentication for a lab cluster; the token's source, or a
    one-line `ConfigError` with the fix."""
    mode = os.environ.setdefault(AUTH_MODE_ENV, "token")
    if mode.lower() != "token":
        raise ConfigError(f"{AUTH_MODE_ENV}={mode}: a lab cluster runs with Ray's token "
                          f"authentication; unset {AUTH_MODE_ENV} or set it to token "
                          "(docs/real-robot.md, Security)")
    source = ray_token_source()
    if source is None:
        raise ConfigError(f"no Ray cluster token on this machine; copy the GPU box's "
                          f"{DEFAULT_TOKEN_PATH} here (chmod 600) or set {TOKEN_PATH_ENV} "
                          "(docs/real-robot.md, Security)")
    return source


@contextmanager
def local_ray(num_cpus: int, object_store_bytes: int = 256 * 1024 * 1024) -> Iterator[None]:
    """A private single-machine Ray for one command; shut down on exit, even on errors."""
    already_running = ray.is_initialized()
    if not already_running:
        ray.init(
            address="local",
            num_cpus=num_cpus,
            include_dashboard=False,
            _node_ip_address=LOCAL_ADDRESS,
            object_store_memory=object_store_bytes,
            log_to_driver=True,
            logging_level=logging.WARNING,
            configure_logging=True,
        )
    try:
        yield
    finally:
        if not already_running:
            ray.shutdown()


@contextmanager
def cluster_ray(address: str) -> Iterator[None]:
    """Join a lab's Ray cluster by its explicit head address, with its token; disconnect on
    exit."""
    require_token_auth()
    ray.init(address=address, logging_level=logging.WARNING, log_to_driver=True)
    try:
        yield
    finally:
        ray.shutdown()


def ray_for(config: Config):
    """The Ray a run uses: the configured cluster's head, else a private local one."""
    address = ray_address(config)
    if address:
        return cluster_ray(address)
    return local_ray(num_cpus=config.run.num_robots + 2)
