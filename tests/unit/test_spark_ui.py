"""How a SparkJob's driver is seen: the UI's Service, Ingress and HTTPRoute, metrics and monitors, the event log."""

from typing import Any

import pytest
from pydantic import ValidationError

from kubricks.api.sparkjob import KubernetesTarget, SparkJob
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import Submission, attempt_resources, spark_properties
from kubricks.spark.ui import ui_kinds, ui_url
from tests.invalid_manifests import example, patched

UID = "6f1c1b2a-0000-4000-8000-000000000001"
IMAGE = "registry.example.com/etl@sha256:" + "a" * 64
ATTEMPT = Attempt("etl-daily", "team", UID, 1)
PREFIX = ATTEMPT.prefix


def job(kubernetes: dict[str, Any], spark_conf: dict[str, str] | None = None) -> SparkJob:
    """The example job with these spec.kubernetes fields and spec.app.sparkConf."""
    changes = {
        "metadata.namespace": "team",
        "spec.app.sparkConf": spark_conf or {},
        **{f"spec.kubernetes.{k}": v for k, v in kubernetes.items()},
    }
    return SparkJob.model_validate(patched(example("sparkjob-kubernetes-wheel.yaml"), changes))


def target(kubernetes: dict[str, Any]) -> KubernetesTarget:
    resource = job(kubernetes).spec.kubernetes
    assert resource is not None
    return resource


