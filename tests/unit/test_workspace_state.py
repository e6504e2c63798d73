"""A DatabricksWorkspace's status after a check, and when it is checked again."""

from datetime import datetime

import pytest

from kubricks.databricks.workspace_state import CHECK_INTERVAL_SECONDS, next_check_in, workspace_status

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
    ],
)
def test_a_checks_outcome_sets_phase_and_kstatus(reason: str, phase: str, conditions: tuple[str, str, str]) -> None:
    status = workspace_status(None, 3, reason, "said", reason == "Connected" or None, "2026-11-24T12:00:00Z")
    assert status["phase"] == phase
    assert tuple(c["status"] for c in status["conditions"]) == conditions
    assert status["observedGeneration"] == 3
    assert ("containerServicesEnabled" in status) == (reason == "Connected")
