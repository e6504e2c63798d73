"""The thin Kubernetes client against the test cluster's API server."""

import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from kubricks.k8s.client import api_client, apply


@pytest.fixture
def scratch(platform: dict[str, str], core_v1: client.CoreV1Api) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core_v1.delete_namespace(name)


def test_applies_reuse_one_connection(scratch: str, core_v1: client.CoreV1Api) -> None:
    # Each new connection is a TLS handshake: leaving answers unread once made every apply open its own.
    pools = api_client().rest_client.pool_manager
    for index in range(20):
        apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{index}", "namespace": scratch}})
    opened = sum(pool.num_connections for pool in pools.pools._container.values())
    assert opened <= 2
    assert len(core_v1.list_namespaced_config_map(scratch).items) >= 20
