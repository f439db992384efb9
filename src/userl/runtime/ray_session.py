"""Start and stop the local Ray: bound to 127.0.0.1, dashboard off, no usage reporting."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import ray

from userl.config.schema import Config
from userl.runtime.placement import ray_address

LOCAL_ADDRESS = "127.0.0.1"


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
    """Join a lab's Ray cluster by its explicit head address; disconnect on exit."""
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
