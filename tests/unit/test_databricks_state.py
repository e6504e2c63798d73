"""The Databricks SparkJob state machine, table-driven."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from kubricks.api.sparkjob import SparkJob
from kubricks.databricks.payloads import BasicAuth, idempotency_token
from kubricks.databricks.state import Observation, WorkspaceState, decide, poll_interval
from kubricks.jobs import Decision, ImageState
from tests.invalid_manifests import example, patched
from tests.support import decision_summary

NOW = datetime(2026, 11, 22, 12, 0, 0)
UID = "6f1c1b2a-0000-4000-8000-000000000002"
IMAGE = ImageState(ref="registry.example.com/team/shared@sha256:" + "b" * 64)
CONNECTED = WorkspaceState(exists=True, connected=True, container_services=True)


def observe(
    status: dict[str, Any],
    run: dict[str, Any] | None = None,
    *,
    workspace: WorkspaceState = CONNECTED,
    image: ImageState = IMAGE,
    changes: dict[str, Any] | None = None,
    **fields: Any,
) -> Decision:
    job = SparkJob.model_validate(
        patched(example("sparkjob-databricks-new-cluster.yaml"), {"metadata.namespace": "team", **(changes or {})})
    )
    return decide(
        Observation(
            job, UID, 1, status, image, NOW, workspace=workspace, registry_auth=BasicAuth("u", "p"), run=run, **fields
        )
    )


def run(life_cycle: str, result: str | None = None, message: str = "") -> dict[str, Any]:
    state = {"life_cycle_state": life_cycle, "state_message": message, **({"result_state": result} if result else {})}
    return {
        "run_id": 7,
        "run_page_url": "https://adb.example.net/#job/7/run/7",
        "state": state,
        "tasks": [{"run_id": 8, "cluster_instance": {"cluster_id": "0101-c"}}],
    }


def tracked(life_cycle: str, result: str | None = None, message: str = "") -> dict[str, Any]:
    """status.databricks for the run of ``run()``."""
    fields = {"runId": 7, "runPageUrl": "https://adb.example.net/#job/7/run/7", "clusterId": "0101-c"}
    return {
        **fields,
        "lifeCycleState": life_cycle,
        **({"resultState": result} if result else {}),
        "stateMessage": message,
    }


WAITING_FOR_WORKSPACE = {
    "observedGeneration": 1,
    "phase": "Pending",
    "ready": "False",
    "reason": "WaitingForWorkspace",
    "target": "databricks",
}
DCS_OFF = (
    "attempt 1: the workspace prod has Databricks Container Services disabled (enableDcs); "
    "an admin must enable it before jobs can run custom images"
)
RUN_FAILED = "attempt 1: the run ended FAILED: ZeroDivisionError; attempt 2 starts at 2026-11-22T12:00:30Z"
SUBMITTED = {"phase": "Submitted", "attempt": 1, "startTime": "2026-11-22T11:59:50Z", "databricks": {"runId": 7}}


def reason(decision: Decision) -> str:
    return decision.status["conditions"][0]["reason"]


def test_a_new_job_is_submitted_with_its_attempts_token() -> None:
    decision = observe({})
    assert decision.status["phase"] == "Submitted"
    assert decision.submit is not None
    assert decision.submit["idempotency_token"] == idempotency_token(UID, 1)
    assert decision.submit["tasks"][0]["new_cluster"]["docker_image"]["basic_auth"] == {
        "username": "u",
        "password": "p",
    }
    assert decision.status["databricks"] is None, "the previous attempt's run is cleared; the handler adds the new one"


@pytest.mark.parametrize(
    ("workspace", "image", "phase", "why"),
    [
        (WorkspaceState(), IMAGE, "Pending", "WaitingForWorkspace"),
        (WorkspaceState(exists=True, message="not checked yet"), IMAGE, "Pending", "WaitingForWorkspace"),
        (
            CONNECTED,
            ImageState(waiting="the SparkImage shared-image is Building"),
            "WaitingForImage",
            "WaitingForImage",
        ),
        (
            WorkspaceState(exists=True, connected=False, container_services=False),
            IMAGE,
            "Failed",
            "ContainerServicesDisabled",
        ),
    ],
)
def test_what_a_job_waits_for(workspace: WorkspaceState, image: ImageState, phase: str, why: str) -> None:
    decision = observe({}, workspace=workspace, image=image)
    assert decision.status["phase"] == phase
    assert reason(decision) == why
    assert decision.submit is None


def test_a_cluster_ref_waits_for_its_cluster() -> None:
    changes = {"spec.databricks.cluster": {"clusterRef": "etl-shared"}}
    waiting = observe({}, changes=changes, cluster_waiting="Pending")
    assert reason(waiting) == "WaitingForCluster"
    running = observe({}, changes=changes, cluster_id="0101-shared")
    assert running.submit is not None
    assert running.submit["tasks"][0]["existing_cluster_id"] == "0101-shared"


@pytest.mark.parametrize(
    ("life_cycle", "result", "phase", "why"),
    [
        ("QUEUED", None, "Submitted", "Submitted"),
        ("PENDING", None, "Submitted", "Submitted"),
        ("BLOCKED", None, "Submitted", "Submitted"),
        ("WAITING_FOR_RETRY", None, "Submitted", "Submitted"),
        ("RUNNING", None, "Running", "Running"),
        ("TERMINATING", None, "Running", "Running"),
        ("TERMINATED", "SUCCESS", "Succeeded", "Succeeded"),
        ("TERMINATED", "SUCCESS_WITH_FAILURES", "Succeeded", "Succeeded"),
        ("TERMINATED", "FAILED", "Failed", "RunFailed"),
        ("TERMINATED", "TIMEDOUT", "Failed", "RunTimedOut"),
        ("TERMINATED", "CANCELED", "Cancelled", "Cancelled"),
        ("TERMINATED", "UPSTREAM_CANCELED", "Cancelled", "Cancelled"),
        ("TERMINATED", "MAXIMUM_CONCURRENT_RUNS_REACHED", "Failed", "RunNotStarted"),
        ("TERMINATED", "EXCLUDED", "Failed", "RunNotStarted"),
        ("TERMINATED", "UPSTREAM_FAILED", "Failed", "RunFailed"),
        ("TERMINATED", "DISABLED", "Failed", "RunNotStarted"),
        ("SKIPPED", None, "Failed", "RunFailed"),
        ("INTERNAL_ERROR", "FAILED", "Failed", "RunInternalError"),
        ("SOME_FUTURE_STATE", None, "Submitted", "Submitted"),
    ],
)
def test_every_documented_state_maps_to_a_phase(life_cycle: str, result: str | None, phase: str, why: str) -> None:
    decision = observe(SUBMITTED, run(life_cycle, result), changes={"spec.restartPolicy": {"type": "Never"}})
    assert decision.status["phase"] == phase
    assert reason(decision) == why


def test_an_unknown_state_is_not_an_end() -> None:
    decision = observe({**SUBMITTED, "phase": "Running"}, run("HIBERNATING"))
    assert decision.status["phase"] == "Running"
    assert "HIBERNATING, which kubricks does not know" in decision.status["message"]
    assert decision.wake_after is not None


def test_run_details_reach_the_status() -> None:
    databricks = observe(SUBMITTED, run("RUNNING", message="In run")).status["databricks"]
    assert databricks == {
        "runId": 7,
        "runPageUrl": "https://adb.example.net/#job/7/run/7",
        "lifeCycleState": "RUNNING",
        "stateMessage": "In run",
        "clusterId": "0101-c",
    }


def test_a_failed_run_carries_the_tasks_error() -> None:
    decision = observe(SUBMITTED, run("TERMINATED", "FAILED", "Task failed"), run_error="ValueError: bad date")
    assert decision.status["phase"] == "Pending", "restartPolicy OnFailure with a retry left"
    assert "the run ended FAILED: ValueError: bad date" in decision.status["message"]
    assert decision.status["attempt"] == 2


def test_a_cancelled_run_is_never_retried() -> None:
    decision = observe(
        SUBMITTED, run("TERMINATED", "CANCELED"), changes={"spec.restartPolicy": {"type": "Always", "retries": 3}}
    )
    assert decision.status["phase"] == "Cancelled"


def test_a_run_databricks_forgot_ends_the_attempt() -> None:
    decision = observe(SUBMITTED, None, changes={"spec.restartPolicy": {"type": "Never"}})
    assert reason(decision) == "RunLost"


def test_a_submission_without_its_run_id_is_submitted_again_with_the_same_token() -> None:
    decision = observe({"phase": "Submitted", "attempt": 1})
    assert decision.submit is not None
    assert decision.submit["idempotency_token"] == idempotency_token(UID, 1)


@pytest.mark.parametrize(("age", "interval"), [(0, 2), (59, 2), (60, 5), (599, 5), (600, 15), (3600, 60)])
def test_polling_slows_down_for_long_runs(age: float, interval: float) -> None:
    assert poll_interval(age) == interval


def test_polling_follows_the_runs_age() -> None:
    started = (NOW - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert observe({**SUBMITTED, "startTime": started}, run("RUNNING")).wake_after == 15


@pytest.mark.parametrize(
    ("status", "found", "observed", "expected"),
    [
        (
            {},
            None,
            dict(image=ImageState(waiting="the SparkImage x is Building: step 3")),
            {
                "message": "waiting for the image: the SparkImage x is Building: step 3",
                "observedGeneration": 1,
                "phase": "WaitingForImage",
                "ready": "False",
                "reason": "WaitingForImage",
                "target": "databricks",
            },
        ),
        (
            {},
            None,
            dict(workspace=WorkspaceState()),
            {
                "message": "the DatabricksWorkspace prod does not exist",
                **WAITING_FOR_WORKSPACE,
            },
        ),
        (
            {},
            None,
            dict(workspace=WorkspaceState(exists=True, message="HTTP 503")),
            {
                "message": "waiting for the DatabricksWorkspace prod: HTTP 503",
                **WAITING_FOR_WORKSPACE,
            },
        ),
        (
            {},
            None,
            dict(workspace=WorkspaceState(exists=True)),
            {
                "message": "waiting for the DatabricksWorkspace prod: not checked yet",
                **WAITING_FOR_WORKSPACE,
            },
        ),
        (
            {},
            None,
            dict(workspace=WorkspaceState(exists=True, connected=True, container_services=False)),
            {
                "attempt": 1,
                "completionTime": "2026-11-22T12:00:00Z",
                "event": (
                    "Warning",
                    "ContainerServicesDisabled",
                    DCS_OFF,
                ),
                "message": DCS_OFF,
                "observedGeneration": 1,
                "phase": "Failed",
                "ready": "False",
                "reason": "ContainerServicesDisabled",
                "target": "databricks",
                "wake_after": 86400.0,
            },
        ),
        (
            {"phase": "Pending", "attempt": 2, "nextAttemptTime": "2026-11-22T12:00:30Z"},
            None,
            dict(),
            {"wake_after": 30.0},
        ),
        (
            SUBMITTED,
            run("RUNNING", message="In run"),
            dict(),
            {
                "databricks": tracked("RUNNING", message="In run"),
                "message": "attempt 1: the run is RUNNING (In run)",
                "observedGeneration": 1,
                "phase": "Running",
                "ready": "False",
                "reason": "Running",
                "target": "databricks",
                "wake_after": 2.0,
            },
        ),
        (
            SUBMITTED,
            run("QUEUED"),
            dict(),
            {
                "databricks": tracked("QUEUED"),
                "message": "attempt 1: the run is QUEUED",
                "observedGeneration": 1,
                "phase": "Submitted",
                "ready": "False",
                "reason": "Submitted",
                "target": "databricks",
                "wake_after": 2.0,
            },
        ),
        (
            SUBMITTED,
            run("NEW_STATE"),
            dict(),
            {
                "databricks": tracked("NEW_STATE"),
                "message": "attempt 1: Databricks reports NEW_STATE, which kubricks does not know; waiting",
                "observedGeneration": 1,
                "phase": "Submitted",
                "ready": "False",
                "reason": "Submitted",
                "target": "databricks",
                "wake_after": 2.0,
            },
        ),
        (
            SUBMITTED,
            run("TERMINATED", "SUCCESS"),
            dict(),
            {
                "attempt": 1,
                "completionTime": "2026-11-22T12:00:00Z",
                "databricks": tracked("TERMINATED", result="SUCCESS"),
                "event": ("Normal", "Succeeded", "attempt 1: the run succeeded"),
                "message": "attempt 1: the run succeeded",
                "observedGeneration": 1,
                "phase": "Succeeded",
                "ready": "True",
                "reason": "Succeeded",
                "target": "databricks",
                "wake_after": 86400.0,
            },
        ),
        (
            SUBMITTED,
            run("TERMINATED", "FAILED", message="Task failed"),
            dict(run_error="ZeroDivisionError"),
            {
                "attempt": 2,
                "retries": 1,
                "databricks": tracked("TERMINATED", result="FAILED", message="Task failed"),
                "delete_attempts": [1],
                "event": (
                    "Warning",
                    "RunFailed",
                    RUN_FAILED,
                ),
                "message": RUN_FAILED,
                "nextAttemptTime": "2026-11-22T12:00:30Z",
                "observedGeneration": 1,
                "phase": "Pending",
                "ready": "False",
                "reason": "RunFailed",
                "target": "databricks",
                "wake_after": 30.0,
            },
        ),
        (
            SUBMITTED,
            run("INTERNAL_ERROR", message="boom"),
            dict(),
            {
                "attempt": 2,
                "retries": 1,
                "databricks": tracked("INTERNAL_ERROR", message="boom"),
                "delete_attempts": [1],
                "event": (
                    "Warning",
                    "RunInternalError",
                    "attempt 1: the run ended FAILED: boom; attempt 2 starts at 2026-11-22T12:00:30Z",
                ),
                "message": "attempt 1: the run ended FAILED: boom; attempt 2 starts at 2026-11-22T12:00:30Z",
                "nextAttemptTime": "2026-11-22T12:00:30Z",
                "observedGeneration": 1,
                "phase": "Pending",
                "ready": "False",
                "reason": "RunInternalError",
                "target": "databricks",
                "wake_after": 30.0,
            },
        ),
        (
            SUBMITTED,
            None,
            dict(),
            {
                "attempt": 2,
                "retries": 1,
                "databricks": {"runId": 7},
                "delete_attempts": [1],
                "event": (
                    "Warning",
                    "RunLost",
                    "attempt 1: Databricks no longer knows the run; attempt 2 starts at 2026-11-22T12:00:30Z",
                ),
                "message": "attempt 1: Databricks no longer knows the run; attempt 2 starts at 2026-11-22T12:00:30Z",
                "nextAttemptTime": "2026-11-22T12:00:30Z",
                "observedGeneration": 1,
                "phase": "Pending",
                "ready": "False",
                "reason": "RunLost",
                "target": "databricks",
                "wake_after": 30.0,
            },
        ),
    ],
    ids=[
        "no-image",
        "no-workspace",
        "workspace-unreachable",
        "workspace-never-checked",
        "container-services-off",
        "backing-off",
        "running",
        "queued",
        "unknown-state",
        "succeeded",
        "failed-with-the-tasks-error",
        "internal-error",
        "run-lost",
    ],
)
def test_every_decision(
    status: dict[str, Any], found: dict[str, Any] | None, observed: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert decision_summary(observe(status, found, **observed), 1) == expected


def test_each_attempt_submits_with_its_own_idempotency_token() -> None:
    due = {"phase": "Pending", "attempt": 2, "nextAttemptTime": "2026-11-22T11:59:59Z"}
    second = observe(due)
    assert second.submit is not None
    assert second.submit["idempotency_token"] == idempotency_token(UID, 2) != idempotency_token(UID, 1)
    assert second.status["attempt"] == 2


def test_the_rapids_an_image_carries_reaches_the_new_clusters_conf() -> None:
    decision = observe({}, image=ImageState(ref=IMAGE.ref, rapids="25.04.0"))
    assert decision.submit is not None
    assert decision.submit["tasks"][0]["new_cluster"]["spark_conf"]["spark.plugins"] == "com.nvidia.spark.SQLPlugin"
