"""ScheduledSparkJob's decisions, table-driven: which run is due, what is created and deleted, the status, the
wake-up; then the schedule's times in time zones and across daylight saving, and the SparkJob a run is."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubricks.api.scheduled import ScheduledSparkJob
from kubricks.api.yamlio import dump_all
from kubricks.scheduling import (
    SCHEDULE_LABEL,
    SCHEDULED_TIME_ANNOTATION,
    Decision,
    InvalidSchedule,
    Observation,
    RunView,
    Schedule,
    decide,
    run_name,
    run_view,
)
from tests.invalid_manifests import DELETE, EXAMPLES, example, patched
from tests.support import assert_golden

GOLDEN = Path(__file__).parent / "golden"

UID = "6f1c1b2a-0000-4000-8000-00000000000a"
NAME = "etl-nightly"
CREATED = datetime(2026, 11, 24, 9, 30)
HOURLY = {
    "spec.schedule": "0 * * * *",
    "spec.timeZone": DELETE,
    "spec.concurrencyPolicy": DELETE,
    "spec.startingDeadlineSeconds": DELETE,
    "spec.successfulRunsHistoryLimit": DELETE,
    "spec.failedRunsHistoryLimit": DELETE,
}
"""The example made an hourly schedule in UTC with every default."""


def at(hour: int, minute: int = 0, second: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, second)


def scheduled(changes: dict[str, Any] | None = None) -> ScheduledSparkJob:
    manifest = patched(example("scheduledsparkjob.yaml", NAME), {"metadata.namespace": "team", **HOURLY})
    return ScheduledSparkJob.model_validate(patched(manifest, changes or {}))


def run(time: datetime, phase: str | None = "Running", owner: str = UID) -> RunView:
    return RunView(run_name(NAME, time), time, phase, owner)


def last_run(time: datetime) -> dict[str, Any]:
    return {"lastRun": {"name": run_name(NAME, time), "scheduledTime": time.strftime("%Y-%m-%dT%H:%M:%SZ")}}


def observe(
    now: datetime,
    changes: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    runs: tuple[RunView, ...] = (),
) -> Decision:
    return decide(Observation(scheduled(changes), UID, 3, CREATED, status or {}, list(runs), now))


def names(*times: datetime) -> list[str]:
    return [run_name(NAME, time) for time in times]


def summary(decision: Decision) -> dict[str, Any]:
    """What a decision does and says, in short; its conditions checked for agreement with phase and message."""
    status = decision.status
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert {c["message"] for c in status["conditions"]} == {status["message"]}
    assert {c["observedGeneration"] for c in status["conditions"]} == {status["observedGeneration"]} == {3}
    assert ready["status"] == ("False" if status["phase"] == "Invalid" else "True")
    assert status["activeCount"] == len(status["active"])
    return {
        "phase": status["phase"],
        "create": [manifest["metadata"]["name"] for manifest in decision.create],
        "delete": decision.delete,
        "events": [reason for _, reason, _ in decision.events],
        "lastRun": (status["lastRun"] or {}).get("name"),
        "active": [reference["name"] for reference in status["active"]],
        "nextRun": status["nextRun"],
        "wake": decision.wake_after,
    }


@dataclass(frozen=True)
class Case:
    id: str
    now: datetime
    expected: dict[str, Any]
    """The keys of summary() that differ from nothing happening: no run made, none deleted, no Event, no run yet,
    the next hour's run at 11:00."""
    changes: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    runs: tuple[RunView, ...] = ()


QUIET: dict[str, Any] = {
    "phase": "Scheduled",
    "create": [],
    "delete": [],
    "events": [],
    "lastRun": None,
    "active": [],
    "nextRun": "2026-11-24T11:00:00Z",
}

