"""SparkJob on Kubernetes: a daemon per job runs the state machine of kubricks.spark.state.

It wakes when one of the job's pods changes (kopf watches the pods and indexes them by their
spark-app-selector, so no polling), when a SparkImage in its namespace changes, and at the deadlines the
state machine names (driver-start timeout, retry backoff, TTL).
"""

import asyncio
import base64
import contextlib
import os
from collections import defaultdict
from typing import Any

import kopf

from kubricks import metrics
from kubricks.api.crd import GROUP, VERSION
from kubricks.api.databricks import ImageChoice
from kubricks.api.sparkjob import SparkJob
from kubricks.handlers import generation_of, status_of
from kubricks.jobs import Decision, ImageState, utc_now
from kubricks.k8s.client import apply, delete_custom_object, delete_labelled, patch_status, read_secret
from kubricks.spark.manifests import ATTEMPT_LABEL, JOB_LABEL, Attempt
from kubricks.spark.state import Observation, PodView, decide, pod_view

PLURAL = "sparkjobs"


class Wakeups:
    """One event per SparkJob, set when something it depends on changes."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str], asyncio.Event] = defaultdict(asyncio.Event)

    def wake(self, namespace: str, name: str) -> None:
        self.events[(namespace, name)].set()

    def wake_namespace(self, namespace: str) -> None:
        for (job_namespace, _), event in self.events.items():
            if job_namespace == namespace:
                event.set()

    async def wait(self, namespace: str, name: str, timeout: float | None) -> None:
        event = self.events[(namespace, name)]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        event.clear()

    def forget(self, namespace: str, name: str) -> None:
        self.events.pop((namespace, name), None)


@kopf.on.startup()
def create_wakeups(memo: Any, **_: Any) -> None:
    memo.wakeups = Wakeups()


@kopf.index("", "v1", "pods", labels={"spark-app-selector": kopf.PRESENT})
def spark_pods(namespace: str | None, labels: kopf.Labels, body: kopf.Body, **_: Any) -> dict[tuple[str, str], PodView]:
    return {(namespace or "", labels["spark-app-selector"]): pod_view(body)}


@kopf.index(GROUP, VERSION, "sparkimages")
def spark_images(
    namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    return {(namespace or "", name): {"spec": dict(spec), "status": dict(status)}}


@kopf.on.event("", "v1", "pods", labels={JOB_LABEL: kopf.PRESENT})
def pod_changed(namespace: str | None, labels: kopf.Labels, memo: Any, **_: Any) -> None:
    memo.wakeups.wake(namespace or "", labels[JOB_LABEL])


@kopf.on.event(GROUP, VERSION, "sparkimages")
def image_changed(namespace: str | None, memo: Any, **_: Any) -> None:
    memo.wakeups.wake_namespace(namespace or "")


def first_entry(index: Any, key: tuple[str, str]) -> dict[str, Any] | None:
    """The object a kopf index holds under ``key`` (one per namespace and name), if any."""
    return next(iter(index.get(key, [])), None)


def resolve_image(
    choice: ImageChoice, namespace: str, images: kopf.Index[tuple[str, str], dict[str, Any]]
) -> ImageState:
    if choice.ref:
        return ImageState(ref=choice.ref)
    name = choice.spark_image or ""
    entry = first_entry(images, (namespace, name))
    if entry is None:
        return ImageState(waiting=f"the SparkImage {name} does not exist")
    status = entry["status"]
    built = next((i for i in status.get("images") or [] if i.get("variant") == choice.variant), None)
    if status.get("phase") != "Ready" or built is None:
        why = status.get("message") or "not built yet"
        return ImageState(waiting=f"the SparkImage {name} is {status.get('phase') or 'Pending'}: {why}")
    repository = built["ref"].rsplit(":", 1)[0]
    # The Secret the image was pushed with can pull it too.
    pull_secret = entry["spec"].get("registry", {}).get("credentialsSecret")
    return ImageState(ref=f"{repository}@{built['digest']}", pull_secret=pull_secret)


PULL_SECRET = os.environ.get("KUBRICKS_PULL_SECRET", "")
"""NAMESPACE/NAME of a dockerconfigjson Secret that jobs naming no pull Secret use (kubricks run --pull-secret)."""


def default_pull_secret(namespace: str) -> tuple[str, dict[str, str]] | None:
    """The default pull Secret's name and data, when it lives in another namespace than the job."""
    if not PULL_SECRET or PULL_SECRET.split("/", 1)[0] == namespace:
        return None
    source_namespace, name = PULL_SECRET.split("/", 1)
    data = read_secret(source_namespace, name)
    return name, {key: base64.b64encode(value).decode() for key, value in data.items()}


