"""Start and stop the local Ray: bound to 127.0.0.1, dashboard off, no usage reporting. A lab
cluster is joined only with Ray's token authentication (`RAY_AUTH_MODE=token`, the cluster's
shared token on this machine): without it anyone on the network could run code on the robot
node."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import ray

from userl.config.schema import Config
from userl.core.errors import ConfigError
from userl.runtime.placement import ray_address

LOCAL_ADDRESS = "127.0.0.1"
AUTH_MODE_ENV = "RAY_AUTH_MODE"
TOKEN_ENV = "RAY_AUTH_TOKEN"
TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"
DEFAULT_TOKEN_PATH = "~/.ray/auth_token"  # where `ray get-auth-token --generate` writes it
CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray stays on 127.0.0.1
AUTH_REFUSED_MARKERS = ("AuthenticationError", "InvalidAuthToken")  # in Ray's join errors
# Ray starts its workers 15 nice steps below the process that started it, so any busy
# process on the machine starves the control loop, the learner and the weight sync. userl's
# workers run at the driver's own priority; a lab cluster's nodes need the same variable on
# `ray start` (docs/real-robot.md).
WORKER_NICENESS_ENV = "RAY_worker_niceness"
WORKER_NICENESS = 0  # nice steps added to a local Ray's workers (Unix nice increment)
RAY_START_ATTEMPTS = 3  # starts of a local Ray before its start-up timeout is an error
STARTUP_TIMEOUT_MARKER = "timed out during startup"  # in Ray's error when its node is late
TOKEN_BYTES = 32  # random bytes of a new local token (hex-encoded, as Ray's own generator)
PRIVATE_FILE_MODE = 0o600  # the token file: its owner alone reads it
PRIVATE_DIR_MODE = 0o700  # a token folder this module creates


def ray_token_source() -> str | None:
    """Where Ray finds this machine's cluster token, in Ray's order of precedence, or None."""
    if os.environ.get(TOKEN_ENV):
        return f"${TOKEN_ENV}"
    path = token_path()
    try:
        return str(path) if path.read_text().strip() else None
    except OSError:
        return None


def token_path() -> Path:
    """The token file Ray reads when `$RAY_AUTH_TOKEN` is unset."""
    return Path(os.environ.get(TOKEN_PATH_ENV) or DEFAULT_TOKEN_PATH).expanduser()


def ensure_private_token() -> Path | None:
    """Before a local Ray starts with token authentication: make its token file, when there
    is none, readable by its owner alone, created with that mode (Ray's own would be
    created with the umask's, usually world-readable). Returns the file it made, or None."""
    mode = os.environ.get(AUTH_MODE_ENV, "")
    if mode.lower() != "token" or os.environ.get(TOKEN_ENV):
        return None
    path = token_path()
    if path.exists():
        return None
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:  # made meanwhile by another start
        return None
    with os.fdopen(handle, "w") as file:
        file.write(secrets.token_hex(TOKEN_BYTES))
    return path


def require_token_auth() -> str:
    """Make this process use token authentication for a lab cluster; the token's source, or a
    one-line `ConfigError` with the fix."""
    mode = os.environ.setdefault(AUTH_MODE_ENV, "token")
    if mode.lower() != "token":
        raise ConfigError(
            f"{AUTH_MODE_ENV}={mode}: a lab cluster runs with Ray's token "
            f"authentication; unset {AUTH_MODE_ENV} or set it to token "
            "(docs/real-robot.md, Security)"
        )
    source = ray_token_source()
    if source is None:
        raise ConfigError(
            f"no Ray cluster token on this machine; copy the GPU box's "
            f"{DEFAULT_TOKEN_PATH} here (chmod 600) or set {TOKEN_PATH_ENV} "
            "(docs/real-robot.md, Security)"
        )
    return source


def stay_on_loopback(loopback: bool) -> None:
    """Whether the Ray started or joined next keeps to 127.0.0.1 (a private Ray, a cluster
    on this machine) or uses the routable address (a lab cluster). Ray reads this twice: in
    each process it starts (the environment) and once on import in this one (its constant),
    so both are set, right before `ray.init`."""
    from ray._private import ray_constants

    os.environ[CLUSTER_ENV] = "0" if loopback else "1"
    ray_constants.ENABLE_RAY_CLUSTER = not loopback


def is_loopback(address: str) -> bool:
    """Whether `host:port` names this machine's loopback interface."""
    host = address.rsplit(":", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@contextmanager
def local_ray(num_cpus: int, object_store_bytes: int = 256 * 1024 * 1024) -> Iterator[None]:
    """A private single-machine Ray for one command; shut down on exit, even on errors."""
    already_running = ray.is_initialized()
    if not already_running:
        stay_on_loopback(True)
        os.environ.setdefault(WORKER_NICENESS_ENV, str(WORKER_NICENESS))  # a user's value wins
        ensure_private_token()
        start_local_ray(num_cpus, object_store_bytes)
    try:
        yield
    finally:
        if not already_running:
            ray.shutdown()


def start_local_ray(num_cpus: int, object_store_bytes: int) -> None:
    """`ray.init` on 127.0.0.1, tried again when Ray's node misses Ray's own fixed start-up
    limit: on a busy machine its agents can take longer than that to import, and the raylet
    then exits (ray-project/ray#65983); a second try finds their modules in the page cache."""
    for attempt in range(1, RAY_START_ATTEMPTS + 1):
        try:
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
            return
        except Exception as error:
            if STARTUP_TIMEOUT_MARKER not in str(error) or attempt == RAY_START_ATTEMPTS:
                raise
            ray.shutdown()
            print(
                f"Ray's node missed Ray's start-up limit (a busy machine?); starting it "
                f"again (attempt {attempt + 1} of {RAY_START_ATTEMPTS})",
                file=sys.stderr,
            )


@contextmanager
def cluster_ray(address: str, timeout_s: float) -> Iterator[None]:
    """Join a lab's Ray cluster by its explicit head address, with its token; disconnect on
    exit. A head that does not answer within `timeout_s` is one line (`probe_head`)."""
    source = require_token_auth()
    probe_head(address, timeout_s)
    stay_on_loopback(is_loopback(address))  # a layout tried on one machine stays private
    with stderr_held() as held:
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=True)
        except ConnectionError as error:
            held.drop()  # Ray's core logged each refused retry; one line says why
            raise ConfigError(join_failure(address, source, error)) from None
    try:
        yield
    finally:
        ray.shutdown()


def probe_head(address: str, timeout_s: float) -> None:
    """A TCP connection to the head at `host:port` within `timeout_s` seconds, or a one-line
    `ConfigError` naming the address: Ray's own join retries a head that is not there for
    minutes, printing a warning each time."""
    host, _, port = address.rpartition(":")
    try:
        target = (host.strip("[]"), int(port))
    except ValueError:
        raise ConfigError(
            f"head_address {address!r} is not host:port; write e.g. head_address: 10.0.0.1:6379"
        ) from None
    try:
        with socket.create_connection(target, timeout=timeout_s if timeout_s > 0 else None):
            return
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise ConfigError(
            f"no Ray cluster answers at {address} ({reason}, waited up to {timeout_s:g} s, "
            "run.remote_timeout_s); start the head there (ray start --head) or correct "
            "head_address in the cluster layout"
        ) from None


class HeldStream:
    """What was written to file descriptor 2 while held; replayed unless dropped."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.dropped = False

    def drop(self) -> None:
        self.dropped = True


@contextmanager
def stderr_held() -> Iterator[HeldStream]:
    """Hold back everything written to stderr (Python's and Ray's C++ core's, at the file
    descriptor), then write it out on exit unless `drop()` was called."""
    with tempfile.TemporaryFile() as file:
        held = HeldStream(file)
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(file.fileno(), 2)
        try:
            yield held
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if not held.dropped:
                file.seek(0)
                sys.stderr.write(file.read().decode(errors="replace"))
                sys.stderr.flush()


def join_failure(address: str, token_source: str, error: BaseException) -> str:
    """One line on why joining the cluster at `address` failed, and the fix."""
    cause: BaseException | None = error
    while cause is not None:  # Ray chains the refusal, or quotes it in the message
        if isinstance(cause, ray.exceptions.AuthenticationError) or any(
            marker in str(cause) for marker in AUTH_REFUSED_MARKERS
        ):
            return (
                f"the Ray cluster at {address} refused this machine's token (from "
                f"{token_source}); copy the head's {DEFAULT_TOKEN_PATH} here "
                "(docs/real-robot.md, Security)"
            )
        cause = cause.__cause__
    return (
        f"no Ray cluster answers at {address}; start the head there (ray start --head) "
        "or correct head_address in the cluster layout"
    )


def ray_for(config: Config) -> contextlib.AbstractContextManager[None]:
    """The Ray a run uses: the configured cluster's head, else a private local one."""
    address = ray_address(config)
    if address:
        return cluster_ray(address, config.run.remote_timeout_s)
    return local_ray(num_cpus=config.run.num_robots + 1 + config.learner.devices)  # + inference
