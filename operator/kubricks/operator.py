"""Runs the operator: kopf with kubricks' own finalizer and annotation prefix, and a liveness endpoint."""

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf

from kubricks import metrics
from kubricks.api.crd import GROUP, plural
from kubricks.api.databricks import DatabricksCluster, DatabricksWorkspace
from kubricks.api.scheduled import ScheduledSparkJob
from kubricks.api.sparkimage import SparkImage
from kubricks.api.sparkjob import SparkJob
from kubricks.control.build_slots import BuildSlots
from kubricks.control.caches import LABELS_FOR_SECONDS, AppliedOnce, RecentReads
from kubricks.control.databricks import WorkspaceClients
from kubricks.control.diffbase import EssenceOnlyDiffBaseStorage
from kubricks.control.leader import Leadership
from kubricks.control.options import OperatorOptions
from kubricks.control.supervisor import Supervisor
from kubricks.handlers import cluster as _cluster  # noqa: F401 - importing a handler module registers it
from kubricks.handlers import scheduled as _scheduled  # noqa: F401
from kubricks.handlers import sparkimage as _sparkimage  # noqa: F401
from kubricks.handlers import sparkjob as _sparkjob  # noqa: F401
from kubricks.handlers import workspace as _workspace  # noqa: F401
from kubricks.k8s.client import API_CONNECTIONS
from kubricks.spark.attempt import JOB_LABEL

FINALIZER = f"{GROUP}/finalizer"
"""Held only by objects with cleanup outside Kubernetes: Databricks SparkJobs (their run) and DatabricksClusters."""


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = EssenceOnlyDiffBaseStorage(prefix=GROUP, key="last-handled-configuration")
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    # kopf keeps an object's worker (its queue, task and last body) for this long after its last event: at the
    # default 5 s a burst of a thousand new jobs holds hundreds of them at once, and the memory they took stays.
    settings.queueing.idle_timeout = 0.5
    # Only kubricks' own pods, filtered by the API server: a busy cluster's other pods never reach the operator.
    settings.watching.label_selectors["", "v1", "pods"] = JOB_LABEL
    # kopf removes its finalizer by itself from SparkJobs (their deletion handler decides who needs it);
    # SparkImages and workspaces have no handler that would, so their supervisors take it off.
    for kind, stale_finalizer in (
        (SparkJob, None),
        (ScheduledSparkJob, None),
        (SparkImage, FINALIZER),
        (DatabricksWorkspace, FINALIZER),
        (DatabricksCluster, None),
    ):
        setattr(memo, plural(kind), Supervisor(plural(kind), kind.KIND, stale_finalizer))
    options = memo.setdefault("options", OperatorOptions())
    memo.databricks = WorkspaceClients(options.databricks_allowed_hosts)
    memo.build_slots = BuildSlots(options.max_builds, options.max_builds_per_namespace)
    memo.applied = AppliedOnce()
    memo.namespace_labels = RecentReads[dict[str, str]](LABELS_FOR_SECONDS)


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    for kind in (SparkJob, ScheduledSparkJob, SparkImage, DatabricksWorkspace, DatabricksCluster):
        await getattr(memo, plural(kind)).shutdown()
    await memo.databricks.close()
    memo.build_slots.shutdown()


STANDBY_READY_WITHIN_SECONDS = 10.0
"""A standby is ready while it reached the API server this recently: it can take over."""


def operator_settings(clusterwide: bool) -> kopf.OperatorSettings:
    """Watching named namespaces, kopf has nothing to discover: its scan would list every namespace, which the
    chart's namespaced RBAC refuses, and kopf retries that refusal for about a minute before it starts to watch
    (after every start and every hand-over). Its CRDs are read once at start instead."""
    settings = kopf.OperatorSettings()
    settings.scanning.disabled = not clusterwide
    return settings


def run(
    namespaces: Sequence[str],
    all_namespaces: bool,
    standalone: bool,
    liveness: str | None,
    metrics_port: int,
    options: OperatorOptions,
    probe_port: int = 0,
    leadership: Leadership | None = None,
) -> None:
    """Runs kopf until it stops; with ``leadership``, only once this replica holds the Lease, and only while it
    does (a replica that loses it exits, to start again as a standby)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per registry request, or per watch event handled, drowns what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    lost = asyncio.Event()
    clusterwide = all_namespaces or not namespaces

    async def main() -> None:
        # Client calls run in threads: one per connection to the API server.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(API_CONNECTIONS, thread_name_prefix="kubricks-api")
        )
        reconciling = asyncio.Event()

        def ready() -> bool:
            if leadership is None or leadership.leading:
                return reconciling.is_set()
            return leadership.reachable(STANDBY_READY_WITHIN_SECONDS)

        servers = [await metrics.serve("0.0.0.0", metrics_port)] if metrics_port else []  # noqa: S104 - in-cluster
        if probe_port:
            servers.append(await metrics.serve_probes("0.0.0.0", probe_port, ready))  # noqa: S104 - the kubelet's
        keeper = None
        try:
            if leadership is not None:
                await leadership.acquire()
                keeper = asyncio.create_task(leadership.keep(lost))
            await kopf.operator(
                clusterwide=clusterwide,
                namespaces=list(namespaces),
                settings=operator_settings(clusterwide),
                standalone=standalone,
                liveness_endpoint=liveness,
                memo=kopf.Memo(options=options),
                stop_flag=lost,
                ready_flag=reconciling,
            )
        finally:
            if keeper is not None:
                keeper.cancel()
            if leadership is not None and not lost.is_set():
                await leadership.release()
            for server in servers:
                await server.cleanup()

    asyncio.run(main())
    if lost.is_set():
        raise SystemExit("the leader Lease was lost: exiting, to start again as a standby")
