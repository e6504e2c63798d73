"""The SparkJob state machine, table-driven: (phase, what is observed) → (next phase, reason, actions)."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from kubricks.api.sparkjob import SparkJob
from kubricks.jobs import Decision, ImageState, progress_of, spec_digest, submission_refused
from kubricks.k8s.conditions import Progress
from kubricks.k8s.status import merge_patch_changes
from kubricks.spark.attempt import Attempt
from kubricks.spark.state import Observation, PodView, decide, failed_driver, log_tail, pod_view
from tests.invalid_manifests import example, patched
from tests.support import decision_summary

NOW = datetime(2026, 11, 22, 12, 0, 0)
UID = "6f1c1b2a-0000-4000-8000-000000000001"
IMAGE = ImageState(ref="registry.example.com/etl@sha256:" + "a" * 64)


def job(changes: dict[str, Any] | None = None) -> SparkJob:
    manifest = patched(example("sparkjob-kubernetes-wheel.yaml"), {"metadata.namespace": "team", **(changes or {})})
    return SparkJob.model_validate(manifest)


def at(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def driver(phase: str, attempt: int = 1, **fields: Any) -> PodView:
    names = Attempt("etl-daily", "team", UID, attempt)
    return PodView(name=names.driver_pod, role="driver", phase=phase, app_id=names.app_id, **fields)


def executor(phase: str, index: int) -> PodView:
    return PodView(
        name=f"exec-{index}", role="executor", phase=phase, app_id=Attempt("etl-daily", "team", UID, 1).app_id
    )


def observe(
    status: dict[str, Any],
    pods: list[PodView] = (),  # type: ignore[assignment]
    image: ImageState = IMAGE,
    changes: dict[str, Any] | None = None,
) -> Decision:
    return decide(Observation(job(changes), UID, 3, status, image, NOW, pods=list(pods)))


def ready_reason(decision: Decision) -> str:
    return decision.status["conditions"][0]["reason"]


def test_a_new_job_submits_its_first_attempt() -> None:
    summary = decision_summary(observe({}), 3)
    summary["create"] = [m["kind"] for m in summary["create"]]
    pending = "attempt 1: driver pending"
    assert summary == {
        "phase": "Submitted",
        "target": "kubernetes",
        "observedGeneration": 3,
        "ready": "False",
        "reason": "Submitted",
        "message": pending,
        "attempt": 1,
        "image": IMAGE.ref,
        "startTime": "2026-11-22T12:00:00Z",
        "completionTime": None,
        "nextAttemptTime": None,
        "expiredTime": None,
        "specDigest": spec_digest(job()),
        "kubernetes": {
            "driverPod": "etl-daily-1-25cf8fca-driver",
            "driverService": "etl-daily-1-25cf8fca-driver-svc",
            "executors": {"failed": 0, "pending": 0, "running": 0, "succeeded": 0},
            "uiUrl": "http://etl-daily-1-25cf8fca-driver-svc.team.svc:4040/",
        },
        "create": ["ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Service", "Pod"],
        "event": ("Normal", "Submitted", "attempt 1: driver pod etl-daily-1-25cf8fca-driver created"),
        "wake_after": 600.0,
    }


def test_the_driver_start_timeout_is_the_jobs_own() -> None:
    kubernetes = {"driver": {"cores": 1, "memory": "512m"}, "driverStartTimeoutSeconds": 42}
    assert observe({}, changes={"spec.kubernetes": kubernetes}).wake_after == 42
    started = {"phase": "Submitted", "attempt": 1, "startTime": at(40)}
    assert observe(started, [driver("Pending")], changes={"spec.kubernetes": kubernetes}).wake_after == 2
    late = observe({**started, "startTime": at(43)}, [driver("Pending")], changes={"spec.kubernetes": kubernetes})
    assert late.status["conditions"][0]["reason"] == "DriverStartTimeout"


def test_a_job_waits_for_its_image() -> None:
    decision = observe({}, image=ImageState(waiting="the SparkImage etl-image is Building: Step 3/31"))
    assert decision.status["phase"] == "WaitingForImage"
    assert decision.create == []
    assert "Step 3/31" in decision.status["message"]
    assert decision.wake_after is None, "waits for the SparkImage to change, without polling"


def test_the_submission_event_names_the_driver_pod() -> None:
    assert observe({}).event == ("Normal", "Submitted", "attempt 1: driver pod etl-daily-1-25cf8fca-driver created")


@pytest.mark.parametrize("pods", [[], [driver("Pending")]], ids=["not-yet-seen", "seen-pending"])
def test_a_driver_pod_that_is_merely_pending_writes_no_new_status(pods: list[PodView]) -> None:
    """Under a storm every status patch counts: the driver's first sighting says nothing its creation did not."""
    written = observe({}).status
    assert merge_patch_changes(written, observe(written, pods).status) == {}


