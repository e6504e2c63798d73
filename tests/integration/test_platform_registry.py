"""Docker and the private registry are real: build, push with credentials, pull by digest, refusals."""

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest


def image_context(base_image: str, marker: str) -> io.BytesIO:
    """A build context holding one Dockerfile; RUN proves the engine runs build containers."""
    return io.BytesIO(f"FROM {base_image}\nRUN echo {marker} > /marker\n".encode())


def credentials(platform: dict[str, str]) -> dict[str, str]:
    return {
        "username": platform["KUBRICKS_TEST_REGISTRY_USER"],
        "password": platform["KUBRICKS_TEST_REGISTRY_PASSWORD"],
    }


def push_events(api: docker.APIClient, repository: str, tag: str, auth: dict[str, str] | None) -> list[dict[str, Any]]:
    return list(api.push(repository, tag=tag, auth_config=auth, stream=True, decode=True))


@pytest.fixture
def built_image(platform: dict[str, str], docker_api: docker.APIClient) -> Iterator[tuple[str, str, str]]:
    marker = uuid.uuid4().hex
    repository = f"{platform['KUBRICKS_TEST_REGISTRY']}/tests/platform"
    tag = marker[:12]
    events = list(
        docker_api.build(
            fileobj=image_context(platform["KUBRICKS_TEST_BASE_IMAGE"], marker),
            tag=f"{repository}:{tag}",
            decode=True,
            rm=True,
        )
    )
    errors = [e["errorDetail"] for e in events if "errorDetail" in e]
    assert not errors, errors
    yield repository, tag, marker
    for image in docker_api.images(name=repository):
        docker_api.remove_image(image["Id"], force=True)


def test_image_is_pushed_with_credentials_and_pulled_back_by_digest(
    platform: dict[str, str], docker_api: docker.APIClient, built_image: tuple[str, str, str]
) -> None:
    repository, tag, marker = built_image
    events = push_events(docker_api, repository, tag, credentials(platform))
    assert not [e for e in events if "errorDetail" in e], events
    digest = next(e["aux"]["Digest"] for e in events if "aux" in e)

    docker_api.remove_image(f"{repository}:{tag}", force=True)
    for event in docker_api.pull(repository, tag=digest, auth_config=credentials(platform), stream=True, decode=True):
        assert "errorDetail" not in event, event
    container = docker_api.create_container(f"{repository}@{digest}", command=["cat", "/marker"])
    try:
        docker_api.start(container)
        assert docker_api.wait(container)["StatusCode"] == 0
        assert docker_api.logs(container).decode().strip() == marker
    finally:
        docker_api.remove_container(container, force=True)


def test_push_without_credentials_is_refused(
    platform: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    built_image: tuple[str, str, str],
) -> None:
    repository, tag, _ = built_image
    # An empty client configuration: no stored login to fall back on.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    anonymous = docker.APIClient(base_url=platform["DOCKER_HOST"])
    events = push_events(anonymous, repository, tag, auth=None)
    errors = [e["errorDetail"]["message"] for e in events if "errorDetail" in e]
    assert errors, "the registry accepted an anonymous push"
    assert "basic auth credentials" in errors[0] or "unauthorized" in errors[0].lower()


@pytest.mark.parametrize("auth", [None, ("kubricks", "wrong-password")], ids=["anonymous", "wrong-password"])
def test_registry_api_requires_basic_auth(platform: dict[str, str], auth: tuple[str, str] | None) -> None:
    response = httpx.get(f"http://{platform['KUBRICKS_TEST_REGISTRY']}/v2/", auth=auth)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_base_image_is_in_the_registry(platform: dict[str, str]) -> None:
    reference = platform["KUBRICKS_TEST_BASE_IMAGE"].removeprefix(platform["KUBRICKS_TEST_REGISTRY"] + "/")
    repository, tag = reference.rsplit(":", 1)
    response = httpx.get(
        f"http://{platform['KUBRICKS_TEST_REGISTRY']}/v2/{repository}/manifests/{tag}",
        auth=(platform["KUBRICKS_TEST_REGISTRY_USER"], platform["KUBRICKS_TEST_REGISTRY_PASSWORD"]),
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"].startswith("sha256:")
