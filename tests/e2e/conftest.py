"""The operator as a process (``kubricks run``), resources applied with kubectl."""

import os
import socket
import subprocess
import time
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


@pytest.fixture(scope="session")
def operator_process(platform: dict[str, str], crds: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``kubricks run`` against the test cluster; yields the path of its log."""
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    liveness = f"http://127.0.0.1:{free_port()}/healthz"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(VENV_BIN / "kubricks"), "run", "--standalone", "--all-namespaces", "--liveness", liveness],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )

    def alive() -> bool:
        assert process.poll() is None, f"the operator exited:\n{log.read_text()[-5000:]}"
        try:
            return httpx.get(liveness, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(alive, timeout=60, what="the operator's liveness endpoint")
    yield log
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    print(f"operator log: {log}")


@pytest.fixture
def operator_log(operator_process: Path) -> Iterator[Path]:
    """The operator's log; its tail is printed when the test fails."""
    start = operator_process.stat().st_size
    yield operator_process
    time.sleep(0)
    print(operator_process.read_text()[start:][-5000:])
