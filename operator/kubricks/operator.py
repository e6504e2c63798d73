"""Runs the operator: kopf with kubricks' own finalizer and annotation prefix, and a liveness endpoint."""

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import kopf

from kubricks import handlers as _handlers  # noqa: F401 - registers the handlers
from kubricks import metrics
from kubricks.api.crd import GROUP
from kubricks.handlers import databricks as _databricks  # noqa: F401
from kubricks.handlers import sparkimage as _sparkimage  # noqa: F401
from kubricks.handlers import sparkjob as _sparkjob  # noqa: F401

FINALIZER = f"{GROUP}/finalizer"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300


def run(
    namespaces: Sequence[str], all_namespaces: bool, standalone: bool, liveness: str | None, metrics_port: int
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
            )
        finally:
            if runner is not None:
                await runner.cleanup()

    asyncio.run(main())
