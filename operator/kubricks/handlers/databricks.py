"""DatabricksWorkspace checks, and SparkJobs with a databricks target: submit, follow, cancel."""

import asyncio
from typing import Any

import kopf

from kubricks import metrics
from kubricks.api.crd import GROUP, VERSION
from kubricks.api.databricks import DatabricksCluster, DatabricksWorkspace, ImageChoice, RegistryAuth
from kubricks.api.sparkjob import SparkJob
from kubricks.databricks.client import DatabricksClient, OAuthClient
from kubricks.databricks.cluster_state import ClusterDecision, ClusterObservation, decide_cluster
from kubricks.databricks.errors import DatabricksError, NotFound, Unauthenticated
from kubricks.databricks.payloads import BasicAuth, secret_references
from kubricks.databricks.state import Observation, WorkspaceState, decide
from kubricks.handlers import generation_of, status_of
from kubricks.handlers.sparkjob import PLURAL, carry_out, first_entry, resolve_image, wait_for_status
from kubricks.images.registry import credentials_from_docker_config, parse_image
from kubricks.jobs import READY, Decision, utc_now
from kubricks.k8s.client import MissingObject, patch_status, read_secret
from kubricks.k8s.conditions import now, with_condition

WORKSPACES = "databricksworkspaces"
CHECK_INTERVAL_SECONDS = 300


def is_databricks(spec: kopf.Spec, **_: Any) -> bool:
    return "databricks" in spec


async def report_failure(kind: str, plural: str, body: kopf.Body, logger: kopf.Logger, message: str) -> None:
    """The workspace is unreachable or refuses: say so in status, keep the object, try again later."""
    metrics.RECONCILE_ERRORS.labels(kind=kind).inc()
    logger.warning(message)
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    await asyncio.to_thread(patch_status, plural, namespace, name, {"message": message})


def workspace_of(job: kopf.Body) -> str:
    return str((job.get("spec") or {}).get("databricks", {}).get("workspace", ""))


async def workspace_client(namespace: str, workspace: DatabricksWorkspace) -> DatabricksClient:
    """A client with the workspace's credentials, read from its Secret."""
    auth = workspace.spec.auth
    if auth.token:
        secret = await asyncio.to_thread(read_secret, namespace, auth.token.secret)
        if auth.token.key not in secret:
            raise MissingObject(f"the Secret {namespace}/{auth.token.secret} has no key {auth.token.key}")
        return DatabricksClient(workspace.spec.host, token=secret[auth.token.key].decode().strip())
    if auth.oauth is None:
        raise MissingObject(f"the DatabricksWorkspace in {namespace} names neither spec.auth.token nor spec.auth.oauth")
    secret = await asyncio.to_thread(read_secret, namespace, auth.oauth.secret)
    missing = [key for key in ("client-id", "client-secret") if key not in secret]
    if missing:
        raise MissingObject(f"the Secret {namespace}/{auth.oauth.secret} has no key {', '.join(missing)}")
    oauth = OAuthClient(secret["client-id"].decode().strip(), secret["client-secret"].decode().strip())
    return DatabricksClient(workspace.spec.host, oauth=oauth)


# --- DatabricksWorkspace --------------------------------------------------------------------------------


async def check_workspace(body: kopf.Body, namespace: str) -> dict[str, Any]:
    """The status a workspace check leads to: Connected only with working credentials and DCS enabled."""
    workspace = DatabricksWorkspace.model_validate(dict(body))
    generation = generation_of(body)
    conditions = (body.get("status") or {}).get("conditions")
    dcs: bool | None = None
    try:
        async with await workspace_client(namespace, workspace) as client:
            await client.current_user()
            dcs = str((await client.workspace_conf("enableDcs")).get("enableDcs", "")).lower() == "true"
    except Unauthenticated as refused:
        reason, message = "CredentialsRefused", f"the workspace refused the credentials: {refused.message}"
    except MissingObject as missing:
        reason, message = "SecretMissing", str(missing)
    except DatabricksError as failure:
        reason, message = "WorkspaceUnreachable", str(failure)
    else:
        reason, message = (
            ("Connected", "credentials work and Databricks Container Services is enabled")
            if dcs
            else ("ContainerServicesDisabled", "credentials work, but enableDcs is off: enable Container Services")
        )
    ready = reason == "Connected"
    status: dict[str, Any] = {
        "phase": "Connected" if ready else "Error",
        "observedGeneration": generation,
        "message": message,
        "lastCheckedTime": now(),
        "conditions": with_condition(conditions, READY, ready, reason, message, generation),
    }
    if dcs is not None:
        status["containerServicesEnabled"] = dcs
    return status


