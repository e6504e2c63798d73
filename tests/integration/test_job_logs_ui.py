"""``kubricks job logs`` and ``kubricks job ui`` as a user runs them, against a wordcount SparkJob on the test
cluster. No operator runs here: the test plays its part, applying the attempt's resources for the SparkJob and
writing the status the operator would. An operator that other tests run over every namespace may do the same
meanwhile: it renders the same resources under the same names and writes the same status, so the test holds
either way."""

import select
import signal
import subprocess
from typing import Any

import httpx
import pytest
from kubernetes import client

from kubricks.api.crd import GROUP, VERSION, plural
from kubricks.api.sparkjob import SparkJob
from kubricks.k8s.client import apply, patch_status
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import attempt_resources
from tests.support import VENV_BIN, wait_until

WORDS = "to be or not to be"
ANSWER = 'WORDCOUNT {"be": 2, "not": 1, "or": 1, "to": 2}'
LINGER_SECONDS = "30"
"""How long the driver stays up after counting, with its Spark UI: time to open the UI and to follow the log."""
SPARK_UI_STARTED = "Successfully started service 'SparkUI'"
SPARK_RUN_SECONDS = 300


def kubricks(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "kubricks"), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_fails_with(result: subprocess.CompletedProcess[str], message: str) -> None:
    """A refusal is one line on standard error, no traceback, a non-zero exit."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def create_spark_job(api_client: client.ApiClient, namespace: str, spec: dict[str, Any]) -> SparkJob:
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "SparkJob", "metadata": {"name": "wordcount"}, "spec": spec}
    created = client.CustomObjectsApi(api_client).create_namespaced_custom_object(
        GROUP, VERSION, namespace, plural(SparkJob), body
    )
    return SparkJob.model_validate(created)


def create_wordcount_job(api_client: client.ApiClient, namespace: str, image: str, pull_secret: str) -> SparkJob:
    spec = {
        "image": {"ref": image, "pullSecret": pull_secret},
        "app": {
            "wheel": {"packageName": "wordcount", "entryPoint": "wordcount"},
            "arguments": [WORDS],
            # Kept after they end, so that their logs can still be read.
            "sparkConf": {"spark.kubernetes.executor.deleteOnTermination": "false"},
        },
        "kubernetes": {
            "driver": {
                "cores": 1, "coreRequest": "200m", "memory": "512m",
                "env": {"WORDCOUNT_LINGER_SECONDS": LINGER_SECONDS},
            },
            "executor": {"instances": 2, "cores": 1, "coreRequest": "200m", "memory": "512m"},
        },
    }  # fmt: skip
    return create_spark_job(api_client, namespace, spec)


def submit_as_the_operator_does(job: SparkJob, image: str) -> Attempt:
    """The first attempt's resources, owned by the SparkJob, and the status that names them."""
    metadata = job.metadata
    attempt = Attempt(metadata["name"], metadata["namespace"], metadata["uid"], 1)
    for manifest in attempt_resources(job, attempt, image, None):
        apply(manifest)
    status = {"phase": "Running", "target": "kubernetes", "attempt": 1, "kubernetes": {"driverPod": attempt.driver_pod}}
    patch_status(plural(SparkJob), attempt.namespace, attempt.job, status)
    return attempt


def pod_phase(core_v1: client.CoreV1Api, namespace: str, name: str) -> str:
    return str(core_v1.read_namespaced_pod(name, namespace).status.phase)


def wait_spark_ui_started(core_v1: client.CoreV1Api, namespace: str, driver: str) -> None:
    def started() -> bool:
        phase = pod_phase(core_v1, namespace, driver)
        assert phase in ("Pending", "Running"), f"the driver is {phase} before its Spark UI started"
        return phase == "Running" and SPARK_UI_STARTED in core_v1.read_namespaced_pod_log(driver, namespace)

    wait_until(started, timeout=SPARK_RUN_SECONDS, what="the driver's Spark UI to start", interval=1)


def read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"nothing on standard output within {timeout}s"
    return process.stdout.readline()


def http_status(url: str) -> int | None:
    try:
        return httpx.get(url, follow_redirects=True, timeout=10).status_code
    except httpx.HTTPError:
        return None


