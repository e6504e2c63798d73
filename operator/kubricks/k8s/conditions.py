"""metav1.Condition bookkeeping, pure: a condition's lastTransitionTime moves only when its status does."""

from datetime import UTC, datetime
from typing import Any

Condition = dict[str, Any]


TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How Kubernetes writes times (RFC 3339, seconds, UTC)."""


def now() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


def with_condition(
    conditions: list[Condition] | None,
    type_: str,
    status: bool,
    reason: str,
    message: str,
    generation: int | None,
    at: str | None = None,
) -> list[Condition]:
    """``conditions`` with ``type_`` set; the others kept in order."""
    value = "True" if status else "False"
    previous = next((c for c in conditions or [] if c.get("type") == type_), None)
    transition = previous["lastTransitionTime"] if previous and previous.get("status") == value else (at or now())
    updated: Condition = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
    }
    if generation is not None:
        updated["observedGeneration"] = generation
    others = [c for c in conditions or [] if c.get("type") != type_]
    return [*others, updated] if previous is None else [updated if c is previous else c for c in conditions or []]
