"""Two replicas from the chart, in the cluster: one holds the leader Lease and reconciles, the other stands by.
Killing the leader in the middle of a storm of SparkJobs hands over within 15 s, and every job ends up with
exactly one driver pod of its first attempt: nothing lost, nothing doubled.

The storm's drivers select a node that does not exist, so they stay Pending: what is checked is what the
operator creates, not Spark (which the other e2e tests run for real)."""

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.e2e.conftest import OperatorProcess, kubectl
from tests.support import wait_until

CHART = Path(__file__).resolve().parents[2] / "charts" / "kubricks"
STORM = 40
HANDOVER_LIMIT_SECONDS = 15.0
IMAGE = "registry.example.com/team/etl@sha256:" + "e" * 64


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["helm", *args], capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture
def replicas(namespace: str, operator_image_in_cluster: str, operator_process: OperatorProcess) -> Iterator[str]:
    """The chart installed with its defaults (two replicas, leader election) over the test's namespace, while the
    suite's own operator process is stopped; yields the release name."""
    operator_process.stop()
    release = f"kubricks-{namespace}"
    repository, tag = operator_image_in_cluster.rsplit(":", 1)
    try:
        installed = helm(
            "install", release, str(CHART), "-n", namespace, "--set", "crds.install=false",
            "--set", f"watchNamespaces={{{namespace}}}", "--set", f"image.repository={repository}",
            "--set", f"image.tag={tag}", "--set", "image.pullPolicy=Never", "--wait", "--timeout", "180s",
        )  # fmt: skip
        assert installed.returncode == 0, installed.stderr
        yield release
    finally:
        print_operator_history(namespace, release)
        helm("uninstall", release, "-n", namespace, "--wait")
        operator_process.start()


def operator_pods(namespace: str, release: str) -> list[str]:
    selector = f"app.kubernetes.io/instance={release}"
    listed = kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json", check=False)
    if listed.returncode != 0:
        return []
    return [
        p["metadata"]["name"] for p in json.loads(listed.stdout)["items"] if not p["metadata"].get("deletionTimestamp")
    ]


def print_operator_history(namespace: str, release: str) -> None:
    """What a failed hand-over is read from: each replica's log (and its previous container's, if it restarted),
    the Lease, and the namespace's Events about the operator's pods."""
    for pod in operator_pods(namespace, release):
        for previous in ("--previous=false", "--previous=true"):
            shown = kubectl("logs", "-n", namespace, pod, previous, "--timestamps", check=False)
            if shown.returncode == 0:
                print(f"--- {pod} {previous}\n{shown.stdout}")
    print(kubectl("get", "lease", f"{release}-leader", "-n", namespace, "-o", "yaml", check=False).stdout)
    pods_only = ("--field-selector", "involvedObject.kind=Pod", "--sort-by=.lastTimestamp")
    events = kubectl("get", "events", "-n", namespace, *pods_only, check=False)
    print("\n".join(line for line in events.stdout.splitlines() if release in line or "LAST SEEN" in line))


def lease_holder(namespace: str, release: str) -> str:
    found = kubectl("get", "lease", f"{release}-leader", "-n", namespace, "-o", "json", check=False)
    return json.loads(found.stdout)["spec"].get("holderIdentity", "") if found.returncode == 0 else ""


def storm_job(name: str) -> dict[str, Any]:
    driver = {"cores": 1, "coreRequest": "50m", "memory": "512m", "nodeSelector": {"pool": "nowhere"}}
    return {
        "apiVersion": "kubricks.dev/v1alpha1",
        "kind": "SparkJob",
        "metadata": {"name": name},
        "spec": {
            "image": {"ref": IMAGE},
            "app": {"mainApplicationFile": "local:///opt/app/main.py"},
            "kubernetes": {"driver": driver, "driverStartTimeoutSeconds": 3600},
        },
    }


def test_a_killed_leader_hands_over_mid_storm_with_no_job_lost_or_doubled(
    core_v1: client.CoreV1Api, namespace: str, replicas: str
) -> None:
    pods = operator_pods(namespace, replicas)
    assert len(pods) == 2
    leader = wait_until(lambda: lease_holder(namespace, replicas), timeout=30, what="a leader")
    assert leader in pods
    budget = json.loads(kubectl("get", "pdb", replicas, "-n", namespace, "-o", "json").stdout)
    assert budget["spec"]["minAvailable"] == 1
    # Both Ready: the leader reconciles, the standby can take over; the budget allows one to go.
    wait_until(
        lambda: (
            json.loads(kubectl("get", "pdb", replicas, "-n", namespace, "-o", "json").stdout)
            .get("status", {})
            .get("disruptionsAllowed")
            == 1
        ),
        timeout=60,
        what="the PodDisruptionBudget to allow one disruption",
    )

    first, second = [f"storm-{i:02d}" for i in range(STORM // 2)], [f"storm-{i:02d}" for i in range(STORM // 2, STORM)]
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all([storm_job(n) for n in first]))
    # Mid-storm: some jobs are submitted, some not yet.
    wait_until(lambda: len(driver_pods(core_v1, namespace)) >= 5, timeout=60, what="the storm to be under way")
    killed_at = time.monotonic()
    kubectl("delete", "pod", leader, "-n", namespace, "--grace-period=0", "--force", "--wait=false")
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all([storm_job(n) for n in second]))

    # The standby and the leader's replacement race for the expired Lease on equal terms: either may win.
    def successor() -> str:
        holder = lease_holder(namespace, replicas)
        return holder if holder != leader else ""

    def reconciles_again() -> bool:
        labels = {p.metadata.labels["kubricks.dev/sparkjob"] for p in driver_pods(core_v1, namespace)}
        return bool(labels & set(second))

    new_leader = wait_until(successor, timeout=60, what="another replica to lead", interval=0.2)
    leads_after = time.monotonic() - killed_at
    assert new_leader in operator_pods(namespace, replicas)
    # Handed over means reconciling: a job created after the kill has its driver pod.
    wait_until(reconciles_again, timeout=120, what="the new leader to submit a job created after the kill")
    handover = time.monotonic() - killed_at
    print(f"after the kill: another replica led in {leads_after:.1f}s and reconciled in {handover:.1f}s")
    assert handover < HANDOVER_LIMIT_SECONDS

    def all_submitted() -> bool:
        listed = json.loads(kubectl("get", "sparkjobs", "-n", namespace, "-o", "json").stdout)["items"]
        return len(listed) == STORM and all(j.get("status", {}).get("phase") == "Submitted" for j in listed)

    wait_until(all_submitted, timeout=120, what=f"all {STORM} jobs to be Submitted by the new leader", interval=1)
    jobs = json.loads(kubectl("get", "sparkjobs", "-n", namespace, "-o", "json").stdout)["items"]
    assert {j["metadata"]["name"]: j["status"]["attempt"] for j in jobs} == {n: 1 for n in first + second}
    drivers = driver_pods(core_v1, namespace)
    assert sorted(p.metadata.labels["kubricks.dev/sparkjob"] for p in drivers) == sorted(first + second)
    expected = {j["metadata"]["name"]: j["status"]["kubernetes"]["driverPod"] for j in jobs}
    assert {p.metadata.labels["kubricks.dev/sparkjob"]: p.metadata.name for p in drivers} == expected


def driver_pods(core_v1: client.CoreV1Api, namespace: str) -> list[client.V1Pod]:
    return list(core_v1.list_namespaced_pod(namespace, label_selector="spark-role=driver").items)
