"""kopf handlers, one module per kind: read, call the builders, apply, patch status."""

from typing import Any

import kopf


def generation_of(body: kopf.Body) -> int:
    return int(body["metadata"].get("generation", 0))


def status_of(body: kopf.Body) -> dict[str, Any]:
    return dict(body.get("status") or {})
