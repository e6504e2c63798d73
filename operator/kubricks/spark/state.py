"""The SparkJob state machine on Kubernetes, one function per phase. Pure: an Observation in, a
Decision out; the handler gathers the one and carries out the other.

    Pending ──image not Ready──▶ WaitingForImage ──Ready──┐
       │                                                  ▼
       └──────────────────────────────────────────▶ Submitted ──driver running──▶ Running
                                                          │                          │
                                   driver-start timeout, driver failed        driver ended
                                                          ▼                          ▼
                          retries left: back to Pending (attempt+1)   ◀──  Succeeded / Failed ──TTL──▶ deleted

A spec change while a job runs applies to the next attempt: each attempt renders its resources afresh.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kubricks.api.sparkjob import SparkJob
from kubricks.k8s.conditions import with_condition
from kubricks.spark.manifests import Attempt, attempt_resources

READY = "Ready"
TERMINAL = ("Succeeded", "Failed", "Cancelled")
PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
DRIVER_GRACE_SECONDS = 30.0
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
class ImageState:
    """The image a job runs: a reference by digest, or why there is none yet."""

    ref: str | None = None
    waiting: str = ""
    pull_secret: str | None = None


@dataclass(frozen=True)
class Observation:
    job: SparkJob
    uid: str
    generation: int
    status: dict[str, Any]
    image: ImageState
    pods: list[PodView]
    """The pods labelled with the current attempt's spark-app-selector."""
    now: datetime


@dataclass
class Decision:
    status: dict[str, Any]
    create: list[dict[str, Any]] = field(default_factory=list)
    delete_attempts: list[int] = field(default_factory=list)
    delete_job: bool = False
    wake_after: float | None = None
    """Seconds until the job must be looked at again even if nothing changes; None: on the next change."""
    event: tuple[str, str, str] | None = None
    """(type, reason, message) of a Kubernetes Event to post."""


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str | None) -> datetime | None:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=None) if value else None


def attempt_of(obs: Observation) -> Attempt:
    return Attempt(obs.job.metadata["name"], obs.job.metadata.get("namespace", "default"), obs.uid, current(obs))


def current(obs: Observation) -> int:
    return int(obs.status.get("attempt") or 1)


def _status(obs: Observation, phase: str, ready: bool, reason: str, message: str, **fields: Any) -> dict[str, Any]:
    return {
        "phase": phase,
        "target": "kubernetes",
        "observedGeneration": obs.generation,
        "message": message,
        "conditions": with_condition(obs.status.get("conditions"), READY, ready, reason, message, obs.generation),
        **fields,
    }


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
    return {"driverPod": attempt.driver_pod, "driverService": attempt.service, "executors": _executors(obs)}


def pod_view(pod: Mapping[str, Any]) -> PodView:
    """The parts of a pod (as the API serves it) that the state machine reads."""
    metadata, status = pod.get("metadata") or {}, pod.get("status") or {}
    labels = metadata.get("labels") or {}
    containers = status.get("containerStatuses") or []
    state = (containers[0].get("state") or {}) if containers else {}
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
        phase=status.get("phase") or "Pending",
        app_id=labels.get("spark-app-selector", ""),
        reason=detail.get("reason") or status.get("reason") or "",
        message=(detail.get("message") or status.get("message") or "").strip(),
        exit_code=detail.get("exitCode"),
        unschedulable=unschedulable,
        deleting=bool(metadata.get("deletionTimestamp")),
    )


# --- phases -------------------------------------------------------------------------------------------


def pending(obs: Observation) -> Decision:
    next_attempt = _parse(obs.status.get("nextAttemptTime"))
    if next_attempt and obs.now < next_attempt:
        return Decision(status={}, wake_after=(next_attempt - obs.now).total_seconds())
    if obs.image.ref is None:
        message = f"waiting for the image: {obs.image.waiting}"
        return Decision(status=_status(obs, "WaitingForImage", False, "WaitingForImage", message))
    return submit(obs, obs.image.ref)


