"""SparkJob, both targets: a supervised step per job runs the state machine of kubricks.spark.state
(Kubernetes) or kubricks.databricks.state (Databricks).

A job wakes when one of its pods changes (pods are indexed by their spark-app-selector, so no polling), when
an image, workspace or cluster of its namespace changes, and at the deadlines its state machine names
(driver-start timeout, retry backoff, run polling, TTL). Kubernetes jobs hold no finalizer: ownerReferences
clean up their pods. Databricks jobs do, so that deleting one cancels its run.
"""

import asyncio
import contextlib
from dataclasses import replace
from functools import partial
from typing import Any

import kopf

from kubricks import metrics
from kubricks.api.crd import GROUP, VERSION, plural
from kubricks.api.sparkjob import SparkJob
from kubricks.control.bodies import generation_of, status_of
from kubricks.control.caches import AppliedOnce, RecentReads, shared
from kubricks.control.databricks import WorkspaceClients, registry_auth, workspace_state
from kubricks.control.images import first_entry, resolve_image
from kubricks.control.options import OperatorOptions
from kubricks.control.status import StepFailed, post_event, write_status
from kubricks.control.supervisor import Live, Step
from kubricks.databricks import state as databricks_state
from kubricks.databricks.client import DatabricksClient
from kubricks.databricks.errors import DatabricksError, NotFound, Unauthenticated, truncated
from kubricks.failures import api_trouble
from kubricks.jobs import ACTIVE_PHASES, WAITING_PHASES, Decision, submission_refused, utc_now
from kubricks.k8s.client import (
    apply,
    create,
    delete_custom_object,
    delete_labelled,
    failure_of,
    read_config_map_data,
    read_log_tail,
    read_namespace_labels,
)
from kubricks.spark import state as kubernetes_state
from kubricks.spark.admission import PodSecurity, Policy
from kubricks.spark.attempt import ATTEMPT_LABEL, JOB_LABEL, Attempt
from kubricks.spark.manifests import DRIVER_CONTAINER, optional_kinds

PLURAL = plural(SparkJob)


def is_databricks(spec: kopf.Spec, **_: Any) -> bool:
    return "databricks" in spec


@kopf.index("", "v1", "pods", labels={JOB_LABEL: kopf.PRESENT, "spark-app-selector": kopf.PRESENT})
def spark_pods(
    namespace: str | None, labels: kopf.Labels, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], kubernetes_state.PodView]:
    return {(namespace or "", labels["spark-app-selector"]): kubernetes_state.pod_view(body)}


@kopf.on.event("", "v1", "pods", labels={JOB_LABEL: kopf.PRESENT})
async def pod_changed(namespace: str | None, labels: kopf.Labels, memo: Any, **_: Any) -> None:
    memo.sparkjobs.wake(namespace or "", labels[JOB_LABEL])


# kopf passes indexes as keyword arguments its callback protocol does not declare.
@kopf.on.event(GROUP, VERSION, PLURAL)  # type: ignore[arg-type]
async def sparkjob_event(
    event: kopf.RawEvent,
    body: kopf.Body,
    memo: Any,
    spark_images: kopf.Index[Any, Any],
    spark_pods: kopf.Index[Any, Any],
    databricks_workspaces: kopf.Index[Any, Any],
    databricks_clusters: kopf.Index[Any, Any],
    **_: Any,
) -> None:
    def new_step(_: Live) -> Step:
        if "databricks" in (body.get("spec") or {}):
            indexes = {
                "spark_images": spark_images,
                "databricks_workspaces": databricks_workspaces,
                "databricks_clusters": databricks_clusters,
            }
            return partial(databricks_step, indexes=indexes, clients=memo.databricks)
        return partial(
            kubernetes_step,
            images=spark_images,
            pods=spark_pods,
            options=memo.options,
            applied=memo.applied,
            namespace_labels=memo.namespace_labels,
        )

    memo.sparkjobs.observe(event["type"], body, new_step)
    if event["type"] == "DELETED":
        metrics.job_phase(body["metadata"]["namespace"], body["metadata"]["name"], "", None)