@kopf.on.create(GROUP, VERSION, WORKSPACES)
@kopf.on.update(GROUP, VERSION, WORKSPACES, field="spec")
@kopf.on.resume(GROUP, VERSION, WORKSPACES)
@kopf.timer(GROUP, VERSION, WORKSPACES, interval=CHECK_INTERVAL_SECONDS, initial_delay=CHECK_INTERVAL_SECONDS)
async def workspace_check(body: kopf.Body, namespace: str | None, patch: kopf.Patch, **_: Any) -> None:
    status = await check_workspace(body, namespace or "default")
    if status["phase"] != "Connected":
        kopf.warn(body, reason=status["conditions"][-1]["reason"], message=status["message"])
    patch.status.update(status)


@kopf.index(GROUP, VERSION, WORKSPACES)
def databricks_workspaces(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Any, Any]:
    return {(namespace or "", name): {"spec": dict(body.get("spec") or {}), "status": dict(body.get("status") or {})}}


@kopf.on.event(GROUP, VERSION, WORKSPACES)
def workspace_changed(namespace: str | None, memo: Any, **_: Any) -> None:
    memo.wakeups.wake_namespace(namespace or "")


# --- SparkJob on Databricks -------------------------------------------------------------------------------


def workspace_state(entry: dict[str, Any] | None) -> WorkspaceState:
    if entry is None:
        return WorkspaceState()
    status = entry["status"]
    return WorkspaceState(
        exists=True,
        connected=status.get("phase") == "Connected",
        container_services=status.get("containerServicesEnabled"),
        message=status.get("message", ""),
    )


async def registry_auth(
    auth: RegistryAuth | None, choice: ImageChoice, namespace: str, image: str | None, images: Any
) -> BasicAuth | None:
    """docker_image.basic_auth: the given registryAuth, else the push Secret of the SparkImage in use."""
    if auth and auth.databricks_secret:
        return secret_references(auth)
    secret_name = auth.secret if auth else None
    if secret_name is None and choice.spark_image:
        entry = first_entry(images, (namespace, choice.spark_image)) or {}
        secret_name = entry.get("spec", {}).get("registry", {}).get("credentialsSecret")
    if secret_name is None or image is None:
        return None
    return await docker_credentials(namespace, secret_name, image)


async def docker_credentials(namespace: str, secret_name: str, image: str) -> BasicAuth | None:
    """The user and password a dockerconfigjson Secret holds for the image's registry."""
    secret = await asyncio.to_thread(read_secret, namespace, secret_name)
    credentials = credentials_from_docker_config(secret.get(".dockerconfigjson", b"{}"))
    found = credentials.get(parse_image(image).registry)
    return BasicAuth(*found) if found else None


async def observe(body: kopf.Body, client: DatabricksClient | None, indexes: dict[str, Any]) -> Observation:
    job = SparkJob.model_validate(dict(body))
    namespace, uid = body["metadata"]["namespace"], body["metadata"]["uid"]
    status = status_of(body)
    image = resolve_image(job.spec.image, namespace, indexes["spark_images"])
    target = job.spec.databricks
    workspace_entry = next(
        iter(indexes["databricks_workspaces"].get((namespace, target.workspace if target else ""), [])), None
    )
    run = run_error = None
    run_id = (status.get("databricks") or {}).get("runId")
    if client is not None and run_id and status.get("phase") in ("Submitted", "Running"):
        try:
            run = await client.get_run(int(run_id))
        except NotFound:
            run = None
        if run and run.get("state", {}).get("result_state") not in (None, "SUCCESS", "SUCCESS_WITH_FAILURES"):
            task_run = next((t["run_id"] for t in run.get("tasks") or []), run_id)
            output = await client.get_run_output(int(task_run))
            run_error = output.get("error") or ""
    cluster_id, cluster_waiting = None, ""
    if target and target.cluster.cluster_ref:
        entry = first_entry(indexes["databricks_clusters"], (namespace, target.cluster.cluster_ref))
        cluster_status = (entry or {}).get("status", {})
        if cluster_status.get("phase") == "Running" and cluster_status.get("clusterId"):
            cluster_id = cluster_status["clusterId"]
        else:
            cluster_waiting = cluster_status.get("message") or "it does not exist or is not running"
    return Observation(
        job=job,
        uid=uid,
        generation=generation_of(body),
        status=status,
        image=image,
        now=utc_now(),
        workspace=workspace_state(workspace_entry),
        registry_auth=await registry_auth(
            target.registry_auth if target else None, job.spec.image, namespace, image.ref, indexes["spark_images"]
        ),
        cluster_id=cluster_id,
        cluster_waiting=cluster_waiting,
        run=run,
        run_error=run_error or "",
    )


