"""DatabricksCluster: a supervised step per object creates the cluster from the image digest, follows it,
edits it for a new image or size, and (through its finalizer) deletes or terminates it with the object.

clusters/create is not idempotent: every cluster carries its object's uid as a tag, and a step that finds no
cluster in its status looks for that tag before creating one, so a lost answer never makes a second cluster.
"""

from typing import Any

import kopf

from kubricks.api.crd import GROUP, VERSION, plural
from kubricks.api.databricks import DatabricksCluster
from kubricks.control.bodies import generation_of, status_of
from kubricks.control.databricks import WorkspaceClients, registry_auth, workspace_state
from kubricks.control.images import first_entry, resolve_image
from kubricks.control.status import post_event, write_status
from kubricks.control.supervisor import Live, Step
from kubricks.databricks.client import DatabricksClient
from kubricks.databricks.cluster_state import ClusterDecision, ClusterObservation, decide_cluster, tagged_cluster
from kubricks.databricks.errors import NotFound, Unauthenticated

PLURAL = plural(DatabricksCluster)


async def cluster_details(
    client: DatabricksClient, status: dict[str, Any], uid: str
) -> tuple[dict[str, Any] | None, bool]:
    """clusters/get of the cluster in status; without one, the cluster tagged with ``uid`` (adopted: True)."""
    if status.get("clusterId"):
        try:
            return await client.get_cluster(status["clusterId"]), False
        except NotFound:
            return None, False
    tagged = tagged_cluster(await client.list_clusters(), uid)
    return tagged, tagged is not None


async def observe(body: kopf.Body, client: DatabricksClient | None, indexes: dict[str, Any]) -> ClusterObservation:
    cluster = DatabricksCluster.model_validate(dict(body))
    namespace, uid = body["metadata"]["namespace"], body["metadata"]["uid"]
    status = status_of(body)
    image = resolve_image(cluster.spec.image, namespace, indexes["spark_images"])
    details, adopted = await cluster_details(client, status, uid) if client else (None, False)
    basic = await registry_auth(
        cluster.spec.registry_auth, cluster.spec.image, namespace, image.ref, indexes["spark_images"]
    )
    workspace = first_entry(indexes["databricks_workspaces"], (namespace, cluster.spec.workspace))
    return ClusterObservation(
        cluster=cluster,
        uid=uid,
        generation=generation_of(body),
        status=status,
        image=image,
        workspace=workspace_state(workspace),
        registry_auth=basic,
        details=details,
        adopted=adopted,
    )


async def carry_out(decision: ClusterDecision, client: DatabricksClient | None, live: Live) -> None:
    if client is not None and decision.create is not None:
        decision.status["clusterId"] = await client.create_cluster(decision.create)
    if client is not None and decision.edit is not None:
        await client.edit_cluster(decision.edit)
    for kind, reason, message in decision.events:
        post_event(live, kind, reason, message)
    await write_status(live, decision.status)


async def cluster_step(live: Live, indexes: dict[str, Any], clients: WorkspaceClients) -> float | None:
    workspace = str((live.body.get("spec") or {}).get("workspace", ""))
    try:
        client = await clients.of_index(indexes["databricks_workspaces"], live.namespace, workspace)
        decision = decide_cluster(await observe(live.body, client, indexes))
        await carry_out(decision, client, live)
    except Unauthenticated:
        clients.forget(live.namespace, workspace)
        raise
    return decision.wake_after


@kopf.index(GROUP, VERSION, PLURAL)
def databricks_clusters(namespace: str | None, name: str, status: kopf.Status, **_: Any) -> dict[Any, Any]:
    return {(namespace or "", name): {"status": dict(status)}}


# kopf passes indexes as keyword arguments its callback protocol does not declare.
@kopf.on.event(GROUP, VERSION, PLURAL)  # type: ignore[arg-type]
async def cluster_event(
    event: kopf.RawEvent,
    body: kopf.Body,
    namespace: str | None,
    memo: Any,
    spark_images: kopf.Index[Any, Any],
    databricks_workspaces: kopf.Index[Any, Any],
    **_: Any,
) -> None:
    """Feeds the cluster's own step; any change wakes the jobs of the namespace (they may run on it)."""
    indexes = {"spark_images": spark_images, "databricks_workspaces": databricks_workspaces}

    def new_step(_: Live) -> Step:
        return lambda live: cluster_step(live, indexes, memo.databricks)

    memo.databricksclusters.observe(event["type"], body, new_step)
    memo.sparkjobs.wake_namespace(namespace or "")


# kopf passes indexes as keyword arguments its callback protocol does not declare.
@kopf.on.delete(GROUP, VERSION, PLURAL)  # type: ignore[arg-type]
async def cluster_deleted(
    body: kopf.Body,
    spec: kopf.Spec,
    logger: kopf.Logger,
    memo: Any,
    databricks_workspaces: kopf.Index[Any, Any],
    **_: Any,
) -> None:
    """deletionPolicy: Delete removes the cluster for good, Terminate stops it, Retain leaves it."""
    cluster_id = status_of(body).get("clusterId")
    policy = spec.get("deletionPolicy", "Delete")
    if not cluster_id or policy == "Retain":
        return
    namespace = body["metadata"]["namespace"]
    client = await memo.databricks.of_index(databricks_workspaces, namespace, spec.get("workspace", ""))
    if client is None:
        logger.warning("the workspace is gone or its host is not allowed; cluster %s stays as it is", cluster_id)
        return
    try:
        if policy == "Delete":
            await client.permanently_delete_cluster(cluster_id)
        else:
            await client.terminate_cluster(cluster_id)
    except NotFound:
        return
    kopf.info(body, reason=policy, message=f"cluster {cluster_id}: {policy.lower()}d as deletionPolicy says")
