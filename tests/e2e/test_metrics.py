"""The operator's /metrics move with what it does."""

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import OperatorProcess, kubectl
from tests.e2e.test_sparkjob_kubernetes import spark_job, wait_phase


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for metric in family.samples:
            if metric.name == name and all(metric.labels.get(k) == v for k, v in labels.items()):
                return float(metric.value)
    return 0.0


def test_counters_move_during_a_job(
    namespace: str, pull_secret: str, wordcount_image: str, operator_process: OperatorProcess, operator_log: object
) -> None:
    before = operator_process.metrics()
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_job("measured", wordcount_image))
    wait_phase(namespace, "measured", "Running")
    running = operator_process.metrics()
    assert sample(running, "kubricks_sparkjobs", phase="Running", target="kubernetes") >= 1
    wait_phase(namespace, "measured", "Succeeded")
    after = operator_process.metrics()
    latency = "kubricks_sparkjob_submit_latency_seconds_count"
    assert sample(after, latency, target="kubernetes") == sample(before, latency, target="kubernetes") + 1
    assert sample(after, "kubricks_sparkjobs", phase="Succeeded", target="kubernetes") >= 1
    assert "kubricks_image_builds_total" in after
    assert "kubricks_databricks_requests_total" in after or "kubricks_reconcile_errors_total" in after
