"""metav1.Condition bookkeeping, pure: a condition's lastTransitionTime moves only when its status does.

Every kind publishes the three conditions kstatus reads (Flux, `kubectl wait`, Argo CD's default health):
``Ready``, ``Reconciling`` (work in progress) and ``Stalled`` (stuck until someone fixes something).
"""

from datetime import UTC, datetime
from enum import Enum
from typing import Any

Condition = dict[str, Any]

READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How Kubernetes writes times (RFC 3339, seconds, UTC)."""


class Progress(Enum):
    """Where an object stands for kstatus, beside Ready."""

    RECONCILING = "Reconciling"
    """Work is under way or will be retried on its own."""
    STALLED = "Stalled"
    """Nothing more happens until someone changes the spec or what it names."""
    SETTLED = "Settled"
    """Done: Ready says how it ended."""


def now() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


def ready_reason(status: dict[str, Any]) -> str | None:
    """The reason of a status's Ready condition; None without one."""
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == READY), None)
    return ready.get("reason") if ready else None


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


def with_kstatus(
    conditions: list[Condition] | None,
    ready: bool,
    progress: Progress,
    reason: str,
    message: str,
    generation: int | None,
) -> list[Condition]:
    """``conditions`` with Ready, Reconciling and Stalled set together, all with the same reason."""
    updated = with_condition(conditions, READY, ready, reason, message, generation)
    updated = with_condition(updated, RECONCILING, progress is Progress.RECONCILING, reason, message, generation)
    return with_condition(updated, STALLED, progress is Progress.STALLED, reason, message, generation)
