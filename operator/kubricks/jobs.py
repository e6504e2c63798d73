"""What every SparkJob goes through whatever its target: status, attempts and retries, TTL. Pure.

The Kubernetes (kubricks.spark.state) and Databricks (kubricks.databricks.state) state machines build
on these; each observation is a JobContext plus what its target shows.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kubricks.api.sparkjob import SparkJob
from kubricks.k8s.conditions import TIME_FORMAT, Progress, with_kstatus

FINAL_REASONS = frozenset({"Cancelled", "ContainerServicesDisabled"})
"""Ends that no retry would change."""


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


@dataclass
class Decision:
    status: dict[str, Any]
    create: list[dict[str, Any]] = field(default_factory=list)
    """Kubernetes objects to apply."""
    delete_attempts: list[int] = field(default_factory=list)
    """Attempts whose Kubernetes objects go."""
    submit: dict[str, Any] | None = None
    """A Databricks runs/submit body to send."""
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
        and attempt <= policy.retries
        and reason not in FINAL_REASONS
    )
    if retry:
        at = ctx.now + timedelta(seconds=policy.backoff_seconds)
        text = f"attempt {attempt}: {message}; attempt {attempt + 1} starts at {stamp(at)}"
        status = job_status(
            ctx, target, "Pending", False, reason, text, attempt=attempt + 1, nextAttemptTime=stamp(at), **fields
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


def finished(ctx: JobContext) -> Decision:
    """A finished job waits out ttlSecondsAfterFinished, then goes."""
    completed = parse_time(ctx.status.get("completionTime")) or ctx.now
    remaining = ctx.job.spec.ttl_seconds_after_finished - (ctx.now - completed).total_seconds()
    if remaining <= 0:
        return Decision(status={}, delete_job=True)
    return Decision(status={}, wake_after=remaining)


FINISHED_PHASES = dict.fromkeys(("Succeeded", "Failed", "Cancelled"), finished)
"""The phases every target's state machine hands to ``finished``."""
