"""SparkJob on the test cluster, for real: kubectl apply → the driver pod kubricks writes → the executors
Spark's driver creates with the RBAC kubricks grants → the end the kubelet reports. Every pod runs the
wordcount image from the private registry on the kind node, pulled with the job's Secret; only the GPU
test uses the fake GPU node, where nothing runs."""

import json
from typing import Any

import yaml
from kubernetes import client

from kubricks.jobs import parse_time, utc_now
from tests.e2e.conftest import OperatorProcess, kubectl
from tests.support import wait_until

WORDS = ["to be or not to be", "that is the question"]
ANSWER = 'WORDCOUNT {"be": 2, "is": 1, "not": 1, "or": 1, "question": 1, "that": 1, "the": 1, "to": 2}'
# Small enough that a driver and two executors fit the one 2-CPU node beside the control plane.
SMALL_PODS = {
    "driver": {"cores": 1, "coreRequest": "200m", "memory": "512m"},
    "executor": {"instances": 2, "cores": 1, "coreRequest": "200m", "memory": "512m"},
}
SPARK_RUN_SECONDS = 300


def spark_job(name: str, image: str, **spec: Any) -> str:
    body: dict[str, Any] = {
        "image": {"ref": image, "pullSecret": "regcred"},
        "app": {"wheel": {"packageName": "wordcount", "entryPoint": "wordcount"}, "arguments": WORDS},
        "kubernetes": SMALL_PODS,
    }
    for key, value in spec.items():
        body[key] = value if not isinstance(value, dict) else {**body.get(key, {}), **value}
    return yaml.safe_dump(
        {"apiVersion": "kubricks.dev/v1alpha1", "kind": "SparkJob", "metadata": {"name": name}, "spec": body}
    )


def job_status(namespace: str, name: str) -> dict[str, Any]:
    result = kubectl("get", "sparkjob", name, "-n", namespace, "-o", "json", check=False)
    return json.loads(result.stdout).get("status", {}) if result.returncode == 0 else {}


def wait_phase(namespace: str, name: str, phase: str, timeout: float = SPARK_RUN_SECONDS) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        status = job_status(namespace, name)
        return status if status.get("phase") == phase else None

    return wait_until(reached, timeout=timeout, what=f"SparkJob {name} to be {phase}", interval=0.5)


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def ready_condition(status: dict[str, Any]) -> dict[str, Any]:
    return condition(status, "Ready")


def pods(core_v1: client.CoreV1Api, namespace: str, name: str, role: str) -> list[client.V1Pod]:
    selector = f"kubricks.dev/sparkjob={name},spark-role={role}"
    return [
        p
        for p in core_v1.list_namespaced_pod(namespace, label_selector=selector).items
        if not p.metadata.deletion_timestamp
    ]


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


def apply(namespace: str, manifest: str) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", stdin=manifest)