CASES = [
    Case("before-the-first-time", at(9, 45), {"nextRun": "2026-11-24T10:00:00Z", "wake": 900.0}),
    Case(
        "the-first-time",
        at(10, 0, 5),
        {"create": names(at(10)), "events": ["RunCreated"], "lastRun": names(at(10))[0], "active": names(at(10))},
    ),
    Case(
        "exactly-on-time",
        at(10),
        {"create": names(at(10)), "events": ["RunCreated"], "lastRun": names(at(10))[0], "active": names(at(10))},
    ),
    Case(
        "a-run-is-made-once",
        at(10, 20),
        {"lastRun": names(at(10))[0], "active": names(at(10))},
        status=last_run(at(10)),
        runs=(run(at(10)),),
    ),
    Case(
        "a-lost-status-patch-is-made-good-from-the-runs",
        at(10, 20),
        {"lastRun": names(at(10))[0], "active": names(at(10))},
        runs=(run(at(10)),),
    ),
    Case(
        "of-missed-times-only-the-latest-runs",
        at(13, 30),
        {
            "create": names(at(13)),
            "events": ["RunCreated"],
            "lastRun": names(at(13))[0],
            "active": names(at(13)),
            "nextRun": "2026-11-24T14:00:00Z",
        },
        status=last_run(at(10)),
        runs=(run(at(10), "Succeeded"),),
    ),
    Case(
        "too-many-missed-times-are-told",
        at(12, 0, 30),
        {
            "create": names(at(12)),
            "events": ["RunCreated", "TooManyMissedTimes"],
            "lastRun": names(at(12))[0],
            "active": names(at(12)),
            "nextRun": "2026-11-24T12:01:00Z",
        },
        changes={"spec.schedule": "* * * * *"},
        status=last_run(at(10)),
    ),
    Case(
        "a-run-past-its-starting-deadline-is-skipped",
        at(11, 15),
        {"events": ["MissedSchedule"], "lastRun": names(at(10))[0], "nextRun": "2026-11-24T12:00:00Z"},
        changes={"spec.startingDeadlineSeconds": 600},
        status=last_run(at(10)),
    ),
    Case(
        "a-run-within-its-starting-deadline-starts",
        at(11, 5),
        {
            "create": names(at(11)),
            "events": ["RunCreated"],
            "lastRun": names(at(11))[0],
            "active": names(at(11)),
            "nextRun": "2026-11-24T12:00:00Z",
        },
        changes={"spec.startingDeadlineSeconds": 600},
        status=last_run(at(10)),
    ),
    Case(
        "forbid-skips-a-run-while-one-is-active",
        at(11, 0, 10),
        {
            "events": ["RunSkipped"],
            "lastRun": names(at(10))[0],
            "active": names(at(10)),
            "nextRun": "2026-11-24T12:00:00Z",
        },
        changes={"spec.concurrencyPolicy": "Forbid"},
        status=last_run(at(10)),
        runs=(run(at(10)),),
    ),
    Case(
        "forbid-counts-a-suspended-run-as-active",
        at(11, 0, 10),
        {
            "events": ["RunSkipped"],
            "lastRun": names(at(10))[0],
            "active": names(at(10)),
            "nextRun": "2026-11-24T12:00:00Z",
        },
        changes={"spec.concurrencyPolicy": "Forbid"},
        status=last_run(at(10)),
        runs=(run(at(10), "Suspended"),),
    ),
    Case(
        "forbid-tells-a-skipped-run-once",
        at(11, 30),
        {"lastRun": names(at(10))[0], "active": names(at(10)), "nextRun": "2026-11-24T12:00:00Z"},
        changes={"spec.concurrencyPolicy": "Forbid"},
        status={
            **last_run(at(10)),
            "message": "next run at 2026-11-24T12:00:00Z; the run of 2026-11-24T11:00:00Z is skipped: "
            "etl-nightly-29925240 is still active and concurrencyPolicy is Forbid; when it ends, the latest run due by "
            "then starts; active: etl-nightly-29925240",
        },
        runs=(run(at(10)),),
    ),
    Case(
        "forbid-starts-the-skipped-run-when-the-active-one-ends",
        at(11, 40),
        {
            "create": names(at(11)),
            "events": ["RunCreated"],
            "lastRun": names(at(11))[0],
            "active": names(at(11)),
            "nextRun": "2026-11-24T12:00:00Z",
        },
        changes={"spec.concurrencyPolicy": "Forbid"},
        status=last_run(at(10)),
        runs=(run(at(10), "Succeeded"),),
    ),
    Case(
        "replace-deletes-the-active-run",
        at(11, 0, 10),
        {
            "create": names(at(11)),
            "delete": names(at(10)),
            "events": ["RunReplaced", "RunCreated"],
            "lastRun": names(at(11))[0],
            "active": names(at(11)),
            "nextRun": "2026-11-24T12:00:00Z",
        },
        changes={"spec.concurrencyPolicy": "Replace"},
        status=last_run(at(10)),
        runs=(run(at(10)),),
    ),
    Case(
        "allow-runs-beside-the-active-run",
        at(11, 0, 10),
        {
            "create": names(at(11)),
            "events": ["RunCreated"],
            "lastRun": names(at(11))[0],
            "active": names(at(10), at(11)),
            "nextRun": "2026-11-24T12:00:00Z",
        },
        status=last_run(at(10)),
        runs=(run(at(10)),),
    ),
    Case(
        "suspend-starts-nothing",
        at(13),
        {"phase": "Suspended", "lastRun": names(at(10))[0], "active": names(at(10)), "nextRun": None},
        changes={"spec.suspend": True},
        status=last_run(at(10)),
        runs=(run(at(10)),),
    ),
    Case(
        "resumed-the-latest-missed-run-starts",
        at(13, 10),
        {
            "create": names(at(13)),
            "events": ["RunCreated"],
            "lastRun": names(at(13))[0],
            "active": names(at(13)),
            "nextRun": "2026-11-24T14:00:00Z",
        },
        status=last_run(at(10)),
        runs=(run(at(10), "Succeeded"),),
    ),
    Case(
        "the-oldest-finished-runs-beyond-the-history-limits-go",
        at(10, 30),
        {
            "delete": names(at(5), at(3), at(4)),
            "lastRun": names(at(10))[0],
            "active": names(at(10)),
        },
        status=last_run(at(10)),
        runs=(
            run(at(3), "Failed"),
            run(at(4), "Cancelled"),
            run(at(5), "Succeeded"),
            run(at(6), "Failed"),
            run(at(7), "Succeeded"),
            run(at(8), "Succeeded"),
            run(at(9), "Succeeded"),
            run(at(10)),
        ),
    ),
    Case(
        "history-limits-of-zero-keep-no-finished-run",
        at(10, 30),
        {"delete": names(at(9), at(8)), "lastRun": names(at(10))[0], "active": names(at(10))},
        changes={"spec.successfulRunsHistoryLimit": 0, "spec.failedRunsHistoryLimit": 0},
        status=last_run(at(10)),
        runs=(run(at(8), "Failed"), run(at(9), "Succeeded"), run(at(10))),
    ),
    Case(
        "sparkjobs-another-object-controls-are-not-the-schedules",
        at(10, 30),
        {"create": names(at(10)), "events": ["RunCreated"], "lastRun": names(at(10))[0], "active": names(at(10))},
        changes={"spec.successfulRunsHistoryLimit": 0},
        runs=(run(at(10), "Succeeded", owner="someone-else"), run(at(9), "Succeeded", owner="someone-else")),
    ),
    Case(
        "an-unknown-time-zone-stalls",
        at(10, 30),
        {"phase": "Invalid", "events": ["UnknownTimeZone"], "nextRun": None},
        changes={"spec.timeZone": "Mars/Olympus_Mons"},
    ),
    Case(
        "a-schedule-that-never-comes-stalls",
        at(10, 30),
        {"phase": "Invalid", "events": ["InvalidSchedule"], "nextRun": None},
        changes={"spec.schedule": "0 0 30 2 *"},
    ),
    Case(
        "an-invalid-schedule-is-told-once-and-its-history-still-goes",
        at(10, 30),
        {"phase": "Invalid", "delete": names(at(8)), "lastRun": names(at(8))[0], "nextRun": None},
        changes={"spec.schedule": "0 0 31 4 *", "spec.successfulRunsHistoryLimit": 0},
        status={"message": 'spec.schedule "0 0 31 4 *" never comes: no date matches it; fix spec.schedule'},
        runs=(run(at(8), "Succeeded"),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_decision(case: Case) -> None:
    decision = observe(case.now, case.changes, case.status, case.runs)
    next_run = case.expected.get("nextRun", QUIET["nextRun"])
    wake = (datetime.strptime(next_run, "%Y-%m-%dT%H:%M:%SZ") - case.now).total_seconds() if next_run else None
    assert summary(decision) == {**QUIET, "wake": wake, **case.expected}


def test_the_status_says_why_a_run_is_skipped_and_what_is_active() -> None:
    decision = observe(at(11, 0, 10), {"spec.concurrencyPolicy": "Forbid"}, last_run(at(10)), (run(at(10)),))
    assert decision.status["message"] == (
        "next run at 2026-11-24T12:00:00Z; the run of 2026-11-24T11:00:00Z is skipped: etl-nightly-29925240 is still "
        "active and concurrencyPolicy is Forbid; when it ends, the latest run due by then starts; "
        "active: etl-nightly-29925240"
    )
    assert decision.events == [
        (
            "Normal",
            "RunSkipped",
            "the run of 2026-11-24T11:00:00Z is skipped: etl-nightly-29925240 is still active and concurrencyPolicy is "
            "Forbid; when it ends, the latest run due by then starts",
        )
    ]


def test_a_skipped_run_with_a_deadline_says_it_may_not_start_late() -> None:
    changes = {"spec.concurrencyPolicy": "Forbid", "spec.startingDeadlineSeconds": 300}
    decision = observe(at(11, 0, 10), changes, last_run(at(10)), (run(at(10)),))
    assert "the latest run due by then starts if that is within startingDeadlineSeconds" in decision.status["message"]


def test_an_invalid_schedule_stalls_with_the_field_and_the_fix() -> None:
    decision = observe(at(10), {"spec.timeZone": "Europe/Atlantis"})
    assert decision.status["message"] == (
        'spec.timeZone "Europe/Atlantis" is no time zone of the IANA database: use a name such as Europe/Berlin, '
        "America/New_York or UTC"
    )
    conditions = {c["type"]: (c["status"], c["reason"]) for c in decision.status["conditions"]}
    assert conditions == {
        "Ready": ("False", "UnknownTimeZone"),
        "Reconciling": ("False", "UnknownTimeZone"),
        "Stalled": ("True", "UnknownTimeZone"),
    }
    assert decision.events == [("Warning", "UnknownTimeZone", decision.status["message"])]


def test_a_suspended_schedule_is_ready_and_settled() -> None:
    decision = observe(at(10), {"spec.suspend": True})
    conditions = {c["type"]: (c["status"], c["reason"]) for c in decision.status["conditions"]}
    assert conditions == {
        "Ready": ("True", "Suspended"),
        "Reconciling": ("False", "Suspended"),
        "Stalled": ("False", "Suspended"),
    }
    assert decision.status["message"] == "suspended: no run starts while spec.suspend is true"


def test_too_many_missed_times_are_told_as_kubernetes_does() -> None:
    decision = observe(at(12, 0, 30), {"spec.schedule": "* * * * *"}, last_run(at(10)))
    assert decision.events[1] == (
        "Warning",
        "TooManyMissedTimes",
        "more than 100 start times were missed: only the latest, 2026-11-24T12:00:00Z, runs; set or lower "
        "spec.startingDeadlineSeconds, or check the clocks of the operator and the API server",
    )


def test_a_hundred_missed_times_are_not_too_many() -> None:
    decision = observe(at(11, 40, 30), {"spec.schedule": "* * * * *"}, last_run(at(10)))
    assert [reason for _, reason, _ in decision.events] == ["RunCreated"]


# --- Edits ------------------------------------------------------------------------------------------------------------


def test_an_edited_schedule_moves_the_next_run_at_once() -> None:
    before = observe(at(10, 10), status=last_run(at(10)), runs=(run(at(10)),))
    after = observe(at(10, 10), {"spec.schedule": "30 * * * *"}, last_run(at(10)), (run(at(10)),))
    assert (before.status["nextRun"], before.wake_after) == ("2026-11-24T11:00:00Z", 3000.0)
    assert (after.status["nextRun"], after.wake_after) == ("2026-11-24T10:30:00Z", 1200.0)


def test_an_edited_schedule_counts_from_the_last_run() -> None:
    """As Kubernetes' CronJob: a time of the new schedule between the last run and now is a missed run."""
    decision = observe(at(10, 45), {"spec.schedule": "*/20 * * * *"}, last_run(at(10)), (run(at(10), "Succeeded"),))
    assert [m["metadata"]["name"] for m in decision.create] == names(at(10, 40))


def test_an_edited_template_reaches_only_the_next_run() -> None:
    first = observe(at(10, 0, 5)).create[0]
    edited = {"spec.template.app": {"wheel": {"packageName": "etl", "entryPoint": "run"}, "arguments": ["--v2"]}}
    decision = observe(at(11, 0, 5), edited, last_run(at(10)), (run(at(10)),))
    (second,) = decision.create
    assert first["spec"]["app"]["arguments"] == ["--since", "yesterday"]
    assert second["spec"]["app"]["arguments"] == ["--v2"]
    assert second["metadata"]["name"] == names(at(11))[0]
    assert decision.delete == [], "the run already made stays as it was made"


def test_a_template_may_change_its_target() -> None:
    databricks = example("scheduledsparkjob.yaml", "report-office-hours")["spec"]["template"]
    decision = observe(at(10, 0, 5), {"spec.template": databricks})
    assert "databricks" in decision.create[0]["spec"]
    assert "kubernetes" not in decision.create[0]["spec"]


# --- Time zones and daylight saving -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        ("0 3 * * *", "Europe/Berlin", datetime(2026, 1, 10, 12), datetime(2026, 1, 11, 2)),
        ("0 3 * * *", "Europe/Berlin", datetime(2026, 7, 10, 12), datetime(2026, 7, 11, 1)),
        ("0 9 * * MON-FRI", "America/New_York", datetime(2026, 11, 27, 15), datetime(2026, 11, 30, 14)),
        ("@daily", "Asia/Kolkata", datetime(2026, 11, 24, 12), datetime(2026, 11, 24, 18, 30)),
        ("@daily", None, datetime(2026, 11, 24, 12), datetime(2026, 11, 25)),
        # Spring forward in Berlin: 02:00 becomes 03:00, and 02:30 runs as the clocks jump.
        ("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12), datetime(2026, 3, 29, 1)),
        ("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 29, 1), datetime(2026, 3, 30, 0, 30)),
        # Fall back: 03:00 becomes 02:00 again, and 02:30 comes twice; a daily run takes the first.
        ("30 2 * * *", "Europe/Berlin", datetime(2026, 10, 24, 12), datetime(2026, 10, 25, 0, 30)),
        ("30 2 * * *", "Europe/Berlin", datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 26, 1, 30)),
        # An hourly run takes both: they are an hour apart.
        ("30 * * * *", "Europe/Berlin", datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 1, 30)),
        ("30 */2 * * *", "Europe/Berlin", datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 3, 30)),
    ],
)
def test_the_next_time_in_a_time_zone(expression: str, zone: str | None, after: datetime, expected: datetime) -> None:
    assert Schedule.of(expression, zone).next_after(after) == expected