async def submit(decision: Decision, client: DatabricksClient | None) -> None:
    """Sends runs/submit and records the run in the status the decision patches."""
    if decision.submit is None:
        return
    if client is None:
        raise MissingObject("no client for the workspace")
    run_id = await client.submit_run(decision.submit)
    decision.status["databricks"] = {"runId": run_id}


async def job_client(body: kopf.Body, indexes: dict[str, Any], workspace_name: str) -> DatabricksClient | None:
    """A client for the named DatabricksWorkspace in the body's namespace, None while it does not exist."""
    namespace = body["metadata"]["namespace"]
    entry = first_entry(indexes["databricks_workspaces"], (namespace, workspace_name))
    if entry is None:
        return None
    workspace = DatabricksWorkspace.model_validate(
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DatabricksWorkspace", "metadata": {}, "spec": entry["spec"]}
    )
    return await workspace_client(namespace, workspace)


# kopf passes indexes as keyword arguments its callback protocol does not declare.
@kopf.daemon(GROUP, VERSION, PLURAL, when=is_databricks, cancellation_timeout=10)  # type: ignore[arg-type]
async def databricks_job_daemon(
    stopped: kopf.DaemonStopped,
    body: kopf.Body,
    memo: Any,
    logger: kopf.Logger,
    spark_images: kopf.Index[Any, Any],
    databricks_workspaces: kopf.Index[Any, Any],
    databricks_clusters: kopf.Index[Any, Any],
    **_: Any,
) -> None:
    indexes = {
        "spark_images": spark_images,
        "databricks_workspaces": databricks_workspaces,
        "databricks_clusters": databricks_clusters,
    }
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    while not stopped:
        wake_after: float | None = 30.0
        try:
            client = await job_client(body, indexes, workspace_of(body))
            try:
                decision = decide(await observe(body, client, indexes))
                await submit(decision, client)
            finally:
                if client is not None:
                    await client.close()
            await carry_out(decision, body)
            if decision.delete_job:
                break
            if decision.status:
                await wait_for_status(stopped, body, decision.status)
            wake_after = decision.wake_after
        except (DatabricksError, MissingObject) as failure:
            await report_failure("SparkJob", PLURAL, body, logger, f"cannot reach the Databricks workspace: {failure}")
        await memo.wakeups.wait(namespace, name, wake_after)
    metrics.job_phase(namespace, name, "", None)


@kopf.on.delete(GROUP, VERSION, PLURAL, when=is_databricks)  # type: ignore[arg-type]
async def cancel_on_delete(
    body: kopf.Body, logger: kopf.Logger, databricks_workspaces: kopf.Index[Any, Any], **_: Any
) -> None:
    """Deleting a SparkJob whose run is not over cancels the run (the finalizer holds the object till then)."""
    status = status_of(body)
    run_id = (status.get("databricks") or {}).get("runId")
    if not run_id or status.get("phase") not in ("Submitted", "Running"):
        return
    client = await job_client(body, {"databricks_workspaces": databricks_workspaces}, workspace_of(body))
    if client is None:
        logger.warning("the workspace is gone; the run %s cannot be cancelled", run_id)
        return
    async with client:
        try:
            await client.cancel_run(int(run_id))
        except NotFound:
            return
    kopf.info(body, reason="Cancelled", message=f"run {run_id} cancelled on delete")


@kopf.index(GROUP, VERSION, "databricksclusters")
def databricks_clusters(namespace: str | None, name: str, status: kopf.Status, **_: Any) -> dict[Any, Any]:
    return {(namespace or "", name): {"status": dict(status)}}


# --- DatabricksCluster ------------------------------------------------------------------------------------

CLUSTERS = "databricksclusters"


