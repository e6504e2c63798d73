"""``kubricks dev up``: a second kind cluster with its own registry and the operator installed from the chart,
from the image images/operator/Dockerfile builds; a SparkJob runs there to Succeeded, the operator's metrics
are scraped through its Service, the Databricks emulator answers; ``dev down`` removes it all."""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import sample
from tests.e2e.test_sparkjob_kubernetes import ANSWER, spark_job
from tests.support import VENV_BIN, wait_until

NAME = "kubricks-e2e-dev"
REGISTRY_PORT = "5099"
CONTEXT = f"kind-{NAME}"
ROOT = Path(__file__).resolve().parents[2]
# registry:2 cannot be pulled everywhere; this is the same distribution registry, from Debian.
REGISTRY_DOCKERFILE = """
ARG BASE
FROM ${BASE}
RUN apt-get update && apt-get install -y --no-install-recommends docker-registry && rm -rf /var/lib/apt/lists/*
RUN printf 'version: 0.1\\nstorage: {filesystem: {rootdirectory: /var/lib/registry}}\\nhttp: {addr: ":5000"}\\n' \
      > /etc/docker/registry/config.yml
CMD ["docker-registry", "serve", "/etc/docker/registry/config.yml"]
"""


def run(*args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 1200) -> str:
    result = subprocess.run(args, input=stdin, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(args[:4])}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def dev_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Its own kubeconfig: kind switches the current context, which must not touch the platform's."""
    return {**os.environ, "KUBECONFIG": str(tmp_path_factory.mktemp("dev") / "kubeconfig")}


@pytest.fixture(scope="module")
def registry_image(platform: dict[str, str], tmp_path_factory: pytest.TempPathFactory, dev_env: dict[str, str]) -> str:
    context = tmp_path_factory.mktemp("registry-image")
    (context / "Dockerfile").write_text(REGISTRY_DOCKERFILE)
    tag = "kubricks.local/registry:debian"
    run("docker", "build", "-q", "--build-arg", f"BASE={platform['KUBRICKS_TEST_BASE_IMAGE']}", "-t", tag,
        str(context), env=dev_env)  # fmt: skip
    return tag


@pytest.fixture(scope="module")
def dev_cluster(platform: dict[str, str], registry_image: str, dev_env: dict[str, str]) -> Iterator[str]:
    """``kubricks dev up`` from the platform's node image; its output."""
    node_image = run("docker", "inspect", "--format", "{{.Config.Image}}", "kubricks-control-plane", env=dev_env)
    up = [
        str(VENV_BIN / "kubricks"), "dev", "up", "--name", NAME, "--node-image", node_image.strip(),
        "--registry-image", registry_image, "--registry-port", REGISTRY_PORT,
        "--base-image", platform["KUBRICKS_TEST_BASE_IMAGE"], "--ca-bundle", platform["KUBRICKS_TEST_CA_BUNDLE"],
        "--source", str(ROOT), "--databricks-emulator",
    ]  # fmt: skip
    try:
        yield run(*up, env=dev_env)
    finally:
        print(
            run(
                str(VENV_BIN / "kubricks"), "dev", "down", "--name", NAME, "--registry-port", REGISTRY_PORT, env=dev_env
            )
        )
    assert NAME not in run("kind", "get", "clusters", env=dev_env).split()
    assert f"{NAME}-registry" not in run("docker", "ps", "-a", "--format", "{{.Names}}", env=dev_env).split()


def kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return run("kubectl", "--context", CONTEXT, *args, env=env, stdin=stdin)


def pushed_to_dev_registry(image: str, env: dict[str, str]) -> str:
    """The wordcount image copied into the dev cluster's registry, by digest."""
    run("docker", "pull", image, env=env)
    local = f"localhost:{REGISTRY_PORT}/wordcount:e2e"
    run("docker", "tag", image, local, env=env)
    run("docker", "push", local, env=env)
    digests = json.loads(run("docker", "inspect", "--format", "{{json .RepoDigests}}", local, env=env))
    return next(d for d in digests if d.startswith(f"localhost:{REGISTRY_PORT}/"))


def resource(env: dict[str, str], kind: str, namespace: str, name: str) -> dict[str, Any]:
    return dict(json.loads(kubectl(env, "get", kind, name, "-n", namespace, "-o", "json")))


def test_dev_up_runs_a_spark_job_with_the_operator_from_the_chart(
    dev_cluster: str, wordcount_image: str, dev_env: dict[str, str]
) -> None:
    assert f"kubectl --context {CONTEXT}" in dev_cluster
    status = run(str(VENV_BIN / "kubricks"), "dev", "status", "--name", NAME, "--registry-port", REGISTRY_PORT,
                 env=dev_env)  # fmt: skip
    assert [line.split()[:2] for line in status.splitlines()] == [
        ["cluster", "up"],
        ["registry", "up"],
        ["operator", "up"],
    ]

    image = pushed_to_dev_registry(wordcount_image, dev_env)
    kubectl(dev_env, "create", "namespace", "demo")
    job = yaml.safe_load(spark_job("wordcount", image))
    del job["spec"]["image"]["pullSecret"]
    kubectl(dev_env, "apply", "-n", "demo", "-f", "-", stdin=yaml.safe_dump(job))

    def finished() -> dict[str, Any] | None:
        found = resource(dev_env, "sparkjob", "demo", "wordcount").get("status", {})
        return found if found.get("phase") in ("Succeeded", "Failed") else None

    ended = wait_until(finished, timeout=300, what="the SparkJob in the dev cluster to end", interval=1)
    assert ended["phase"] == "Succeeded", ended
    assert ANSWER in kubectl(dev_env, "logs", "-n", "demo", ended["kubernetes"]["driverPod"]).splitlines()

    metrics = kubectl(
        dev_env, "get", "--raw", "/api/v1/namespaces/kubricks-system/services/kubricks-metrics:8081/proxy/metrics"
    )
    assert sample(metrics, "kubricks_sparkjobs", phase="Succeeded", target="kubernetes") == 1


def test_the_emulator_in_the_dev_cluster_is_a_workspace_the_operator_connects_to(
    dev_cluster: str, dev_env: dict[str, str]
) -> None:
    token = kubectl(dev_env, "get", "secret", "databricks-emulator-token", "-n", "kubricks-system",
                    "-o", "jsonpath={.data.token}")  # fmt: skip
    kubectl(dev_env, "create", "namespace", "dbx")
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dbx-pat"}, "data": {"token": token}}
    workspace = {
        "apiVersion": "kubricks.dev/v1alpha1",
        "kind": "DatabricksWorkspace",
        "metadata": {"name": "emulated"},
        "spec": {
            "host": "http://databricks-emulator.kubricks-system.svc:8765",
            "auth": {"token": {"secret": "dbx-pat"}},
        },
    }
    kubectl(dev_env, "apply", "-n", "dbx", "-f", "-", stdin=yaml.safe_dump_all([secret, workspace]))

    def connected() -> dict[str, Any] | None:
        found = resource(dev_env, "databricksworkspace", "dbx", "emulated").get("status", {})
        return found if found.get("phase") == "Connected" else None

    assert wait_until(connected, timeout=120, what="the workspace to connect", interval=1)["containerServicesEnabled"]
