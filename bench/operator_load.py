"""The operator under load on the local platform, each figure beside its reference, in one run:

1. apply → driver pod, one job at a time, beside ``spark-submit --deploy-mode cluster`` for the same job;
2. 100 jobs created back to back by one client: the latency of each;
3. 1,000 jobs from 8 clients: jobs per minute, beside a bare client writing the objects kubricks makes for a job
   (its ConfigMap, Service and driver Pod, from kubricks' own renderer) from 8 threads on the same API server;
   and the writes the API server counted per job, by resource, for each (its own ``apiserver_request_total``:
   the scheduler's writes are in both);
4. a fresh operator's resident memory with 1,000 live jobs (Kubernetes and Databricks targets mixed), per job;
5. a no-op SparkImage reconcile: a spec edit that changes no image, until status shows the generation.

The drivers select a node that does not exist, so they stay Pending: what is measured is the operator (and the
API server beside it), not Spark. Run it with the platform up: ``make bench``.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch
from prometheus_client.parser import text_string_to_metric_families

from kubricks.api.sparkjob import SparkJob
from kubricks.control.caches import shared
from kubricks.k8s.client import apply, create
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import attempt_resources
from tests.databricks_support import TOKEN, emulator
from tests.e2e.conftest import OperatorProcess, install_crds
from tests.e2e.test_sparkimage import prepare, spark_image
from tests.support import platform_env, spark_home, wait_until

GROUP, VERSION = "kubricks.dev", "v1alpha1"
NOWHERE = {"pool": "nowhere"}
IMAGE = "registry.example.com/bench/app@sha256:" + "b" * 64
KUBEFLOW_APPS_PER_MINUTE = "130-155 (kubeflow's published figure, 36 vCPUs)"


def sparkjob(name: str, target: str = "kubernetes") -> dict[str, Any]:
    spec: dict[str, Any] = {"image": {"ref": IMAGE}, "app": {"mainApplicationFile": "local:///opt/app/main.py"}}
    if target == "kubernetes":
        driver = {"cores": 1, "coreRequest": "10m", "memory": "512m", "nodeSelector": NOWHERE}
        spec["kubernetes"] = {"driver": driver, "driverStartTimeoutSeconds": 3600}
    else:
        new = {"sparkVersion": "15.4.x-scala2.12", "nodeTypeId": "Standard_DS3_v2", "numWorkers": 1}
        spec["databricks"] = {"workspace": "bench", "cluster": {"new": new}}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "SparkJob", "metadata": {"name": name}, "spec": spec}


class DriverWatch:
    """When each driver pod of a namespace was first seen, by the job (or bare client's job) it belongs to."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "DriverWatch":
        self._thread.start()
        time.sleep(0.5)  # the watch is open before anything is created
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()

    def _run(self) -> None:
        core = client.CoreV1Api()
        while not self._stop.is_set():
            stream = watch.Watch().stream(
                core.list_namespaced_pod, self.namespace, label_selector="spark-role=driver", timeout_seconds=30
            )
            for event in stream:
                labels = event["object"].metadata.labels or {}
                job = labels.get("kubricks.dev/sparkjob") or labels.get("bench/job", "")
                with self._changed:
                    self.seen.setdefault(job, time.monotonic())
                    self._changed.notify_all()

    def wait_for(self, jobs: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not all(job in self.seen for job in jobs):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    missing = [job for job in jobs if job not in self.seen]
                    raise TimeoutError(f"{len(missing)} driver pods never came, such as {missing[:3]}")
                self._changed.wait(remaining)


@contextmanager
def bench_namespace(core: client.CoreV1Api, prefix: str) -> Iterator[str]:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name)
        # Until its objects are gone: deleting a thousand pods would load the API server under the next figure.
        wait_until(lambda: not namespace_exists(core, name), timeout=600, what=f"namespace {name} to go", interval=2)


def namespace_exists(core: client.CoreV1Api, name: str) -> bool:
    try:
        core.read_namespace(name)
    except client.ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def create_job(namespace: str, manifest: dict[str, Any]) -> None:
    client.CustomObjectsApi().create_namespaced_custom_object(GROUP, VERSION, namespace, "sparkjobs", manifest)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


# --- 1. one job at a time ----------------------------------------------------------------------------------------


def one_at_a_time(namespace: str, drivers: DriverWatch, count: int) -> list[float]:
    latencies = []
    for index in range(count):
        name = f"single-{index}"
        started = time.monotonic()
        create_job(namespace, sparkjob(name))
        drivers.wait_for([name], timeout=30)
        latencies.append(drivers.seen[name] - started)
    return latencies


def spark_submit(namespace: str, drivers: DriverWatch, count: int) -> list[float]:
    """spark-submit in cluster mode, as a user would run it, until its driver pod exists."""
    server = client.Configuration.get_default_copy().host
    latencies = []
    for index in range(count):
        name = f"submit-{index}"
        command = [
            f"{spark_home()}/bin/spark-submit", "--master", f"k8s://{server}", "--deploy-mode", "cluster",
            "--name", name, "--conf", f"spark.kubernetes.namespace={namespace}",
            "--conf", f"spark.kubernetes.container.image={IMAGE}",
            "--conf", "spark.kubernetes.submission.waitAppCompletion=false",
            "--conf", "spark.kubernetes.authenticate.driver.serviceAccountName=kubricks-spark",
            "--conf", f"spark.kubernetes.driver.label.bench/job={name}",
            "--conf", "spark.kubernetes.driver.node.selector.pool=nowhere",
            "--conf", "spark.driver.cores=1", "--conf", "spark.kubernetes.driver.request.cores=10m",
            "local:///opt/app/main.py",
        ]  # fmt: skip
        started = time.monotonic()
        subprocess.run(command, capture_output=True, check=True, env={**os.environ, "SPARK_HOME": spark_home()})
        drivers.wait_for([name], timeout=60)
        latencies.append(drivers.seen[name] - started)
    return latencies


# --- 2. a burst from one client ------------------------------------------------------------------------------------


def burst(namespace: str, drivers: DriverWatch, count: int) -> list[float]:
    names = [f"burst-{index}" for index in range(count)]
    created = {}
    for name in names:
        created[name] = time.monotonic()
        create_job(namespace, sparkjob(name))
    drivers.wait_for(names, timeout=300)
    return [drivers.seen[name] - created[name] for name in names]


# --- 3. a storm from many clients, beside a bare client ------------------------------------------------------------


def from_clients(work: list[str], clients: int, act: Callable[[str], None]) -> float:
    """Runs ``act`` on every item from ``clients`` threads; returns when the first started."""
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(act, work))
    return started