def submit(obs: Observation, image: str) -> Decision:
    attempt = attempt_of(obs)
    kubernetes = obs.job.spec.kubernetes
    timeout = kubernetes.driver_start_timeout_seconds if kubernetes else 600
    message = f"attempt {attempt.number}: driver pod {attempt.driver_pod} created"
    return Decision(
        status=_status(
            obs,
            "Submitted",
            False,
            "Submitted",
            message,
            attempt=attempt.number,
            image=image,
            startTime=_time(obs.now),
            completionTime=None,
            nextAttemptTime=None,
            kubernetes={**_kubernetes_status(obs), "executors": _executors(obs)},
        ),
        create=attempt_resources(obs.job, attempt, image, obs.image.pull_secret),
        wake_after=float(timeout),
        event=("Normal", "Submitted", message),
    )


def submitted(obs: Observation) -> Decision:
    driver = _driver(obs)
    started = _parse(obs.status.get("startTime")) or obs.now
    waited = (obs.now - started).total_seconds()
    kubernetes = obs.job.spec.kubernetes
    timeout = float(kubernetes.driver_start_timeout_seconds if kubernetes else 600)
    if driver is None or driver.phase == "Pending":
        if driver is None and waited > DRIVER_GRACE_SECONDS:
            return attempt_ended(obs, "DriverDeleted", f"the driver pod {attempt_of(obs).driver_pod} disappeared")
        if waited >= timeout:
            cause = _pending_cause(driver) or "it was not running"
            return attempt_ended(obs, "DriverStartTimeout", f"the driver did not start within {timeout:.0f}s: {cause}")
        cause = _pending_cause(driver)
        message = f"attempt {current(obs)}: driver pending" + (f": {cause}" if cause else "")
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
        return attempt_ended(obs, *_driver_failure(driver))
    executors = _executors(obs)
    message = f"attempt {current(obs)}: driver running, {executors['running']} executors running"
    return Decision(status=_status(obs, "Running", False, "Running", message, kubernetes=_kubernetes_status(obs)))


def _driver_failure(driver: PodView) -> tuple[str, str]:
    if driver.reason == "OOMKilled":
        return "DriverOOMKilled", (
            "the driver was killed for using too much memory (OOMKilled); "
            "raise spec.kubernetes.driver.memory or memoryOverhead"
        )
    if driver.exit_code is not None:
        detail = f": {driver.message}" if driver.message else ""
        return "DriverFailed", f"the driver exited with code {driver.exit_code} ({driver.reason or 'Error'}){detail}"
    return "DriverFailed", f"the driver pod failed: {driver.reason or driver.phase} {driver.message}".strip()


def attempt_ended(obs: Observation, reason: str, message: str) -> Decision:
    attempt = current(obs)
    policy = obs.job.spec.restart_policy
    succeeded = reason == "Succeeded"
    retry = (policy.type == "Always" or (policy.type == "OnFailure" and not succeeded)) and attempt <= policy.retries
    if retry:
        at = obs.now + timedelta(seconds=policy.backoff_seconds)
        text = f"attempt {attempt}: {message}; attempt {attempt + 1} starts at {_time(at)}"
        return Decision(
            status=_status(
                obs,
                "Pending",
                False,
                reason,
                text,
                attempt=attempt + 1,
                nextAttemptTime=_time(at),
                kubernetes=_kubernetes_status(obs),
            ),
            delete_attempts=[attempt],
            wake_after=float(policy.backoff_seconds),
            event=("Warning" if not succeeded else "Normal", reason, text),
        )
    phase = "Succeeded" if succeeded else "Failed"
    text = f"attempt {attempt}: {message}"
    return Decision(
        status=_status(
            obs, phase, succeeded, reason, text, completionTime=_time(obs.now), kubernetes=_kubernetes_status(obs)
        ),
        wake_after=float(obs.job.spec.ttl_seconds_after_finished),
        event=("Normal" if succeeded else "Warning", reason, text),
    )


def finished(obs: Observation) -> Decision:
    completed = _parse(obs.status.get("completionTime")) or obs.now
    remaining = obs.job.spec.ttl_seconds_after_finished - (obs.now - completed).total_seconds()
    if remaining <= 0:
        return Decision(status={}, delete_job=True)
    return Decision(status={}, wake_after=remaining)


PHASES: dict[str, Callable[[Observation], Decision]] = {
    "Pending": pending,
    "WaitingForImage": pending,
    "Submitted": submitted,
    "Running": running,
    "Succeeded": finished,
    "Failed": finished,
    "Cancelled": finished,
}


def decide(obs: Observation) -> Decision:
    return PHASES[obs.status.get("phase") or "Pending"](obs)
