"""A DatabricksWorkspace's status after a check, and when it is checked again."""

from datetime import datetime

import pytest

from kubricks.databricks.workspace_state import (
    CHECK_INTERVAL_SECONDS,
    HOST_NOT_ALLOWED,
    host_allowed,
    host_not_allowed_message,
    next_check_in,
    parse_allowed_hosts,
    workspace_status,
)

NOW = datetime(2026, 11, 24, 12, 0, 0)


@pytest.mark.parametrize(
    ("status", "seconds"),
    [
        ({}, 0.0),
        ({"observedGeneration": 1, "lastCheckedTime": "2026-11-24T11:59:00Z"}, 0.0),
        ({"observedGeneration": 2, "lastCheckedTime": "2026-11-24T11:59:00Z"}, CHECK_INTERVAL_SECONDS - 60),
        ({"observedGeneration": 2, "lastCheckedTime": "2026-11-24T11:00:00Z"}, 0.0),
    ],
    ids=["never-checked", "new-spec", "checked-a-minute-ago", "check-overdue"],
)
def test_a_check_is_due_for_a_new_spec_and_every_interval(status: dict[str, object], seconds: float) -> None:
    assert next_check_in(status, 2, NOW) == seconds


@pytest.mark.parametrize(
    ("reason", "phase", "conditions"),
    [
        ("Connected", "Connected", ("True", "False", "False")),
        ("WorkspaceUnreachable", "Error", ("False", "True", "False")),
        ("CredentialsRefused", "Error", ("False", "False", "True")),
        ("SecretMissing", "Error", ("False", "False", "True")),
        ("ContainerServicesDisabled", "Error", ("False", "False", "True")),
        (HOST_NOT_ALLOWED, "Error", ("False", "False", "True")),
    ],
)
def test_a_checks_outcome_sets_phase_and_kstatus(reason: str, phase: str, conditions: tuple[str, str, str]) -> None:
    status = workspace_status(None, 3, reason, "said", reason == "Connected" or None, "2026-11-24T12:00:00Z")
    assert status["phase"] == phase
    assert tuple(c["status"] for c in status["conditions"]) == conditions
    assert status["observedGeneration"] == 3
    assert ("containerServicesEnabled" in status) == (reason == "Connected")


def checked(reason: str) -> dict[str, object]:
    """The status of a check a minute ago that ended with ``reason``."""
    return workspace_status(None, 2, reason, "said", None, "2026-11-24T11:59:00Z")


@pytest.mark.parametrize(
    ("reason", "allowed", "seconds"),
    [
        ("Connected", True, CHECK_INTERVAL_SECONDS - 60),
        (HOST_NOT_ALLOWED, False, CHECK_INTERVAL_SECONDS - 60),
        ("Connected", False, 0.0),
        (HOST_NOT_ALLOWED, True, 0.0),
    ],
    ids=["allowed-as-reported", "refused-as-reported", "newly-refused", "newly-allowed"],
)
def test_a_change_of_the_allowed_hosts_is_checked_at_once(reason: str, allowed: bool, seconds: float) -> None:
    assert next_check_in(checked(reason), 2, NOW, allowed) == seconds


@pytest.mark.parametrize(
    ("given", "patterns"),
    [
        ("", ()),
        (" , ", ()),
        ("*.cloud.databricks.com", ("*.cloud.databricks.com",)),
        ("ADB-1.7.AzureDatabricks.net, localhost", ("adb-1.7.azuredatabricks.net", "localhost")),
        ("127.0.0.1,[::1]", ("127.0.0.1", "[::1]")),
    ],
)
def test_allowed_hosts_are_parsed_lower_case(given: str, patterns: tuple[str, ...]) -> None:
    assert parse_allowed_hosts(given) == patterns


@pytest.mark.parametrize(
    "given",
    ["*", "https://adb-1.7.azuredatabricks.net", "adb-1.7.azuredatabricks.net:443", "*.example.com/", "a.*.com",
     "**.example.com", "user@example.com", "exa mple.com", "-example.com"],
)  # fmt: skip
def test_an_allowed_host_that_is_no_host_pattern_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match="is not a host pattern"):
        parse_allowed_hosts(given)


AZURE_AND_AWS = ("*.azuredatabricks.net", "dbc-a1b2c3d4-e5f6.cloud.databricks.com")


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("https://anything.example.com", (), True),
        ("https://adb-1234567890123456.7.azuredatabricks.net", AZURE_AND_AWS, True),
        ("https://ADB-1.7.AzureDatabricks.net:443/", AZURE_AND_AWS, True),
        ("https://dbc-a1b2c3d4-e5f6.cloud.databricks.com", AZURE_AND_AWS, True),
        ("https://azuredatabricks.net", AZURE_AND_AWS, False),
        ("https://evilazuredatabricks.net", AZURE_AND_AWS, False),
        ("https://azuredatabricks.net.evil.example", AZURE_AND_AWS, False),
        ("https://other.cloud.databricks.com", AZURE_AND_AWS, False),
        ("https://x.dbc-a1b2c3d4-e5f6.cloud.databricks.com", AZURE_AND_AWS, False),
        ("http://localhost:8765", AZURE_AND_AWS, False),
        ("http://localhost:8765", ("localhost",), True),
        ("http://127.0.0.1:8765", ("127.0.0.1",), True),
        ("http://[::1]:8765", ("[::1]",), True),
        ("https://[2001:db8::1]", ("[::1]",), False),
        ("not a url", AZURE_AND_AWS, False),
        ("http://[::1", AZURE_AND_AWS, False),
    ],
)
def test_a_host_is_allowed_only_by_a_matching_pattern(host: str, patterns: tuple[str, ...], allowed: bool) -> None:
    assert host_allowed(host, patterns) is allowed


def test_the_refusal_names_the_field_the_host_and_the_admin_setting() -> None:
    message = host_not_allowed_message("https://evil.example.com", AZURE_AND_AWS)
    for part in ("spec.host", "https://evil.example.com", "databricks.allowedHosts", "--databricks-allowed-host",
                 "*.azuredatabricks.net"):  # fmt: skip
        assert part in message
