"""The SparkJob state machine on Databricks, one function per phase. Pure.

    Pending ──image / workspace / cluster not ready──▶ (waits, says why)
       │
       └─ runs/submit (idempotency token per attempt) ──▶ Submitted ──RUNNING──▶ Running
                                                              │                     │
                                                              └──── TERMINATED ─────┴─▶ Succeeded / Failed / Cancelled
                                                                   (retries as restartPolicy says)

spec.suspend holds a job before it ends (Suspended; a submitted run is cancelled); false starts the next attempt.

Databricks' life_cycle_state and result_state map onto the phases; a state kubricks does not know yet
counts as not finished, so a future Databricks state never ends a job early.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubricks.databricks.payloads import BasicAuth, submit_run
from kubricks.jobs import (
    FINISHED_PHASES,
    Decision,
    JobContext,
    attempt_started,
    backing_off,
    end_attempt,
    job_status,
    parse_time,
    suspension,
)

TARGET = "databricks"
WAITING = frozenset({"QUEUED", "PENDING", "BLOCKED", "WAITING_FOR_RETRY"})
RUNNING = frozenset({"RUNNING", "TERMINATING"})
TERMINAL = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
RESULT_REASONS = {
    "SUCCESS": "Succeeded",
    "SUCCESS_WITH_FAILURES": "Succeeded",
    "CANCELED": "Cancelled",
    "UPSTREAM_CANCELED": "Cancelled",
    "FAILED": "RunFailed",
    "TIMEDOUT": "RunTimedOut",
    "MAXIMUM_CONCURRENT_RUNS_REACHED": "RunNotStarted",
    "EXCLUDED": "RunNotStarted",
    "UPSTREAM_FAILED": "RunFailed",
    "DISABLED": "RunNotStarted",
}


@dataclass(frozen=True)
class WorkspaceState:
    exists: bool = False
    connected: bool = False
    container_services: bool | None = None
    message: str = ""


@dataclass(frozen=True)
class Observation(JobContext):
    workspace: WorkspaceState = field(default_factory=WorkspaceState)
    registry_auth: BasicAuth | None = None
    cluster_id: str | None = None
    """The cluster of a clusterRef, once it runs."""
    cluster_waiting: str = ""
    run: dict[str, Any] | None = None
    """runs/get of status.databricks.runId."""
    run_error: str = ""
    """The failed task's error from runs/get-output."""


def poll_interval(age_seconds: float) -> float:
    """runs/get less often as a run gets older: seconds for a short run, a minute for a long one."""
    if age_seconds < 60:
        return 2.0
    if age_seconds < 600:
        return 5.0
    if age_seconds < 3600:
        return 15.0
    return 60.0


def _status(obs: Observation, phase: str, ready: bool, reason: str, message: str, **fields: Any) -> dict[str, Any]:
    return job_status(obs, TARGET, phase, ready, reason, message, **fields)


def pending(obs: Observation) -> Decision:
    waiting = backing_off(obs)
    if waiting:
        return waiting
    target = obs.job.spec.databricks
    workspace_name = target.workspace if target else ""
    if obs.image.ref is None:
        return Decision(
            status=_status(
                obs, "WaitingForImage", False, "WaitingForImage", f"waiting for the image: {obs.image.waiting}"
            )
        )
    if not obs.workspace.exists:
        message = f"the DatabricksWorkspace {workspace_name} does not exist"
        return Decision(status=_status(obs, "Pending", False, "WaitingForWorkspace", message))
    if obs.workspace.container_services is False:
        message = (
            f"the workspace {workspace_name} has Databricks Container Services disabled (enableDcs); "
            "an admin must enable it before jobs can run custom images"
        )
        return end_attempt(obs, TARGET, "ContainerServicesDisabled", message)
    if not obs.workspace.connected:
        message = f"waiting for the DatabricksWorkspace {workspace_name}: {obs.workspace.message or 'not checked yet'}"
        return Decision(status=_status(obs, "Pending", False, "WaitingForWorkspace", message))
    if target and target.cluster.cluster_ref and obs.cluster_id is None:
        message = f"waiting for the DatabricksCluster {target.cluster.cluster_ref}: {obs.cluster_waiting}"
        return Decision(status=_status(obs, "Pending", False, "WaitingForCluster", message))
    body = submit_run(obs.job, obs.uid, obs.attempt, obs.image.ref, obs.registry_auth, obs.cluster_id, obs.image.rapids)
    message = f"attempt {obs.attempt}: run submitted"
    return Decision(
        status=_status(
            obs,
            "Submitted",
            False,
            "Submitted",
            message,
            **attempt_started(obs, obs.image.ref),
            databricks=None,
        ),
        submit=body,
        wake_after=poll_interval(0),
        event=("Normal", "Submitted", message),
    )