SUBMITTED = {"phase": "Submitted", "attempt": 1, "startTime": at(10)}
RUNNING = {"phase": "Running", "attempt": 1, "startTime": at(100)}


@pytest.mark.parametrize(
    ("status", "pods", "phase", "reason", "message"),
    [
        (SUBMITTED, [driver("Pending")], "Submitted", "Submitted", "attempt 1: driver pending"),
        (
            SUBMITTED,
            [driver("Pending", unschedulable="0/3 nodes are available: 3 Insufficient nvidia.com/gpu.")],
            "Submitted",
            "Unschedulable",
            "attempt 1: driver pending: unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
        ),
        (
            SUBMITTED,
            [driver("Pending", reason="ImagePullBackOff", message="Back-off pulling image")],
            "Submitted",
            "ImagePullFailed",
            "attempt 1: driver pending: cannot pull the image (ImagePullBackOff): Back-off pulling image",
        ),
        (SUBMITTED, [driver("Running")], "Running", "Running", "attempt 1: driver running, 0 executors running"),
        (
            RUNNING,
            [driver("Running"), executor("Running", 1), executor("Pending", 2)],
            "Running",
            "Running",
            "attempt 1: driver running, 1 executors running",
        ),
        (RUNNING, [driver("Succeeded")], "Succeeded", "Succeeded", "attempt 1: the driver completed"),
        (
            RUNNING,
            [driver("Failed", reason="OOMKilled", exit_code=137)],
            "Failed",
            "DriverOOMKilled",
            "attempt 1: the driver was killed for using too much memory (OOMKilled); "
            "raise spec.kubernetes.driver.memory or memoryOverhead",
        ),
        (
            RUNNING,
            [driver("Failed", reason="Error", exit_code=3, message="ValueError: bad date")],
            "Failed",
            "DriverFailed",
            "attempt 1: the driver exited with code 3 (Error):\nValueError: bad date",
        ),
        (
            RUNNING,
            [driver("Failed", reason="Error", exit_code=1, message="\n".join(f"line {n}" for n in range(1, 81)))],
            "Failed",
            "DriverFailed",
            "attempt 1: the driver exited with code 1 (Error):\n" + "\n".join(f"line {n}" for n in range(61, 81)),
        ),
        (
            RUNNING,
            [],
            "Failed",
            "DriverDeleted",
            "attempt 1: the driver pod etl-daily-1-25cf8fca-driver disappeared",
        ),
        (
            {"phase": "Submitted", "attempt": 1, "startTime": at(601)},
            [driver("Pending", unschedulable="no node fits")],
            "Failed",
            "DriverStartTimeout",
            "attempt 1: the driver did not start within 600s: unschedulable: no node fits",
        ),
        (
            {"phase": "Submitted", "attempt": 1, "startTime": at(600)},
            [driver("Pending")],
            "Failed",
            "DriverStartTimeout",
            "attempt 1: the driver did not start within 600s: it was not running",
        ),
        (
            {"phase": "Submitted", "attempt": 1, "startTime": at(31)},
            [],
            "Failed",
            "DriverDeleted",
            "attempt 1: the driver pod etl-daily-1-25cf8fca-driver disappeared",
        ),
        (
            RUNNING,
            [driver("Unknown", reason="NodeLost")],
            "Failed",
            "DriverFailed",
            "attempt 1: the driver pod failed: NodeLost",
        ),
        (
            RUNNING,
            [driver("Failed", exit_code=2)],
            "Failed",
            "DriverFailed",
            "attempt 1: the driver exited with code 2 (Error)",
        ),
        (
            RUNNING,
            [driver("Failed", reason="Evicted", message="The node was low on memory.")],
            "Failed",
            "DriverFailed",
            "attempt 1: the driver pod failed: Evicted The node was low on memory.",
        ),
    ],
    ids=[
        "pending",
        "unschedulable",
        "image-pull",
        "started",
        "executors",
        "succeeded",
        "oom",
        "exit-code",
        "log-tail",
        "driver-deleted",
        "start-timeout",
        "start-timeout-at-the-second",
        "driver-never-showed-up",
        "driver-unknown",
        "exit-code-without-reason-or-log",
        "failed-without-exit-code",
    ],
)
def test_transitions(status: dict[str, Any], pods: list[PodView], phase: str, reason: str, message: str) -> None:
    summary = decision_summary(observe(status, pods, changes={"spec.restartPolicy": {"type": "Never"}}), 3)
    assert (summary["phase"], summary["reason"], summary["message"]) == (phase, reason, message)
    assert summary["ready"] == ("True" if phase == "Succeeded" else "False")
    assert summary["kubernetes"]["driverPod"] == "etl-daily-1-25cf8fca-driver"
    assert summary["kubernetes"]["driverService"] == "etl-daily-1-25cf8fca-driver-svc"
    ended = phase in ("Succeeded", "Failed")
    waits = {"Submitted": 590.0, "Running": None}.get(phase, 86400.0)
    assert summary.get("wake_after") == waits
    expected_event = ("Normal" if phase == "Succeeded" else "Warning", reason, message) if ended else None
    assert summary.get("event") == expected_event
    assert ("completionTime" in summary) == ended


