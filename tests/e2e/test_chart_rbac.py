"""The operator runs with nothing but the chart's RBAC: the e2e flow passes, and a request outside it is refused."""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from tests.e2e.conftest import OperatorProcess, kubectl
from tests.e2e.test_sparkjob_kubernetes import spark_job, wait_phase

CHART = Path(__file__).resolve().parents[2] / "charts" / "kubricks"


def chart_rbac(release: str, namespace: str) -> list[dict[str, object]]:
    """The ServiceAccount and RBAC objects of the chart, watching only ``namespace``."""
    rendered = subprocess.run(
        ["helm", "template", release, str(CHART), "-n", namespace,
         "--set", "crds.install=false", "--set", f"watchNamespaces={{{namespace}}}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    kinds = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    return [doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] in kinds]


@pytest.fixture
def chart_kubeconfig(
    api_client: client.ApiClient, core_v1: client.CoreV1Api, namespace: str, tmp_path: Path
) -> Iterator[str]:
    """A kubeconfig holding a token of the chart's ServiceAccount, and nothing more."""
    release = f"kubricks-{namespace}"
    objects = chart_rbac(release, namespace)
    kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump_all(objects))
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
    token = core_v1.create_namespaced_service_account_token(release, namespace, request).status.token
    config = api_client.configuration
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": config.host, "certificate-authority": config.ssl_ca_cert}}
                ],
                "users": [{"name": "operator", "user": {"token": token}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "operator", "namespace": namespace}}],
                "current-context": "c",
            }
        )
    )
    yield str(kubeconfig)
    for obj in objects:
        if obj["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            kubectl("delete", str(obj["kind"]).lower(), obj["metadata"]["name"], check=False)  # type: ignore[index]


def test_the_operator_needs_no_more_than_the_charts_rbac(
    namespace: str,
    pull_secret: str,
    wordcount_image: str,
    operator_process: OperatorProcess,
    chart_kubeconfig: str,
    operator_log: object,
) -> None:
    operator_process.stop()
    try:
        default = f"--default-pull-secret={pull_secret}"
        operator_process.start(f"--namespace={namespace}", default, kubeconfig=chart_kubeconfig)
        job = yaml.safe_load(spark_job("least-privilege", wordcount_image))
        del job["spec"]["image"]["pullSecret"]  # pulls with the namespace's default pull Secret
        kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(job))
        assert wait_phase(namespace, "least-privilege", "Succeeded")["attempt"] == 1
    finally:
        operator_process.stop()
        operator_process.start()

    def can_i(*args: str) -> str:
        result = subprocess.run(
            ["kubectl", "--kubeconfig", chart_kubeconfig, "auth", "can-i", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip()

    assert can_i("create", "pods", "-n", namespace) == "yes"
    assert can_i("create", "sparkjobs", "-n", namespace) == "yes", "ScheduledSparkJobs make their runs"
    assert can_i("watch", "scheduledsparkjobs", "-n", namespace) == "yes"
    assert can_i("patch", "scheduledsparkjobs", "--subresource=status", "-n", namespace) == "yes"
    assert can_i("list", "secrets", "-n", namespace) == "no", "it reads the Secrets it is told of, by name"
    assert can_i("create", "secrets", "-n", namespace) == "no", "it copies no Secret anywhere"
    assert can_i("get", "pods", "-n", "kube-system") == "no", "nothing outside the watched namespace"
    assert can_i("create", "deployments", "-n", namespace) == "no"
    refused = subprocess.run(
        ["kubectl", "--kubeconfig", chart_kubeconfig, "get", "secrets", "-n", "kube-system"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "forbidden" in refused.stderr.lower()