def _run_status(obs: Observation) -> dict[str, Any]:
    run = obs.run or {}
    state = run.get("state") or {}
    cluster: dict[str, Any] = run.get("cluster_instance") or next(
        (t.get("cluster_instance") for t in run.get("tasks") or [] if t.get("cluster_instance")), {}
    )
    fields = {
        "runId": run.get("run_id") or (obs.status.get("databricks") or {}).get("runId"),
        "runPageUrl": run.get("run_page_url"),
        "lifeCycleState": state.get("life_cycle_state"),
        "resultState": state.get("result_state"),
        "stateMessage": state.get("state_message"),
        "clusterId": (cluster or {}).get("cluster_id"),
    }
    return {key: value for key, value in fields.items() if value is not None}


def tracking(obs: Observation) -> Decision:
    """Submitted or Running: follow the run."""
    if not (obs.status.get("databricks") or {}).get("runId"):
        return pending(obs)  # submitted but the run id never reached status: submitting again finds the run
    started = parse_time(obs.status.get("startTime")) or obs.now
    age = (obs.now - started).total_seconds()
    if obs.run is None:
        return end_attempt(obs, TARGET, "RunLost", "Databricks no longer knows the run", databricks=_run_status(obs))
    state = obs.run.get("state") or {}
    life_cycle = state.get("life_cycle_state", "")
    databricks = _run_status(obs)
    if life_cycle in TERMINAL:
        result = state.get("result_state") or ("FAILED" if life_cycle == "INTERNAL_ERROR" else "")
        reason = RESULT_REASONS.get(result, "RunFailed")
        if life_cycle == "INTERNAL_ERROR":
            reason = "RunInternalError"
        detail = obs.run_error or state.get("state_message") or ""
        message = "the run succeeded" if reason == "Succeeded" else f"the run ended {result or life_cycle}"
        return end_attempt(
            obs,
            TARGET,
            reason,
            f"{message}: {detail}" if detail and reason != "Succeeded" else message,
            databricks=databricks,
        )
    if life_cycle in RUNNING:
        phase, message = "Running", f"attempt {obs.attempt}: the run is {life_cycle}"
    elif life_cycle in WAITING:
        phase, message = "Submitted", f"attempt {obs.attempt}: the run is {life_cycle}"
    else:
        phase = obs.status.get("phase") or "Submitted"
        unknown = life_cycle or "no state"
        message = f"attempt {obs.attempt}: Databricks reports {unknown}, which kubricks does not know; waiting"
    if state.get("state_message"):
        message += f" ({state['state_message']})"
    return Decision(
        status=_status(obs, phase, False, phase, message, databricks=databricks), wake_after=poll_interval(age)
    )


PHASES: dict[str, Callable[[Observation], Decision]] = {
    "Pending": pending,
    "WaitingForImage": pending,
    "Submitted": tracking,
    "Running": tracking,
    **FINISHED_PHASES,
}


def decide(obs: Observation) -> Decision:
    return suspension(obs) or PHASES[obs.status.get("phase") or "Pending"](obs)
