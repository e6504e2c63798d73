"""SparkJob on the test cluster: kubectl apply → driver pod → (executors, as Spark's driver makes them) → end.

kwok plays the kubelet: pods run until the test annotates them with the exit code they end with."""

import json
from typing import Any

import yaml
from kubernetes import client

from tests.e2e.conftest import OperatorProcess, kubectl
from tests.support import wait_until

EXIT_CODE = "kwok.kubricks.dev/exit-code"
REASON = "kwok.kubricks.dev/reason"
IMAGE = "registry.example.com/team/etl@sha256:" + "c" * 64


def spark_job(name: str, **spec: Any) -> str:
    body = {
        "image": {"ref": IMAGE},
        "app": {"mainApplicationFile": "local:///opt/app/main.py", "arguments": ["--date", "2026-11-22"]},
        "kubernetes": {"executor": {"instances": 2}},
    }
    for key, value in spec.items():
        body[key] = value if not isinstance(value, dict) else {**body.get(key, {}), **value}
    return yaml.safe_dump(
        {"apiVersion": "kubricks.dev/v1alpha1", "kind": "SparkJob", "metadata": {"name": name}, "spec": body}
    )


def job_status(namespace: str, name: str) -> dict[str, Any]:
    result = kubectl("get", "sparkjob", name, "-n", namespace, "-o", "json", check=False)
    return json.loads(result.stdout).get("status", {}) if result.returncode == 0 else {}


def wait_phase(namespace: str, name: str, phase: str, timeout: float = 60) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        status = job_status(namespace, name)
        return status if status.get("phase") == phase else None

    return wait_until(reached, timeout=timeout, what=f"SparkJob {name} to be {phase}", interval=0.5)


def driver_pods(core_v1: client.CoreV1Api, namespace: str, name: str) -> list[client.V1Pod]:
    selector = f"kubricks.dev/sparkjob={name},spark-role=driver"
    return [
        p
        for p in core_v1.list_namespaced_pod(namespace, label_selector=selector).items
        if not p.metadata.deletion_timestamp
    ]


def end_pod(core_v1: client.CoreV1Api, namespace: str, pod: str, exit_code: int, reason: str | None = None) -> None:
    annotations = {EXIT_CODE: str(exit_code), **({REASON: reason} if reason else {})}
    core_v1.patch_namespaced_pod(pod, namespace, {"metadata": {"annotations": annotations}})


def start_executors(core_v1: client.CoreV1Api, namespace: str, driver: client.V1Pod, count: int) -> None:
    """Creates executor pods as Spark's driver does: named from the pod name prefix, labelled with the app
    selector and the executor labels of spark.properties, owned by the driver pod."""
    labels = driver.metadata.labels
    prefix = driver.metadata.name.removesuffix("-driver")
    for index in range(1, count + 1):
        core_v1.create_namespaced_pod(
            namespace,
            client.V1Pod(
                metadata=client.V1ObjectMeta(
                    name=f"{prefix}-exec-{index}",
                    labels={
                        "spark-app-selector": labels["spark-app-selector"],
                        "spark-role": "executor",
                        "spark-exec-id": str(index),
                        "kubricks.dev/sparkjob": labels["kubricks.dev/sparkjob"],
                        "kubricks.dev/attempt": labels["kubricks.dev/attempt"],
                    },
                    owner_references=[
                        client.V1OwnerReference(
                            api_version="v1",
                            kind="Pod",
                            name=driver.metadata.name,
                            uid=driver.metadata.uid,
                            controller=True,
                        )
                    ],
                ),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="spark-kubernetes-executor", image=IMAGE, args=["executor"])],
                    restart_policy="Never",
                ),
            ),
        )


def remaining(core_v1: client.CoreV1Api, namespace: str, name: str) -> dict[str, list[str]]:
    selector = f"kubricks.dev/sparkjob={name}"
    found = {
        "pods": [p.metadata.name for p in core_v1.list_namespaced_pod(namespace, label_selector=selector).items],
        "services": [
            s.metadata.name for s in core_v1.list_namespaced_service(namespace, label_selector=selector).items
        ],
        "configmaps": [
            c.metadata.name for c in core_v1.list_namespaced_config_map(namespace, label_selector=selector).items
        ],
    }
    return {kind: names for kind, names in found.items() if names}


