"""Runs the operator: kopf with kubricks' own finalizer and annotation prefix, and a liveness endpoint."""

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import kopf

from kubricks import metrics
from kubricks.api.crd import GROUP, plural
from kubricks.api.databricks import DatabricksCluster, DatabricksWorkspace
from kubricks.api.sparkimage import SparkImage
from kubricks.api.sparkjob import SparkJob
from kubricks.control.build_slots import BuildSlots
from kubricks.control.databricks import WorkspaceClients
from kubricks.control.options import OperatorOptions
from kubricks.control.supervisor import Supervisor
from kubricks.handlers import cluster as _cluster  # noqa: F401 - importing a handler module registers it
from kubricks.handlers import sparkimage as _sparkimage  # noqa: F401
from kubricks.handlers import sparkjob as _sparkjob  # noqa: F401
from kubricks.handlers import workspace as _workspace  # noqa: F401
from kubricks.spark.attempt import JOB_LABEL

FINALIZER = f"{GROUP}/finalizer"
"""Held only by objects with cleanup outside Kubernetes: Databricks SparkJobs (their run) and DatabricksClusters."""


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    # Only kubricks' own pods, filtered by the API server: a busy cluster's other pods never reach the operator.
    settings.watching.label_selectors["", "v1", "pods"] = JOB_LABEL
    # kopf removes its finalizer by itself from SparkJobs (their deletion handler decides who needs it);
    # SparkImages and workspaces have no handler that would, so their supervisors take it off.
    for kind, stale_finalizer in (
        (SparkJob, None),
        (SparkImage, FINALIZER),
        (DatabricksWorkspace, FINALIZER),
        (DatabricksCluster, None),
    ):
        setattr(memo, plural(kind), Supervisor(plural(kind), kind.KIND, stale_finalizer))
    options = memo.setdefault("options", OperatorOptions())
    memo.databricks = WorkspaceClients(options.databricks_allowed_hosts)
    memo.build_slots = BuildSlots(options.max_builds, options.max_builds_per_namespace)


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    for kind in (SparkJob, SparkImage, DatabricksWorkspace, DatabricksCluster):
        await getattr(memo, plural(kind)).shutdown()
    await memo.databricks.close()
    memo.build_slots.shutdown()


def run(
    namespaces: Sequence[str],
    all_namespaces: bool,
    standalone: bool,
    liveness: str | None,
    metrics_port: int,
    options: OperatorOptions,
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per registry request drowns what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def main() -> None:
        runner = await metrics.serve("0.0.0.0", metrics_port) if metrics_port else None  # noqa: S104 - scraped in-cluster
        try:
            await kopf.operator(
                clusterwide=all_namespaces or not namespaces,
                namespaces=list(namespaces),
                standalone=standalone,
                liveness_endpoint=liveness,
                memo=kopf.Memo(options=options),
            )
        finally:
            if runner is not None:
                await runner.cleanup()

    asyncio.run(main())
