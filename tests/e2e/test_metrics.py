"""The operator's /metrics move with what it does."""

from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import OperatorProcess, kubectl
from tests.e2e.test_sparkjob_kubernetes import driver_pods, end_pod, spark_job, wait_phase


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for metric in family.samples:
            if metric.name == name and all(metric.labels.get(k) == v for k, v in labels.items()):
                return float(metric.value)
    return 0.0


def test_counters_move_during_a_job(
    core_v1: client.CoreV1Api, namespace: str, operator_process: OperatorProcess, operator_log: object
) -> None:
    before = operator_process.metrics()
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_job("measured"))
    wait_phase(namespace, "measured", "Running")
    running = operator_process.metrics()
    assert sample(running, "kubricks_sparkjobs", phase="Running", target="kubernetes") >= 1
    (driver,) = driver_pods(core_v1, namespace, "measured")
    end_pod(core_v1, namespace, driver.metadata.name, 0)
    wait_phase(namespace, "measured", "Succeeded")
    after = operator_process.metrics()
    latency = "kubricks_sparkjob_submit_latency_seconds_count"
    assert sample(after, latency, target="kubernetes") == sample(before, latency, target="kubernetes") + 1
    assert sample(after, "kubricks_sparkjobs", phase="Succeeded", target="kubernetes") >= 1
    assert "kubricks_image_builds_total" in after
    assert "kubricks_databricks_requests_total" in after or "kubricks_reconcile_errors_total" in after
