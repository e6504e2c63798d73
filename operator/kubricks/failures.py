"""How a failed step of any kind is told and retried: one path for SparkImages, SparkJobs, workspaces and
clusters. Pure."""

from dataclasses import dataclass

MAX_BACKOFF_SECONDS = 300.0
REFUSING_STATUSES = frozenset({400, 403, 404, 405, 413, 415, 422})
"""API server answers that the same request will get again: admission, quota, RBAC, validation."""
TRANSIENT_REASONS = {409: "Conflict", 429: "Throttled"}


class MissingObject(Exception):
    """A Secret or ConfigMap the spec names does not exist or lacks a key."""


@dataclass(frozen=True)
class Trouble:
    reason: str
    message: str
    refused: bool = False
    """The request itself was refused: sending it again cannot help, something in the spec or the cluster must
    change."""


def backoff_seconds(consecutive_failures: int, first: float = 2.0) -> float:
    """``first`` seconds after the first failure, doubling after each further one, at most five minutes."""
    return min(first * 2.0 ** max(consecutive_failures - 1, 0), MAX_BACKOFF_SECONDS)


def api_trouble(status: int, message: str, action: str) -> Trouble:
    """An API server's answer (0: no answer) to ``action`` ("create the driver pod")."""
    if status == 0:
        return Trouble("ApiUnreachable", f"cannot {action}: the API server did not answer: {message}")
    if status in REFUSING_STATUSES:
        return Trouble("SubmissionFailed", f"the API server refused to {action} (HTTP {status}): {message}", True)
    reason = TRANSIENT_REASONS.get(status, "ApiServerError")
    return Trouble(reason, f"cannot {action} (HTTP {status}): {message}")


def retrying(trouble: Trouble, seconds: float) -> str:
    """The message status and the Event carry while the step waits to try again."""
    return f"{trouble.message}; retrying in {seconds:.0f}s"