def test_executor_counts() -> None:
    pods = [driver("Running"), executor("Running", 1), executor("Running", 2), executor("Failed", 3)]
    counts = observe(RUNNING, pods).status["kubernetes"]["executors"]
    assert counts == {"pending": 0, "running": 2, "succeeded": 0, "failed": 1}


def test_a_just_created_driver_missing_from_the_watch_is_not_yet_gone() -> None:
    decision = observe(SUBMITTED, [])
    assert decision.status["phase"] == "Submitted"


def test_a_failed_attempt_is_retried_after_the_backoff() -> None:
    decision = observe(RUNNING, [driver("Failed", exit_code=1)])
    assert decision.status["phase"] == "Pending"
    assert decision.status["attempt"] == 2
    assert decision.status["nextAttemptTime"] == (NOW + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert decision.delete_attempts == [1]
    assert decision.wake_after == 60
    assert decision.event is not None
    assert decision.event[0] == "Warning"


def test_the_next_attempt_waits_for_its_time_then_starts_afresh() -> None:
    backing_off = {
        "phase": "Pending",
        "attempt": 2,
        "nextAttemptTime": (NOW + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    waiting = observe(backing_off)
    assert waiting.status == {}
    assert waiting.wake_after == 30
    due = observe({**backing_off, "nextAttemptTime": at(1)})
    assert due.status["phase"] == "Submitted"
    assert due.status["attempt"] == 2
    pod = next(m for m in due.create if m["kind"] == "Pod")
    assert pod["metadata"]["name"] == Attempt("etl-daily", "team", UID, 2).driver_pod
    assert due.status["nextAttemptTime"] is None


def test_retries_run_out() -> None:
    decision = observe({**RUNNING, "attempt": 3}, [driver("Failed", attempt=3, exit_code=1)])
    assert decision.status["phase"] == "Failed"
    assert decision.delete_attempts == []


def test_on_failure_does_not_rerun_a_success_but_always_does() -> None:
    on_failure = observe(RUNNING, [driver("Succeeded")])
    assert on_failure.status["phase"] == "Succeeded"
    always = observe(RUNNING, [driver("Succeeded")], changes={"spec.restartPolicy": {"type": "Always", "retries": 1}})
    assert always.status["phase"] == "Pending"
    assert always.status["attempt"] == 2


def test_success_sets_ready_and_completion_time() -> None:
    decision = observe(RUNNING, [driver("Succeeded")], changes={"spec.restartPolicy": {"type": "Never"}})
    condition = decision.status["conditions"][0]
    assert condition["status"] == "True"
    assert decision.status["completionTime"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert decision.wake_after == 86400


def test_pod_view_reads_what_the_api_serves() -> None:
    pod = {
        "metadata": {"name": "d", "labels": {"spark-role": "driver", "spark-app-selector": "spark-1"}},
        "status": {
            "phase": "Failed",
            "containerStatuses": [
                {"state": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "message": "killed"}}}
            ],
            "conditions": [{"type": "PodScheduled", "status": "True"}],
        },
    }
    view = pod_view(pod)
    assert (view.role, view.phase, view.app_id, view.exit_code, view.reason) == (
        "driver",
        "Failed",
        "spark-1",
        137,
        "OOMKilled",
    )
    pending = pod_view(
        {
            "metadata": {"name": "d", "labels": {}},
            "status": {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "no fit"}
                ],
            },
        }
    )
    assert pending.unschedulable == "no fit"