@pytest.mark.parametrize(
    ("expression", "moment", "expected"),
    [
        ("0 * * * *", datetime(2026, 11, 24, 10), datetime(2026, 11, 24, 10)),
        ("0 * * * *", datetime(2026, 11, 24, 10, 59, 59, 999999), datetime(2026, 11, 24, 10)),
        ("30 2 * * *", datetime(2026, 10, 25, 1, 45), datetime(2026, 10, 25, 0, 30)),
        ("30 * * * *", datetime(2026, 10, 25, 1, 45), datetime(2026, 10, 25, 1, 30)),
        ("30 2 * * *", datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 1)),
    ],
)
def test_the_latest_time_until_a_moment(expression: str, moment: datetime, expected: datetime) -> None:
    assert Schedule.of(expression, "Europe/Berlin").latest_until(moment) == expected


def test_a_daily_run_on_the_night_the_clocks_go_back_runs_once() -> None:
    changes = {"spec.schedule": "30 2 * * *", "spec.timeZone": "Europe/Berlin"}
    created = datetime(2026, 10, 24)
    first = decide(Observation(scheduled(changes), UID, 3, created, {}, [], datetime(2026, 10, 25, 0, 30, 5)))
    (made,) = first.create
    assert made["metadata"]["annotations"][SCHEDULED_TIME_ANNOTATION] == "2026-10-25T00:30:00Z"
    again = datetime(2026, 10, 25, 1, 30, 5)
    runs = [RunView(made["metadata"]["name"], datetime(2026, 10, 25, 0, 30), "Succeeded", UID)]
    second = decide(Observation(scheduled(changes), UID, 3, created, first.status, runs, again))
    assert second.create == []
    assert second.status["nextRun"] == "2026-10-26T01:30:00Z"
    assert second.status["message"] == "next run at 2026-10-26T01:30:00Z (2026-10-26 02:30 Europe/Berlin)"


