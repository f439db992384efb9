"""The local Ray that `userl` starts listens on the loopback interface only."""

import pytest
import ray

from userl.runtime.ray_session import LOCAL_ADDRESS, local_ray

pytestmark = pytest.mark.integration


def test_local_ray_is_bound_to_loopback_and_shut_down() -> None:
    with local_ray(num_cpus=1):
        assert ray.util.get_node_ip_address() == LOCAL_ADDRESS
        assert all(node["NodeManagerAddress"] == LOCAL_ADDRESS for node in ray.nodes())
    assert not ray.is_initialized()
