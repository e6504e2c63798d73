"""What each request a job makes costs the API server (and etcd), measured on the local platform's quiet cluster.

The throughput of kubricks beside a bare client (``bench/operator_load.py``) is bounded by the API server: on a
small machine it is the busiest process of the storm. This prints, for every kind of request one job costs, the
CPU the kube-apiserver and etcd processes spent per request (from ``/proc``, while ``--requests`` of them run from
``--clients`` threads), and then the sums per job: what kubricks' requests cost beside the bare client's three
creates. Every object is the one kubricks makes: the ConfigMap, Service and Pod from its renderer, the status
from its state machine, the Event as it posts it. The run needs the platform up (``make bench-api``).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kopf
from bench.operator_load import bare_objects, bench_namespace, sparkjob
from kubernetes import client, config

from kubricks.api.crd import GROUP, VERSION, plural
from kubricks.api.sparkjob import SparkJob
from kubricks.control.caches import shared
from kubricks.control.options import OperatorOptions
from kubricks.handlers.sparkjob import observe_kubernetes
from kubricks.k8s.client import apply, create, create_custom_object, create_event, patch_status, read_json
from kubricks.spark import state
from kubricks.spark.admission import PodSecurity
from tests.e2e.conftest import install_crds
from tests.support import platform_env

PLURAL = plural(SparkJob)
SERVER_PROCESSES = ("kube-apiserver", "etcd")


@dataclass(frozen=True)
class Cost:
    what: str
    per_second: float
    cpu_ms: dict[str, float]
    """CPU milliseconds per request, by process."""


def server_pids(node: str) -> dict[str, int]:
    """The host's process ids of the API server and etcd, which run inside the kind node's container (named as
    its node)."""
    listed = subprocess.run(
        ["docker", "top", node, "-eo", "pid,comm"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[1:]
    found = {comm: int(pid) for pid, comm in (line.split(None, 1) for line in listed) if comm in SERVER_PROCESSES}
    if set(found) != set(SERVER_PROCESSES):
        raise RuntimeError(f"the node {node} runs {sorted(found)}, not {list(SERVER_PROCESSES)}")
    return found


def cpu_seconds(pid: int) -> float:
    """User and system time of a process (``/proc/<pid>/stat``, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(what: str, pids: dict[str, int], clients: int, requests: list[Callable[[], None]]) -> Cost:
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda request: request(), requests))
    elapsed = time.monotonic() - started
    spent = {name: (cpu_seconds(pid) - before[name]) * 1000 / len(requests) for name, pid in pids.items()}
    return Cost(what, len(requests) / elapsed, spent)


def submitted_status(namespace: str, name: str) -> dict[str, Any]:
    """The status kubricks writes when it has created a job's first attempt, from its own state machine."""
    body = {**sparkjob(name), "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid4())}}
    observation = observe_kubernetes(kopf.Body(body), {}, {}, PodSecurity(namespace), OperatorOptions())
    return state.decide(observation).status


def get(path: str) -> None:
    read_json(path)


def involved(namespace: str, name: str) -> dict[str, Any]:
    metadata = {"name": name, "namespace": namespace, "uid": str(uuid.uuid4())}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "SparkJob", "metadata": metadata}


def costs(namespace: str, pids: dict[str, int], count: int, clients: int, round_: int) -> list[Cost]:
    names = [f"cost-{round_}-{index}" for index in range(count)]
    objects = {name: [m for m in bare_objects(namespace, name) if not shared(m)] for name in names}
    status = {name: submitted_status(namespace, name) for name in names}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"
    creates = [
        measure(
            f"{kind} create",
            pids,
            clients,
            [lambda m=m: create(m) for manifests in objects.values() for m in manifests if m["kind"] == kind],
        )
        for kind in ("ConfigMap", "Service", "Pod")
    ]
    return [
        *creates,
        measure(
            "SparkJob create",
            pids,
            clients,
            [lambda n=n: create_custom_object(PLURAL, namespace, sparkjob(n)) for n in names],
        ),
        measure(
            "SparkJob status patch",
            pids,
            clients,
            [lambda n=n: patch_status(PLURAL, namespace, n, status[n]) for n in names],
        ),
        measure("SparkJob get", pids, clients, [lambda n=n: get(f"{path}/{n}") for n in names]),
        measure(
            "Event create",
            pids,
            clients,
            [lambda n=n: create_event(involved(namespace, n), "Normal", "Submitted", "created", now) for n in names],
        ),
    ]


def median(rounds: list[list[Cost]]) -> list[Cost]:
    """Each request's median over the rounds: a small machine's figures vary by half from one round to the next."""
    return [
        Cost(
            same[0].what,
            statistics.median(cost.per_second for cost in same),
            {process: statistics.median(cost.cpu_ms[process] for cost in same) for process in SERVER_PROCESSES},
        )
        for same in zip(*rounds, strict=True)
    ]


def per_job(costs_by_request: dict[str, Cost], requests: tuple[str, ...]) -> dict[str, float]:
    return {
        process: sum(costs_by_request[request].cpu_ms[process] for request in requests) for process in SERVER_PROCESSES
    }


BARE_JOB = ("ConfigMap create", "Service create", "Pod create")
KUBRICKS_JOB = (*BARE_JOB, "SparkJob create", "SparkJob status patch", "Event create")


def report(measured: list[Cost]) -> None:
    print(f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs; CPU per request (median of the rounds)")
    width = max(len(cost.what) for cost in measured)
    for cost in measured:
        spent = "  ".join(f"{process} {ms:5.2f} ms" for process, ms in cost.cpu_ms.items())
        print(f"{cost.what:<{width}}  {cost.per_second:5.0f}/s  {spent}")
    by_request = {cost.what: cost for cost in measured}
    bare, kubricks = per_job(by_request, BARE_JOB), per_job(by_request, KUBRICKS_JOB)
    print(f"\nper job, API server + etcd: bare client {sum(bare.values()):.1f} ms ({' + '.join(BARE_JOB)}); kubricks "
          f"{sum(kubricks.values()):.1f} ms (those + the user's SparkJob create, one status patch, one Event): "
          f"the bare client's rate is at most {sum(kubricks.values()) / sum(bare.values()):.1f}x kubricks' "
          "on an API server that is the bottleneck")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every request; each figure is the median")
    args = parser.parse_args()
    platform_env()
    config.load_kube_config()
    install_crds()
    core = client.CoreV1Api()
    control_plane = core.list_node(label_selector="node-role.kubernetes.io/control-plane").items[0].metadata.name
    pids = server_pids(control_plane)
    with bench_namespace(core, "bench-costs") as namespace:
        for manifest in filter(shared, bare_objects(namespace, "rbac")):
            apply(manifest)
        report(median([costs(namespace, pids, args.requests, args.clients, r) for r in range(args.rounds)]))


if __name__ == "__main__":
    sys.exit(main())
