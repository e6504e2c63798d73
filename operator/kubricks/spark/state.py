"""The SparkJob state machine on Kubernetes, one function per phase. Pure: an Observation in, a
Decision out; the handler gathers the one and carries out the other.

    Pending ──image not Ready──▶ WaitingForImage ──Ready──┐
       │                                                  ▼
       └──────────────────────────────────────────▶ Submitted ──driver running──▶ Running
                                                          │                          │
                                   driver-start timeout, driver failed        driver ended
                                                          ▼                          ▼
                          retries left: back to Pending (attempt+1)   ◀──  Succeeded / Failed ──TTL──▶ pods deleted
                                                                                      │               (ttlPolicy)
                                                                     spec edited: Pending (attempt+1)

spec.suspend holds a job in any phase before Succeeded (Suspended; a running attempt's pods are deleted), and
setting it back to false starts the next attempt. A spec change while a job runs applies to the next attempt:
each attempt renders its resources afresh.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubricks.jobs import (
    FINISHED_PHASES,
    Decision,
    JobContext,
    attempt_started,
    backing_off,
    end_attempt,
    job_status,
    parse_time,
    submission_refused,
    suspension,
)
from kubricks.spark.admission import PodSecurity, Policy, refusal
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import DRIVER_CONTAINER, EXECUTOR_CONTAINER, attempt_resources
from kubricks.spark.ui import ui_url

TARGET = "kubernetes"
PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
LOG_TAIL_LINES = 20
"""How many of a failed driver's last log lines (its termination message) the job's status.message shows."""
DRIVER_GRACE_SECONDS = 30.0
SPARK_CONTAINERS = (DRIVER_CONTAINER, EXECUTOR_CONTAINER)
"""How long a just-created driver pod may be missing from the watch before it counts as gone."""


@dataclass(frozen=True)
class PodView:
    """What the state machine needs of one Spark pod."""

    name: str
    role: str
    phase: str
    app_id: str
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    unschedulable: str = ""
    deleting: bool = False


@dataclass(frozen=True)
class Observation(JobContext):
    pods: list[PodView] = field(default_factory=list)
    """The pods labelled with the current attempt's spark-app-selector."""
    default_pull_secret: str | None = None
    """The Secret (of the job's namespace) that pods pull with when neither the job nor its SparkImage names one."""
    pod_security: PodSecurity = field(default_factory=PodSecurity)
    """The Pod Security level of the job's namespace, read while the job is to submit (restricted otherwise)."""
    policy: Policy = field(default_factory=Policy)
    """What the operator's admin allows the job's pods."""
    driver_log: str = ""
    """The last lines of the attempt's failed driver's log, read when it failed (its termination message, the
    fallback, holds 2 KiB at most)."""
    spark_config: Mapping[str, str] | None = field(default_factory=dict)
    """The files of the job's sparkConfigMap, read while the job is to submit; None when that ConfigMap is missing."""


def attempt_of(obs: Observation) -> Attempt:
    return Attempt(obs.job.metadata["name"], obs.job.metadata.get("namespace", "default"), obs.uid, obs.attempt)


def _status(obs: Observation, phase: str, ready: bool, reason: str, message: str, **fields: Any) -> dict[str, Any]:
    return job_status(obs, TARGET, phase, ready, reason, message, **fields)


def _executors(obs: Observation) -> dict[str, int]:
    counts = {"pending": 0, "running": 0, "succeeded": 0, "failed": 0}
    for pod in obs.pods:
        if pod.role == "executor" and pod.phase.lower() in counts:
            counts[pod.phase.lower()] += 1
    return counts


def _driver(obs: Observation) -> PodView | None:
    return next((p for p in obs.pods if p.role == "driver" and p.name == attempt_of(obs).driver_pod), None)


def _kubernetes_status(obs: Observation) -> dict[str, Any]:
    attempt = attempt_of(obs)
    status = {"driverPod": attempt.driver_pod, "driverService": attempt.service, "executors": _executors(obs)}
    if obs.job.spec.kubernetes:
        status["uiUrl"] = ui_url(obs.job.spec.kubernetes, attempt)
    return status


