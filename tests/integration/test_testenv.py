"""hack/testenv itself: idempotent `up`, complete `env`, and failures that say how to fix them."""

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.support import PLATFORM_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
TESTENV = ROOT / "hack" / "testenv"


def run_testenv(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TESTENV), *args], capture_output=True, text=True, env=env, timeout=600, check=False)


def state_dir() -> Path:
    default = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "kubricks-testenv"
    return Path(os.environ.get("KUBRICKS_STATE_DIR", default))


def test_env_exports_everything_the_tests_use(platform: dict[str, str]) -> None:
    result = run_testenv("env")
    assert result.returncode == 0, result.stderr
    exported = {line.split("=", 1)[0].removeprefix("export ") for line in result.stdout.splitlines()}
    assert set(PLATFORM_VARIABLES) | {"PATH", "DOCKER_CONFIG"} <= exported
    assert f"export KUBRICKS_TEST_REGISTRY_PASSWORD='{platform['KUBRICKS_TEST_REGISTRY_PASSWORD']}'" in result.stdout


def kind_node_container(docker_api: docker.APIClient) -> str:
    (node,) = docker_api.containers(filters={"label": "io.x-k8s.kind.cluster=kubricks"})
    return str(node["Id"])


def test_second_up_keeps_the_running_processes_and_the_cluster(
    platform: dict[str, str], docker_api: docker.APIClient
) -> None:
    run_dir = state_dir() / "run"
    before = {pid.name: pid.read_text() for pid in run_dir.glob("*.pid")}
    assert {"dockerd.pid", "registry.pid", "kwok.pid"} <= before.keys()
    node = kind_node_container(docker_api)
    result = run_testenv("up")
    assert result.returncode == 0, result.stderr
    assert {pid.name: pid.read_text() for pid in run_dir.glob("*.pid")} == before
    assert kind_node_container(docker_api) == node


def test_status_reports_every_part_up(platform: dict[str, str]) -> None:
    lines = run_testenv("status").stdout.splitlines()
    parts = {line.split()[0]: line.split()[1] for line in lines}
    assert parts == {
        "docker": "up",
        "registry": "up",
        "base-image": "up",
        "gpu-base": "up",
        "kind": "up",
        "kwok": "up",
        "helm": "built",
    }


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_taken_port_is_reported_with_the_fix(platform: dict[str, str], tmp_path: Path, taken_port: int) -> None:
    env = {
        **os.environ,
        "KUBRICKS_STATE_DIR": str(tmp_path),
        "KUBRICKS_TESTENV_REGISTRY_PORT": str(taken_port),
    }
    result = run_testenv("up", env=env)
    assert result.returncode == 1
    assert f"error: port {taken_port}, needed by registry, is taken by another program" in result.stderr
    assert "KUBRICKS_TESTENV_REGISTRY_PORT" in result.stderr
    assert "Traceback" not in result.stderr
