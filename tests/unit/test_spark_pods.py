from typing import Any

import pytest

from kubricks.api.sparkjob import SparkJob
from kubricks.spark.pods import (
    CurrentAttempt,
    NoSuchPod,
    current_attempt,
    driver_not_running,
    executor_pod,
    forwarded_port,
    is_kubectl_chatter,
    log_not_started,
    pod_gone,
    port_forward_command,
    port_forward_ended,
    spark_container,
    spark_ui_line,
)

IMAGE = "registry.example.com/team/etl@sha256:" + "a" * 64
ATTEMPT = CurrentAttempt("etl", "daily", 2, "daily-2-0123abcd-driver")
KUBERNETES = {"kubernetes": {}}
DATABRICKS = {"databricks": {"workspace": "prod", "cluster": {"existingClusterId": "0101-abc"}}}


def spark_job(target: dict[str, Any], status: dict[str, Any] | None) -> SparkJob:
    return SparkJob.model_validate(
        {
            "kind": "SparkJob",
            "metadata": {"name": "daily", "namespace": "etl"},
            "spec": {"image": {"ref": IMAGE}, "app": {"mainApplicationFile": "local:///opt/app/main.py"}, **target},
            "status": status,
        }
    )


def test_the_current_attempt_is_the_one_the_status_names() -> None:
    status = {"phase": "Running", "attempt": 2, "kubernetes": {"driverPod": "daily-2-0123abcd-driver"}}
    attempt = current_attempt(spark_job(KUBERNETES, status))
    assert attempt == ATTEMPT
    assert attempt.executor_selector == "kubricks.dev/sparkjob=daily,kubricks.dev/attempt=2,spark-role=executor"


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        (
            DATABRICKS,
            {"phase": "Running", "databricks": {"runPageUrl": "https://dbc.example.com/#job/1/run/2"}},
            "SparkJob etl/daily runs on Databricks, not in pods: its run page, status.databricks.runPageUrl, has the "
            "logs and the Spark UI (https://dbc.example.com/#job/1/run/2)",
        ),
        (
            DATABRICKS,
            None,
            "SparkJob etl/daily runs on Databricks, not in pods: its run page, status.databricks.runPageUrl, has the "
            "logs and the Spark UI (no run yet)",
        ),
        (KUBERNETES, None, "SparkJob etl/daily has no driver pod yet (no phase yet)"),
        (
            KUBERNETES,
            {"phase": "WaitingForImage", "message": "the SparkImage etl-image is Building"},
            "SparkJob etl/daily has no driver pod yet (phase WaitingForImage: the SparkImage etl-image is Building)",
        ),
        (
            KUBERNETES,
            {"phase": "Pending", "attempt": 1, "kubernetes": {}},
            "SparkJob etl/daily has no driver pod yet (phase Pending)",
        ),
    ],
    ids=["databricks", "databricks-before-its-run", "no-status", "waiting-for-its-image", "no-driver-pod"],
)
def test_a_job_without_a_driver_pod_says_where_to_look(
    target: dict[str, Any], status: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(NoSuchPod) as raised:
        current_attempt(spark_job(target, status))
    assert str(raised.value) == message


def executor(exec_id: str | None, name: str) -> dict[str, Any]:
    labels = {"spark-role": "executor"} | ({"spark-exec-id": exec_id} if exec_id else {})
    return {"metadata": {"name": name, "labels": labels}}


EXECUTORS = [executor("2", "daily-exec-2"), executor("10", "daily-exec-10"), executor("1", "daily-exec-1")]


@pytest.mark.parametrize(("number", "pod"), [(1, "daily-exec-1"), (2, "daily-exec-2"), (10, "daily-exec-10")])
def test_an_executor_is_found_by_its_spark_exec_id(number: int, pod: str) -> None:
    assert executor_pod(ATTEMPT, EXECUTORS, number)["metadata"]["name"] == pod


@pytest.mark.parametrize(
    ("executors", "message"),
    [
        (EXECUTORS, "attempt 2 of SparkJob etl/daily has no executor 3: its executors are 1, 2, 10"),
        (
            [executor(None, "not-spark")],
            "attempt 2 of SparkJob etl/daily has no executor 3: it has no executor pods (Spark deletes those that "
            "ended unless the job's sparkConf sets spark.kubernetes.executor.deleteOnTermination=false)",
        ),
    ],
    ids=["others", "none"],
)
def test_a_missing_executor_lists_those_there_are(executors: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(NoSuchPod) as raised:
        executor_pod(ATTEMPT, executors, 3)
    assert str(raised.value) == message


def test_a_deleted_pod_says_what_deletes_pods() -> None:
    assert pod_gone(ATTEMPT, "daily-exec-1") == (
        "the pod daily-exec-1 of SparkJob etl/daily no longer exists: a new attempt, the job's "
        "spec.ttlSecondsAfterFinished or someone deleted it"
    )


def driver(phase: str, **status: Any) -> dict[str, Any]:
    labels = {"spark-role": "driver"}
    return {"metadata": {"name": ATTEMPT.driver_pod, "labels": labels}, "status": {"phase": phase, **status}}


@pytest.mark.parametrize(
    ("pod", "container"),
    [(driver("Running"), "spark-kubernetes-driver"), (EXECUTORS[0], "spark-kubernetes-executor")],
    ids=["driver", "executor"],
)
def test_the_log_is_the_spark_containers_whatever_runs_beside_it(pod: dict[str, Any], container: str) -> None:
    assert spark_container(pod) == container


def waiting(reason: str, message: str = "") -> dict[str, Any]:
    state = {"waiting": {"reason": reason, "message": message}}
    return {"containerStatuses": [{"name": "spark-kubernetes-driver", "state": state}]}


UNSCHEDULABLE = {
    "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/1 nodes are available"}
    ]
}
ENDED_BESIDE_A_SIDECAR = {
    "containerStatuses": [
        {"name": "proxy", "state": {"running": {}}},
        {"name": "spark-kubernetes-driver", "state": {"terminated": {"exitCode": 0}}},
    ]
}
PENDING = f"the pod {ATTEMPT.driver_pod} of SparkJob etl/daily is Pending"
NO_LOG_YET = ": its log begins when its container starts"
NO_UI_YET = ": the Spark UI starts with the driver, try again once it runs"
UI_ENDED = (
    f"the driver pod {ATTEMPT.driver_pod} of SparkJob etl/daily is {{}}, not Running: the Spark UI ended with the "
    "driver; `kubricks job logs daily -n etl` prints its log"
)


