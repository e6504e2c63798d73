"""What every SparkJob goes through whatever its target: status, attempts and retries, TTL. Pure.

The Kubernetes (kubricks.spark.state) and Databricks (kubricks.databricks.state) state machines build
on these; each observation is a JobContext plus what its target shows.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kubricks.api.sparkjob import SparkJob
from kubricks.k8s.conditions import TIME_FORMAT, Progress, ready_reason, with_kstatus

FINAL_REASONS = frozenset({"Cancelled", "ContainerServicesDisabled"})
"""Ends that no retry would change."""
WAITING_PHASES = (None, "Pending", "WaitingForImage")
"""Nothing of the current attempt exists yet."""
ACTIVE_PHASES = ("Submitted", "Running")
"""The current attempt has pods or a run."""
ENDED_PHASES = ("Succeeded", "Failed", "Cancelled")
LIFE_CYCLE_FIELDS = frozenset({"suspend", "ttl_seconds_after_finished", "ttl_policy"})
"""Spec fields that say how the job is handled, not what it runs: editing them never runs a finished job again."""


@dataclass(frozen=True)
class ImageState:
    """The image a job runs: a reference by digest, or why there is none yet."""

    ref: str | None = None
    waiting: str = ""
    pull_secret: str | None = None
    rapids: str | None = None
    """The RAPIDS Accelerator version the image carries (known for SparkImages, not for a plain ref)."""


@dataclass(frozen=True)
class JobContext:
    job: SparkJob
    uid: str
    generation: int
    status: dict[str, Any]
    image: ImageState
    now: datetime

    @property
    def attempt(self) -> int:
        return int(self.status.get("attempt") or 1)

    @property
    def target(self) -> str:
        return "kubernetes" if self.job.spec.kubernetes else "databricks"

    @property
    def retries(self) -> int:
        """Retries of the current spec so far; statuses written before retries were counted tell it by attempt."""
        return int(self.status.get("retries", self.attempt - 1) or 0)


@dataclass
class Decision:
    status: dict[str, Any]
    create: list[dict[str, Any]] = field(default_factory=list)
    """Kubernetes objects to apply."""
    delete_attempts: list[int] = field(default_factory=list)
    """Attempts whose Kubernetes objects go."""
    submit: dict[str, Any] | None = None
    """A Databricks runs/submit body to send."""
    cancel_run: int | None = None
    """A Databricks run to cancel."""
    delete_job: bool = False
    wake_after: float | None = None
    """Seconds until the job must be looked at again even if nothing changes; None: on the next change."""
    event: tuple[str, str, str] | None = None
    """(type, reason, message) of a Kubernetes Event to post."""


def utc_now() -> datetime:
    """Now, in the naive UTC the state machines compare with the times they parse."""
    return datetime.now(UTC).replace(tzinfo=None)


def stamp(value: datetime) -> str:
    return value.strftime(TIME_FORMAT)


def parse_time(value: str | None) -> datetime | None:
    return datetime.strptime(value, TIME_FORMAT) if value else None


def progress_of(phase: str) -> Progress:
    """A job is reconciling until it ends; a failed or cancelled job is stalled (a spec change starts it again)."""
    if phase == "Succeeded":
        return Progress.SETTLED
    if phase in ("Failed", "Cancelled"):
        return Progress.STALLED
    return Progress.RECONCILING


def job_status(
    ctx: JobContext, target: str, phase: str, ready: bool, reason: str, message: str, **fields: Any
) -> dict[str, Any]:
    conditions = with_kstatus(ctx.status.get("conditions"), ready, progress_of(phase), reason, message, ctx.generation)
    return {
        "phase": phase,
        "target": target,
        "observedGeneration": ctx.generation,
        "message": message,
        "conditions": conditions,
        **fields,
    }


def backing_off(ctx: JobContext) -> Decision | None:
    """While a failed attempt backs off, the decision to wait; None once the next attempt is due."""
    next_attempt = parse_time(ctx.status.get("nextAttemptTime"))
    if next_attempt and ctx.now < next_attempt:
        return Decision(status={}, wake_after=(next_attempt - ctx.now).total_seconds())
    return None


def end_attempt(ctx: JobContext, target: str, reason: str, message: str, **fields: Any) -> Decision:
    """The current attempt is over: retry it as restartPolicy says, or finish the job."""
    attempt = ctx.attempt
    policy = ctx.job.spec.restart_policy
    succeeded = reason == "Succeeded"
    retry = (
        (policy.type == "Always" or (policy.type == "OnFailure" and not succeeded))
        and ctx.retries < policy.retries
        and reason not in FINAL_REASONS
    )
    if retry:
        at = ctx.now + timedelta(seconds=policy.backoff_seconds)
        text = f"attempt {attempt}: {message}; attempt {attempt + 1} starts at {stamp(at)}"
        status = job_status(
            ctx,
            target,
            "Pending",
            False,
            reason,
            text,
            attempt=attempt + 1,
            retries=ctx.retries + 1,
            nextAttemptTime=stamp(at),
            **fields,
        )
        return Decision(
            status=status,
            delete_attempts=[attempt],
            wake_after=float(policy.backoff_seconds),
            event=("Normal" if succeeded else "Warning", reason, text),
        )
    phase = "Succeeded" if succeeded else ("Cancelled" if reason == "Cancelled" else "Failed")
    text = f"attempt {attempt}: {message}"
    return Decision(
        status=job_status(
            ctx, target, phase, succeeded, reason, text, attempt=attempt, completionTime=stamp(ctx.now), **fields
        ),
        wake_after=float(ctx.job.spec.ttl_seconds_after_finished),
        event=("Normal" if succeeded else "Warning", reason, text),
    )


def submission_refused(ctx: JobContext, target: str, message: str) -> Decision:
    """The API server or the workspace refused what the attempt sent: the attempt fails, and is retried as
    restartPolicy says (a quota or an admission webhook may let the next one through)."""
    return end_attempt(ctx, target, "SubmissionFailed", message)


def spec_digest(job: SparkJob) -> str:
    """What the job runs, in short: a finished job whose digest changes runs again."""
    spec = job.spec.model_dump(mode="json", exclude=set(LIFE_CYCLE_FIELDS))
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def attempt_started(ctx: JobContext, image: str) -> dict[str, Any]:
    """The status fields every target writes when it creates an attempt."""
    return {
        "attempt": ctx.attempt,
        "image": image,
        "startTime": stamp(ctx.now),
        "completionTime": None,
        "nextAttemptTime": None,
        "expiredTime": None,
        "specDigest": spec_digest(ctx.job),
    }


def suspension(ctx: JobContext) -> Decision | None:
    """spec.suspend, whatever the phase: hold a job that has not started, stop a running attempt, or go on when
    it is set back to false. None: the job's own phase decides."""
    phase = ctx.status.get("phase")
    if not ctx.job.spec.suspend:
        return _resumed(ctx) if phase == "Suspended" else None
    if phase in WAITING_PHASES:
        message = "spec.suspend is true: nothing is created until it is false"
        return Decision(status=_suspended_status(ctx, ctx.attempt, message), event=("Normal", "Suspended", message))
    if phase in ACTIVE_PHASES:
        return _stopped(ctx)
    if phase == "Suspended":
        return Decision(status=_suspended_status(ctx, ctx.attempt, str(ctx.status.get("message") or "")))
    return None