def test_a_job_runs_to_success(core_v1: client.CoreV1Api, namespace: str, operator_log: object) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_job("wordcount"))
    wait_phase(namespace, "wordcount", "Running")
    (driver,) = driver_pods(core_v1, namespace, "wordcount")
    assert driver.spec.containers[0].args[:5] == [
        "driver",
        "--properties-file",
        "/opt/spark/conf/spark.properties",
        "--class",
        "org.apache.spark.deploy.PythonRunner",
    ]
    start_executors(core_v1, namespace, driver, 2)

    def both_running() -> bool:
        return job_status(namespace, "wordcount").get("kubernetes", {}).get("executors", {}).get("running") == 2

    wait_until(both_running, timeout=30, what="2 running executors in status")
    end_pod(core_v1, namespace, driver.metadata.name, 0)
    status = wait_phase(namespace, "wordcount", "Succeeded")
    assert status["attempt"] == 1
    assert status["image"] == IMAGE
    assert status["target"] == "kubernetes"
    assert status["completionTime"]
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "sparkjob/wordcount", "--timeout=10s")


def test_a_failed_attempt_is_retried_with_fresh_resources_then_fails_precisely(
    core_v1: client.CoreV1Api, namespace: str, operator_log: object
) -> None:
    kubectl(
        "apply", "-n", namespace, "-f", "-",
        stdin=spark_job("flaky", restartPolicy={"type": "OnFailure", "retries": 1, "backoffSeconds": 1}),
    )  # fmt: skip
    wait_phase(namespace, "flaky", "Running")
    (first,) = driver_pods(core_v1, namespace, "flaky")
    end_pod(core_v1, namespace, first.metadata.name, 1)

    def second_attempt() -> client.V1Pod | None:
        pods = [p for p in driver_pods(core_v1, namespace, "flaky") if p.metadata.name != first.metadata.name]
        return pods[0] if pods and pods[0].status.phase == "Running" else None

    second = wait_until(second_attempt, timeout=60, what="the driver of attempt 2")
    assert second.metadata.labels["kubricks.dev/attempt"] == "2"
    assert second.metadata.labels["spark-app-selector"] != first.metadata.labels["spark-app-selector"]
    wait_until(
        lambda: len(driver_pods(core_v1, namespace, "flaky")) == 1, timeout=30, what="attempt 1's driver deleted"
    )
    end_pod(core_v1, namespace, second.metadata.name, 137, "OOMKilled")
    status = wait_phase(namespace, "flaky", "Failed")
    assert status["attempt"] == 2
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "DriverOOMKilled")
    assert "raise spec.kubernetes.driver.memory" in status["message"]
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=flaky").stdout
    assert "DriverFailed" in events
    assert "DriverOOMKilled" in events


def test_a_driver_that_cannot_start_times_out(namespace: str, operator_log: object) -> None:
    job = spark_job(
        "stuck",
        kubernetes={"driverStartTimeoutSeconds": 10, "driver": {"nodeSelector": {"pool": "nonexistent"}}},
    )
    kubectl("apply", "-n", namespace, "-f", "-", stdin=job)

    def unschedulable() -> dict[str, Any] | None:
        status = job_status(namespace, "stuck")
        return status if "unschedulable" in status.get("message", "") else None

    wait_until(unschedulable, timeout=30, what="the unschedulable driver to be reported")
    status = wait_phase(namespace, "stuck", "Failed", timeout=60)
    assert "the driver did not start within 10s: unschedulable" in status["message"]
    assert next(c for c in status["conditions"] if c["type"] == "Ready")["reason"] == "DriverStartTimeout"


