"""The operator as a process (``kubricks run``), resources applied with kubectl."""

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import VENV_BIN, wait_until

ROOT = Path(__file__).resolve().parents[2]


def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, check=False, timeout=660)
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def crds(platform: dict[str, str]) -> None:
    rendered = subprocess.run([str(VENV_BIN / "kubricks"), "crds"], capture_output=True, text=True, check=True)
    kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=rendered.stdout)
    for name in ("sparkimages", "sparkjobs", "databricksworkspaces", "databricksclusters"):
        kubectl("wait", "--for=condition=Established", f"crd/{name}.kubricks.dev", "--timeout=60s")


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