def storm(namespace: str, drivers: DriverWatch, count: int, clients: int) -> float:
    names = [f"storm-{index}" for index in range(count)]
    started = from_clients(names, clients, lambda name: create_job(namespace, sparkjob(name)))
    drivers.wait_for(names, timeout=900)
    return count / ((max(drivers.seen[n] for n in names) - started) / 60)


def bare_objects(namespace: str, name: str) -> list[dict[str, Any]]:
    """The very objects kubricks makes for the job's first attempt, from its own renderer, less the owner
    reference to a SparkJob the bare client never creates: the namespace's RBAC, then ConfigMap, Service, Pod."""
    job = SparkJob.model_validate({**sparkjob(name), "metadata": {"name": name, "namespace": namespace}})
    manifests = attempt_resources(job, Attempt(name, namespace, str(uuid.uuid4()), 1), IMAGE, None)
    for manifest in manifests:
        manifest["metadata"].pop("ownerReferences", None)
    return manifests


def bare_storm(namespace: str, drivers: DriverWatch, count: int, clients: int) -> float:
    """Each job's objects rendered before the clock starts, and the namespace's RBAC applied once, as kubricks
    applies it once per namespace."""
    names = [f"bare-{index}" for index in range(count)]
    objects = {name: bare_objects(namespace, name) for name in names}
    for manifest in filter(shared, objects[names[0]]):
        apply(manifest)
    per_job = {name: [m for m in manifests if not shared(m)] for name, manifests in objects.items()}

    def create_job_objects(name: str) -> None:
        for manifest in per_job[name]:
            create(manifest)

    started = from_clients(names, clients, create_job_objects)
    drivers.wait_for(names, timeout=900)
    return count / ((max(drivers.seen[n] for n in names) - started) / 60)


