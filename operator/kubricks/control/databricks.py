"""Databricks clients, one per DatabricksWorkspace, and the registry credentials jobs and clusters send.

A client lives as long as its workspace's spec and Secret stay the same, so an OAuth token is fetched once and
reused until it expires, and a poll reads no Secret. The workspace's periodic check reads the Secret again and
replaces the client when it changed; a refused token drops the client at once, so the next call reads it too.
A workspace whose host the admin does not allow gets no client: its Secret is never read.
"""

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from kubricks.api.crd import GROUP, VERSION
from kubricks.api.databricks import DatabricksWorkspace, ImageChoice, RegistryAuth
from kubricks.control.images import first_entry
from kubricks.databricks.client import DatabricksClient, OAuthClient
from kubricks.databricks.payloads import BasicAuth, registry_secret, secret_references
from kubricks.databricks.state import WorkspaceState
from kubricks.databricks.workspace_state import HostNotAllowed, host_allowed, host_not_allowed_message
from kubricks.failures import MissingObject
from kubricks.images.registry import credentials_from_docker_config, parse_image
from kubricks.k8s.client import read_secret


@dataclass
class _Cached:
    client: DatabricksClient
    spec: str
    secret: str


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _secret_digest(secret: dict[str, bytes]) -> str:
    """Changes when the Secret's data does; the data itself is never kept."""
    return _digest({key: hashlib.sha256(value).hexdigest() for key, value in secret.items()})


def workspace_from_spec(spec: dict[str, Any]) -> DatabricksWorkspace:
    return DatabricksWorkspace.model_validate(
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DatabricksWorkspace", "metadata": {}, "spec": spec}
    )


def _auth_secret(namespace: str, workspace: DatabricksWorkspace) -> str:
    auth = workspace.spec.auth
    if auth.token:
        return auth.token.secret
    if auth.oauth is None:
        raise MissingObject(f"the DatabricksWorkspace in {namespace} names neither spec.auth.token nor spec.auth.oauth")
    return auth.oauth.secret


def _client(namespace: str, workspace: DatabricksWorkspace, secret: dict[str, bytes]) -> DatabricksClient:
    auth, name = workspace.spec.auth, _auth_secret(namespace, workspace)
    if auth.token:
        if auth.token.key not in secret:
            raise MissingObject(f"the Secret {namespace}/{name} has no key {auth.token.key}")
        return DatabricksClient(workspace.spec.host, token=secret[auth.token.key].decode().strip())
    missing = [key for key in ("client-id", "client-secret") if key not in secret]
    if missing:
        raise MissingObject(f"the Secret {namespace}/{name} has no key {', '.join(missing)}")
    oauth = OAuthClient(secret["client-id"].decode().strip(), secret["client-secret"].decode().strip())
    return DatabricksClient(workspace.spec.host, oauth=oauth)


RETIRE_AFTER_SECONDS = 120.0
"""A replaced client stays open this long, so calls other steps have under way with it can finish."""


class WorkspaceClients:
    """The operator's Databricks clients, by namespace and DatabricksWorkspace name, for the hosts that
    ``allowed_hosts`` (patterns of kubricks.databricks.workspace_state; none: any) allow."""

    def __init__(self, allowed_hosts: tuple[str, ...] = ()) -> None:
        self.allowed_hosts = allowed_hosts
        self._clients: dict[tuple[str, str], _Cached] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    def allows(self, host: str) -> bool:
        return host_allowed(host, self.allowed_hosts)

    def _allowed(self, spec: dict[str, Any]) -> DatabricksWorkspace:
        """The workspace of ``spec``; HostNotAllowed before anything else happens when its host is not allowed."""
        workspace = workspace_from_spec(spec)
        if not self.allows(workspace.spec.host):
            raise HostNotAllowed(host_not_allowed_message(workspace.spec.host, self.allowed_hosts))
        return workspace

    async def get(self, namespace: str, name: str, spec: dict[str, Any]) -> DatabricksClient:
        """The workspace's client; the Secret is read only for a new client or a changed spec. Only refresh makes
        clients, so a cached one is of an allowed host."""
        cached = self._clients.get((namespace, name))
        if cached and cached.spec == _digest(spec):
            return cached.client
        return await self.refresh(namespace, name, spec)

    async def of_index(self, workspaces: Any, namespace: str, name: str) -> DatabricksClient | None:
        """The client of a workspace the DatabricksWorkspace index holds; None while it does not exist or its host
        is not allowed (its own status says so, and jobs and clusters wait for it to connect)."""
        entry = first_entry(workspaces, (namespace, name))
        if entry is None:
            return None
        try:
            return await self.get(namespace, name, entry["spec"])
        except HostNotAllowed:
            return None

    async def refresh(self, namespace: str, name: str, spec: dict[str, Any]) -> DatabricksClient:
        """Reads the Secret again; keeps the client (and its token) unless the spec or the Secret changed."""
        workspace = self._allowed(spec)
        secret = await asyncio.to_thread(read_secret, namespace, _auth_secret(namespace, workspace))
        cached = self._clients.get((namespace, name))
        if cached and (cached.spec, cached.secret) == (_digest(spec), _secret_digest(secret)):
            return cached.client
        client = _client(namespace, workspace, secret)
        self._clients[(namespace, name)] = _Cached(client, _digest(spec), _secret_digest(secret))
        if cached:
            self._retire(cached.client)
        return client

    def forget(self, namespace: str, name: str) -> None:
        """Drops a client the workspace refused, or of a workspace that is gone."""
        cached = self._clients.pop((namespace, name), None)
        if cached:
            self._retire(cached.client)

    def _retire(self, client: DatabricksClient) -> None:
        async def close_later() -> None:
            await asyncio.sleep(RETIRE_AFTER_SECONDS)
            await client.close()

        task = asyncio.create_task(close_later())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        for task in list(self._retiring):
            task.cancel()
        for cached in self._clients.values():
            await cached.client.close()
        self._clients.clear()


def workspace_state(entry: dict[str, Any] | None) -> WorkspaceState:
    if entry is None:
        return WorkspaceState()
    status = entry["status"]
    return WorkspaceState(
        exists=True,
        connected=status.get("phase") == "Connected",
        container_services=status.get("containerServicesEnabled"),
        message=status.get("message", ""),
    )


async def registry_auth(
    auth: RegistryAuth | None, choice: ImageChoice, namespace: str, image: str | None, images: Any
) -> BasicAuth | None:
    """docker_image.basic_auth as registryAuth says (see registry_secret); nothing without it."""
    if auth and auth.databricks_secret:
        return secret_references(auth)
    image_entry = first_entry(images, (namespace, choice.spark_image)) if choice.spark_image else None
    push_secret = ((image_entry or {}).get("spec", {}).get("registry", {})).get("credentialsSecret")
    secret_name = registry_secret(auth, push_secret)
    if secret_name is None or image is None:
        return None
    secret = await asyncio.to_thread(read_secret, namespace, secret_name)
    credentials = credentials_from_docker_config(secret.get(".dockerconfigjson", b"{}"))
    found = credentials.get(parse_image(image).registry)
    return BasicAuth(*found) if found else None