def test_a_pyspark_job_runs_on_a_driver_and_two_executors_to_its_answer(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    apply(namespace, spark_job("wordcount", wordcount_image))
    status = wait_phase(namespace, "wordcount", "Succeeded")
    assert (status["attempt"], status["image"], status["target"]) == (1, wordcount_image, "kubernetes")
    assert parse_time(status["startTime"]) <= parse_time(status["completionTime"]) <= utc_now()
    (driver,) = pods(core_v1, namespace, "wordcount", "driver")
    log = core_v1.read_namespaced_pod_log(driver.metadata.name, namespace)
    assert ANSWER in log.splitlines()
    # Spark's driver created both executors itself (the RBAC kubricks grants) and they reached it through
    # the headless Service's DNS name.
    registered = [line for line in log.splitlines() if "Registered executor" in line]
    assert {line.rsplit("with ID ", 1)[1].split(",")[0] for line in registered} == {"1", "2"}, log[-3000:]
    # What kstatus (Flux, Argo CD, kubectl wait) reads: done, nothing in progress, nothing stuck.
    for condition in ("Ready", "Reconciling=false", "Stalled=false"):
        kubectl("wait", "-n", namespace, f"--for=condition={condition}", "sparkjob/wordcount", "--timeout=10s")


def test_a_failing_app_is_retried_then_fails_with_its_exit_code_and_last_log_lines(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    apply(
        namespace,
        spark_job(
            "broken",
            wordcount_image,
            app={"wheel": {"packageName": "wordcount", "entryPoint": "no_such_function"}},
            restartPolicy={"type": "OnFailure", "retries": 1, "backoffSeconds": 1},
        ),
    )
    status = wait_phase(namespace, "broken", "Failed")
    assert status["attempt"] == 2
    assert (ready_condition(status)["status"], ready_condition(status)["reason"]) == ("False", "DriverFailed")
    assert "the driver exited with code 1" in status["message"]
    assert "wordcount has no entry point 'no_such_function'" in status["message"]
    assert condition(status, "Stalled")["status"] == "True", "a failed job waits for a person"
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=broken").stdout
    assert events.count("DriverFailed") >= 1


def test_a_driver_over_its_memory_limit_is_oom_killed(
    namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    # The JVM touches its whole heap at start: more than the pod's limit (heap + 32m overhead) allows.
    driver = {**SMALL_PODS["driver"], "memoryOverhead": "32m"}
    apply(
        namespace,
        spark_job(
            "hungry",
            wordcount_image,
            kubernetes={"driver": driver},
            app={"sparkConf": {"spark.driver.extraJavaOptions": "-Xms512m -XX:+AlwaysPreTouch"}},
        ),
    )
    status = wait_phase(namespace, "hungry", "Failed")
    assert ready_condition(status)["reason"] == "DriverOOMKilled"
    assert "raise spec.kubernetes.driver.memory" in status["message"]


def test_an_image_digest_missing_from_the_registry_is_reported_by_the_kubelet(
    namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    missing = wordcount_image.split("@", maxsplit=1)[0] + "@sha256:" + "0" * 64
    apply(namespace, spark_job("ghost", missing, kubernetes={"driverStartTimeoutSeconds": 40}))

    def pull_failed() -> dict[str, Any] | None:
        status = job_status(namespace, "ghost")
        return status if status.get("conditions") and ready_condition(status)["reason"] == "ImagePullFailed" else None

    status = wait_until(pull_failed, timeout=60, what="the failed pull to be reported")
    assert "cannot pull the image" in status["message"]
    assert "not found" in status["message"]
    status = wait_phase(namespace, "ghost", "Failed", timeout=90)
    assert ready_condition(status)["reason"] == "DriverStartTimeout"


def test_a_driver_that_cannot_be_scheduled_times_out(
    namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    driver = {**SMALL_PODS["driver"], "nodeSelector": {"pool": "nonexistent"}}
    apply(
        namespace, spark_job("stuck", wordcount_image, kubernetes={"driverStartTimeoutSeconds": 10, "driver": driver})
    )

    def unschedulable() -> dict[str, Any] | None:
        status = job_status(namespace, "stuck")
        return status if "unschedulable" in status.get("message", "") else None

    wait_until(unschedulable, timeout=30, what="the unschedulable driver to be reported")
    status = wait_phase(namespace, "stuck", "Failed", timeout=60)
    assert "the driver did not start within 10s: unschedulable" in status["message"]
    assert ready_condition(status)["reason"] == "DriverStartTimeout"


def test_ttl_policy_delete_job_deletes_a_finished_job_with_everything_it_made(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    app = {"wheel": {"packageName": "wordcount", "entryPoint": "no_such_function"}}
    ttl = {"ttlSecondsAfterFinished": 2, "ttlPolicy": "DeleteJob"}
    apply(namespace, spark_job("short-lived", wordcount_image, app=app, **ttl))
    wait_phase(namespace, "short-lived", "Failed")
    wait_until(lambda: job_status(namespace, "short-lived") == {}, timeout=30, what="the SparkJob to expire")
    wait_until(
        lambda: not remaining(core_v1, namespace, "short-lived"), timeout=60, what="its resources to be collected"
    )


def test_deleting_a_running_job_removes_the_driver_and_its_executors(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    # The driver waits for its executors before it runs anything; this job's can never start.
    executor = {**SMALL_PODS["executor"], "nodeSelector": {"pool": "nonexistent"}}
    apply(namespace, spark_job("doomed", wordcount_image, kubernetes={"executor": executor}))
    wait_phase(namespace, "doomed", "Running", timeout=120)
    wait_until(
        lambda: len(pods(core_v1, namespace, "doomed", "executor")) == 2,
        timeout=120,
        what="the driver to create its 2 executors",
    )
    assert set(remaining(core_v1, namespace, "doomed")) == {"pods", "services", "configmaps"}
    kubectl("delete", "sparkjob", "doomed", "-n", namespace, "--wait=true", "--timeout=60s")
    wait_until(lambda: not remaining(core_v1, namespace, "doomed"), timeout=90, what="everything the job made to go")


def test_a_gpu_driver_is_scheduled_onto_the_gpu_node(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    gpu_toleration = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    kubernetes = {
        "driver": {**SMALL_PODS["driver"], "gpus": 1, "tolerations": gpu_toleration},
        "executor": {**SMALL_PODS["executor"], "instances": 1, "gpus": 1, "tolerations": gpu_toleration},
    }
    apply(namespace, spark_job("gpu", wordcount_image, kubernetes=kubernetes))
    # kwok reports the pod Running on the fake node; nothing runs there (there is no GPU here).
    wait_phase(namespace, "gpu", "Running", timeout=60)
    (driver,) = pods(core_v1, namespace, "gpu", "driver")
    assert driver.spec.node_name == "kwok-gpu-0"
    assert driver.spec.containers[0].resources.limits["nvidia.com/gpu"] == "1"
    conf = core_v1.read_namespaced_config_map(driver.spec.volumes[0].config_map.name, namespace).data[
        "spark.properties"
    ]
    assert "spark.executor.resource.gpu.amount=1" in conf


def test_an_operator_killed_mid_run_loses_nothing_and_duplicates_nothing(
    core_v1: client.CoreV1Api,
    namespace: str,
    pull_secret: str,
    wordcount_image: str,
    operator_process: OperatorProcess,
    operator_log: object,
) -> None:
    apply(namespace, spark_job("survivor", wordcount_image))
    wait_phase(namespace, "survivor", "Running", timeout=120)
    (driver,) = pods(core_v1, namespace, "survivor", "driver")
    operator_process.stop(kill=True)
    try:
        # The job finishes while nobody watches it.
        wait_until(
            lambda: core_v1.read_namespaced_pod(driver.metadata.name, namespace).status.phase == "Succeeded",
            timeout=SPARK_RUN_SECONDS,
            what="the driver to finish",
        )
    finally:
        operator_process.start()
    status = wait_phase(namespace, "survivor", "Succeeded", timeout=60)
    assert status["attempt"] == 1
    assert [p.metadata.name for p in pods(core_v1, namespace, "survivor", "driver")] == [driver.metadata.name]


def test_the_default_pull_secret_is_the_namespaces_own_never_a_copy(
    core_v1: client.CoreV1Api,
    namespace: str,
    pull_secret: str,
    wordcount_image: str,
    operator_process: OperatorProcess,
    operator_log: object,
) -> None:
    operator_process.stop()
    operator_process.start("--all-namespaces", "--default-pull-secret", pull_secret)
    try:
        job = yaml.safe_load(spark_job("pulls", wordcount_image))
        del job["spec"]["image"]["pullSecret"]
        apply(namespace, yaml.safe_dump(job))
        wait_phase(namespace, "pulls", "Running", timeout=120)
        (driver,) = pods(core_v1, namespace, "pulls", "driver")
        assert [s.name for s in driver.spec.image_pull_secrets] == [pull_secret]
        secrets = [s.metadata.name for s in core_v1.list_namespaced_secret(namespace).items]
        assert secrets == [pull_secret], "kubricks copies no Secret into the namespace"
    finally:
        operator_process.stop()
        operator_process.start()


def test_dynamic_allocation_adds_executors_for_work_and_removes_them_when_idle(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    kubernetes = {
        "driver": {**SMALL_PODS["driver"], "env": {"WORDCOUNT_LINGER_SECONDS": "40"}},
        "executor": {**SMALL_PODS["executor"], "instances": 0},
        "dynamicAllocation": {"enabled": True, "minExecutors": 0, "maxExecutors": 2},
    }
    idle_fast = {
        "spark.dynamicAllocation.executorIdleTimeout": "2s",
        "spark.dynamicAllocation.shuffleTracking.timeout": "2s",
    }
    app = {"wheel": {"packageName": "wordcount", "entryPoint": "wordcount"}, "sparkConf": idle_fast}
    apply(namespace, spark_job("elastic", wordcount_image, kubernetes=kubernetes, app=app))
    wait_phase(namespace, "elastic", "Running", timeout=120)
    wait_until(lambda: pods(core_v1, namespace, "elastic", "executor"), timeout=120, what="the driver to add executors")
    (driver,) = pods(core_v1, namespace, "elastic", "driver")

    def idle_executors_removed_while_the_driver_runs() -> bool:
        running = core_v1.read_namespaced_pod(driver.metadata.name, namespace).status.phase == "Running"
        assert running, "the driver ended before its idle executors were removed"
        return not pods(core_v1, namespace, "elastic", "executor")

    wait_until(idle_executors_removed_while_the_driver_runs, timeout=35, what="the idle executors to be removed")
    wait_phase(namespace, "elastic", "Succeeded")
    log = core_v1.read_namespaced_pod_log(driver.metadata.name, namespace)
    assert "removed due to idle timeout" in log, log[-3000:]


def test_a_submission_the_api_server_refuses_fails_the_attempt_with_its_message(
    namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    no_account = {**SMALL_PODS, "serviceAccount": "nobody-made-this"}
    retry_once = {"type": "OnFailure", "retries": 1, "backoffSeconds": 1}
    apply(namespace, spark_job("refused", wordcount_image, kubernetes=no_account, restartPolicy=retry_once))
    status = wait_phase(namespace, "refused", "Failed", timeout=60)
    assert status["attempt"] == 2, "a refused submission is retried as restartPolicy says"
    assert ready_condition(status)["reason"] == "SubmissionFailed"
    assert "the API server refused to create the resources of attempt 2 (HTTP 403)" in status["message"]
    assert 'serviceaccount "nobody-made-this" not found' in status["message"]
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "reason=SubmissionFailed").stdout
    assert "refused" in events


def test_the_driver_service_account_deleted_by_hand_comes_back_for_the_next_job(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    # The operator applies a namespace's driver service account and RBAC once, not for every job.
    pending = {"driver": {**SMALL_PODS["driver"], "nodeSelector": {"pool": "nonexistent"}}}
    apply(namespace, spark_job("first", wordcount_image, kubernetes=pending))
    wait_phase(namespace, "first", "Submitted", timeout=60)
    core_v1.delete_namespaced_service_account("kubricks-spark", namespace)
    apply(namespace, spark_job("second", wordcount_image, kubernetes=pending))
    status = wait_phase(namespace, "second", "Submitted", timeout=60)
    assert status["attempt"] == 1, "the refused pod was retried with the service account, not a failed attempt"
    assert core_v1.read_namespaced_service_account("kubricks-spark", namespace)
    assert pods(core_v1, namespace, "second", "driver")


def test_kubernetes_jobs_hold_no_finalizer_so_they_go_without_the_operator(
    namespace: str, pull_secret: str, wordcount_image: str, operator_process: OperatorProcess, operator_log: object
) -> None:
    apply(namespace, spark_job("unfinalized", wordcount_image))
    wait_phase(namespace, "unfinalized", "Running", timeout=120)
    metadata = json.loads(kubectl("get", "sparkjob", "unfinalized", "-n", namespace, "-o", "json").stdout)["metadata"]
    assert not metadata.get("finalizers")
    operator_process.stop()
    try:
        kubectl("delete", "sparkjob", "unfinalized", "-n", namespace, "--timeout=20s")
    finally:
        operator_process.start()


def enforce_pod_security(core_v1: client.CoreV1Api, namespace: str, level: str) -> None:
    """Labels the namespace so that the API server's Pod Security admission enforces ``level`` in it."""
    core_v1.patch_namespace(namespace, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": level}}})


def test_a_job_runs_with_its_executors_in_a_namespace_that_enforces_the_restricted_level(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    enforce_pod_security(core_v1, namespace, "restricted")
    apply(namespace, spark_job("restricted", wordcount_image))
    status = wait_phase(namespace, "restricted", "Succeeded")
    assert status["attempt"] == 1
    (driver,) = pods(core_v1, namespace, "restricted", "driver")
    assert driver.spec.security_context.run_as_non_root is True
    assert driver.spec.containers[0].security_context.capabilities.drop == ["ALL"]
    log = core_v1.read_namespaced_pod_log(driver.metadata.name, namespace)
    assert ANSWER in log.splitlines()
    # The API server admitted the executors Spark's driver created from kubricks' pod template.
    registered = [line for line in log.splitlines() if "Registered executor" in line]
    assert len(registered) == 2, log[-3000:]


def test_a_job_beyond_its_namespaces_pod_security_level_fails_before_any_pod_is_created(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    enforce_pod_security(core_v1, namespace, "restricted")
    privileged = {"securityContext": {"privileged": True, "allowPrivilegeEscalation": True}}
    kubernetes = {"executor": {**SMALL_PODS["executor"], **privileged}}
    apply(namespace, spark_job("privileged", wordcount_image, kubernetes=kubernetes))
    status = wait_phase(namespace, "privileged", "Failed", timeout=60)
    assert ready_condition(status)["reason"] == "SubmissionFailed"
    assert "Pod Security level restricted of namespace" in status["message"]
    assert "spec.kubernetes.executor.securityContext.privileged: true" in status["message"]
    assert "label the namespace pod-security.kubernetes.io/enforce=privileged" in status["message"]
    assert not remaining(core_v1, namespace, "privileged"), "nothing of the attempt was created"
    assert not core_v1.list_namespaced_pod(namespace).items