async def cluster_observation(
    body: kopf.Body, client: DatabricksClient | None, indexes: dict[str, Any]
) -> ClusterObservation:
    cluster = DatabricksCluster.model_validate(dict(body))
    namespace, uid = body["metadata"]["namespace"], body["metadata"]["uid"]
    status = status_of(body)
    image = resolve_image(cluster.spec.image, namespace, indexes["spark_images"])
    details = None
    if client is not None and status.get("clusterId"):
        try:
            details = await client.get_cluster(status["clusterId"])
        except NotFound:
            details = None
    basic = await registry_auth(
        cluster.spec.registry_auth, cluster.spec.image, namespace, image.ref, indexes["spark_images"]
    )
    return ClusterObservation(
        cluster=cluster,
        uid=uid,
        generation=generation_of(body),
        status=status,
        image=image,
        workspace=workspace_state(first_entry(indexes["databricks_workspaces"], (namespace, cluster.spec.workspace))),
        registry_auth=basic,
        details=details,
    )


async def apply_cluster_decision(decision: ClusterDecision, client: DatabricksClient, body: kopf.Body) -> None:
    if decision.create is not None:
        decision.status["clusterId"] = await client.create_cluster(decision.create)
    if decision.edit is not None:
        await client.edit_cluster(decision.edit)
    for kind, reason, message in decision.events:
        kopf.event(body, type=kind, reason=reason, message=message)
    await asyncio.to_thread(
        patch_status, CLUSTERS, body["metadata"]["namespace"], body["metadata"]["name"], decision.status
    )


# kopf passes indexes as keyword arguments its callback protocol does not declare.
@kopf.daemon(GROUP, VERSION, CLUSTERS, cancellation_timeout=10)  # type: ignore[arg-type]
async def databricks_cluster_daemon(
    stopped: kopf.DaemonStopped,
    body: kopf.Body,
    memo: Any,
    logger: kopf.Logger,
    spark_images: kopf.Index[Any, Any],
    databricks_workspaces: kopf.Index[Any, Any],
    **_: Any,
) -> None:
    indexes = {"spark_images": spark_images, "databricks_workspaces": databricks_workspaces}
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    workspace = (body.get("spec") or {}).get("workspace", "")
    while not stopped:
        wake_after: float | None = 30.0
        try:
            client = await job_client(body, indexes, workspace)
            if client is None:
                decision = decide_cluster(await cluster_observation(body, None, indexes))
                await asyncio.to_thread(patch_status, CLUSTERS, namespace, name, decision.status)
            else:
                async with client:
                    decision = decide_cluster(await cluster_observation(body, client, indexes))
                    await apply_cluster_decision(decision, client, body)
            wake_after = decision.wake_after
        except (DatabricksError, MissingObject) as failure:
            await report_failure("DatabricksCluster", CLUSTERS, body, logger, f"cannot manage the cluster: {failure}")
        await memo.wakeups.wait(namespace, name, wake_after)


@kopf.on.event(GROUP, VERSION, CLUSTERS)
def cluster_changed(namespace: str | None, name: str, body: kopf.Body, memo: Any, **_: Any) -> None:
    """A spec change wakes the cluster's daemon; any change wakes the jobs of the namespace (clusterRef)."""
    status = body.get("status") or {}
    if body["metadata"].get("generation") != status.get("observedGeneration"):
        memo.wakeups.wake(namespace or "", name)
    memo.wakeups.wake_namespace(namespace or "")


@kopf.on.delete(GROUP, VERSION, CLUSTERS)  # type: ignore[arg-type]
async def cluster_deleted(
    body: kopf.Body, spec: kopf.Spec, logger: kopf.Logger, databricks_workspaces: kopf.Index[Any, Any], **_: Any
) -> None:
    """deletionPolicy: Delete removes the cluster for good, Terminate stops it, Retain leaves it."""
    cluster_id = (body.get("status") or {}).get("clusterId")
    policy = spec.get("deletionPolicy", "Delete")
    if not cluster_id or policy == "Retain":
        return
    client = await job_client(body, {"databricks_workspaces": databricks_workspaces}, spec.get("workspace", ""))
    if client is None:
        logger.warning("the workspace is gone; cluster %s stays as it is", cluster_id)
        return
    async with client:
        try:
            if policy == "Delete":
                await client.permanently_delete_cluster(cluster_id)
            else:
                await client.terminate_cluster(cluster_id)
        except NotFound:
            return
    kopf.info(body, reason=policy, message=f"cluster {cluster_id}: {policy.lower()}d as deletionPolicy says")
