"""The operator as a process (``kubricks run``), resources applied with kubectl."""

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.databricks_support import TOKEN, EmulatorProcess, emulator
from tests.support import VENV_BIN, wait_until

ROOT = Path(__file__).resolve().parents[2]


def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, check=False, timeout=660)
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def open_crd(group: str, kind: str, plural: str, version: str) -> dict[str, Any]:
    """A CustomResourceDefinition whose schema keeps whatever it is sent."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            # The Gateway API's group is one of Kubernetes' own, which needs the approval its real CRDs carry.
            "annotations": {"api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/1538"},
        },
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }


@contextlib.contextmanager
def kinds_served(kinds: list[tuple[str, str, str, str]]) -> Iterator[None]:
    """Kinds of other projects ((group, kind, plural, version)) served with open schemas where the cluster does not
    have them yet, and removed after: the API server stores what kubricks sends; no controller acts on it."""
    existing = kubectl("get", "crd", "-o", "name").stdout.split()
    added = [
        crd
        for crd in (open_crd(*kind) for kind in kinds)
        if f"customresourcedefinition.apiextensions.k8s.io/{crd['metadata']['name']}" not in existing
    ]
    if added:
        kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(added))
        for crd in added:
            kubectl("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}", "--timeout=60s")
    try:
        yield
    finally:
        for crd in added:
            kubectl("delete", "crd", crd["metadata"]["name"], "--wait=false")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def install_crds() -> None:
    """The CRDs of this checkout, applied and established."""
    rendered = subprocess.run([str(VENV_BIN / "kubricks"), "crds"], capture_output=True, text=True, check=True)
    kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=rendered.stdout)
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", "-", stdin=rendered.stdout)


@pytest.fixture(scope="session")
def crds(platform: dict[str, str]) -> None:
    install_crds()


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in a /metrics text (0 when it is not there)."""
    for family in text_string_to_metric_families(metrics):
        for metric in family.samples:
            if metric.name == name and all(metric.labels.get(k) == v for k, v in labels.items()):
                return float(metric.value)
    return 0.0


class OperatorProcess:
    """``kubricks run`` against the test cluster, as a process that tests may stop and start again."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.metrics_url = ""

    def start(self, *scope: str, kubeconfig: str | None = None) -> None:
        """Starts ``kubricks run``, over every namespace unless ``scope`` gives --namespace options."""
        liveness = f"http://127.0.0.1:{free_port()}/healthz"
        metrics_port = free_port()
        self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        command = [str(VENV_BIN / "kubricks"), "run", "--standalone", "--liveness", liveness]
        command += [*(scope or ["--all-namespaces"]), "--metrics-port", str(metrics_port)]
        env = {**os.environ, **({"KUBECONFIG": kubeconfig} if kubeconfig else {})}
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Settled Databricks clusters are polled every minute; tests cannot wait that long.
                env={**env, "KUBRICKS_CLUSTER_POLL_SECONDS": "3"},
            )
        process = self.process

        def alive() -> bool:
            assert process.poll() is None, f"the operator exited:\n{self.log.read_text()[-5000:]}"
            try:
                return httpx.get(liveness, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(alive, timeout=60, what="the operator's liveness endpoint")

    def metrics(self) -> str:
        return httpx.get(self.metrics_url, timeout=5).text

    def sample(self, name: str, **labels: str) -> float:
        """The value of one sample of /metrics now (0 when the operator has not emitted it yet)."""
        return sample(self.metrics(), name, **labels)

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


# Package scope: the operator stops with the e2e suite, so it never reconciles what other suites create.
@pytest.fixture(scope="package")
def operator_process(
    platform: dict[str, str], crds: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    operator = OperatorProcess(tmp_path_factory.mktemp("operator") / "operator.log")
    operator.start()
    yield operator
    operator.stop()
    print(f"operator log: {operator.log}")


@pytest.fixture
def operator_log(operator_process: OperatorProcess) -> Iterator[Path]:
    """The operator's log; what it wrote during the test is printed (shown when the test fails)."""
    start = operator_process.log.stat().st_size
    yield operator_process.log
    print(operator_process.log.read_text()[start:][-5000:])


def apply(namespace: str, kind: str, name: str, spec: dict[str, Any]) -> None:
    """Applies a kubricks resource of ``kind`` with ``spec``."""
    manifest = {"apiVersion": "kubricks.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec}
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest))


@pytest.fixture
def workspace(namespace: str) -> Iterator[EmulatorProcess]:
    """An emulated workspace with a DatabricksWorkspace ``prod`` pointing at it, Connected."""
    with emulator() as fake:
        fake.faults(pending=1.0, running=2.0, terminating=0.2)
        kubectl("create", "secret", "generic", "dbx-pat", "-n", namespace, f"--from-literal=token={TOKEN}")
        apply(namespace, "DatabricksWorkspace", "prod", {"host": fake.url, "auth": {"token": {"secret": "dbx-pat"}}})
        kubectl("wait", "-n", namespace, "--for=condition=Ready", "databricksworkspace/prod", "--timeout=60s")
        yield fake
