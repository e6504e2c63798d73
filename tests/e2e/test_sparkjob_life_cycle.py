"""A SparkJob's life cycle as GitOps tools and queues drive it, on real pods: the TTL cleans up without the job
running twice, a spec edit of a finished job runs it again, spec.suspend holds and stops jobs on both targets,
and the queue and batch-scheduler fields reach the pods and their PodGroup."""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.databricks_support import EmulatorProcess
from tests.e2e.conftest import kinds_served, kubectl
from tests.e2e.test_sparkjob_databricks import wheel_job
from tests.e2e.test_sparkjob_kubernetes import (
    ANSWER,
    SMALL_PODS,
    apply,
    job_status,
    pods,
    remaining,
    spark_job,
    wait_phase,
)
from tests.support import wait_until

QUIET_SECONDS = 8
"""How long nothing must happen where nothing should: several of the operator's steps."""


def quiet(namespace: str, name: str, core_v1: client.CoreV1Api) -> dict[str, Any]:
    """Waits QUIET_SECONDS, then returns the job's status; fails if any object of the job appeared meanwhile."""
    deadline = time.monotonic() + QUIET_SECONDS
    while time.monotonic() < deadline:
        assert remaining(core_v1, namespace, name) == {}, "the job created something"
        time.sleep(0.5)
    return job_status(namespace, name)


def driver_log(core_v1: client.CoreV1Api, namespace: str, name: str) -> str:
    (driver,) = pods(core_v1, namespace, name, "driver")
    return str(core_v1.read_namespaced_pod_log(driver.metadata.name, namespace))