def pod_view(pod: Mapping[str, Any]) -> PodView:
    """The parts of a pod (as the API serves it) that the state machine reads."""
    metadata, status = pod.get("metadata") or {}, pod.get("status") or {}
    labels = metadata.get("labels") or {}
    state = _spark_container_state(status.get("containerStatuses") or [])
    detail = state.get("terminated") or state.get("waiting") or {}
    unschedulable = next(
        (
            c.get("message") or "no node fits"
            for c in status.get("conditions") or []
            if c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
        ),
        "",
    )
    return PodView(
        name=metadata.get("name", ""),
        role=labels.get("spark-role", ""),
        phase=_spark_phase(status.get("phase") or "Pending", state),
        app_id=labels.get("spark-app-selector", ""),
        reason=detail.get("reason") or status.get("reason") or "",
        message=(detail.get("message") or status.get("message") or "").strip(),
        exit_code=detail.get("exitCode"),
        unschedulable=unschedulable,
        deleting=bool(metadata.get("deletionTimestamp")),
    )


def _spark_container_state(statuses: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The Spark container's state: a pod with sidecars lists them too, in no promised order."""
    spark = [s for s in statuses if s.get("name") in SPARK_CONTAINERS] or statuses[:1]
    return (spark[0].get("state") or {}) if spark else {}


def _spark_phase(pod_phase: str, state: Mapping[str, Any]) -> str:
    """The pod's phase as far as Spark goes: a pod whose Spark container ended is done, even while a sidecar keeps
    the pod Running."""
    terminated = state.get("terminated")
    if pod_phase == "Running" and terminated:
        return "Succeeded" if terminated.get("exitCode") == 0 else "Failed"
    return pod_phase


# --- phases -------------------------------------------------------------------------------------------


def pending(obs: Observation) -> Decision:
    waiting = backing_off(obs)
    if waiting:
        return waiting
    # Before anything is created, and before waiting for the image: a job asking too much fails at once.
    refused = refusal(obs.job, obs.pod_security, obs.policy) or _missing_spark_config(obs)
    if refused:
        return submission_refused(obs, TARGET, refused)
    if obs.image.ref is None:
        message = f"waiting for the image: {obs.image.waiting}"
        return Decision(status=_status(obs, "WaitingForImage", False, "WaitingForImage", message))
    return submit(obs, obs.image.ref)


def _missing_spark_config(obs: Observation) -> str | None:
    kubernetes = obs.job.spec.kubernetes
    if obs.spark_config is not None or kubernetes is None:
        return None
    return (
        f"spec.kubernetes.sparkConfigMap: the ConfigMap {kubernetes.spark_config_map} does not exist in namespace "
        f"{attempt_of(obs).namespace}; create it or remove the field"
    )


def submit(obs: Observation, image: str) -> Decision:
    attempt = attempt_of(obs)
    pull_secret = obs.image.pull_secret or obs.default_pull_secret
    kubernetes = obs.job.spec.kubernetes
    timeout = kubernetes.driver_start_timeout_seconds if kubernetes else 600
    return Decision(
        status=_status(
            obs,
            "Submitted",
            False,
            "Submitted",
            _pending_message(attempt.number, ""),
            **attempt_started(obs, image),
            kubernetes={**_kubernetes_status(obs), "executors": _executors(obs)},
        ),
        create=attempt_resources(obs.job, attempt, image, pull_secret, obs.image.rapids, obs.spark_config),
        wake_after=float(timeout),
        event=("Normal", "Submitted", f"attempt {attempt.number}: driver pod {attempt.driver_pod} created"),
    )


def _pending_message(attempt: int, cause: str) -> str:
    """The same from the driver's creation until a cause shows: a pod seen Pending is no news worth a patch."""
    return f"attempt {attempt}: driver pending" + (f": {cause}" if cause else "")


def submitted(obs: Observation) -> Decision:
    driver = _driver(obs)
    started = parse_time(obs.status.get("startTime")) or obs.now
    waited = (obs.now - started).total_seconds()
    kubernetes = obs.job.spec.kubernetes
    timeout = float(kubernetes.driver_start_timeout_seconds if kubernetes else 600)
    if driver is None or driver.phase == "Pending":
        if driver is None and waited > DRIVER_GRACE_SECONDS:
            return attempt_ended(obs, "DriverDeleted", f"the driver pod {attempt_of(obs).driver_pod} disappeared")
        if waited >= timeout:
            cause = _pending_cause(driver) or "it was not running"
            return attempt_ended(obs, "DriverStartTimeout", f"the driver did not start within {timeout:.0f}s: {cause}")
        message = _pending_message(obs.attempt, _pending_cause(driver))
        reason = "ImagePullFailed" if driver and driver.reason in PULL_FAILURES else "Submitted"
        if driver and driver.unschedulable:
            reason = "Unschedulable"
        return Decision(
            status=_status(obs, "Submitted", False, reason, message, kubernetes=_kubernetes_status(obs)),
            wake_after=max(timeout - waited, 1.0),
        )
    return running(obs)


def _pending_cause(driver: PodView | None) -> str:
    if driver is None:
        return ""
    if driver.unschedulable:
        return f"unschedulable: {driver.unschedulable}"
    if driver.reason in PULL_FAILURES:
        return f"cannot pull the image ({driver.reason}): {driver.message}"
    return ""


def running(obs: Observation) -> Decision:
    driver = _driver(obs)
    if driver is None:
        return attempt_ended(obs, "DriverDeleted", f"the driver pod {attempt_of(obs).driver_pod} disappeared")
    if driver.phase == "Succeeded":
        return attempt_ended(obs, "Succeeded", "the driver completed")
    if driver.phase in ("Failed", "Unknown"):
        return attempt_ended(obs, *_driver_failure(driver, obs.driver_log))
    executors = _executors(obs)
    message = f"attempt {obs.attempt}: driver running, {executors['running']} executors running"
    return Decision(status=_status(obs, "Running", False, "Running", message, kubernetes=_kubernetes_status(obs)))


def failed_driver(obs: Observation) -> PodView | None:
    """The attempt's driver when it just exited with an error: its log says why, and is read once, before the
    attempt ends."""
    driver = _driver(obs)
    if obs.status.get("phase") not in ("Submitted", "Running") or driver is None:
        return None
    if driver.phase != "Failed" or driver.exit_code is None or driver.reason == "OOMKilled":
        return None
    return driver


def _driver_failure(driver: PodView, driver_log: str) -> tuple[str, str]:
    if driver.reason == "OOMKilled":
        return "DriverOOMKilled", (
            "the driver was killed for using too much memory (OOMKilled); "
            "raise spec.kubernetes.driver.memory or memoryOverhead"
        )
    if driver.exit_code is not None:
        log = driver_log or driver.message
        detail = f":\n{log_tail(log)}" if log else ""
        return "DriverFailed", f"the driver exited with code {driver.exit_code} ({driver.reason or 'Error'}){detail}"
    return "DriverFailed", f"the driver pod failed: {driver.reason or driver.phase} {driver.message}".strip()


ERROR_STARTS = re.compile(r'^(Traceback \(most recent call last\):|Exception in thread "main" )')
"""Where a Python or a JVM application's fatal error begins in a driver's log."""


def log_tail(text: str) -> str:
    """The driver's last lines; when its error began earlier (Spark's shutdown logs come after it), from there."""
    lines = text.splitlines()
    starts = [index for index, line in enumerate(lines) if ERROR_STARTS.match(line)]
    if starts and len(lines) - starts[-1] > LOG_TAIL_LINES:
        return "\n".join(lines[starts[-1] : starts[-1] + LOG_TAIL_LINES])
    return "\n".join(lines[-LOG_TAIL_LINES:])


def attempt_ended(obs: Observation, reason: str, message: str) -> Decision:
    return end_attempt(obs, TARGET, reason, message, kubernetes=_kubernetes_status(obs))


PHASES: dict[str, Callable[[Observation], Decision]] = {
    "Pending": pending,
    "WaitingForImage": pending,
    "Submitted": submitted,
    "Running": running,
    **FINISHED_PHASES,
}


def decide(obs: Observation) -> Decision:
    return suspension(obs) or PHASES[obs.status.get("phase") or "Pending"](obs)
