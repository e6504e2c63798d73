"""What every SparkJob goes through whatever its target, table-driven: suspension, a spec edit of a finished job,
the TTL and its policy, and retries counted per spec."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pytest

from kubricks.api.sparkjob import SparkJob, SparkJobStatus
from kubricks.databricks import state as databricks
from kubricks.jobs import Decision, ImageState, spec_digest
from kubricks.spark import state as kubernetes
from kubricks.spark.attempt import Attempt
from tests.invalid_manifests import example, patched
from tests.support import decision_summary

NOW = datetime(2026, 11, 22, 12, 0, 0)
UID = "6f1c1b2a-0000-4000-8000-000000000003"
IMAGE = ImageState(ref="registry.example.com/etl@sha256:" + "c" * 64)
EXAMPLES = {"kubernetes": "sparkjob-kubernetes-wheel.yaml", "databricks": "sparkjob-databricks-new-cluster.yaml"}
GENERATION = 4


def job(target: str, changes: dict[str, Any]) -> SparkJob:
    return SparkJob.model_validate(patched(example(EXAMPLES[target]), {"metadata.namespace": "team", **changes}))


def decide(target: str, status: dict[str, Any], changes: dict[str, Any], driver_failed: bool = False) -> Decision:
    spark_job = job(target, changes)
    if target == "kubernetes":
        observation = kubernetes.Observation(spark_job, UID, GENERATION, status, IMAGE, NOW)
        pods = [failed_driver(kubernetes.attempt_of(observation))] if driver_failed else []
        return kubernetes.decide(replace(observation, pods=pods))
    connected = databricks.WorkspaceState(exists=True, connected=True, container_services=True)
    return databricks.decide(
        databricks.Observation(spark_job, UID, GENERATION, status, IMAGE, NOW, workspace=connected)
    )


def failed_driver(attempt: Attempt) -> kubernetes.PodView:
    return kubernetes.PodView(attempt.driver_pod, "driver", "Failed", attempt.app_id, exit_code=1)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def ended(phase: str, target: str = "kubernetes", **fields: Any) -> dict[str, Any]:
    """A job that ended at generation GENERATION, having run the example's spec."""
    return {
        "phase": phase,
        "target": target,
        "attempt": 1,
        "observedGeneration": GENERATION,
        "completionTime": ago(60),
        "specDigest": spec_digest(job(target, {})),
        "message": f"attempt 1: {phase}",
        "conditions": [
            {"type": "Ready", "status": str(phase == "Succeeded"), "reason": phase, "lastTransitionTime": ago(60)}
        ],
        **fields,
    }


RUNNING = {"phase": "Running", "target": "kubernetes", "attempt": 1, "startTime": ago(30)}
SUBMITTED_RUN = {"phase": "Submitted", "target": "databricks", "attempt": 2, "databricks": {"runId": 7}}
SUSPEND = {"spec.suspend": True}
EDITED = {"spec.app.arguments": ["--date", "2026-11-23"]}
STOPPED = "attempt 1 stopped (its pods deleted): spec.suspend is true; attempt 2 starts when it is false"
NEW_ATTEMPT = "the spec changed (generation 4) after the job ended Succeeded: attempt 2 starts"
EXPIRED = (
    "ttlSecondsAfterFinished (30s) has passed: the pods and resources of the job are deleted; "
    "the SparkJob stays (ttlPolicy: DeleteResources)"
)


class Case(NamedTuple):
    name: str
    target: str
    status: dict[str, Any]
    changes: dict[str, Any]
    expected: dict[str, Any]
    """The parts of the decision's summary (tests.support.decision_summary) the case is about."""
    absent: tuple[str, ...] = ()
    driver_failed: bool = False
    """The attempt's driver pod has just failed."""