async def record(live: Live, decision: Decision) -> None:
    """Writes the decision's status and, when it changed something, its Event; keeps the metrics in step."""
    patched = bool(decision.status) and await write_status(live, decision.status)
    status = {**status_of(live.body), **decision.status}
    # Every step, not only on a change: a restarted operator counts the jobs it finds as they are.
    metrics.job_phase(live.namespace, live.name, status.get("target") or "", status.get("phase"))
    if not patched:
        return
    phase, target = decision.status.get("phase"), decision.status.get("target") or ""
    if phase == "Submitted" and decision.status.get("attempt") == 1 and (decision.create or decision.submit):
        metrics.submitted(target, live.body["metadata"]["creationTimestamp"])
    if decision.event:
        post_event(live, *decision.event)


async def finish(live: Live, decision: Decision) -> float | None:
    """Records the decision; deletes the job once its TTL has passed. Returns when to look again."""
    await record(live, decision)
    if decision.delete_job:
        message = "ttlSecondsAfterFinished has passed: deleting the SparkJob (ttlPolicy: DeleteJob)"
        post_event(live, "Normal", "Expired", message)
        await asyncio.to_thread(delete_custom_object, PLURAL, live.namespace, live.name)
        return None
    return decision.wake_after


# --- Kubernetes ----------------------------------------------------------------------------------------------


async def pod_security_of(
    namespace: str, status: dict[str, Any], policy: Policy, namespace_labels: RecentReads[dict[str, str]]
) -> PodSecurity:
    """The namespace's Pod Security level, read only when it counts: while the job is to submit."""
    if status.get("phase") not in WAITING_PHASES:
        return PodSecurity(namespace)
    labels = namespace_labels.get(namespace)
    if labels is None:
        labels = await asyncio.to_thread(read_namespace_labels, namespace)
        namespace_labels.put(namespace, labels)
    return PodSecurity.of(namespace, labels, policy.default_pod_security_level)


async def spark_config_of(namespace: str, status: dict[str, Any], spec: kopf.Spec) -> dict[str, str] | None:
    """The files of the job's sparkConfigMap, read only while the job is to submit; None when it is missing."""
    name = (spec.get("kubernetes") or {}).get("sparkConfigMap")
    if not name or status.get("phase") not in WAITING_PHASES:
        return {}
    return await asyncio.to_thread(read_config_map_data, namespace, name)


def observe_kubernetes(
    body: kopf.Body,
    images: Any,
    pods: Any,
    pod_security: PodSecurity,
    options: OperatorOptions,
    spark_config: dict[str, str] | None = None,
) -> kubernetes_state.Observation:
    job = SparkJob.model_validate(dict(body))
    namespace, name, uid = body["metadata"]["namespace"], body["metadata"]["name"], body["metadata"]["uid"]
    status = status_of(body)
    attempt = Attempt(name, namespace, uid, int(status.get("attempt") or 1))
    return kubernetes_state.Observation(
        job=job,
        uid=uid,
        generation=generation_of(body),
        status=status,
        image=resolve_image(job.spec.image, namespace, images),
        pods=list(pods.get((namespace, attempt.app_id), [])),
        default_pull_secret=options.default_pull_secret,
        now=utc_now(),
        pod_security=pod_security,
        policy=options.policy,
        spark_config=spark_config,
    )


DRIVER_LOG_LINES = 200
DRIVER_LOG_BYTES = 64 * 1024


async def with_driver_log(observation: kubernetes_state.Observation) -> kubernetes_state.Observation:
    """The observation with its failed driver's last log lines, read once: while the attempt is still running."""
    driver = kubernetes_state.failed_driver(observation)
    if driver is None:
        return observation
    namespace = kubernetes_state.attempt_of(observation).namespace
    log = await asyncio.to_thread(
        read_log_tail, namespace, driver.name, DRIVER_CONTAINER, DRIVER_LOG_LINES, DRIVER_LOG_BYTES
    )
    return replace(observation, driver_log=log)