def _suspended_status(ctx: JobContext, attempt: int, message: str) -> dict[str, Any]:
    return job_status(ctx, ctx.target, "Suspended", False, "Suspended", message, attempt=attempt)


def _stopped(ctx: JobContext) -> Decision:
    """Suspending a submitted or running job ends its attempt; the next starts once it is resumed, and is not a
    retry."""
    run_id = (ctx.status.get("databricks") or {}).get("runId")
    stopped = "its Databricks run cancelled" if run_id else "its pods deleted"
    message = (
        f"attempt {ctx.attempt} stopped ({stopped}): spec.suspend is true; "
        f"attempt {ctx.attempt + 1} starts when it is false"
    )
    return Decision(
        status=_suspended_status(ctx, ctx.attempt + 1, message),
        delete_attempts=[ctx.attempt],
        cancel_run=int(run_id) if run_id else None,
        event=("Normal", "Suspended", message),
    )


def _resumed(ctx: JobContext) -> Decision:
    message = f"spec.suspend is false: attempt {ctx.attempt} starts"
    return Decision(
        status=job_status(ctx, ctx.target, "Pending", False, "Resumed", message),
        wake_after=0.0,
        event=("Normal", "Resumed", message),
    )


def finished(ctx: JobContext) -> Decision:
    """A finished job runs again when what it runs is edited; otherwise it waits out ttlSecondsAfterFinished, and
    then its resources go (ttlPolicy DeleteResources) or the job itself (DeleteJob)."""
    if ctx.generation != ctx.status.get("observedGeneration", ctx.generation):
        return _edited(ctx)
    completed = parse_time(ctx.status.get("completionTime")) or ctx.now
    remaining = ctx.job.spec.ttl_seconds_after_finished - (ctx.now - completed).total_seconds()
    if remaining > 0:
        return Decision(status={}, wake_after=remaining)
    if ctx.job.spec.ttl_policy == "DeleteJob":
        return Decision(status={}, delete_job=True)
    if ctx.status.get("expiredTime"):
        return Decision(status={})
    message = (
        f"ttlSecondsAfterFinished ({ctx.job.spec.ttl_seconds_after_finished}s) has passed: the pods and resources "
        "of the job are deleted; the SparkJob stays (ttlPolicy: DeleteResources)"
    )
    return Decision(
        status={"expiredTime": stamp(ctx.now)},
        delete_attempts=[ctx.attempt],
        event=("Normal", "Expired", message),
    )


def _edited(ctx: JobContext) -> Decision:
    """A finished job's spec changed: a new attempt when what it runs changed, else only the generation seen."""
    phase = str(ctx.status["phase"])
    if ctx.status.get("specDigest") == spec_digest(ctx.job):
        reason, message = ready_reason(ctx.status) or phase, str(ctx.status.get("message") or "")
        return Decision(status=job_status(ctx, ctx.target, phase, phase == "Succeeded", reason, message))
    attempt = ctx.attempt + 1
    message = f"the spec changed (generation {ctx.generation}) after the job ended {phase}: attempt {attempt} starts"
    return Decision(
        status=job_status(
            ctx,
            ctx.target,
            "Pending",
            False,
            "SpecChanged",
            message,
            attempt=attempt,
            retries=0,
            completionTime=None,
            nextAttemptTime=None,
        ),
        delete_attempts=[ctx.attempt],
        wake_after=0.0,
        event=("Normal", "SpecChanged", message),
    )


FINISHED_PHASES = dict.fromkeys(ENDED_PHASES, finished)
"""The phases every target's state machine hands to ``finished``."""
