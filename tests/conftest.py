import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from kubernetes import client, config

from kubricks.api.crd import GROUP, custom_resource_definition, plural
from kubricks.api.sparkjob import SparkJob
from kubricks.dev.cluster import build_buildkit_image, build_operator_image
from kubricks.k8s.client import apply
from tests.image_support import pinned_ref
from tests.support import platform_env, registry_pull_secret, wait_until


@pytest.fixture(scope="session")
def sparkjob_crd(platform: dict[str, str], api_client: client.ApiClient) -> None:
    """The SparkJob CRD of this checkout, Established."""
    apply(custom_resource_definition(SparkJob))

    def established() -> bool:
        crd = client.ApiextensionsV1Api(api_client).read_custom_resource_definition(f"{plural(SparkJob)}.{GROUP}")
        return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

    wait_until(established, timeout=30, what="the SparkJob CRD to be Established")


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


@pytest.fixture
def pull_secret(core_v1: client.CoreV1Api, namespace: str, platform: dict[str, str]) -> str:
    """The name of a Secret in the test's namespace that pulls from the test registry."""
    return str(core_v1.create_namespaced_secret(namespace, registry_pull_secret(platform)).metadata.name)


@pytest.fixture(scope="session")
def wordcount_image(platform: dict[str, str]) -> str:
    """The wordcount SparkImage's cpu variant in the test registry, by digest."""
    return pinned_ref(platform, "tests/wordcount-jobs")


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def operator_image(platform: dict[str, str]) -> str:
    """The operator's image, built from images/operator/Dockerfile on the local base as `kubricks dev up` does."""
    return build_operator_image(ROOT, platform["KUBRICKS_TEST_BASE_IMAGE"], Path(platform["KUBRICKS_TEST_CA_BUNDLE"]))


def loaded_into_cluster(image: str) -> str:
    """``image`` loaded into the kind node, for pods that run it without a registry."""
    loaded = subprocess.run(
        ["kind", "load", "docker-image", image, "--name", "kubricks"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    return image


@pytest.fixture(scope="session")
def operator_image_in_cluster(operator_image: str) -> str:
    return loaded_into_cluster(operator_image)


@pytest.fixture(scope="session")
def buildkit_image_in_cluster(platform: dict[str, str]) -> str:
    """The rootless BuildKit image, built from images/buildkit/Dockerfile on the local base, in the kind node."""
    image = build_buildkit_image(ROOT, platform["KUBRICKS_TEST_BASE_IMAGE"], Path(platform["KUBRICKS_TEST_CA_BUNDLE"]))
    return loaded_into_cluster(image)
