"""The operator's /metrics move with what it does."""

from tests.databricks_support import EmulatorProcess
from tests.e2e.conftest import OperatorProcess, kubectl
from tests.e2e.test_sparkjob_databricks import wait_phase as wait_databricks_phase
from tests.e2e.test_sparkjob_databricks import wheel_job
from tests.e2e.test_sparkjob_kubernetes import spark_job, wait_phase


def test_counters_move_during_a_job(
    namespace: str, pull_secret: str, wordcount_image: str, operator_process: OperatorProcess, operator_log: object
) -> None:
    latency = "kubricks_sparkjob_submit_latency_seconds_count"
    submitted_before = operator_process.sample(latency, target="kubernetes")
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_job("measured", wordcount_image))
    wait_phase(namespace, "measured", "Running")
    assert operator_process.sample("kubricks_sparkjobs", phase="Running", target="kubernetes") >= 1
    wait_phase(namespace, "measured", "Succeeded")
    assert operator_process.sample(latency, target="kubernetes") == submitted_before + 1
    assert operator_process.sample("kubricks_sparkjobs", phase="Succeeded", target="kubernetes") >= 1


def test_databricks_calls_are_counted_by_endpoint_and_status(
    namespace: str, workspace: EmulatorProcess, operator_process: OperatorProcess, operator_log: object
) -> None:
    submit = {"endpoint": "/api/2.2/jobs/runs/submit", "status": "200"}
    before = operator_process.sample("kubricks_databricks_requests_total", **submit)
    wheel_job(namespace, "counted")
    assert wait_databricks_phase(namespace, "counted", ("Succeeded", "Failed"))["phase"] == "Succeeded"
    assert operator_process.sample("kubricks_databricks_requests_total", **submit) == before + 1