@pytest.mark.parametrize(
    ("job_secret", "image_secret", "default", "expected"),
    [
        ("own", "pushed-with", "platform", ["own"]),
        (None, "pushed-with", "platform", ["pushed-with"]),
        (None, None, "platform", ["platform"]),
        (None, None, None, []),
    ],
    ids=["the-jobs-own", "the-sparkimages-push-secret", "the-operators-default", "none"],
)
def test_pods_pull_with_the_first_secret_named(
    job_secret: str | None, image_secret: str | None, default: str | None, expected: list[str]
) -> None:
    image = {"ref": "registry.example.com/etl:1", **({"pullSecret": job_secret} if job_secret else {})}
    state = ImageState(ref="registry.example.com/etl:1", pull_secret=image_secret)
    decision = decide(Observation(job({"spec.image": image}), UID, 3, {}, state, NOW, default_pull_secret=default))
    pod = next(m for m in decision.create if m["kind"] == "Pod")
    assert [s["name"] for s in pod["spec"].get("imagePullSecrets", [])] == expected
    assert not [m for m in decision.create if m["kind"] == "Secret"], "Secrets are the namespace's, never copied"


@pytest.mark.parametrize(
    ("policy", "phase", "attempt", "deleted", "progress"),
    [
        ({"type": "OnFailure", "retries": 2}, "Pending", 2, [1], ("True", "False")),
        ({"type": "Never"}, "Failed", 1, [], ("False", "True")),
    ],
    ids=["retried-per-restart-policy", "final"],
)
def test_a_refused_submission_ends_the_attempt(
    policy: dict[str, Any], phase: str, attempt: int, deleted: list[int], progress: tuple[str, str]
) -> None:
    submitting = Observation(job({"spec.restartPolicy": policy}), UID, 3, {"phase": "Pending"}, IMAGE, NOW)
    decision = submission_refused(submitting, "kubernetes", "the API server refused to create the pod (HTTP 403)")
    assert (decision.status["phase"], decision.status["attempt"]) == (phase, attempt)
    assert decision.delete_attempts == deleted, "a retry first removes what the refused attempt did create"
    assert ready_reason(decision) == "SubmissionFailed"
    assert "HTTP 403" in decision.status["message"]
    assert decision.event is not None
    assert decision.event[:2] == ("Warning", "SubmissionFailed")
    by_type = {c["type"]: c["status"] for c in decision.status["conditions"]}
    assert (by_type["Reconciling"], by_type["Stalled"]) == progress


@pytest.mark.parametrize(
    ("phase", "progress"),
    [
        ("Pending", Progress.RECONCILING),
        ("WaitingForImage", Progress.RECONCILING),
        ("Submitted", Progress.RECONCILING),
        ("Running", Progress.RECONCILING),
        ("Succeeded", Progress.SETTLED),
        ("Failed", Progress.STALLED),
        ("Cancelled", Progress.STALLED),
    ],
)
def test_a_jobs_phase_decides_reconciling_and_stalled(phase: str, progress: Progress) -> None:
    assert progress_of(phase) is progress


DRIVER_LABELS = {"spark-role": "driver", "spark-app-selector": "spark-1"}


@pytest.mark.parametrize(
    ("pod", "view"),
    [
        (
            {
                "metadata": {"name": "d", "labels": DRIVER_LABELS},
                "status": {
                    "phase": "Failed",
                    "containerStatuses": [
                        {"state": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "message": " killed \n"}}}
                    ],
                },
            },
            PodView("d", "driver", "Failed", "spark-1", "OOMKilled", "killed", 137),
        ),
        (
            {
                "metadata": {"name": "d", "labels": DRIVER_LABELS},
                "status": {
                    "phase": "Pending",
                    "containerStatuses": [
                        {"state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}
                    ],
                },
            },
            PodView("d", "driver", "Pending", "spark-1", "ImagePullBackOff", "Back-off pulling image"),
        ),
        (
            {
                "metadata": {"name": "d", "labels": DRIVER_LABELS, "deletionTimestamp": "2026-11-22T12:00:00Z"},
                "status": {"phase": "Failed", "reason": "Evicted", "message": "The node was low on memory."},
            },
            PodView("d", "driver", "Failed", "spark-1", "Evicted", "The node was low on memory.", deleting=True),
        ),
        (
            {
                "metadata": {"name": "e", "labels": {"spark-role": "executor"}},
                "status": {
                    "conditions": [
                        {"type": "Ready", "status": "False", "reason": "Unschedulable", "message": "not this one"},
                        {"type": "PodScheduled", "status": "True", "reason": "Unschedulable", "message": "nor this"},
                        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"},
                    ]
                },
            },
            PodView("e", "executor", "Pending", "", unschedulable="no node fits"),
        ),
        (
            {
                "metadata": {"name": "d", "labels": DRIVER_LABELS},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {"name": "proxy", "state": {"running": {}}},
                        {"name": "spark-kubernetes-driver", "state": {"terminated": {"exitCode": 0}}},
                    ],
                },
            },
            PodView("d", "driver", "Succeeded", "spark-1", exit_code=0),
        ),
        (
            {
                "metadata": {"name": "d", "labels": DRIVER_LABELS},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {"name": "log-shipper", "state": {"terminated": {"exitCode": 0}}},
                        {
                            "name": "spark-kubernetes-driver",
                            "state": {"terminated": {"exitCode": 1, "message": "boom"}},
                        },
                    ],
                },
            },
            PodView("d", "driver", "Failed", "spark-1", message="boom", exit_code=1),
        ),
        (
            {
                "metadata": {"name": "d", "labels": DRIVER_LABELS},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {"name": "proxy", "state": {"terminated": {"exitCode": 2}}},
                        {"name": "spark-kubernetes-driver", "state": {"running": {}}},
                    ],
                },
            },
            PodView("d", "driver", "Running", "spark-1"),
        ),
        ({}, PodView("", "", "Pending", "")),
    ],
    ids=[
        "terminated",
        "waiting",
        "evicted-and-deleting",
        "unschedulable-without-message",
        "spark-done-while-a-sidecar-runs",
        "spark-failed-while-a-sidecar-runs",
        "a-sidecar-ended-while-spark-runs",
        "empty",
    ],
)
def test_pod_view_reads_each_part_of_a_pod(pod: dict[str, Any], view: PodView) -> None:
    assert pod_view(pod) == view


