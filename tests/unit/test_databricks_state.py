"""The Databricks SparkJob state machine, table-driven."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from kubricks.api.sparkjob import SparkJob
from kubricks.databricks.payloads import BasicAuth, idempotency_token
from kubricks.databricks.state import Observation, WorkspaceState, decide, poll_interval
from kubricks.jobs import Decision, ImageState
from tests.invalid_manifests import example, patched

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
