"""The one failure path, pure: which API answers end an attempt, which are retried, and how fast."""

import pytest

from kubricks.failures import MAX_BACKOFF_SECONDS, api_trouble, backoff_seconds, retrying


@pytest.mark.parametrize(
    ("status", "reason", "refused"),
    [
        (400, "SubmissionFailed", True),
        (403, "SubmissionFailed", True),
        (404, "SubmissionFailed", True),
        (422, "SubmissionFailed", True),
        (409, "Conflict", False),
        (429, "Throttled", False),
        (500, "ApiServerError", False),
        (503, "ApiServerError", False),
        (0, "ApiUnreachable", False),
    ],
)
def test_refused_requests_end_the_attempt_and_the_rest_are_retried(status: int, reason: str, refused: bool) -> None:
    trouble = api_trouble(status, 'pods "x" is forbidden: exceeded quota', "create the driver pod")
    assert (trouble.reason, trouble.refused) == (reason, refused)
    assert "create the driver pod" in trouble.message
    if status:
        assert f"HTTP {status}" in trouble.message
        assert "exceeded quota" in trouble.message


@pytest.mark.parametrize(("failures", "seconds"), [(0, 2.0), (1, 2.0), (2, 4.0), (5, 32.0), (9, MAX_BACKOFF_SECONDS)])
def test_backoff_doubles_up_to_five_minutes(failures: int, seconds: float) -> None:
    assert backoff_seconds(failures) == seconds


def test_the_retry_message_says_when() -> None:
    assert retrying(api_trouble(503, "down", "reconcile"), 4.0).endswith("; retrying in 4s")