def test_a_gitops_applied_job_is_cleaned_up_after_its_ttl_and_never_runs_twice(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    manifest = spark_job("nightly", wordcount_image, ttlSecondsAfterFinished=3)
    apply(namespace, manifest)
    wait_phase(namespace, "nightly", "Succeeded")
    expired = wait_until(
        lambda: job_status(namespace, "nightly").get("expiredTime"), timeout=60, what="the TTL to clean up"
    )
    assert expired
    wait_until(lambda: not remaining(core_v1, namespace, "nightly"), timeout=60, what="the job's objects to go")
    # What Argo CD or Flux does on every sync: apply the same manifest again. The job stays finished.
    apply(namespace, manifest)
    after_sync = quiet(namespace, "nightly", core_v1)
    assert (after_sync["phase"], after_sync["attempt"], after_sync["observedGeneration"]) == ("Succeeded", 1, 1)
    # A commit that changes what the job runs is a new attempt, shown by the generation it observed.
    apply(namespace, spark_job("nightly", wordcount_image, ttlSecondsAfterFinished=3, app={"arguments": ["edited"]}))
    rerun = wait_until(
        lambda: (s := job_status(namespace, "nightly")).get("attempt") == 2 and s.get("phase") == "Succeeded" and s,
        timeout=300,
        what="the edited job's second attempt to succeed",
        interval=0.5,
    )
    assert rerun["observedGeneration"] == 2
    assert rerun["retries"] == 0
    assert 'WORDCOUNT {"edited": 1}' in driver_log(core_v1, namespace, "nightly").splitlines()
    # An edit of the TTL alone is seen, not run.
    wait_until(lambda: not remaining(core_v1, namespace, "nightly"), timeout=60, what="the second attempt's objects")
    apply(namespace, spark_job("nightly", wordcount_image, ttlSecondsAfterFinished=4, app={"arguments": ["edited"]}))
    seen = wait_until(
        lambda: (s := job_status(namespace, "nightly")).get("observedGeneration") == 3 and s,
        timeout=30,
        what="generation 3 to be observed",
    )
    assert (seen["phase"], seen["attempt"]) == ("Succeeded", 2)
    assert quiet(namespace, "nightly", core_v1)["attempt"] == 2


def test_a_suspended_job_creates_nothing_until_resumed_and_a_running_one_stops(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    lingering = {"driver": {**SMALL_PODS["driver"], "env": {"WORDCOUNT_LINGER_SECONDS": "600"}}}
    apply(namespace, spark_job("held", wordcount_image, suspend=True, kubernetes=lingering))
    held = wait_phase(namespace, "held", "Suspended", timeout=30)
    assert quiet(namespace, "held", core_v1)["phase"] == "Suspended"
    assert held["attempt"] == 1
    kubectl("patch", "sparkjob", "held", "-n", namespace, "--type=merge", "-p", '{"spec":{"suspend":false}}')
    wait_phase(namespace, "held", "Running")
    (driver,) = pods(core_v1, namespace, "held", "driver")
    kubectl("patch", "sparkjob", "held", "-n", namespace, "--type=merge", "-p", '{"spec":{"suspend":true}}')
    stopped = wait_phase(namespace, "held", "Suspended", timeout=30)
    assert stopped["attempt"] == 2
    assert "attempt 1 stopped (its pods deleted)" in stopped["message"]
    wait_until(lambda: not remaining(core_v1, namespace, "held"), timeout=90, what="the stopped attempt's objects")
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=held", "-o", "json")
    assert "Suspended" in {event["reason"] for event in json.loads(events.stdout)["items"]}
    # Resumed, the job runs anew as attempt 2; a retry it is not.
    kubectl(
        "patch",
        "sparkjob",
        "held",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"spec":{"suspend":false,"kubernetes":{"driver":{"env":{"WORDCOUNT_LINGER_SECONDS":"0"}}}}}',
    )
    done = wait_phase(namespace, "held", "Succeeded")
    assert (done["attempt"], done.get("retries", 0)) == (2, 0)
    assert driver.metadata.name not in {p.metadata.name for p in pods(core_v1, namespace, "held", "driver")}
    assert ANSWER in driver_log(core_v1, namespace, "held").splitlines()


def test_suspending_a_databricks_job_cancels_its_run(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    workspace.faults(pending=0.5, running=600.0, terminating=0.2)
    wheel_job(namespace, "etl")
    wait_until(lambda: job_status(namespace, "etl").get("phase") == "Running", timeout=60, what="the run to start")
    kubectl("patch", "sparkjob", "etl", "-n", namespace, "--type=merge", "-p", '{"spec":{"suspend":true}}')
    stopped = wait_until(
        lambda: (s := job_status(namespace, "etl")).get("phase") == "Suspended" and s, timeout=30, what="Suspended"
    )
    assert "its Databricks run cancelled" in stopped["message"]
    (run,) = workspace.runs()
    wait_until(
        lambda: workspace.runs()[0]["state"].get("result_state") == "CANCELED",
        timeout=30,
        what=f"run {run['run_id']} to be cancelled",
    )


def test_queue_and_gang_fields_reach_the_pods_and_the_pod_group(
    core_v1: client.CoreV1Api,
    namespace: str,
    pull_secret: str,
    wordcount_image: str,
    operator_log: object,
    volcano_pod_groups: None,
) -> None:
    # Kueue is not installed: its label is inert, and the job runs to its answer.
    lingering = {"queueName": "team-a", "driver": {**SMALL_PODS["driver"], "env": {"WORDCOUNT_LINGER_SECONDS": "20"}}}
    apply(namespace, spark_job("queued", wordcount_image, kubernetes=lingering))
    executors = wait_until(
        lambda: len(running := pods(core_v1, namespace, "queued", "executor")) == 2 and running,
        timeout=300,
        what="both executors",
    )
    assert {p.metadata.labels.get("kueue.x-k8s.io/queue-name") for p in executors} == {"team-a"}
    (driver,) = pods(core_v1, namespace, "queued", "driver")
    assert driver.metadata.labels["kueue.x-k8s.io/queue-name"] == "team-a"
    wait_phase(namespace, "queued", "Succeeded")
    # Volcano's PodGroup kind is served (no Volcano scheduler runs here, so the driver waits for it).
    gang = {"batchScheduler": {"name": "volcano", "queue": "batch"}}
    apply(namespace, spark_job("gang", wordcount_image, kubernetes=gang))
    wait_phase(namespace, "gang", "Submitted", timeout=60)
    group = wait_until(lambda: pod_groups(namespace, "gang"), timeout=30, what="the attempt's PodGroup")[0]
    assert group["spec"] == {"minMember": 1, "minResources": {"cpu": "600m", "memory": "2688Mi"}, "queue": "batch"}
    (gang_driver,) = pods(core_v1, namespace, "gang", "driver")
    assert gang_driver.spec.scheduler_name == "volcano"
    assert gang_driver.metadata.annotations["scheduling.k8s.io/group-name"] == group["metadata"]["name"]
    kubectl("delete", "sparkjob", "gang", "-n", namespace, "--wait=true", "--timeout=60s")
    wait_until(lambda: not pod_groups(namespace, "gang"), timeout=60, what="the PodGroup to go with its job")


def pod_groups(namespace: str, job: str) -> list[dict[str, Any]]:
    listed = kubectl(
        "get", "podgroups.scheduling.volcano.sh", "-n", namespace, "-l", f"kubricks.dev/sparkjob={job}", "-o", "json"
    )
    return list(json.loads(listed.stdout)["items"])


@pytest.fixture
def volcano_pod_groups() -> Iterator[None]:
    with kinds_served([("scheduling.volcano.sh", "PodGroup", "podgroups", "v1beta1")]):
        yield
