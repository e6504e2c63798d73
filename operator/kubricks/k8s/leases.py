"""Thin, synchronous access to one coordination.k8s.io Lease; callers in async code run it in a thread.

The Lease is read and written as the API server's own JSON, so its MicroTime fields keep their exact text."""

import json
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from kubricks.k8s.client import api_client


def read_lease(namespace: str, name: str) -> tuple[dict[str, Any], str] | None:
    """The Lease's spec and resourceVersion; None when there is none."""
    response: Any
    try:
        response = client.CoordinationV1Api(api_client()).read_namespaced_lease(name, namespace, _preload_content=False)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    lease = json.loads(response.data)
    return dict(lease.get("spec") or {}), str(lease["metadata"]["resourceVersion"])


def write_lease(namespace: str, name: str, spec: dict[str, Any], resource_version: str | None) -> str | None:
    """Creates the Lease (``resource_version`` None) or replaces the version read; returns the new version, or
    None when another replica wrote it first."""
    api = client.CoordinationV1Api(api_client())
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if resource_version is not None:
        metadata["resourceVersion"] = resource_version
    # Sent and read as JSON, not as the client's V1Lease, whose datetimes would not keep MicroTime's text.
    body: Any = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}
    response: Any
    try:
        if resource_version is None:
            response = api.create_namespaced_lease(namespace, body, _preload_content=False)
        else:
            response = api.replace_namespaced_lease(name, namespace, body, _preload_content=False)
    except ApiException as error:
        if error.status == 409 or (error.status == 404 and resource_version is not None):
            return None
        raise
    return str(json.loads(response.data)["metadata"]["resourceVersion"])
