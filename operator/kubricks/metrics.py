"""Prometheus metrics of the operator, served at /metrics by a small aiohttp server, and its health probes."""

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from kubricks.jobs import parse_time, utc_now

BUILDS = Counter("kubricks_image_builds_total", "Image variants handled, by outcome.", ["outcome"])
BUILD_SECONDS = Histogram(
    "kubricks_image_build_duration_seconds",
    "Time to build and push the variants of a SparkImage.",
    buckets=(10, 30, 60, 120, 300, 600, 1200, 2400, 3600),
)
JOBS = Gauge("kubricks_sparkjobs", "SparkJobs by phase and target.", ["phase", "target"])
SUBMIT_SECONDS = Histogram(
    "kubricks_sparkjob_submit_latency_seconds",
    "From a SparkJob's creation to its driver pod or Databricks run.",
    ["target"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
DATABRICKS_REQUESTS = Counter(
    "kubricks_databricks_requests_total", "Databricks REST calls, by endpoint and HTTP status.", ["endpoint", "status"]
)
RECONCILE_ERRORS = Counter("kubricks_reconcile_errors_total", "Failed reconciliations, by kind.", ["kind"])
Handler = Callable[[web.Request], Awaitable[web.Response]]

LEADER = Gauge("kubricks_leader", "1 while this replica holds the leader Lease and reconciles, 0 while it stands by.")

_job_phases: dict[tuple[str, str], tuple[str, str]] = {}


def job_phase(namespace: str, name: str, target: str, phase: str | None) -> None:
    """Records a SparkJob's phase (None once it is gone) and keeps the gauge of jobs by phase in step."""
    key = (namespace, name)
    previous = _job_phases.pop(key, None)
    if previous:
        JOBS.labels(phase=previous[1], target=previous[0]).dec()
    if phase:
        _job_phases[key] = (target, phase)
        JOBS.labels(phase=phase, target=target).inc()


def submitted(target: str, created: str) -> None:
    """Observes the submit latency of a job created at ``created`` (the API server's timestamp)."""
    start = parse_time(created) or utc_now()
    SUBMIT_SECONDS.labels(target=target).observe(max((utc_now() - start).total_seconds(), 0.0))


async def serve(host: str, port: int) -> web.AppRunner:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return await _serve(host, port, {"/metrics": metrics})


async def serve_probes(host: str, port: int, ready: Callable[[], bool]) -> web.AppRunner:
    """/healthz answers while the event loop does; /readyz while ``ready`` says so: a replica that reconciles, or
    a standby that reaches the API server and can take over."""

    async def alive(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readiness(_: web.Request) -> web.Response:
        return web.Response(text="ready") if ready() else web.Response(status=503, text="not ready")

    return await _serve(host, port, {"/healthz": alive, "/readyz": readiness})


async def _serve(host: str, port: int, routes: dict[str, Handler]) -> web.AppRunner:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