@pytest.mark.parametrize(
    ("pod", "no_log", "no_ui"),
    [
        (driver("Running"), None, None),
        (driver("Pending"), f"{PENDING} (not started){NO_LOG_YET}", f"{PENDING} (not started){NO_UI_YET}"),
        (
            driver("Pending", **waiting("ContainerCreating")),
            f"{PENDING} (ContainerCreating){NO_LOG_YET}",
            f"{PENDING} (ContainerCreating){NO_UI_YET}",
        ),
        (
            driver("Pending", **waiting("ImagePullBackOff", "Back-off pulling image")),
            f"{PENDING} (ImagePullBackOff: Back-off pulling image){NO_LOG_YET}",
            f"{PENDING} (ImagePullBackOff: Back-off pulling image){NO_UI_YET}",
        ),
        (
            driver("Pending", **UNSCHEDULABLE),
            f"{PENDING} (unschedulable: 0/1 nodes are available){NO_LOG_YET}",
            f"{PENDING} (unschedulable: 0/1 nodes are available){NO_UI_YET}",
        ),
        (driver("Succeeded"), None, UI_ENDED.format("Succeeded")),
        (driver("Failed"), None, UI_ENDED.format("Failed")),
        (driver("Running", **ENDED_BESIDE_A_SIDECAR), None, UI_ENDED.format("Succeeded")),
    ],
    ids=["running", "pending", "creating", "image-pull", "unschedulable", "succeeded", "failed", "sidecar-runs-on"],
)
def test_a_pod_has_a_log_once_it_started_and_a_spark_ui_while_it_runs(
    pod: dict[str, Any], no_log: str | None, no_ui: str | None
) -> None:
    assert log_not_started(ATTEMPT, pod) == no_log
    assert driver_not_running(ATTEMPT, pod) == no_ui


@pytest.mark.parametrize("local_port", [4040, 0, 18080])
def test_kubectl_forwards_the_local_port_to_the_drivers_spark_ui(local_port: int) -> None:
    assert port_forward_command(ATTEMPT, local_port) == [
        "kubectl", "port-forward", "pod/daily-2-0123abcd-driver", f"{local_port}:4040", "-n", "etl",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "port", "chatter"),
    [
        ("Forwarding from 127.0.0.1:4040 -> 4040\n", 4040, True),
        ("Forwarding from 127.0.0.1:39117 -> 4040\n", 39117, True),
        ("Forwarding from [::1]:39117 -> 4040\n", None, True),
        ("Handling connection for 39117\n", None, True),
        ("\n", None, True),
        ("Forwarding from 127.0.0.1:39117 -> 40400\n", None, True),
        (
            "Unable to listen on port 4040: Listeners failed to create with the following errors: "
            "[unable to create listener: Error listen tcp4 127.0.0.1:4040: bind: address already in use]\n",
            None,
            False,
        ),
        ('error: error upgrading connection: pod "x" not found\n', None, False),
    ],
    ids=["asked-port", "free-port", "ipv6", "connection", "blank", "other-remote-port", "port-in-use", "error"],
)
def test_what_kubectl_port_forward_says_is_read_for_its_local_port(line: str, port: int | None, chatter: bool) -> None:
    assert forwarded_port(line) == port
    assert is_kubectl_chatter(line) is chatter


def test_the_spark_ui_line_names_the_job_and_the_url() -> None:
    assert spark_ui_line(ATTEMPT, 39117) == "Spark UI of etl/daily: http://127.0.0.1:39117"


@pytest.mark.parametrize(
    ("forwarding", "output", "message"),
    [
        (
            False,
            ["Unable to listen on port 4040: address already in use\n", "error: unable to listen on any port\n"],
            "kubectl port-forward to daily-2-0123abcd-driver failed (exit 1): Unable to listen on port 4040: "
            "address already in use; error: unable to listen on any port",
        ),
        (
            True,
            ["error: lost connection to pod\n"],
            "the port-forward to daily-2-0123abcd-driver ended (kubectl exited 1): error: lost connection to pod",
        ),
        (True, [], "the port-forward to daily-2-0123abcd-driver ended (kubectl exited 1): no message"),
    ],
    ids=["before-listening", "after-listening", "silently"],
)
def test_the_end_of_kubectl_port_forward_is_told_in_one_line(forwarding: bool, output: list[str], message: str) -> None:
    assert port_forward_ended(ATTEMPT, 1, output, forwarding) == message