def test_finished_jobs_are_deleted_after_their_ttl_with_everything_they_made(
    core_v1: client.CoreV1Api, namespace: str, operator_log: object
) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_job("short-lived", ttlSecondsAfterFinished=2))
    wait_phase(namespace, "short-lived", "Running")
    (driver,) = driver_pods(core_v1, namespace, "short-lived")
    start_executors(core_v1, namespace, driver, 1)
    end_pod(core_v1, namespace, driver.metadata.name, 0)
    wait_phase(namespace, "short-lived", "Succeeded")
    wait_until(lambda: job_status(namespace, "short-lived") == {}, timeout=30, what="the SparkJob to expire")
    wait_until(
        lambda: not remaining(core_v1, namespace, "short-lived"), timeout=60, what="its resources to be collected"
    )


def test_deleting_a_running_job_removes_everything(
    core_v1: client.CoreV1Api, namespace: str, operator_log: object
) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_job("doomed"))
    wait_phase(namespace, "doomed", "Running")
    (driver,) = driver_pods(core_v1, namespace, "doomed")
    start_executors(core_v1, namespace, driver, 2)
    assert set(remaining(core_v1, namespace, "doomed")) == {"pods", "services", "configmaps"}
    kubectl("delete", "sparkjob", "doomed", "-n", namespace, "--wait=true", "--timeout=30s")
    wait_until(lambda: not remaining(core_v1, namespace, "doomed"), timeout=60, what="everything the job made to go")


def test_a_gpu_driver_lands_on_the_gpu_node(core_v1: client.CoreV1Api, namespace: str, operator_log: object) -> None:
    job = spark_job("gpu", kubernetes={"driver": {"gpus": 1}, "executor": {"instances": 1, "gpus": 1}})
    kubectl("apply", "-n", namespace, "-f", "-", stdin=job)
    wait_phase(namespace, "gpu", "Running")
    (driver,) = driver_pods(core_v1, namespace, "gpu")
    assert driver.spec.containers[0].resources.limits["nvidia.com/gpu"] == "1"
    node = core_v1.read_node(driver.spec.node_name)
    assert node.status.capacity.get("nvidia.com/gpu") == "4"
    conf = core_v1.read_namespaced_config_map(driver.spec.volumes[0].config_map.name, namespace).data[
        "spark.properties"
    ]
    assert "spark.executor.resource.gpu.amount=1" in conf


def test_an_operator_restarted_mid_run_loses_nothing_and_duplicates_nothing(
    core_v1: client.CoreV1Api, namespace: str, operator_process: OperatorProcess, operator_log: object
) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_job("survivor"))
    wait_phase(namespace, "survivor", "Running")
    (driver,) = driver_pods(core_v1, namespace, "survivor")
    operator_process.stop(kill=True)
    try:
        start_executors(core_v1, namespace, driver, 1)
        end_pod(core_v1, namespace, driver.metadata.name, 0)
    finally:
        operator_process.start()
    status = wait_phase(namespace, "survivor", "Succeeded")
    assert status["attempt"] == 1
    assert [p.metadata.name for p in driver_pods(core_v1, namespace, "survivor")] == [driver.metadata.name]


def test_the_operators_pull_secret_is_copied_into_the_jobs_namespace(
    core_v1: client.CoreV1Api, namespace: str, operator_process: OperatorProcess, operator_log: object
) -> None:
    source = f"{namespace}-registry"
    kubectl("create", "namespace", source)
    try:
        kubectl(
            "create", "secret", "docker-registry", "regcred", "-n", source,
            "--docker-server=registry.example.com", "--docker-username=u", "--docker-password=p",
        )  # fmt: skip
        operator_process.stop()
        operator_process.start("--all-namespaces", "--pull-secret", f"{source}/regcred")
        try:
            kubectl("apply", "-n", namespace, "-f", "-", stdin=spark_job("pulls"))
            wait_phase(namespace, "pulls", "Running")
            (driver,) = driver_pods(core_v1, namespace, "pulls")
            assert [s.name for s in driver.spec.image_pull_secrets] == ["kubricks-pull-regcred"]
            copied = core_v1.read_namespaced_secret("kubricks-pull-regcred", namespace)
            original = core_v1.read_namespaced_secret("regcred", source)
            assert copied.data == original.data
            assert copied.metadata.owner_references[0].name == "pulls"
        finally:
            operator_process.stop()
            operator_process.start()
    finally:
        kubectl("delete", "namespace", source, "--wait=false")