@pytest.mark.parametrize(
    ("expression", "zone", "reason"),
    [
        ("0 0 30 2 *", None, "InvalidSchedule"),
        ("0 0 * * *", "Mars/Olympus_Mons", "UnknownTimeZone"),
        ("0 0 * * *", "Europe/../../etc/passwd", "UnknownTimeZone"),
    ],
)
def test_a_schedule_no_clock_can_follow(expression: str, zone: str | None, reason: str) -> None:
    with pytest.raises(InvalidSchedule) as invalid:
        Schedule.of(expression, zone)
    assert invalid.value.reason == reason


# --- The SparkJob of a run --------------------------------------------------------------------------------------------


def test_a_run_is_named_after_its_time_in_minutes_since_1970() -> None:
    assert run_name(NAME, at(10)) == "etl-nightly-29925240"
    assert run_name(NAME, at(10, 1)) == "etl-nightly-29925241"


def test_a_run_is_the_template_owned_by_the_schedule() -> None:
    (made,) = observe(at(10, 0, 5)).create
    assert made["metadata"] == {
        "name": "etl-nightly-29925240",
        "namespace": "team",
        "labels": {"app.kubernetes.io/managed-by": "kubricks", SCHEDULE_LABEL: NAME},
        "annotations": {SCHEDULED_TIME_ANNOTATION: "2026-11-24T10:00:00Z"},
        "ownerReferences": [
            {
                "apiVersion": "kubricks.dev/v1alpha1",
                "kind": "ScheduledSparkJob",
                "name": NAME,
                "uid": UID,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    assert made["spec"] == example("scheduledsparkjob.yaml", NAME)["spec"]["template"] | {
        "kubernetes": {
            "driver": {"cores": 1, "coreRequest": "250m", "coreLimit": "1", "memory": "512m"},
            "executor": {"instances": 2, "cores": 1, "coreRequest": "250m", "memory": "512m"},
        }
    }, "the template as written (memory sizes in Spark's notation), for the API server to default"


def test_the_runs_of_the_examples() -> None:
    """The first SparkJob each example makes."""
    runs = []
    for document in yaml.safe_load_all((EXAMPLES / "scheduledsparkjob.yaml").read_text()):
        resource = ScheduledSparkJob.model_validate(patched(document, {"metadata.namespace": "team"}))
        runs += decide(Observation(resource, UID, 1, CREATED, {}, [], at(2, 10, day=30))).create
    assert_golden(GOLDEN / "scheduledsparkjob-runs.yaml", dump_all(runs))


def test_a_sparkjob_as_the_schedule_sees_it() -> None:
    body = {
        "metadata": {
            "name": "etl-nightly-29925240",
            "creationTimestamp": "2026-11-24T10:00:01Z",
            "annotations": {SCHEDULED_TIME_ANNOTATION: "2026-11-24T10:00:00Z"},
            "ownerReferences": [
                {"kind": "Other", "uid": "not-the-controller"},
                {"kind": "ScheduledSparkJob", "uid": UID, "controller": True},
            ],
        },
        "status": {"phase": "Succeeded"},
    }
    assert run_view(body) == RunView("etl-nightly-29925240", at(10), "Succeeded", UID)
    bare = {"metadata": {"name": "handmade", "creationTimestamp": "2026-11-24T10:00:01Z"}}
    assert run_view(bare) == RunView("handmade", at(10, 0, 1), None, None)


@pytest.mark.parametrize(
    ("phase", "finished"),
    [(None, False), ("Pending", False), ("Running", False), ("Suspended", False), ("Succeeded", True),
     ("Failed", True), ("Cancelled", True)],
)  # fmt: skip
def test_which_runs_are_finished(phase: str | None, finished: bool) -> None:
    assert run(at(10), phase).finished is finished


def test_a_run_is_due_only_after_the_schedule_was_made() -> None:
    decision = decide(Observation(scheduled(), UID, 3, at(10, 0, 30), {}, [], at(10, 59)))
    assert decision.create == []
    assert decision.wake_after == timedelta(minutes=1).total_seconds()
