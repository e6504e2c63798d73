"""Seeing a SparkJob run: its Spark UI through its Service while the driver runs, Spark's own Prometheus metrics,
the Ingress, HTTPRoute and monitors kubricks makes for it, and the event log a history server reads.

The cluster has no Gateway API nor Prometheus Operator: their CustomResourceDefinitions are installed here with
schemas that keep every field, so the API server stores what kubricks sends; no controller acts on them.
"""

import json
from collections.abc import Iterator

import pytest
from kubernetes import client

from tests.e2e.conftest import kinds_served, kubectl
from tests.e2e.test_sparkjob_kubernetes import SMALL_PODS, spark_job, wait_phase
from tests.support import small_claim, wait_until

FOREIGN_KINDS = [
    ("monitoring.coreos.com", "ServiceMonitor", "servicemonitors", "v1"),
    ("monitoring.coreos.com", "PodMonitor", "podmonitors", "v1"),
    ("gateway.networking.k8s.io", "HTTPRoute", "httproutes", "v1"),
]


@pytest.fixture(scope="module")
def foreign_kinds() -> Iterator[None]:
    """The Gateway API's and the Prometheus Operator's kinds, where a cluster does not have them yet."""
    with kinds_served(FOREIGN_KINDS):
        yield


def proxied(namespace: str, service: str, path: str) -> str:
    """What the Service answers at ``path``, through the API server's Service proxy; empty while nothing
    listens."""
    url = f"/api/v1/namespaces/{namespace}/services/{service}:spark-ui/proxy{path}"
    answer = kubectl("get", "--raw", url, check=False)
    return answer.stdout if answer.returncode == 0 else ""


def test_the_ui_metrics_and_routes_of_a_running_job(
    core_v1: client.CoreV1Api,
    namespace: str,
    pull_secret: str,
    wordcount_image: str,
    foreign_kinds: None,
    operator_log: object,
) -> None:
    core_v1.create_namespaced_persistent_volume_claim(
        namespace,
        small_claim("events"),
    )
    kubernetes = {
        **SMALL_PODS,
        "driver": {
            **SMALL_PODS["driver"],
            "env": {"WORDCOUNT_LINGER_SECONDS": "45"},
            "volumeMounts": [{"name": "events", "mountPath": "/events"}],
        },
        "volumes": [{"name": "events", "persistentVolumeClaim": {"claimName": "events"}}],
        "ui": {
            "service": {"port": 80},
            "ingress": {"host": "wordcount.spark.example.com"},
            "httpRoute": {"parentRefs": [{"name": "public"}], "hostnames": ["wordcount.example.com"]},
        },
        "monitoring": {"prometheus": True, "serviceMonitor": True, "podMonitor": True, "labels": {"release": "prom"}},
        "eventLog": {"dir": "file:///events"},
    }
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_job("seen", wordcount_image, kubernetes=kubernetes))
    status = wait_phase(namespace, "seen", "Running")
    assert status["kubernetes"]["uiUrl"] == "http://wordcount.spark.example.com/"
    service = f"{status['kubernetes']['driverPod'].removesuffix('-driver')}-ui-svc"

    # The driver's UI answers through its Service while it runs, with its metrics and its executors'.
    jobs_page = wait_until(
        lambda: (page := proxied(namespace, service, "/jobs/")) and "Spark Jobs" in page and page,
        timeout=60,
        what="the Spark UI's jobs page",
    )
    assert "wordcount" in jobs_page
    # Named after the job, not the attempt's application id, so that series go on across attempts.
    driver_metric = "metrics_seen_driver_LiveListenerBus_numEventsPosted_Count"
    wait_until(
        lambda: driver_metric in proxied(namespace, service, "/metrics/prometheus/"),
        timeout=30,
        what="the driver's metrics",
    )
    executor_metrics = wait_until(
        lambda: (m := proxied(namespace, service, "/metrics/executors/prometheus/")) and 'executor_id="1"' in m and m,
        timeout=60,
        what="the executors' metrics",
    )
    assert "spark_info" in executor_metrics or "metrics_executor_" in executor_metrics

    made = {
        kind: json.loads(
            kubectl("get", kind, "-n", namespace, "-l", "kubricks.dev/sparkjob=seen", "-o", "json").stdout
        )["items"]
        for kind in ("ingresses", "httproutes", "servicemonitors", "podmonitors")
    }
    assert {kind: len(items) for kind, items in made.items()} == dict.fromkeys(made, 1)
    (ingress,) = made["ingresses"]
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == service
    (monitor,) = made["servicemonitors"]
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert [e["path"] for e in monitor["spec"]["endpoints"]] == [
        "/metrics/prometheus/",
        "/metrics/executors/prometheus/",
    ]

    wait_phase(namespace, "seen", "Succeeded")
    driver_log = kubectl(
        "logs", "-n", namespace, status["kubernetes"]["driverPod"], "-c", "spark-kubernetes-driver"
    ).stdout
    assert "Logging events to file:/events/" in driver_log
