"""What a DatabricksWorkspace's status says after a check, when the next check is due, and which workspace
hosts the admin allows. Pure."""

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from kubricks.host_patterns import host_matches, parse_host_patterns
from kubricks.jobs import parse_time
from kubricks.k8s.conditions import Progress, ready_reason, with_kstatus

CHECK_INTERVAL_SECONDS = 300.0
HOST_NOT_ALLOWED = "HostNotAllowed"
STALLED_REASONS = frozenset({"CredentialsRefused", "SecretMissing", "ContainerServicesDisabled", HOST_NOT_ALLOWED})
"""Outcomes only a person can change: the Secret, the workspace's settings, or the admin's allowed hosts."""

ALLOWED_HOSTS_SETTING = "databricks.allowedHosts (kubricks run --databricks-allowed-host)"


class HostNotAllowed(Exception):
    """spec.host is outside the hosts the admin allows: the workspace's credentials are neither read nor sent."""


def parse_allowed_hosts(patterns: str) -> tuple[str, ...]:
    """The workspace host patterns of a comma-separated list, lower-cased."""
    return parse_host_patterns(patterns, "adb-1234567890123456.7.azuredatabricks.net")


def host_allowed(host_url: str, patterns: tuple[str, ...]) -> bool:
    """Whether the host of a workspace URL matches one of ``patterns`` (none: every host); the port plays no
    part."""
    try:
        host = urlsplit(host_url).hostname or ""
    except ValueError:
        return not patterns
    return host_matches(host, patterns)


def host_not_allowed_message(host_url: str, patterns: tuple[str, ...]) -> str:
    return (
        f"spec.host {host_url} is not among the workspace hosts this operator allows ({', '.join(patterns)}, set "
        f"by the admin in {ALLOWED_HOSTS_SETTING}); its credentials were not read nor sent: use an allowed "
        "workspace, or ask the admin to allow this host"
    )


def next_check_in(status: dict[str, Any], generation: int, now: datetime, allowed: bool = True) -> float:
    """Seconds until the workspace is checked again: at once for a new spec or when whether its host is
    ``allowed`` differs from what the status says (the admin changed the allowed hosts), else every five
    minutes."""
    last = parse_time(status.get("lastCheckedTime"))
    if status.get("observedGeneration") != generation or last is None:
        return 0.0
    if (ready_reason(status) == HOST_NOT_ALLOWED) == allowed:
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
