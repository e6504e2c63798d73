"""Status writing, pure: what a merge patch would change, and the kstatus conditions every kind publishes."""

from typing import Any

import pytest

from kubricks.k8s.conditions import Progress, with_kstatus
from kubricks.k8s.status import merge_patch_changes, redacted

CURRENT = {"phase": "Running", "attempt": 1, "kubernetes": {"driverPod": "d", "executors": {"running": 2}}}


@pytest.mark.parametrize(
    ("patch", "changes"),
    [
        ({"phase": "Running"}, {}),
        ({"phase": "Succeeded"}, {"phase": "Succeeded"}),
        ({"kubernetes": {"driverPod": "d"}}, {}),
        ({"kubernetes": {"executors": {"running": 2}}}, {}),
        ({"kubernetes": {"executors": {"running": 1}}}, {"kubernetes": {"executors": {"running": 1}}}),
        ({"completionTime": None}, {}),
        ({"attempt": None}, {"attempt": None}),
        ({"image": "r/a@sha256:1"}, {"image": "r/a@sha256:1"}),
        ({"databricks": {}}, {"databricks": {}}),
        ({"phase": "Running", "attempt": 2}, {"attempt": 2}),
    ],
    ids=[
        "same-value",
        "changed-value",
        "nested-subset",
        "deeper-subset",
        "deeper-change",
        "removing-what-is-absent",
        "removing-what-is-there",
        "new-key",
        "new-empty-object",
        "only-the-changed-key",
    ],
)
def test_only_what_would_change_is_patched(patch: dict[str, Any], changes: dict[str, Any]) -> None:
    assert merge_patch_changes(CURRENT, patch) == changes


def statuses(conditions: list[dict[str, Any]]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in conditions}


@pytest.mark.parametrize(
    ("ready", "progress", "expected"),
    [
        (True, Progress.SETTLED, {"Ready": "True", "Reconciling": "False", "Stalled": "False"}),
        (False, Progress.RECONCILING, {"Ready": "False", "Reconciling": "True", "Stalled": "False"}),
        (False, Progress.STALLED, {"Ready": "False", "Reconciling": "False", "Stalled": "True"}),
        (False, Progress.SETTLED, {"Ready": "False", "Reconciling": "False", "Stalled": "False"}),
    ],
    ids=["ready", "reconciling", "stalled", "settled-not-ready"],
)
def test_kstatus_conditions_are_set_together(ready: bool, progress: Progress, expected: dict[str, str]) -> None:
    conditions = with_kstatus(None, ready, progress, "Why", "what happened", 4)
    assert statuses(conditions) == expected
    assert [c["type"] for c in conditions] == ["Ready", "Reconciling", "Stalled"]
    assert {(c["reason"], c["message"], c["observedGeneration"]) for c in conditions} == {("Why", "what happened", 4)}


def test_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    first = with_kstatus(None, False, Progress.RECONCILING, "Submitted", "m", 1)
    aged = [{**c, "lastTransitionTime": "2026-01-01T00:00:00Z"} for c in first]
    later = with_kstatus(aged, False, Progress.STALLED, "Failed", "m", 1)
    times = {c["type"]: c["lastTransitionTime"] for c in later}
    assert times["Ready"] == "2026-01-01T00:00:00Z"
    assert times["Reconciling"] != "2026-01-01T00:00:00Z"
    assert times["Stalled"] != "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("status", "written"),
    [
        ({"message": "pip: https://ci:tok@pypi.example/simple"}, {"message": "pip: https://***@pypi.example/simple"}),
        (
            {"phase": "Failed", "conditions": [{"type": "Ready", "message": "git https://t@h/x.git failed"}]},
            {"phase": "Failed", "conditions": [{"type": "Ready", "message": "git https://***@h/x.git failed"}]},
        ),
        ({"phase": "Ready", "conditions": [{"type": "Ready"}]}, {"phase": "Ready", "conditions": [{"type": "Ready"}]}),
        ({"message": None}, {"message": None}),
    ],
)
def test_status_messages_never_carry_credentials_written_into_urls(
    status: dict[str, Any], written: dict[str, Any]
) -> None:
    assert redacted(status) == written
