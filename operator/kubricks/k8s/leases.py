"""Thin, synchronous access to one coordination.k8s.io Lease; callers in async code run it in a thread.

The Lease is read and written as the API server's own JSON, so its MicroTime fields keep their exact text."""

import json
from typing import Any

from kubernetes.client.exceptions import ApiException

from kubricks.k8s.client import call, read_json


def _leases(namespace: str) -> str:
    return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"


def read_lease(namespace: str, name: str) -> tuple[dict[str, Any], str] | None:
    """The Lease's spec and resourceVersion; None when there is none."""
    lease = read_json(f"{_leases(namespace)}/{name}")
    if lease is None:
        return None
    return dict(lease.get("spec") or {}), str(lease["metadata"]["resourceVersion"])


def write_lease(namespace: str, name: str, spec: dict[str, Any], resource_version: str | None) -> str | None:
    """Creates the Lease (``resource_version`` None) or replaces the version read; returns the new version, or
    None when another replica wrote it first."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if resource_version is not None:
        metadata["resourceVersion"] = resource_version
    body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}
    try:
        if resource_version is None:
            response = call("POST", _leases(namespace), body=body)
        else:
            response = call("PUT", f"{_leases(namespace)}/{name}", body=body)
    except ApiException as error:
        if error.status == 409 or (error.status == 404 and resource_version is not None):
            return None
        raise
    return str(json.loads(response.data)["metadata"]["resourceVersion"])
