"""ScheduledSparkJob end to end: the operator as a process makes a SparkJob every minute, on real pods of the test
cluster and on the emulated workspace; Forbid holds a run back while one is active, an edit of the template reaches
the next run only, suspend stops new runs, and deleting the schedule takes its runs along."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client

from kubricks.scheduling import SCHEDULE_LABEL, SCHEDULED_TIME_ANNOTATION
from tests.databricks_support import EmulatorProcess
from tests.e2e.conftest import apply, kubectl
from tests.e2e.test_sparkjob_databricks import IMAGE
from tests.e2e.test_sparkjob_kubernetes import ANSWER, SPARK_RUN_SECONDS, WORDS, pods, wait_phase
from tests.support import wait_until

EVERY_MINUTE = "*/1 * * * *"
NEXT_MINUTE_SECONDS = 90
"""Long enough for the next minute's run and the operator's step after it."""
UNSCHEDULABLE = {"kubricks.dev/e2e-no-such-node": "true"}
"""A node selector no node matches: a run whose driver has it stays active (Submitted) until it is deleted."""


@pytest.fixture(scope="module", autouse=True)
def scheduled_crd(crds: None) -> None:
    kubectl("wait", "--for=condition=Established", "crd/scheduledsparkjobs.kubricks.dev", "--timeout=60s")


def kubernetes_template(image: str, **driver: Any) -> dict[str, Any]:
    """The wordcount app with a driver and one executor, small enough for the one node."""
    return {
        "image": {"ref": image, "pullSecret": "regcred"},
        "app": {"wheel": {"packageName": "wordcount", "entryPoint": "wordcount"}, "arguments": WORDS},
        "kubernetes": {
            "driver": {"cores": 1, "coreRequest": "200m", "memory": "512m", **driver},
            "executor": {"instances": 1, "cores": 1, "coreRequest": "200m", "memory": "512m"},
        },
    }


def runs(namespace: str, name: str) -> list[dict[str, Any]]:
    """The schedule's SparkJobs, oldest scheduled time first."""
    listed = kubectl("get", "sparkjobs", "-n", namespace, "-l", f"{SCHEDULE_LABEL}={name}", "-o", "json").stdout
    jobs: list[dict[str, Any]] = json.loads(listed)["items"]
    return sorted(jobs, key=lambda job: job["metadata"]["annotations"][SCHEDULED_TIME_ANNOTATION])


def run_names(namespace: str, name: str) -> list[str]:
    return [job["metadata"]["name"] for job in runs(namespace, name)]


def schedule_status(namespace: str, name: str) -> dict[str, Any]:
    result = kubectl("get", "scheduledsparkjob", name, "-n", namespace, "-o", "json", check=False)
    return json.loads(result.stdout).get("status", {}) if result.returncode == 0 else {}