WRITES = {"POST", "PUT", "PATCH", "APPLY", "DELETE"}


def api_writes() -> dict[str, float]:
    """Writes the API server has answered since it started, by resource (and subresource)."""
    exposed = subprocess.run(["kubectl", "get", "--raw", "/metrics"], capture_output=True, text=True, check=True)
    writes: dict[str, float] = {}
    for family in text_string_to_metric_families(exposed.stdout):
        if family.name != "apiserver_request":
            continue
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "apiserver_request_total" and labels.get("verb") in WRITES:
                resource = labels["resource"] + (f"/{labels['subresource']}" if labels.get("subresource") else "")
                writes[resource] = writes.get(resource, 0.0) + sample.value
    return writes


@contextmanager
def writes_per_job(count: int, into: dict[str, float]) -> Iterator[None]:
    """Fills ``into`` with the writes of what runs inside, per job, by resource; the Lease renewals of the control
    plane and the operator, a handful per second, are left out."""
    before = api_writes()
    yield
    after = api_writes()
    for resource, total in after.items():
        share = (total - before.get(resource, 0.0)) / count
        if resource != "leases" and share >= 0.05:
            into[resource] = share


def writes_row(writes: dict[str, float]) -> str:
    shown = ", ".join(f"{resource} {share:.1f}" for resource, share in sorted(writes.items(), key=lambda w: -w[1]))
    return f"{sum(writes.values()):.1f} ({shown})"


# --- 4. memory with the jobs live ----------------------------------------------------------------------------------


def databricks_jobs(namespace: str, count: int, clients: int) -> None:
    """Jobs whose runs the emulator keeps running: each polled as a live run is."""
    names = [f"dbx-{index}" for index in range(count)]
    from_clients(names, clients, lambda name: create_job(namespace, sparkjob(name, "databricks")))

    def all_running() -> bool:
        listed = client.CustomObjectsApi().list_namespaced_custom_object(GROUP, VERSION, namespace, "sparkjobs")
        phases = [job.get("status", {}).get("phase") for job in listed["items"] if "databricks" in job["spec"]]
        return len(phases) == count and all(phase == "Running" for phase in phases)

    wait_until(all_running, timeout=600, what=f"{count} Databricks jobs to be Running", interval=2)


def workspace(namespace: str, url: str) -> None:
    core = client.CoreV1Api()
    core.create_namespaced_secret(namespace, {"metadata": {"name": "dbx-pat"}, "stringData": {"token": TOKEN}})
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "DatabricksWorkspace",
        "metadata": {"name": "bench"},
        "spec": {"host": url, "auth": {"token": {"secret": "dbx-pat"}}},
    }
    client.CustomObjectsApi().create_namespaced_custom_object(GROUP, VERSION, namespace, "databricksworkspaces", body)

    def connected() -> bool:
        found = client.CustomObjectsApi().get_namespaced_custom_object(
            GROUP, VERSION, namespace, "databricksworkspaces", "bench"
        )
        return found.get("status", {}).get("phase") == "Connected"

    wait_until(connected, timeout=60, what="the bench workspace")


# --- 5. a no-op SparkImage reconcile -------------------------------------------------------------------------------


