"""Reading a kopf body: what every handler and the shared machinery ask of one."""

from typing import Any

import kopf


def generation_of(body: kopf.Body) -> int:
    return int(body["metadata"].get("generation", 0))


def status_of(body: kopf.Body) -> dict[str, Any]:
    return dict(body.get("status") or {})


def deleting(body: kopf.Body) -> bool:
    return bool(body["metadata"].get("deletionTimestamp"))


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
"""kubectl apply's copy of the whole manifest, as a string."""


def slim(body: kopf.Body) -> kopf.Body:
    """The body without what the API server and kubectl keep for themselves (managedFields, kubectl's copy of the
    manifest): more than half of a SparkJob's memory, held for as long as the object lives."""
    metadata = dict(body["metadata"])
    metadata.pop("managedFields", None)
    annotations = metadata.get("annotations")
    if annotations and LAST_APPLIED in annotations:
        metadata["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    raw: Any = {**body, "metadata": metadata}
    return kopf.Body(raw)
