"""How a SparkJob's driver is seen while it runs: its Spark UI behind a Service, an Ingress or an HTTPRoute, its
Prometheus metrics and the monitors that scrape them, its event log. Pure.

Each attempt has its own objects, named after its prefix and owned by the SparkJob, as its driver is.
"""

from typing import Any

from kubricks.api.sparkjob import KubernetesTarget, SparkJob
from kubricks.spark.attempt import ATTEMPT_LABEL, JOB_LABEL, Attempt, attempt_metadata, owner_reference

UI_PORT = 4040

UI_PORT_NAME = "spark-ui"
COMPONENT_LABEL = "kubricks.dev/component"
UI_COMPONENT = "spark-ui"
DRIVER_METRICS_PATH = "/metrics/prometheus/"
EXECUTOR_METRICS_PATH = "/metrics/executors/prometheus/"
PROMETHEUS_SERVLET = "org.apache.spark.metrics.sink.PrometheusServlet"
MONITORING_API = "monitoring.coreos.com/v1"
GATEWAY_API = "gateway.networking.k8s.io/v1"


def ui_service_name(attempt: Attempt) -> str:
    return f"{attempt.prefix}-ui-svc"


def ui_object_name(attempt: Attempt) -> str:
    return f"{attempt.prefix}-ui"


def needs_ui_service(kubernetes: KubernetesTarget) -> bool:
    """An Ingress, an HTTPRoute and a ServiceMonitor route to a Service of the UI's own."""
    ui = kubernetes.ui
    return bool(ui.service or ui.ingress or ui.http_route or kubernetes.monitoring.service_monitor)


def ui_url(kubernetes: KubernetesTarget, attempt: Attempt) -> str:
    """Where the Spark UI answers: the Ingress's host, the HTTPRoute's, the UI Service, or the driver's own
    headless Service inside the cluster."""
    ui = kubernetes.ui
    if ui.ingress:
        secure = any(ui.ingress.host in (tls.hosts or [ui.ingress.host]) for tls in ui.ingress.tls)
        return f"{'https' if secure else 'http'}://{ui.ingress.host}/"
    if ui.http_route and ui.http_route.hostnames:
        return f"http://{ui.http_route.hostnames[0]}/"
    if needs_ui_service(kubernetes):
        port = ui.service.port if ui.service else UI_PORT
        return f"http://{ui_service_name(attempt)}.{attempt.namespace}.svc:{port}/"
    return f"http://{attempt.service}.{attempt.namespace}.svc:{UI_PORT}/"


# --- spark.properties ------------------------------------------------------------------------------------------


def monitoring_properties(kubernetes: KubernetesTarget) -> dict[str, str]:
    """Spark's own Prometheus endpoints on the UI port: the driver's metrics system through the PrometheusServlet
    sink, the executors' metrics as the driver collects them."""
    if not kubernetes.monitoring.prometheus:
        return {}
    return {
        "spark.ui.prometheus.enabled": "true",
        "spark.metrics.conf.*.sink.prometheusServlet.class": PROMETHEUS_SERVLET,
        "spark.metrics.conf.*.sink.prometheusServlet.path": DRIVER_METRICS_PATH.rstrip("/"),
        "spark.executor.processTreeMetrics.enabled": "true",
    }


def event_log_properties(kubernetes: KubernetesTarget) -> dict[str, str]:
    event_log = kubernetes.event_log
    if event_log is None:
        return {}
    properties = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": event_log.dir,
        "spark.eventLog.compress": str(event_log.compress).lower(),
    }
    if event_log.rolling_max_file_size:
        properties["spark.eventLog.rolling.enabled"] = "true"
        properties["spark.eventLog.rolling.maxFileSize"] = event_log.rolling_max_file_size
    return properties


# --- objects -----------------------------------------------------------------------------------------------------


def _metadata(
    job: SparkJob, attempt: Attempt, name: str, labels: dict[str, str], annotations: dict[str, str]
) -> dict[str, Any]:
    metadata = attempt_metadata(
        name, attempt, owner_reference(job, attempt.uid), {**labels, COMPONENT_LABEL: UI_COMPONENT}
    )
    if annotations:
        metadata["annotations"] = dict(annotations)
    return metadata


def ui_service(job: SparkJob, kubernetes: KubernetesTarget, attempt: Attempt) -> dict[str, Any]:
    service = kubernetes.ui.service
    port = service.port if service else UI_PORT
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(
            job,
            attempt,
            ui_service_name(attempt),
            service.labels if service else {},
            service.annotations if service else {},
        ),
        "spec": {
            "type": service.type if service else "ClusterIP",
            "selector": {"spark-app-selector": attempt.app_id, "spark-role": "driver"},
            "ports": [{"name": UI_PORT_NAME, "port": port, "targetPort": UI_PORT, "protocol": "TCP"}],
        },
    }


