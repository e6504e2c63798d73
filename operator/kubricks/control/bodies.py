"""Reading a kopf body: what every handler and the shared machinery ask of one."""

from typing import Any

import kopf


def generation_of(body: kopf.Body) -> int:
    return int(body["metadata"].get("generation", 0))


def status_of(body: kopf.Body) -> dict[str, Any]:
    return dict(body.get("status") or {})


def deleting(body: kopf.Body) -> bool:
    return bool(body["metadata"].get("deletionTimestamp"))