def observe(
    body: kopf.Body, images: Any, pods: Any, pull_secret: tuple[str, dict[str, str]] | None = None
) -> Observation:
    job = SparkJob.model_validate(dict(body))
    namespace, name, uid = body["metadata"]["namespace"], body["metadata"]["name"], body["metadata"]["uid"]
    status = status_of(body)
    attempt = Attempt(name, namespace, uid, int(status.get("attempt") or 1))
    return Observation(
        job=job,
        uid=uid,
        generation=generation_of(body),
        status=status,
        image=resolve_image(job.spec.image, namespace, images),
        pods=list(pods.get((namespace, attempt.app_id), [])),
        default_pull_secret=pull_secret,
        now=utc_now(),
    )


async def carry_out(decision: Decision, body: kopf.Body) -> None:
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    for attempt in decision.delete_attempts:
        await asyncio.to_thread(delete_labelled, namespace, f"{JOB_LABEL}={name},{ATTEMPT_LABEL}={attempt}")
    for manifest in decision.create:
        await asyncio.to_thread(apply, manifest)
    if decision.status:
        await asyncio.to_thread(patch_status, PLURAL, namespace, name, decision.status)
        target = decision.status.get("target") or (body.get("status") or {}).get("target") or ""
        metrics.job_phase(namespace, name, target, decision.status.get("phase"))
        if (
            decision.status.get("phase") == "Submitted"
            and decision.status.get("attempt") == 1
            and (decision.create or decision.submit)
        ):
            metrics.submitted(target, body["metadata"]["creationTimestamp"])
    if decision.event:
        kind, reason, message = decision.event
        kopf.event(body, type=kind, reason=reason, message=message)
    if decision.delete_job:
        metrics.job_phase(namespace, name, "", None)
        kopf.info(body, reason="Expired", message="ttlSecondsAfterFinished has passed; deleting the SparkJob")
        await asyncio.to_thread(delete_custom_object, PLURAL, namespace, name)


# kopf passes indexes as keyword arguments its callback protocol does not declare.
@kopf.daemon(  # type: ignore[arg-type]
    GROUP, VERSION, PLURAL, when=lambda spec, **_: "kubernetes" in spec, cancellation_timeout=10
)
async def sparkjob_daemon(
    stopped: kopf.DaemonStopped,
    body: kopf.Body,
    memo: Any,
    spark_images: kopf.Index[tuple[str, str], dict[str, Any]],
    spark_pods: kopf.Index[tuple[str, str], PodView],
    logger: kopf.Logger,
    **_: Any,
) -> None:
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    while not stopped:
        submitting = (body.get("status") or {}).get("phase") in (None, "Pending", "WaitingForImage")
        pull_secret = await asyncio.to_thread(default_pull_secret, namespace) if submitting else None
        decision = decide(observe(body, spark_images, spark_pods, pull_secret))
        await carry_out(decision, body)
        if decision.delete_job:
            break
        if decision.status:
            await wait_for_status(stopped, body, decision.status)
        if not decision.status or decision.status.get("phase") == body.get("status", {}).get("phase"):
            await memo.wakeups.wait(namespace, name, decision.wake_after)
    memo.wakeups.forget(namespace, name)
    metrics.job_phase(namespace, name, "", None)


async def wait_for_status(stopped: kopf.DaemonStopped, body: kopf.Body, patched: dict[str, Any]) -> None:
    """The live body lags our own patch: wait until it shows it, so the next decision starts from it."""
    for _ in range(40):
        status = body.get("status") or {}
        if all(status.get(key) == value for key, value in patched.items() if key in ("phase", "attempt", "message")):
            return
        await stopped.wait(0.25)
