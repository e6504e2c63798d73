"""What a DatabricksWorkspace's status says after a check, and when the next check is due. Pure."""

from datetime import datetime
from typing import Any

from kubricks.jobs import parse_time
from kubricks.k8s.conditions import Progress, with_kstatus

CHECK_INTERVAL_SECONDS = 300.0
STALLED_REASONS = frozenset({"CredentialsRefused", "SecretMissing", "ContainerServicesDisabled"})
"""Outcomes only a person can change: the Secret, or the workspace's settings."""


def next_check_in(status: dict[str, Any], generation: int, now: datetime) -> float:
    """Seconds until the workspace is checked again: at once for a new spec, else every five minutes."""
    last = parse_time(status.get("lastCheckedTime"))
    if status.get("observedGeneration") != generation or last is None:
        return 0.0
    return max(CHECK_INTERVAL_SECONDS - (now - last).total_seconds(), 0.0)


def workspace_status(
    conditions: list[dict[str, Any]] | None,
    generation: int,
    reason: str,
    message: str,
    container_services: bool | None,
    checked_at: str,
) -> dict[str, Any]:
    """The status a check leads to: Connected only with working credentials and Container Services enabled."""
    ready = reason == "Connected"
    progress = Progress.RECONCILING
    if ready or reason in STALLED_REASONS:
        progress = Progress.SETTLED if ready else Progress.STALLED
    status: dict[str, Any] = {
        "phase": "Connected" if ready else "Error",
        "observedGeneration": generation,
        "message": message,
        "lastCheckedTime": checked_at,
        "conditions": with_kstatus(conditions, ready, progress, reason, message, generation),
    }
    if container_services is not None:
        status["containerServicesEnabled"] = container_services
    return status