CASES = [
    Case(
        "a-suspended-new-job-creates-nothing",
        "kubernetes",
        {},
        SUSPEND,
        {"phase": "Suspended", "reason": "Suspended", "attempt": 1, "ready": "False"},
        absent=("create", "delete_attempts"),
    ),
    Case(
        "suspending-a-running-job-deletes-its-pods",
        "kubernetes",
        RUNNING,
        SUSPEND,
        {"phase": "Suspended", "attempt": 2, "delete_attempts": [1], "event": ("Normal", "Suspended", STOPPED)},
        absent=("create", "cancel_run"),
    ),
    Case(
        "suspending-a-job-backing-off-holds-it",
        "kubernetes",
        {"phase": "Pending", "attempt": 2, "nextAttemptTime": ago(-30)},
        SUSPEND,
        {"phase": "Suspended", "attempt": 2},
        absent=("delete_attempts",),
    ),
    Case(
        "a-suspended-job-stays-suspended",
        "kubernetes",
        {"phase": "Suspended", "attempt": 2, "message": STOPPED},
        SUSPEND,
        {"phase": "Suspended", "attempt": 2, "message": STOPPED, "observedGeneration": GENERATION},
        absent=("create", "delete_attempts", "event"),
    ),
    Case(
        "resuming-starts-the-next-attempt-at-once",
        "kubernetes",
        {"phase": "Suspended", "attempt": 2},
        {},
        {
            "phase": "Pending",
            "reason": "Resumed",
            "wake_after": 0.0,
            "message": "spec.suspend is false: attempt 2 starts",
        },
        absent=("create",),
    ),
    Case(
        "suspend-does-not-touch-a-finished-job",
        "kubernetes",
        ended("Succeeded", observedGeneration=3),
        SUSPEND,
        {"phase": "Succeeded", "observedGeneration": GENERATION},
        absent=("delete_attempts", "create"),
    ),
    Case(
        "suspending-a-submitted-run-cancels-it",
        "databricks",
        SUBMITTED_RUN,
        SUSPEND,
        {"phase": "Suspended", "attempt": 3, "cancel_run": 7},
        absent=("submit",),
    ),
    Case(
        "a-suspended-databricks-job-submits-nothing",
        "databricks",
        {},
        SUSPEND,
        {"phase": "Suspended", "attempt": 1},
        absent=("submit",),
    ),
    Case(
        "a-spec-edit-of-a-finished-job-starts-a-new-attempt",
        "kubernetes",
        ended("Succeeded", observedGeneration=3),
        EDITED,
        {
            "phase": "Pending",
            "reason": "SpecChanged",
            "attempt": 2,
            "retries": 0,
            "observedGeneration": GENERATION,
            "delete_attempts": [1],
            "wake_after": 0.0,
            "event": ("Normal", "SpecChanged", NEW_ATTEMPT),
        },
    ),
    Case(
        "a-spec-edit-of-a-finished-databricks-job-starts-a-new-attempt",
        "databricks",
        ended("Failed", "databricks", observedGeneration=3, retries=2),
        EDITED,
        {"phase": "Pending", "attempt": 2, "retries": 0},
    ),
    Case(
        "an-edit-of-the-ttl-only-moves-the-observed-generation",
        "kubernetes",
        ended("Succeeded", observedGeneration=3),
        {"spec.ttlSecondsAfterFinished": 600},
        {"phase": "Succeeded", "ready": "True", "reason": "Succeeded", "observedGeneration": GENERATION},
        absent=("delete_attempts", "event", "attempt"),
    ),
    Case(
        "the-same-spec-applied-again-changes-nothing",
        "kubernetes",
        ended("Succeeded"),
        {},
        {"wake_after": 86400.0 - 60},
        absent=("phase", "delete_attempts", "delete_job"),
    ),
    Case(
        "after-the-ttl-the-resources-go-and-the-job-stays",
        "kubernetes",
        ended("Failed"),
        {"spec.ttlSecondsAfterFinished": 30},
        {"expiredTime": "2026-11-22T12:00:00Z", "delete_attempts": [1], "event": ("Normal", "Expired", EXPIRED)},
        absent=("delete_job", "phase"),
    ),
    Case(
        "an-expired-job-is-left-alone",
        "kubernetes",
        ended("Failed", expiredTime=ago(10)),
        {"spec.ttlSecondsAfterFinished": 30},
        {},
        absent=("delete_job", "delete_attempts", "event", "wake_after"),
    ),
    Case(
        "ttl-policy-delete-job-deletes-the-job",
        "databricks",
        ended("Succeeded", "databricks"),
        {"spec.ttlSecondsAfterFinished": 30, "spec.ttlPolicy": "DeleteJob"},
        {"delete_job": True},
        absent=("delete_attempts",),
    ),
    Case(
        "retries-are-counted-per-spec",
        "kubernetes",
        {**RUNNING, "attempt": 5, "retries": 0},
        {"spec.restartPolicy": {"type": "OnFailure", "retries": 1}},
        {"phase": "Pending", "attempt": 6, "retries": 1},
        driver_failed=True,
    ),
    Case(
        "used-up-retries-end-the-job",
        "kubernetes",
        {**RUNNING, "attempt": 5, "retries": 1},
        {"spec.restartPolicy": {"type": "OnFailure", "retries": 1}},
        {"phase": "Failed", "attempt": 5},
        driver_failed=True,
    ),
    Case(
        "a-status-without-retries-counts-them-by-attempt",
        "kubernetes",
        {**RUNNING, "attempt": 2},
        {"spec.restartPolicy": {"type": "OnFailure", "retries": 1}},
        {"phase": "Failed", "attempt": 2},
        driver_failed=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_life_cycle(case: Case) -> None:
    decision = decide(case.target, case.status, case.changes, case.driver_failed)
    # The API server prunes status fields its schema lacks: every one written must be the model's.
    SparkJobStatus.model_validate(decision.status)
    summary = decision_summary(decision, GENERATION)
    if decision.wake_after is not None:
        summary["wake_after"] = decision.wake_after  # at once (0) is a decision too
    assert {key: summary.get(key) for key in case.expected} == case.expected
    assert [key for key in case.absent if key in summary] == []


def test_a_new_attempt_records_what_it_runs() -> None:
    submitted = decide("kubernetes", {}, EDITED)
    SparkJobStatus.model_validate(submitted.status)
    assert submitted.status["specDigest"] == spec_digest(job("kubernetes", EDITED))
    assert submitted.status["specDigest"] != spec_digest(job("kubernetes", {}))
    assert spec_digest(job("kubernetes", SUSPEND)) == spec_digest(job("kubernetes", {}))
