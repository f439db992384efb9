"""The local Ray that `userl` starts listens on the loopback interface only, even when Ray
was imported before userl (this module imports it first, as a user's script may)."""

import os

import psutil
import pytest
import ray

from userl.runtime.ray_session import LOCAL_ADDRESS, WORKER_NICENESS, is_loopback, local_ray

pytestmark = pytest.mark.integration
LOOPBACK_IPS = {LOCAL_ADDRESS, "::ffff:127.0.0.1", "::1"}


def listening_addresses() -> set[str]:
    """The IPs that this process and every process it started listen on."""
    ours = {psutil.Process().pid, *(p.pid for p in psutil.Process().children(recursive=True))}
    return {
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in ours
    }


def test_local_ray_is_bound_to_loopback_and_shut_down() -> None:
    with local_ray(num_cpus=1):
        assert ray.util.get_node_ip_address() == LOCAL_ADDRESS
        assert all(node["NodeManagerAddress"] == LOCAL_ADDRESS for node in ray.nodes())
        listening = listening_addresses()
        assert listening and listening <= LOOPBACK_IPS, listening
    assert not ray.is_initialized()


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1:6379", True),
        ("localhost:6379", True),
        ("[::1]:6379", True),
        ("10.0.0.1:6379", False),
        ("gpu-box.lab:6379", False),
    ],
)
def test_a_cluster_on_loopback_is_told_from_a_lab(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


@ray.remote(num_cpus=0)
def niceness() -> int:
    return os.nice(0)


def test_local_ray_workers_are_not_niced_below_the_driver() -> None:
    """Ray's own default (nice 15) lets any busy process starve the control loop."""
    with local_ray(num_cpus=1):
        assert ray.get(niceness.remote(), timeout=300) == os.nice(0) + WORKER_NICENESS