def created(kubernetes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The attempt's objects beyond the driver's ConfigMap, headless Service and pod, by kind."""
    resources = attempt_resources(job(kubernetes), ATTEMPT, IMAGE, None)
    return {
        m["kind"]: m for m in resources if m["metadata"].get("labels", {}).get("kubricks.dev/component") == "spark-ui"
    }


INGRESS = {"host": "etl.spark.example.com", "className": "nginx", "annotations": {"a": "b"}}
ROUTE = {"parentRefs": [{"name": "public", "namespace": "gateways"}], "hostnames": ["etl.example.com"]}


@pytest.mark.parametrize(
    ("kubernetes", "url"),
    [
        ({}, f"http://{PREFIX}-driver-svc.team.svc:4040/"),
        ({"ui": {"service": {"port": 80}}}, f"http://{PREFIX}-ui-svc.team.svc:80/"),
        ({"ui": {"ingress": INGRESS}}, "http://etl.spark.example.com/"),
        ({"ui": {"ingress": {**INGRESS, "tls": [{"secretName": "cert"}]}}}, "https://etl.spark.example.com/"),
        ({"ui": {"ingress": {**INGRESS, "tls": [{"hosts": ["other.example.com"]}]}}}, "http://etl.spark.example.com/"),
        ({"ui": {"httpRoute": ROUTE}}, "http://etl.example.com/"),
        ({"ui": {"httpRoute": {"parentRefs": ROUTE["parentRefs"]}}}, f"http://{PREFIX}-ui-svc.team.svc:4040/"),
    ],
    ids=[
        "driver-service",
        "ui-service",
        "ingress",
        "ingress-tls",
        "tls-for-another-host",
        "route",
        "route-without-host",
    ],
)
def test_the_ui_url_is_the_most_public_way_in(kubernetes: dict[str, Any], url: str) -> None:
    assert ui_url(target(kubernetes), ATTEMPT) == url


@pytest.mark.parametrize(
    ("kubernetes", "kinds"),
    [
        ({}, []),
        ({"ui": {"service": {"type": "NodePort"}}}, ["Service"]),
        ({"ui": {"ingress": INGRESS}}, ["Service", "Ingress"]),
        ({"ui": {"httpRoute": ROUTE}}, ["Service", "HTTPRoute"]),
        ({"monitoring": {"prometheus": True}}, []),
        ({"monitoring": {"prometheus": True, "serviceMonitor": True}}, ["Service", "ServiceMonitor"]),
        ({"monitoring": {"prometheus": True, "podMonitor": True}}, ["PodMonitor"]),
    ],
    ids=["nothing", "service", "ingress", "route", "metrics-only", "service-monitor", "pod-monitor"],
)
def test_each_way_in_creates_only_what_it_needs(kubernetes: dict[str, Any], kinds: list[str]) -> None:
    assert list(created(kubernetes)) == kinds
    assert [kind for _, kind in ui_kinds(target(kubernetes))] == [k for k in kinds if k != "Service"]


def test_the_ui_service_selects_the_driver_and_forwards_to_its_ui() -> None:
    service = created({"ui": {"service": {"type": "LoadBalancer", "port": 80, "annotations": {"lb": "internal"}}}})[
        "Service"
    ]
    assert service["metadata"]["name"] == f"{PREFIX}-ui-svc"
    assert service["metadata"]["annotations"] == {"lb": "internal"}
    assert service["metadata"]["ownerReferences"][0]["uid"] == UID
    assert service["spec"] == {
        "type": "LoadBalancer",
        "selector": {"spark-app-selector": ATTEMPT.app_id, "spark-role": "driver"},
        "ports": [{"name": "spark-ui", "port": 80, "targetPort": 4040, "protocol": "TCP"}],
    }


def test_the_ingress_routes_its_host_to_the_ui_service() -> None:
    ingress = created({"ui": {"ingress": {**INGRESS, "tls": [{"secretName": "cert"}]}}})["Ingress"]
    assert ingress["metadata"]["annotations"] == {"a": "b"}
    assert ingress["spec"] == {
        "ingressClassName": "nginx",
        "rules": [
            {
                "host": "etl.spark.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": f"{PREFIX}-ui-svc", "port": {"number": 4040}}},
                        }
                    ]
                },
            }
        ],
        "tls": [{"hosts": ["etl.spark.example.com"], "secretName": "cert"}],
    }


def test_the_route_attaches_to_its_gateways() -> None:
    route = created({"ui": {"httpRoute": ROUTE}})["HTTPRoute"]
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"] == {
        "parentRefs": [{"name": "public", "namespace": "gateways"}],
        "hostnames": ["etl.example.com"],
        "rules": [{"backendRefs": [{"name": f"{PREFIX}-ui-svc", "port": 4040}]}],
    }


def test_monitors_scrape_the_driver_and_executor_metrics_spark_serves() -> None:
    monitoring = {"prometheus": True, "serviceMonitor": True, "podMonitor": True, "labels": {"release": "prom"}}
    objects = created({"monitoring": {**monitoring, "interval": "15s"}})
    endpoints = [
        {"port": "spark-ui", "path": "/metrics/prometheus/", "interval": "15s"},
        {"port": "spark-ui", "path": "/metrics/executors/prometheus/", "interval": "15s"},
    ]
    service_monitor, pod_monitor = objects["ServiceMonitor"], objects["PodMonitor"]
    assert service_monitor["metadata"]["labels"]["release"] == "prom"
    assert service_monitor["spec"]["endpoints"] == endpoints
    selected = service_monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= objects["Service"]["metadata"]["labels"].items()
    assert pod_monitor["spec"] == {
        "selector": {"matchLabels": {"spark-app-selector": ATTEMPT.app_id, "spark-role": "driver"}},
        "podMetricsEndpoints": endpoints,
    }


@pytest.mark.parametrize(
    ("kubernetes", "spark_conf", "expected"),
    [
        (
            {"monitoring": {"prometheus": True}},
            {},
            {
                "spark.ui.prometheus.enabled": "true",
                "spark.metrics.conf.*.sink.prometheusServlet.class": "org.apache.spark.metrics.sink.PrometheusServlet",
                "spark.metrics.conf.*.sink.prometheusServlet.path": "/metrics/prometheus",
                "spark.metrics.namespace": "etl-daily",
            },
        ),
        (
            {"monitoring": {"prometheus": True}},
            {"spark.metrics.namespace": "etl"},
            {"spark.metrics.namespace": "etl"},
        ),
        (
            {"eventLog": {"dir": "file:///spark-events"}},
            {},
            {"spark.eventLog.enabled": "true", "spark.eventLog.dir": "file:///spark-events"},
        ),
        (
            {"eventLog": {"dir": "s3a://logs/spark", "compress": True, "rollingMaxFileSize": "128m"}},
            {},
            {
                "spark.eventLog.compress": "true",
                "spark.eventLog.rolling.enabled": "true",
                "spark.eventLog.rolling.maxFileSize": "128m",
            },
        ),
    ],
    ids=["prometheus", "own-metrics-namespace", "event-log", "event-log-rolling"],
)
def test_metrics_and_event_logs_are_sparks_own_settings(
    kubernetes: dict[str, Any], spark_conf: dict[str, str], expected: dict[str, str]
) -> None:
    properties = spark_properties(Submission.of(job(kubernetes, spark_conf), ATTEMPT, IMAGE, None))
    assert {key: properties.get(key) for key in expected} == expected


def test_a_monitor_without_prometheus_metrics_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"need monitoring\.prometheus: true"):
        job({"monitoring": {"serviceMonitor": True}})
