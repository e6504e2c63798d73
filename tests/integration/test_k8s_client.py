"""The thin Kubernetes client against the test cluster's API server."""

import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from kubricks.k8s.client import api_client, apply, read_config_map_data, read_json, read_pod


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


def test_reads_give_the_servers_json_and_none_for_nothing_there(scratch: str) -> None:
    apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": scratch},
           "data": {"spark.properties": "spark.app.name=etl\n"}})  # fmt: skip
    assert read_config_map_data(scratch, "conf") == {"spark.properties": "spark.app.name=etl\n"}
    assert read_config_map_data(scratch, "missing") is None
    assert read_pod(scratch, "missing") is None
    found = read_json(f"/api/v1/namespaces/{scratch}")
    assert found is not None
    assert found["metadata"]["name"] == scratch
