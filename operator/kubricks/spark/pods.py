"""Which pod of a SparkJob ``kubricks job logs`` and ``kubricks job ui`` reach, found as the operator names them:
the driver by the job's status.kubernetes.driverPod, the executors by their labels; and whether it can be reached
yet, or still. Pure: the job and its pods come in as the API server serves them, and every refusal is a one-line
message for the user."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubricks.api.sparkjob import SparkJob, SparkJobStatus
from kubricks.spark.attempt import ATTEMPT_LABEL, JOB_LABEL
from kubricks.spark.manifests import DRIVER_CONTAINER, EXECUTOR_CONTAINER
from kubricks.spark.state import PodView, pod_view
from kubricks.spark.ui import UI_PORT

EXECUTOR_ID_LABEL = "spark-exec-id"
"""The label Spark gives each executor pod: the executor's number, from 1."""
LOCAL_ADDRESS = "127.0.0.1"
FORWARDING = re.compile(rf"^Forwarding from {re.escape(LOCAL_ADDRESS)}:(\d+) -> {UI_PORT}\b")
KUBECTL_CHATTER = ("Forwarding from ", "Handling connection for ")
"""What kubectl port-forward says while all is well: once per listening address, then once per connection."""


class NoSuchPod(Exception):
    """The pod asked for does not exist (yet, or any more); the message says why and where to look instead."""


@dataclass(frozen=True)
class CurrentAttempt:
    """The Kubernetes pods of a SparkJob's current attempt, as its status names them."""

    namespace: str
    job: str
    number: int
    driver_pod: str

    @property
    def executor_selector(self) -> str:
        return f"{JOB_LABEL}={self.job},{ATTEMPT_LABEL}={self.number},spark-role=executor"

    @property
    def job_ref(self) -> str:
        return f"{self.namespace}/{self.job}"


def current_attempt(job: SparkJob) -> CurrentAttempt:
    """The current attempt of a job on Kubernetes whose driver pod has been created."""
    namespace, name = job.metadata.get("namespace", "default"), job.metadata["name"]
    status = job.status or SparkJobStatus()
    if job.spec.databricks is not None:
        run_page = status.databricks.run_page_url if status.databricks else None
        raise NoSuchPod(
            f"SparkJob {namespace}/{name} runs on Databricks, not in pods: its run page, status.databricks.runPageUrl, "
            f"has the logs and the Spark UI ({run_page or 'no run yet'})"
        )
    driver_pod = status.kubernetes.driver_pod if status.kubernetes else None
    if driver_pod is None or not status.attempt:
        phase = f"phase {status.phase}" if status.phase else "no phase yet"
        because = f": {status.message}" if status.message else ""
        raise NoSuchPod(f"SparkJob {namespace}/{name} has no driver pod yet ({phase}{because})")
    return CurrentAttempt(namespace, name, status.attempt, driver_pod)


def executor_pod(attempt: CurrentAttempt, executors: Sequence[Mapping[str, Any]], number: int) -> Mapping[str, Any]:
    """Executor ``number`` among the executor pods of ``attempt``."""
    by_id = {
        int(labels[EXECUTOR_ID_LABEL]): pod
        for pod in executors
        if (labels := pod["metadata"].get("labels") or {}).get(EXECUTOR_ID_LABEL, "").isdigit()
    }
    if number in by_id:
        return by_id[number]
    found = (
        f"its executors are {', '.join(map(str, sorted(by_id)))}"
        if by_id
        else "it has no executor pods (Spark deletes those that ended unless the job's sparkConf sets "
        "spark.kubernetes.executor.deleteOnTermination=false)"
    )
    raise NoSuchPod(f"attempt {attempt.number} of SparkJob {attempt.job_ref} has no executor {number}: {found}")


def spark_container(pod: Mapping[str, Any]) -> str:
    """The container whose log is the Spark pod's log: the pod may also hold sidecars."""
    return DRIVER_CONTAINER if pod_view(pod).role == "driver" else EXECUTOR_CONTAINER


def pod_gone(attempt: CurrentAttempt, pod: str) -> str:
    return (
        f"the pod {pod} of SparkJob {attempt.job_ref} no longer exists: a new attempt, the job's "
        "spec.ttlSecondsAfterFinished or someone deleted it"
    )


def _pending(attempt: CurrentAttempt, view: PodView) -> str:
    if view.unschedulable:
        cause = f"unschedulable: {view.unschedulable}"
    else:
        cause = ": ".join(part for part in (view.reason, view.message) if part) or "not started"
    return f"the pod {view.name} of SparkJob {attempt.job_ref} is Pending ({cause})"


def log_not_started(attempt: CurrentAttempt, pod: Mapping[str, Any]) -> str | None:
    """Why the pod has no log yet, or None once its Spark container started."""
    view = pod_view(pod)
    if view.phase != "Pending":
        return None
    return f"{_pending(attempt, view)}: its log begins when its container starts"


def driver_not_running(attempt: CurrentAttempt, pod: Mapping[str, Any]) -> str | None:
    """Why the driver's Spark UI cannot be reached, or None while the driver runs."""
    view = pod_view(pod)
    if view.phase == "Running":
        return None
    if view.phase == "Pending":
        return f"{_pending(attempt, view)}: the Spark UI starts with the driver, try again once it runs"
    logs = f"kubricks job logs {attempt.job} -n {attempt.namespace}"
    return (
        f"the driver pod {view.name} of SparkJob {attempt.job_ref} is {view.phase}, not Running: the Spark UI ended "
        f"with the driver; `{logs}` prints its log"
    )


def port_forward_command(attempt: CurrentAttempt, local_port: int) -> list[str]:
    """kubectl forwarding ``local_port`` (0: a free one) on this machine to the driver's Spark UI."""
    return ["kubectl", "port-forward", f"pod/{attempt.driver_pod}", f"{local_port}:{UI_PORT}", "-n", attempt.namespace]


def forwarded_port(line: str) -> int | None:
    """The local port of kubectl port-forward's "Forwarding from 127.0.0.1:PORT -> 4040", else None."""
    match = FORWARDING.match(line)
    return int(match.group(1)) if match else None


def is_kubectl_chatter(line: str) -> bool:
    return line.startswith(KUBECTL_CHATTER) or not line.strip()


def spark_ui_line(attempt: CurrentAttempt, port: int) -> str:
    return f"Spark UI of {attempt.job_ref}: http://{LOCAL_ADDRESS}:{port}"


def port_forward_ended(attempt: CurrentAttempt, exit_code: int, output: Sequence[str], forwarding: bool) -> str:
    """What to tell when kubectl port-forward exits: before forwarding (a port in use, RBAC) or after (the driver
    ended); ``output`` is what kubectl said that was not chatter."""
    said = "; ".join(line.strip() for line in output if line.strip()) or "no message"
    if forwarding:
        return f"the port-forward to {attempt.driver_pod} ended (kubectl exited {exit_code}): {said}"
    return f"kubectl port-forward to {attempt.driver_pod} failed (exit {exit_code}): {said}"
