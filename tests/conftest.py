import uuid
from collections.abc import Iterator

import docker
import pytest
from kubernetes import client, config

from tests.support import platform_env


@pytest.fixture(scope="session")
def platform() -> dict[str, str]:
    return platform_env()


@pytest.fixture(scope="session")
def api_client(platform: dict[str, str]) -> client.ApiClient:
    return config.new_client_from_config(config_file=platform["KUBECONFIG"])


@pytest.fixture(scope="session")
def core_v1(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def namespace(core_v1: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core_v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core_v1.delete_namespace(name)


@pytest.fixture(scope="session")
def docker_api(platform: dict[str, str]) -> docker.APIClient:
    return docker.APIClient(base_url=platform["DOCKER_HOST"])