def _backend(kubernetes: KubernetesTarget, attempt: Attempt) -> tuple[str, int]:
    service = kubernetes.ui.service
    return ui_service_name(attempt), service.port if service else UI_PORT


def ui_ingress(job: SparkJob, kubernetes: KubernetesTarget, attempt: Attempt) -> dict[str, Any] | None:
    ingress = kubernetes.ui.ingress
    if ingress is None:
        return None
    name, port = _backend(kubernetes, attempt)
    path = {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": name, "port": {"number": port}}}}
    spec: dict[str, Any] = {"rules": [{"host": ingress.host, "http": {"paths": [path]}}]}
    if ingress.class_name:
        spec["ingressClassName"] = ingress.class_name
    if ingress.tls:
        spec["tls"] = [
            {"hosts": tls.hosts or [ingress.host], **({"secretName": tls.secret_name} if tls.secret_name else {})}
            for tls in ingress.tls
        ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _metadata(job, attempt, ui_object_name(attempt), {}, ingress.annotations),
        "spec": spec,
    }


def ui_route(job: SparkJob, kubernetes: KubernetesTarget, attempt: Attempt) -> dict[str, Any] | None:
    route = kubernetes.ui.http_route
    if route is None:
        return None
    name, port = _backend(kubernetes, attempt)
    spec: dict[str, Any] = {
        "parentRefs": [parent.to_json() for parent in route.parent_refs],
        "rules": [{"backendRefs": [{"name": name, "port": port}]}],
    }
    if route.hostnames:
        spec["hostnames"] = list(route.hostnames)
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": _metadata(job, attempt, ui_object_name(attempt), {}, route.annotations),
        "spec": spec,
    }


def _scrape_endpoints(kubernetes: KubernetesTarget) -> list[dict[str, Any]]:
    interval = kubernetes.monitoring.interval
    return [
        {"port": UI_PORT_NAME, "path": path, **({"interval": interval} if interval else {})}
        for path in (DRIVER_METRICS_PATH, EXECUTOR_METRICS_PATH)
    ]


def service_monitor(job: SparkJob, kubernetes: KubernetesTarget, attempt: Attempt) -> dict[str, Any] | None:
    monitoring = kubernetes.monitoring
    if not monitoring.service_monitor:
        return None
    service_labels = {COMPONENT_LABEL: UI_COMPONENT, JOB_LABEL: attempt.job, ATTEMPT_LABEL: str(attempt.number)}
    return {
        "apiVersion": MONITORING_API,
        "kind": "ServiceMonitor",
        "metadata": _metadata(job, attempt, ui_object_name(attempt), dict(monitoring.labels), {}),
        "spec": {"selector": {"matchLabels": service_labels}, "endpoints": _scrape_endpoints(kubernetes)},
    }


def pod_monitor(job: SparkJob, kubernetes: KubernetesTarget, attempt: Attempt) -> dict[str, Any] | None:
    monitoring = kubernetes.monitoring
    if not monitoring.pod_monitor:
        return None
    return {
        "apiVersion": MONITORING_API,
        "kind": "PodMonitor",
        "metadata": _metadata(job, attempt, ui_object_name(attempt), dict(monitoring.labels), {}),
        "spec": {
            "selector": {"matchLabels": {"spark-app-selector": attempt.app_id, "spark-role": "driver"}},
            "podMetricsEndpoints": _scrape_endpoints(kubernetes),
        },
    }


def ui_resources(job: SparkJob, kubernetes: KubernetesTarget, attempt: Attempt) -> list[dict[str, Any]]:
    """The objects that show the attempt's driver, in creation order: the Service before what routes to it."""
    service = [ui_service(job, kubernetes, attempt)] if needs_ui_service(kubernetes) else []
    routes = (builder(job, kubernetes, attempt) for builder in (ui_ingress, ui_route, service_monitor, pod_monitor))
    return [*service, *(route for route in routes if route is not None)]


OPTIONAL_KINDS = {
    "Ingress": "networking.k8s.io/v1",
    "HTTPRoute": GATEWAY_API,
    "ServiceMonitor": MONITORING_API,
    "PodMonitor": MONITORING_API,
}


def ui_kinds(kubernetes: KubernetesTarget) -> list[tuple[str, str]]:
    """(apiVersion, kind) of the objects that show the UI and the metrics beyond the driver's Service, which an
    ended attempt's clean-up deletes too. Clusters without the Gateway API or the Prometheus Operator need not have
    them."""
    asked = {
        "Ingress": kubernetes.ui.ingress is not None,
        "HTTPRoute": kubernetes.ui.http_route is not None,
        "ServiceMonitor": kubernetes.monitoring.service_monitor,
        "PodMonitor": kubernetes.monitoring.pod_monitor,
    }
    return [(OPTIONAL_KINDS[kind], kind) for kind, wanted in asked.items() if wanted]