def no_op_image_reconcile(namespace: str, platform: dict[str, str], repeats: int) -> list[float]:
    """The tests' wordcount SparkImage (built once, or found in the registry): then spec edits that change no
    image, each timed until status shows its generation Ready."""
    prepare(platform, namespace, platform["KUBRICKS_TEST_REGISTRY_PASSWORD"])
    name = "bench-noop"
    subprocess.run(
        ["kubectl", "apply", "-n", namespace, "-f", "-"], input=spark_image(platform, name), text=True, check=True
    )
    api = client.CustomObjectsApi()

    def ready(generation: int) -> bool:
        found = api.get_namespaced_custom_object(GROUP, VERSION, namespace, "sparkimages", name)
        status = found.get("status", {})
        return status.get("observedGeneration") == generation and status.get("phase") == "Ready"

    wait_until(lambda: ready(1), timeout=900, what="the SparkImage to be Ready")
    latencies = []
    for generation in range(2, repeats + 2):
        patch = {"spec": {"build": {"timeoutSeconds": 1800 + generation}}}
        started = time.monotonic()
        api.patch_namespaced_custom_object(GROUP, VERSION, namespace, "sparkimages", name, patch)
        wait_until(lambda g=generation: ready(g), timeout=60, what=f"generation {generation}", interval=0.02)
        latencies.append(time.monotonic() - started)
    return latencies


# --- the run -------------------------------------------------------------------------------------------------------


def report(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(row[0]) for row in rows)
    middle = max(len(row[1]) for row in rows)
    for what, figure, reference in rows:
        print(f"{what:<{width}}  {figure:<{middle}}  {reference}")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def measure(args: argparse.Namespace, platform: dict[str, str], rows: list[tuple[str, str, str]]) -> None:
    install_crds()
    logs = Path(tempfile.mkdtemp(prefix="kubricks-bench-"))
    if args.only != "memory":
        measure_speed_beside_bare(args, OperatorProcess(logs / "speed.log"), rows)
    if args.only != "speed":
        measure_memory(args, platform, OperatorProcess(logs / "memory.log"), rows)
    rows.append(("operator logs", str(logs), ""))


def measure_speed_beside_bare(
    args: argparse.Namespace, operator: OperatorProcess, rows: list[tuple[str, str, str]]
) -> None:
    """The bare client's storm first, on a quiet API server, then kubricks' figures beside it."""
    core = client.CoreV1Api()
    bare_writes: dict[str, float] = {}
    with (
        bench_namespace(core, "bench-bare") as namespace,
        DriverWatch(namespace) as drivers,
        writes_per_job(args.storm, bare_writes),
    ):
        bare_rate = bare_storm(namespace, drivers, args.storm, args.clients)
    measure_speed(args, bare_rate, bare_writes, operator, rows)


def measure_speed(
    args: argparse.Namespace,
    bare_rate: float,
    bare_writes: dict[str, float],
    operator: OperatorProcess,
    rows: list[tuple[str, str, str]],
) -> None:
    core = client.CoreV1Api()
    with bench_namespace(core, "bench") as namespace, DriverWatch(namespace) as drivers:
        operator.start(f"--namespace={namespace}")
        try:
            single = one_at_a_time(namespace, drivers, args.single)
            submitted = spark_submit(namespace, drivers, args.spark_submits)
            p50, submit_p50 = statistics.median(single), statistics.median(submitted)
            rows.append(("apply → driver pod, one at a time (p50)", ms(p50), f"spark-submit {ms(submit_p50)}: "
                         f"{submit_p50 / p50:.0f}x slower"))  # fmt: skip
            latencies = burst(namespace, drivers, args.burst)
            rows.append((f"{args.burst} jobs back to back, p50 / p99", f"{ms(statistics.median(latencies))} / "
                         f"{ms(percentile(latencies, 0.99))}", "target: p99 < 1,000 ms"))  # fmt: skip
            kubricks_writes: dict[str, float] = {}
            with writes_per_job(args.storm, kubricks_writes):
                rate = storm(namespace, drivers, args.storm, args.clients)
            rows.append((f"{args.storm} jobs from {args.clients} clients", f"{rate:,.0f} jobs/min",
                         f"bare client {bare_rate:,.0f} jobs/min: {rate / bare_rate:.2f} of it; "
                         f"kubeflow {KUBEFLOW_APPS_PER_MINUTE}"))  # fmt: skip
            rows.append(("API writes per job, kubricks", writes_row(kubricks_writes), ""))
            rows.append(("API writes per job, bare client", writes_row(bare_writes), ""))
        finally:
            try:
                delete_jobs(namespace)
            finally:
                operator.stop()