def test_the_rapids_an_image_carries_reaches_a_gpu_jobs_spark_conf() -> None:
    gpu = {
        "spec.image.variant": "gpu",
        "spec.kubernetes.executor": {"instances": 1, "cores": 1, "memory": "1g", "gpus": 1},
    }
    rapids = ImageState(ref="registry.example.com/etl:1", rapids="25.04.0")
    decision = decide(Observation(job(gpu), UID, 3, {}, rapids, NOW))
    conf = next(m for m in decision.create if m["kind"] == "ConfigMap")["data"]["spark.properties"]
    assert "spark.plugins=com.nvidia.spark.SQLPlugin\n" in conf


SHUTDOWN = [f"26/11/24 11:14:51 INFO ShutdownHookManager: step {n}" for n in range(30)]
PYTHON_ERROR = ["Traceback (most recent call last):", '  File "/opt/app/main.py", line 3', "KeyError: 'CFG_X'"]
JVM_ERROR = ['Exception in thread "main" java.lang.IllegalStateException: no input', "\tat org.example.Main.main"]


@pytest.mark.parametrize(
    ("log", "tail"),
    [
        (["one", "two"], ["one", "two"]),
        (["start", *PYTHON_ERROR, *SHUTDOWN], [*PYTHON_ERROR, *SHUTDOWN[:17]]),
        (["start", *JVM_ERROR, *SHUTDOWN], [*JVM_ERROR, *SHUTDOWN[:18]]),
        ([*SHUTDOWN[:20], *PYTHON_ERROR, *SHUTDOWN[:5]], [*SHUTDOWN[8:20], *PYTHON_ERROR, *SHUTDOWN[:5]]),
        ([*PYTHON_ERROR, *SHUTDOWN, *PYTHON_ERROR, *SHUTDOWN], [*PYTHON_ERROR, *SHUTDOWN[:17]]),
    ],
    ids=["short", "python-error-before-shutdown", "jvm-error-before-shutdown", "error-among-the-last", "last-error"],
)
def test_a_failed_drivers_tail_starts_at_its_error(log: list[str], tail: list[str]) -> None:
    assert log_tail("\n".join(log)).splitlines() == tail


def test_a_failed_driver_says_why_from_its_log_read_once() -> None:
    failed = driver("Failed", reason="Error", exit_code=1, message="26/11/24 INFO only the shutdown")
    observation = Observation(job(), UID, 3, RUNNING, IMAGE, NOW, pods=[failed])
    assert failed_driver(observation) == failed
    with_log = replace(observation, driver_log="\n".join(["start", *PYTHON_ERROR, *SHUTDOWN]))
    message = decide(with_log).status["message"]
    assert "KeyError: 'CFG_X'" in message
    assert failed_driver(replace(observation, status={**RUNNING, "phase": "Failed"})) is None
    oom = replace(observation, pods=[driver("Failed", reason="OOMKilled", exit_code=137)])
    assert failed_driver(oom) is None