async def change_resources(decision: Decision, namespace: str, name: str, job: SparkJob, applied: AppliedOnce) -> None:
    """Deletes what goes, then makes what the attempt needs: the namespace's shared objects (applied, unless
    lately), the attempt's own side by side (created: they never change), its driver pod last."""
    kinds = optional_kinds(job.spec.kubernetes) if job.spec.kubernetes else []
    for attempt in decision.delete_attempts:
        selector = f"{JOB_LABEL}={name},{ATTEMPT_LABEL}={attempt}"
        await asyncio.to_thread(delete_labelled, namespace, selector, kinds)
    wanted = applied.wanted(decision.create)
    # One after the other: the API server refuses a RoleBinding to a Role that does not exist yet, unless the
    # caller may grant anything (it checks that the binding grants no more than the caller holds).
    for manifest in (m for m in wanted if shared(m)):
        await asyncio.to_thread(apply, manifest)
        applied.applied(manifest)
    own = [m for m in wanted if not shared(m) and m["kind"] != "Pod"]
    await asyncio.gather(*(asyncio.to_thread(create, m) for m in own))
    for driver in (m for m in wanted if not shared(m) and m["kind"] == "Pod"):
        await asyncio.to_thread(create, driver)


async def kubernetes_step(
    live: Live,
    images: Any,
    pods: Any,
    options: OperatorOptions,
    applied: AppliedOnce,
    namespace_labels: RecentReads[dict[str, str]],
) -> float | None:
    status = status_of(live.body)
    pod_security = await pod_security_of(live.namespace, status, options.policy, namespace_labels)
    spark_config = await spark_config_of(live.namespace, status, live.body.spec)
    observation = observe_kubernetes(live.body, images, pods, pod_security, options, spark_config)
    observation = await with_driver_log(observation)
    decision = kubernetes_state.decide(observation)
    try:
        await change_resources(decision, live.namespace, live.name, observation.job, applied)
    except Exception as error:
        failure = failure_of(error)
        if failure is None:
            raise
        trouble = api_trouble(*failure, f"create the resources of attempt {observation.attempt}")
        # Refused while trusting the namespace's service account and RBAC to be there: apply them again first.
        skipped_shared = any(shared(m) for m in decision.create) and applied.forget(live.namespace)
        if not (trouble.refused and decision.create) or skipped_shared:
            raise StepFailed(trouble) from error
        decision = submission_refused(observation, kubernetes_state.TARGET, trouble.message)
        await change_resources(decision, live.namespace, live.name, observation.job, applied)
    return await finish(live, decision)


# --- Databricks ----------------------------------------------------------------------------------------------