def measure_memory(
    args: argparse.Namespace, platform: dict[str, str], operator: OperatorProcess, rows: list[tuple[str, str, str]]
) -> None:
    """A fresh operator, so that its memory holds exactly the live jobs, mixed as the target says."""
    core = client.CoreV1Api()
    kubernetes_jobs = [f"live-{index}" for index in range(args.live_jobs - args.databricks)]
    with bench_namespace(core, "bench-memory") as namespace, DriverWatch(namespace) as drivers, emulator() as fake:
        operator.start(f"--namespace={namespace}")
        try:
            pid = operator.process.pid if operator.process else 0
            idle_rss = rss_mib(pid)
            from_clients(kubernetes_jobs, args.clients, lambda name: create_job(namespace, sparkjob(name)))
            drivers.wait_for(kubernetes_jobs, timeout=900)
            fake.faults(pending=0.5, running=3600.0)
            workspace(namespace, fake.url)
            databricks_jobs(namespace, args.databricks, args.clients)
            time.sleep(10)
            rss = rss_mib(pid)
            rows.append((f"operator RSS, {args.live_jobs:,} live SparkJobs ({args.databricks} on Databricks)",
                         f"{rss:,.0f} MiB", f"idle {idle_rss:,.0f} MiB; {(rss - idle_rss) * 1024 / args.live_jobs:,.0f}"
                         " KiB per job; target < 150 MiB"))  # fmt: skip
            if args.image_reconciles:
                reconciles = no_op_image_reconcile(namespace, platform, args.image_reconciles)
                rows.append(("no-op SparkImage reconcile (p50)", ms(statistics.median(reconciles)), "target < 1 s"))
        finally:
            try:
                delete_jobs(namespace)
            finally:
                operator.stop()


def delete_jobs(namespace: str) -> None:
    """With the operator still running: Databricks jobs hold a finalizer until it cancels their run."""
    api = client.CustomObjectsApi()
    api.delete_collection_namespaced_custom_object(GROUP, VERSION, namespace, "sparkjobs")
    wait_until(
        lambda: not api.list_namespaced_custom_object(GROUP, VERSION, namespace, "sparkjobs")["items"],
        timeout=600,
        what="the SparkJobs to go",
        interval=2,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single", type=int, default=20, help="jobs created one at a time")
    parser.add_argument("--spark-submits", type=int, default=5, help="spark-submit runs beside them")
    parser.add_argument("--burst", type=int, default=100, help="jobs created back to back by one client")
    parser.add_argument("--storm", type=int, default=1000, help="jobs created from --clients clients")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--live-jobs", type=int, default=1000, help="live jobs while the memory is measured")
    parser.add_argument("--databricks", type=int, default=200, help="of which on Databricks")
    parser.add_argument("--image-reconciles", type=int, default=5, help="no-op SparkImage reconciles")
    parser.add_argument("--only", choices=("speed", "memory"), help="measure one half: the speed figures or memory")
    args = parser.parse_args()
    platform = platform_env()
    config.load_kube_config()
    rows: list[tuple[str, str, str]] = []
    try:
        measure(args, platform, rows)
    finally:
        print(f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs")
        report(rows or [("nothing measured", "", "")])


if __name__ == "__main__":
    sys.exit(main())
