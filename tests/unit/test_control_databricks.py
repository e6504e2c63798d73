"""The Databricks clients of the operator, the workspace check, and the registry credentials they send: which
Secrets are read."""

import asyncio
import json
from base64 import b64encode
from types import SimpleNamespace
from typing import Any

import pytest

from kubricks.api.databricks import ImageChoice, RegistryAuth
from kubricks.control import databricks
from kubricks.control.databricks import WorkspaceClients, registry_auth
from kubricks.databricks.payloads import BasicAuth
from kubricks.databricks.workspace_state import HOST_NOT_ALLOWED, HostNotAllowed
from kubricks.handlers.workspace import check

IMAGE = "r.example.com/ml@sha256:" + "c" * 64
SPARK_IMAGES = {
    ("team", "ml"): [{"spec": {"registry": {"repository": "r.example.com/ml", "credentialsSecret": "push"}}}]
}


def docker_config(user: str) -> bytes:
    login = b64encode(f"{user}:{user}-password".encode()).decode()
    return json.dumps({"auths": {"r.example.com": {"auth": login}}}).encode()


@pytest.fixture
def secrets_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the Secrets read, each holding a token and a docker config whose user is the Secret's name."""
    read: list[str] = []

    def read_secret(namespace: str, name: str) -> dict[str, bytes]:
        read.append(name)
        return {"token": b"dapi-x", ".dockerconfigjson": docker_config(name)}

    monkeypatch.setattr(databricks, "read_secret", read_secret)
    return read


def workspace(host: str) -> dict[str, Any]:
    return {"host": host, "auth": {"token": {"secret": "dbx-pat"}}}


@pytest.mark.parametrize(
    ("allowed_hosts", "host", "allowed"),
    [
        ((), "https://anything.example.com", True),
        (("*.azuredatabricks.net",), "https://adb-1.7.azuredatabricks.net", True),
        (("*.azuredatabricks.net",), "https://collector.evil.example", False),
        (("*.azuredatabricks.net",), "http://127.0.0.1:8765", False),
    ],
)
def test_a_workspace_host_not_allowed_gets_no_client_and_its_secret_is_never_read(
    secrets_read: list[str], allowed_hosts: tuple[str, ...], host: str, allowed: bool
) -> None:
    async def run() -> tuple[object, object]:
        clients = WorkspaceClients(allowed_hosts)
        try:
            indexed = await clients.of_index({("team", "ws"): [{"spec": workspace(host)}]}, "team", "ws")
            try:
                refreshed: object = await clients.refresh("team", "ws", workspace(host))
            except HostNotAllowed as refused:
                refreshed = refused
            return indexed, refreshed
        finally:
            await clients.close()

    indexed, refreshed = asyncio.run(run())
    if allowed:
        assert indexed is refreshed is not None
        assert secrets_read == ["dbx-pat", "dbx-pat"]
    else:
        assert indexed is None
        assert isinstance(refreshed, HostNotAllowed)
        assert "spec.host" in str(refreshed)
        assert secrets_read == []


@pytest.mark.parametrize(
    ("auth", "choice", "sent", "read"),
    [
        (None, {"sparkImage": "ml"}, None, []),
        ({"fromSparkImage": True}, {"sparkImage": "ml"}, BasicAuth("push", "push-password"), ["push"]),
        ({"secret": "pull"}, {"sparkImage": "ml"}, BasicAuth("pull", "pull-password"), ["pull"]),
        ({"secret": "pull"}, {"ref": IMAGE}, BasicAuth("pull", "pull-password"), ["pull"]),
        (
            {"databricksSecret": {"scope": "ci", "usernameKey": "u", "passwordKey": "p"}},
            {"sparkImage": "ml"},
            BasicAuth("{{secrets/ci/u}}", "{{secrets/ci/p}}"),
            [],
        ),
    ],
    ids=["no-registry-auth", "from-spark-image", "secret", "secret-with-ref", "databricks-secret"],
)
def test_the_spark_images_push_secret_is_read_only_when_registry_auth_asks_for_it(
    secrets_read: list[str],
    auth: dict[str, Any] | None,
    choice: dict[str, str],
    sent: BasicAuth | None,
    read: list[str],
) -> None:
    registry = RegistryAuth.model_validate(auth) if auth else None
    basic = asyncio.run(registry_auth(registry, ImageChoice.model_validate(choice), "team", IMAGE, SPARK_IMAGES))
    assert basic == sent
    assert secrets_read == read


def test_the_workspace_check_reports_a_host_not_allowed_without_reading_the_secret(secrets_read: list[str]) -> None:
    body = {
        "apiVersion": "kubricks.dev/v1alpha1",
        "kind": "DatabricksWorkspace",
        "metadata": {"namespace": "team", "name": "ws"},
        "spec": workspace("https://collector.evil.example"),
    }
    live = SimpleNamespace(body=body, namespace="team", name="ws")
    clients = WorkspaceClients(("*.azuredatabricks.net",))
    reason, message, container_services = asyncio.run(check(live, clients))  # type: ignore[arg-type]
    assert (reason, container_services) == (HOST_NOT_ALLOWED, None)
    assert "spec.host https://collector.evil.example" in message
    assert "databricks.allowedHosts" in message
    assert secrets_read == []
