"""The Helm chart: lint, rendering accepted by the API server for every documented combination, and a real
install, upgrade and uninstall on the test cluster."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "kubricks"
COMBINATIONS = {
    "defaults": [],
    "namespaced": ["--set", "watchNamespaces={team-a,team-b}"],
    "docker-host": ["--set", "builder.dockerHost=tcp://docker.build.svc:2375"],
    "dind": ["--set", "builder.dind.enabled=true"],
    "registry": ["--set", "registry.enabled=true"],
    "service-monitor-off-metrics": ["--set", "metrics.enabled=false"],
    "no-crds": ["--set", "crds.install=false"],
    "default-pull-secret": ["--set", "defaultPullSecret=regcred"],
    "policy": [
        "--set",
        "policy.defaultPodSecurityLevel=baseline",
        "--set",
        "policy.serviceAccounts={etl-runner,reporter}",
        "--set",
        "policy.tolerations={nvidia.com/gpu}",
        "--set",
        "policy.allowTolerateAll=true",
        "--set",
        "policy.annotations={example.com/}",
        "--set",
        "policy.uiHosts={*.spark.example.com}",
        "--set",
        "policy.uiServiceTypes={ClusterIP,LoadBalancer}",
    ],
    "databricks-allowed-hosts": [
        "--set",
        "databricks.allowedHosts={*.cloud.databricks.com,adb-1.2.azuredatabricks.net}",
    ],
}


def run(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, timeout=300)


def test_lint_is_clean(platform: dict[str, str]) -> None:
    result = run("helm", "lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values", COMBINATIONS.values(), ids=COMBINATIONS.keys())
def test_rendering_is_accepted_by_the_api_server(platform: dict[str, str], namespace: str, values: list[str]) -> None:
    # No --kube-version: offline rendering must work as with an official helm (Argo CD renders this way).
    rendered = run("helm", "template", "kubricks", str(CHART), "-n", namespace, *values)
    assert rendered.returncode == 0, rendered.stderr
    for needed in ("team-a", "team-b"):
        run("kubectl", "create", "namespace", needed)
    applied = run(
        "kubectl",
        "apply",
        "--server-side",
        "--dry-run=server",
        "--force-conflicts",
        "-f",
        "-",
        stdin=rendered.stdout,
    )
    assert applied.returncode == 0, applied.stderr


def test_values_are_validated_by_the_schema(platform: dict[str, str]) -> None:
    result = run("helm", "template", "kubricks", str(CHART), "--set", "builder.dockerHost=localhost")
    assert result.returncode != 0
    assert "/builder/dockerHost" in result.stderr


@pytest.mark.parametrize(
    ("hosts", "rendered_args"),
    [
        ("{*.cloud.databricks.com,adb-1.2.azuredatabricks.net}",
         ["--databricks-allowed-host=*.cloud.databricks.com", "--databricks-allowed-host=adb-1.2.azuredatabricks.net"]),
        ("{https://adb-1.2.azuredatabricks.net}", None),
        ("{*.example.com/path}", None),
    ],
    ids=["patterns", "url-refused", "path-refused"],
)  # fmt: skip
def test_databricks_allowed_hosts_become_operator_options(
    platform: dict[str, str], hosts: str, rendered_args: list[str] | None
) -> None:
    result = run("helm", "template", "kubricks", str(CHART), "--set", f"databricks.allowedHosts={hosts}")
    if rendered_args is None:
        assert result.returncode != 0
        assert "/databricks/allowedHosts/0" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    for arg in rendered_args:
        assert f"- {arg}" in result.stdout


def rendered_documents(*values: str) -> list[dict[str, Any]]:
    result = run("helm", "template", "kubricks", str(CHART), *values)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.mark.parametrize(
    ("values", "options"),
    [
        ([], ["--default-pod-security-level=restricted", "--allowed-ui-service-type=ClusterIP"]),
        (
            COMBINATIONS["policy"],
            [
                "--default-pod-security-level=baseline",
                "--allowed-service-account=etl-runner",
                "--allowed-service-account=reporter",
                "--allowed-toleration-key=nvidia.com/gpu",
                "--allow-tolerate-all",
                "--allowed-annotation-prefix=example.com/",
                "--allowed-ui-host=*.spark.example.com",
                "--allowed-ui-service-type=ClusterIP",
                "--allowed-ui-service-type=LoadBalancer",
            ],
        ),
    ],
    ids=["defaults", "every-policy-value"],
)
def test_policy_values_become_the_operators_options(
    platform: dict[str, str], values: list[str], options: list[str]
) -> None:
    (deployment,) = [d for d in rendered_documents(*values) if d["kind"] == "Deployment"]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert [a for a in args if a.startswith(("--default-pod-security-level", "--allowed-", "--allow-"))] == options


def test_a_namespaced_operator_may_read_exactly_its_namespaces_labels(platform: dict[str, str]) -> None:
    """The Pod Security label of each watched namespace, and nothing of any other namespace."""
    documents = rendered_documents("--set", "watchNamespaces={team-a,team-b}")
    (discovery,) = [d for d in documents if d["kind"] == "ClusterRole"]
    assert [r for r in discovery["rules"] if "namespaces" in r["resources"]] == [
        {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["team-a", "team-b"], "verbs": ["get"]}
    ]


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("policy.defaultPodSecurityLevel=strict", "/policy/defaultPodSecurityLevel"),
        ("policy.serviceAccounts={Not_A_Name}", "/policy/serviceAccounts/0"),
        ("policy.allowTolerateAll=maybe", "/policy/allowTolerateAll"),
    ],
)
def test_policy_values_are_validated_by_the_schema(platform: dict[str, str], value: str, path: str) -> None:
    result = run("helm", "template", "kubricks", str(CHART), "--set", value)
    assert result.returncode != 0
    assert path in result.stderr


def test_install_upgrade_uninstall(platform: dict[str, str], namespace: str, operator_image_in_cluster: str) -> None:
    # The CRDs are already installed by the suite; a second owner would conflict, so this release leaves them.
    release = f"kubricks-{namespace}"
    repository, tag = operator_image_in_cluster.rsplit(":", 1)
    image = ["--set", f"image.repository={repository}", "--set", f"image.tag={tag}", "--set", "image.pullPolicy=Never"]
    common = ["-n", namespace, "--set", "crds.install=false", "--set", f"watchNamespaces={{{namespace}}}", *image]
    installed = run("helm", "install", release, str(CHART), *common, "--wait", "--timeout", "120s")
    assert installed.returncode == 0, installed.stderr
    assert "kubricks 0.1.0 is installed" in installed.stdout
    upgraded = run(
        "helm", "upgrade", release, str(CHART), *common, "--set", "metrics.port=9091", "--wait", "--timeout", "120s"
    )
    assert upgraded.returncode == 0, upgraded.stderr
    args = run(
        "kubectl",
        "get",
        "deployment",
        release,
        "-n",
        namespace,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].args}",
    )
    assert "--metrics-port=9091" in args.stdout
    removed = run("helm", "uninstall", release, "-n", namespace, "--wait")
    assert removed.returncode == 0, removed.stderr
    assert run("kubectl", "get", "clusterrole", f"{release}-discovery").returncode != 0