async def observe_run(client: DatabricksClient, status: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """runs/get of the job's run, and the failed task's error from runs/get-output."""
    run_id = (status.get("databricks") or {}).get("runId")
    if not run_id or status.get("phase") not in ACTIVE_PHASES:
        return None, ""
    try:
        run = await client.get_run(int(run_id))
    except NotFound:
        return None, ""
    if run.get("state", {}).get("result_state") in (None, "SUCCESS", "SUCCESS_WITH_FAILURES"):
        return run, ""
    task_run = next((t["run_id"] for t in run.get("tasks") or []), run_id)
    output = await client.get_run_output(int(task_run))
    return run, truncated(str(output.get("error") or ""))


async def observe_databricks(
    body: kopf.Body, client: DatabricksClient | None, indexes: dict[str, Any]
) -> databricks_state.Observation:
    job = SparkJob.model_validate(dict(body))
    namespace, uid = body["metadata"]["namespace"], body["metadata"]["uid"]
    status = status_of(body)
    image = resolve_image(job.spec.image, namespace, indexes["spark_images"])
    target = job.spec.databricks
    workspace = first_entry(indexes["databricks_workspaces"], (namespace, target.workspace if target else ""))
    run, run_error = await observe_run(client, status) if client else (None, "")
    cluster_id, cluster_waiting = None, ""
    if target and target.cluster.cluster_ref:
        cluster_status = (
            first_entry(indexes["databricks_clusters"], (namespace, target.cluster.cluster_ref)) or {}
        ).get("status", {})
        if cluster_status.get("phase") == "Running" and cluster_status.get("clusterId"):
            cluster_id = cluster_status["clusterId"]
        else:
            cluster_waiting = cluster_status.get("message") or "it does not exist or is not running"
    # The registry credentials matter only to a submission; reading them on every poll would be a Secret read each.
    submitting = status.get("phase") in WAITING_PHASES
    auth = target.registry_auth if target else None
    basic = (
        await registry_auth(auth, job.spec.image, namespace, image.ref, indexes["spark_images"]) if submitting else None
    )
    return databricks_state.Observation(
        job=job,
        uid=uid,
        generation=generation_of(body),
        status=status,
        image=image,
        now=utc_now(),
        workspace=workspace_state(workspace),
        registry_auth=basic,
        cluster_id=cluster_id,
        cluster_waiting=cluster_waiting,
        run=run,
        run_error=run_error,
    )


async def submit(
    decision: Decision, observation: databricks_state.Observation, client: DatabricksClient | None
) -> Decision:
    """Sends runs/submit and records the run in the status the decision patches; a refused submission ends the
    attempt."""
    if decision.submit is None:
        return decision
    if client is None:
        raise StepFailed(api_trouble(0, "the DatabricksWorkspace has no client yet", "submit the run"))
    try:
        run_id = await client.submit_run(decision.submit)
    except DatabricksError as error:
        if isinstance(error, Unauthenticated) or error.status not in (400, 403):
            raise
        message = f"Databricks refused runs/submit (HTTP {error.status}): {error}"
        return submission_refused(observation, databricks_state.TARGET, message)
    decision.status["databricks"] = {"runId": run_id}
    return decision


async def cancel(decision: Decision, client: DatabricksClient | None) -> None:
    """Cancels the run a suspended job stops; one Databricks no longer knows is already over."""
    if decision.cancel_run is None:
        return
    if client is None:
        raise StepFailed(api_trouble(0, "the DatabricksWorkspace has no client yet", "cancel the run"))
    with contextlib.suppress(NotFound):
        await client.cancel_run(decision.cancel_run)


def workspace_of(body: kopf.Body) -> str:
    return str((body.get("spec") or {}).get("databricks", {}).get("workspace", ""))


async def databricks_step(live: Live, indexes: dict[str, Any], clients: WorkspaceClients) -> float | None:
    workspace = workspace_of(live.body)
    try:
        client = await clients.of_index(indexes["databricks_workspaces"], live.namespace, workspace)
        observation = await observe_databricks(live.body, client, indexes)
        decision = await submit(databricks_state.decide(observation), observation, client)
        await cancel(decision, client)
    except Unauthenticated:
        clients.forget(live.namespace, workspace)
        raise
    return await finish(live, decision)


# kopf passes indexes as keyword arguments its callback protocol does not declare.
@kopf.on.delete(GROUP, VERSION, PLURAL, when=is_databricks)  # type: ignore[arg-type]
async def cancel_on_delete(
    body: kopf.Body, logger: kopf.Logger, memo: Any, databricks_workspaces: kopf.Index[Any, Any], **_: Any
) -> None:
    """Deleting a SparkJob whose run is not over cancels the run (the finalizer holds the object till then)."""
    status = status_of(body)
    run_id = (status.get("databricks") or {}).get("runId")
    if not run_id or status.get("phase") not in ACTIVE_PHASES:
        return
    client = await memo.databricks.of_index(databricks_workspaces, body["metadata"]["namespace"], workspace_of(body))
    if client is None:
        logger.warning("the workspace is gone or its host is not allowed; the run %s cannot be cancelled", run_id)
        return
    try:
        await client.cancel_run(int(run_id))
    except NotFound:
        return
    kopf.info(body, reason="Cancelled", message=f"run {run_id} cancelled on delete")