def open_spark_ui(namespace: str) -> None:
    """``kubricks job ui`` on a free port answers on the URL it prints, until Ctrl-C ends it cleanly."""
    ui = subprocess.Popen(
        [str(VENV_BIN / "kubricks"), "job", "ui", "wordcount", "-n", namespace, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = read_line(ui, timeout=60)
        prefix = f"Spark UI of {namespace}/wordcount: http://127.0.0.1:"
        assert line.startswith(prefix) and line.strip().removeprefix(prefix).isdigit(), line
        url = line.split(": ", 1)[1].strip()
        wait_until(lambda: http_status(url) == 200, timeout=30, what=f"the Spark UI to answer 200 on {url}")
        ui.send_signal(signal.SIGINT)
        _, stderr = ui.communicate(timeout=30)
        assert ui.returncode == 0, stderr
        assert "Traceback" not in stderr
    finally:
        if ui.poll() is None:
            ui.terminate()  # which stops its kubectl too
            ui.wait(timeout=30)


def follow_driver_log(core_v1: client.CoreV1Api, namespace: str, driver: str) -> list[str]:
    """``kubricks job logs -f`` streams while the driver runs and ends when it ends."""
    follow = subprocess.Popen(
        [str(VENV_BIN / "kubricks"), "job", "logs", "wordcount", "-n", namespace, "-f"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = read_line(follow, timeout=30)
        assert pod_phase(core_v1, namespace, driver) == "Running", "the log came only after the driver ended"
        rest, stderr = follow.communicate(timeout=SPARK_RUN_SECONDS)
        assert follow.returncode == 0, stderr
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()
    # The log ends with the container; the pod's phase follows once the kubelet reports it.
    wait_until(
        lambda: pod_phase(core_v1, namespace, driver) in ("Succeeded", "Failed"), timeout=30, what="the driver to end"
    )
    return [first.rstrip("\n"), *rest.splitlines()]


def test_logs_and_ui_of_a_wordcount_job(
    sparkjob_crd: None,
    api_client: client.ApiClient,
    core_v1: client.CoreV1Api,
    namespace: str,
    pull_secret: str,
    wordcount_image: str,
) -> None:
    job = create_wordcount_job(api_client, namespace, wordcount_image, pull_secret)
    attempt = submit_as_the_operator_does(job, wordcount_image)
    driver = attempt.driver_pod
    wait_spark_ui_started(core_v1, namespace, driver)
    open_spark_ui(namespace)
    followed = follow_driver_log(core_v1, namespace, driver)
    assert pod_phase(core_v1, namespace, driver) == "Succeeded", "\n".join(followed[-30:])
    assert ANSWER in followed

    driver_log = core_v1.read_namespaced_pod_log(driver, namespace)
    printed = kubricks("job", "logs", "wordcount", "-n", namespace)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == driver_log
    assert ANSWER in printed.stdout.splitlines()
    last = kubricks("job", "logs", "wordcount", "-n", namespace, "--tail", "1")
    assert last.stdout == driver_log.splitlines(keepends=True)[-1]

    executors = core_v1.list_namespaced_pod(
        namespace, label_selector="kubricks.dev/sparkjob=wordcount,spark-role=executor,spark-exec-id=1"
    ).items
    executor_log = core_v1.read_namespaced_pod_log(executors[0].metadata.name, namespace)
    printed = kubricks("job", "logs", "wordcount", "-n", namespace, "--executor", "1")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == executor_log != ""

    assert_fails_with(
        kubricks("job", "logs", "wordcount", "-n", namespace, "--executor", "9"),
        f"attempt 1 of SparkJob {namespace}/wordcount has no executor 9: its executors are 1, 2",
    )
    assert_fails_with(
        kubricks("job", "ui", "wordcount", "-n", namespace),
        f"the driver pod {driver} of SparkJob {namespace}/wordcount is Succeeded, not Running",
    )
    core_v1.delete_namespaced_pod(driver, namespace, grace_period_seconds=0)
    wait_until(
        lambda: not core_v1.list_namespaced_pod(namespace, field_selector=f"metadata.name={driver}").items,
        timeout=60,
        what="the driver pod to be deleted",
    )
    assert_fails_with(
        kubricks("job", "logs", "wordcount", "-n", namespace),
        f"the pod {driver} of SparkJob {namespace}/wordcount no longer exists",
    )


@pytest.mark.parametrize("command", ["logs", "ui"])
def test_a_job_that_does_not_exist_is_named(sparkjob_crd: None, namespace: str, command: str) -> None:
    result = kubricks("job", command, "nothing", "-n", namespace)
    assert_fails_with(result, f"SparkJob {namespace}/nothing does not exist")


@pytest.mark.parametrize("command", ["logs", "ui"])
def test_a_job_without_a_driver_pod_tells_its_phase(
    sparkjob_crd: None, api_client: client.ApiClient, namespace: str, command: str
) -> None:
    """A job whose SparkImage is not there: an operator, if one runs, waits for it; without one, no phase yet."""
    spec = {
        "image": {"sparkImage": "not-built"},
        "app": {"mainApplicationFile": "local:///opt/app/main.py"},
        "kubernetes": {},
    }
    create_spark_job(api_client, namespace, spec)
    result = kubricks("job", command, "wordcount", "-n", namespace)
    assert_fails_with(result, f"SparkJob {namespace}/wordcount has no driver pod yet (")
