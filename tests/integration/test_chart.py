"""The Helm chart: lint, rendering accepted by the API server for every documented combination, and a real
install, upgrade and uninstall on the test cluster."""

import subprocess
from pathlib import Path

import pytest

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
