"""DatabricksWorkspace: a supervised step per object checks the credentials and Container Services, at once
for a new spec and every five minutes after (reading the Secret again, so a rotated one is picked up)."""

from typing import Any

import kopf

from kubricks.api.crd import GROUP, VERSION, plural
from kubricks.api.databricks import DatabricksWorkspace
from kubricks.control.bodies import generation_of, status_of
from kubricks.control.databricks import WorkspaceClients
from kubricks.control.status import post_event, write_status
from kubricks.control.supervisor import Live, Step
from kubricks.databricks.errors import DatabricksError, Unauthenticated
from kubricks.databricks.workspace_state import (
    CHECK_INTERVAL_SECONDS,
    HOST_NOT_ALLOWED,
    HostNotAllowed,
    next_check_in,
    workspace_status,
)
from kubricks.failures import MissingObject
from kubricks.jobs import utc_now
from kubricks.k8s.conditions import now

PLURAL = plural(DatabricksWorkspace)


async def check(live: Live, clients: WorkspaceClients) -> tuple[str, str, bool | None]:
    """(reason, message, whether Container Services are enabled) of one check."""
    try:
        DatabricksWorkspace.model_validate(dict(live.body))
        client = await clients.refresh(live.namespace, live.name, dict(live.body.get("spec") or {}))
        await client.current_user()
        dcs = str((await client.workspace_conf("enableDcs")).get("enableDcs", "")).lower() == "true"
    except ValueError as invalid:
        return "InvalidSpec", str(invalid), None
    except HostNotAllowed as refused:
        return HOST_NOT_ALLOWED, str(refused), None
    except Unauthenticated as refused:
        clients.forget(live.namespace, live.name)
        return "CredentialsRefused", f"the workspace refused the credentials: {refused.message}", None
    except MissingObject as missing:
        return "SecretMissing", str(missing), None
    except DatabricksError as failure:
        return "WorkspaceUnreachable", str(failure), None
    if not dcs:
        return "ContainerServicesDisabled", "credentials work, but enableDcs is off: enable Container Services", dcs
    return "Connected", "credentials work and Databricks Container Services is enabled", dcs


async def workspace_step(live: Live, clients: WorkspaceClients) -> float | None:
    generation = generation_of(live.body)
    allowed = clients.allows(str((live.body.get("spec") or {}).get("host", "")))
    due_in = next_check_in(status_of(live.body), generation, utc_now(), allowed)
    if due_in > 0:
        return due_in
    reason, message, dcs = await check(live, clients)
    conditions = status_of(live.body).get("conditions")
    await write_status(live, workspace_status(conditions, generation, reason, message, dcs, now()))
    if reason != "Connected":
        post_event(live, "Warning", reason, message)
    return CHECK_INTERVAL_SECONDS


@kopf.index(GROUP, VERSION, PLURAL)
def databricks_workspaces(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Any, Any]:
    return {(namespace or "", name): {"spec": dict(body.get("spec") or {}), "status": status_of(body)}}


@kopf.on.event(GROUP, VERSION, PLURAL)
async def workspace_event(event: kopf.RawEvent, body: kopf.Body, namespace: str | None, memo: Any, **_: Any) -> None:
    """Feeds the workspace's own step, and wakes the jobs and clusters of its namespace."""

    def new_step(_: Live) -> Step:
        return lambda live: workspace_step(live, memo.databricks)

    memo.databricksworkspaces.observe(event["type"], body, new_step)
    if event["type"] == "DELETED":
        memo.databricks.forget(namespace or "", body["metadata"]["name"])
    for dependants in (memo.sparkjobs, memo.databricksclusters):
        dependants.wake_namespace(namespace or "")