def wait_status(
    namespace: str, name: str, shows: Callable[[dict[str, Any]], bool], what: str, timeout: float = 30
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        status = schedule_status(namespace, name)
        return status if shows(status) else None

    return wait_until(reached, timeout=timeout, what=what, interval=1)


def first_run(namespace: str, name: str, other_than: tuple[str, ...] = ()) -> dict[str, Any]:
    def made() -> dict[str, Any] | None:
        return next((job for job in runs(namespace, name) if job["metadata"]["name"] not in other_than), None)

    return wait_until(made, timeout=NEXT_MINUTE_SECONDS, what=f"a run of {name}", interval=1)


def events(namespace: str, name: str, reason: str) -> list[dict[str, Any]]:
    selector = f"involvedObject.name={name},reason={reason}"
    listed = kubectl("get", "events", "-n", namespace, "--field-selector", selector, "-o", "json").stdout
    return list(json.loads(listed)["items"])


def seconds_into_the_next_minute(seconds: float) -> float:
    return 60 - datetime.now(UTC).second + seconds


def test_runs_on_pods_forbid_holds_back_an_edit_reaches_the_next_run_and_suspend_stops(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    name = "wordcount-every-minute"
    spec = {
        "schedule": EVERY_MINUTE,
        "concurrencyPolicy": "Forbid",
        "successfulRunsHistoryLimit": 1,
        "template": kubernetes_template(wordcount_image, nodeSelector=UNSCHEDULABLE),
    }
    apply(namespace, "ScheduledSparkJob", name, spec)

    # The first run, made from the template as it is now, owned by the schedule.
    first = first_run(namespace, name)
    first_name = first["metadata"]["name"]
    owner = first["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("ScheduledSparkJob", name, True)
    assert first["spec"]["kubernetes"]["driver"]["nodeSelector"] == UNSCHEDULABLE
    status = wait_status(
        namespace, name, lambda s: s.get("lastRun", {}).get("name") == first_name, "lastRun to name the first run"
    )
    assert status["phase"] == "Scheduled"
    assert status["nextRun"] > first["metadata"]["annotations"][SCHEDULED_TIME_ANNOTATION]
    kubectl("wait", "-n", namespace, "--for=condition=Ready", f"scheduledsparkjob/{name}", "--timeout=30s")

    # Its driver cannot be scheduled, so it stays active: Forbid holds the next minute's run back and says so.
    wait_status(
        namespace,
        name,
        lambda s: f"{first_name} is still active" in str(s.get("message")),
        "the next run to be skipped while the first is active",
        timeout=NEXT_MINUTE_SECONDS,
    )
    assert run_names(namespace, name) == [first_name]
    wait_until(lambda: events(namespace, name, "RunSkipped"), timeout=30, what="a RunSkipped Event")

    # An edit of the template: the run already made keeps what it was made from.
    kubectl(
        "patch", "scheduledsparkjob", name, "-n", namespace, "--type=json",
        "-p", '[{"op": "remove", "path": "/spec/template/kubernetes/driver/nodeSelector"}]',
    )  # fmt: skip
    time.sleep(3)
    (unchanged,) = runs(namespace, name)
    assert unchanged["spec"]["kubernetes"]["driver"]["nodeSelector"] == UNSCHEDULABLE

    # Once the active run is gone, the run held back starts at once, from the edited template, and runs for real.
    kubectl("delete", "sparkjob", first_name, "-n", namespace, "--timeout=60s")
    second = first_run(namespace, name, other_than=(first_name,))
    second_name = second["metadata"]["name"]
    assert "nodeSelector" not in second["spec"]["kubernetes"]["driver"]
    assert wait_phase(namespace, second_name, "Succeeded", timeout=SPARK_RUN_SECONDS)["target"] == "kubernetes"
    (driver,) = pods(core_v1, namespace, second_name, "driver")
    assert ANSWER in core_v1.read_namespaced_pod_log(driver.metadata.name, namespace).splitlines()
    assert events(namespace, name, "RunCreated")

    # Suspended, the schedule makes no run, however many minutes pass.
    kubectl("patch", "scheduledsparkjob", name, "-n", namespace, "--type=merge", "-p", '{"spec": {"suspend": true}}')
    suspended = wait_status(namespace, name, lambda s: s.get("phase") == "Suspended", "the schedule to be Suspended")
    assert "nextRun" not in suspended
    made = set(run_names(namespace, name))
    time.sleep(seconds_into_the_next_minute(20))
    assert set(run_names(namespace, name)) <= made, "no run is made while suspended (older ones may be pruned)"
    assert schedule_status(namespace, name)["lastRun"] == suspended["lastRun"]


def test_runs_on_databricks_and_go_with_the_schedule(
    namespace: str, workspace: EmulatorProcess, operator_log: object
) -> None:
    name = "report-every-minute"
    template = {
        "image": {"ref": IMAGE},
        "app": {"wheel": {"packageName": "etl", "entryPoint": "run"}, "arguments": ["--report", "minute"]},
        "databricks": {
            "workspace": "prod",
            "cluster": {"new": {"sparkVersion": "15.4.x-scala2.12", "nodeTypeId": "Standard_DS3_v2", "numWorkers": 1}},
        },
    }
    apply(namespace, "ScheduledSparkJob", name, {"schedule": EVERY_MINUTE, "template": template})

    run = first_run(namespace, name)
    run_name = run["metadata"]["name"]
    done = wait_phase(namespace, run_name, "Succeeded", timeout=60)
    assert done["target"] == "databricks"
    submitted = [r for r in workspace.runs() if r["run_id"] == done["databricks"]["runId"]]
    assert len(submitted) == 1, workspace.runs()
    assert submitted[0]["run_name"] == f"{namespace}/{run_name} (attempt 1)"
    wait_status(namespace, name, lambda s: s.get("lastRun", {}).get("name") in run_names(namespace, name), "a lastRun")

    # Its runs are owned by the schedule: Kubernetes deletes them with it (a run's finalizer cancels nothing here).
    kubectl("delete", "scheduledsparkjob", name, "-n", namespace, "--timeout=60s")
    wait_until(lambda: not run_names(namespace, name), timeout=60, what="the runs to go with their schedule")
