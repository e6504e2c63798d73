import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from click.testing import CliRunner

from kubricks import __version__
from kubricks.cli import main
from kubricks.control.options import OperatorOptions
from kubricks.spark.admission import Policy


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(main, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "version" in result.output


IMAGE = "registry.example.com/team/etl@sha256:" + "a" * 64
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_job_render_prints_the_manifests_of_a_kubernetes_job() -> None:
    result = CliRunner().invoke(
        main, ["job", "render", "-f", str(EXAMPLES / "sparkjob-kubernetes-wheel.yaml"), "--image", IMAGE]
    )
    assert result.exit_code == 0, result.output
    kinds = [doc["kind"] for doc in yaml.safe_load_all(result.output)]
    assert kinds == ["ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Service", "Pod"]


@pytest.mark.parametrize(
    ("registry_auth", "basic_auth"),
    [
        ({"secret": "regcred"}, {"username": "<user from Secret regcred>", "password": "**redacted**"}),
        (
            {"fromSparkImage": True},
            {"username": "<user from the push Secret of SparkImage shared-image>", "password": "**redacted**"},
        ),
        (None, None),
    ],
    ids=["secret", "from-spark-image", "none"],
)
def test_job_render_prints_the_submit_body_of_a_databricks_job_without_passwords(
    tmp_path: Path, registry_auth: dict[str, object] | None, basic_auth: dict[str, str] | None
) -> None:
    job = yaml.safe_load((EXAMPLES / "sparkjob-databricks-new-cluster.yaml").read_text())
    job["spec"]["databricks"]["registryAuth"] = registry_auth
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job))
    result = CliRunner().invoke(main, ["job", "render", "-f", str(path), "--image", IMAGE])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["tasks"][0]["new_cluster"]["docker_image"].get("basic_auth") == basic_auth


@pytest.mark.parametrize("pattern", ["https://adb-1.7.azuredatabricks.net", "*.example.com/x", "*", "a_b.example.com"])
def test_run_refuses_an_allowed_databricks_host_that_is_no_host_pattern(pattern: str) -> None:
    result = CliRunner().invoke(main, ["run", "--databricks-allowed-host", pattern])
    assert result.exit_code == 2
    assert "--databricks-allowed-host" in result.output
    assert "is not a host pattern" in result.output


def test_job_render_needs_an_image_for_a_spark_image_job() -> None:
    result = CliRunner().invoke(main, ["job", "render", "-f", str(EXAMPLES / "sparkjob-kubernetes-wheel.yaml")])
    assert result.exit_code != 0
    assert "pass --image" in result.output


def test_image_render_prints_the_dockerfile() -> None:
    result = CliRunner().invoke(main, ["image", "render", "-f", str(EXAMPLES / "sparkimage-pip.yaml")])
    assert result.exit_code == 0, result.output
    assert "FROM base-cpu AS cpu" in result.output


def test_an_invalid_file_is_reported_with_the_field() -> None:
    result = CliRunner().invoke(main, ["image", "render", "-f", str(EXAMPLES / "sparkjob-kubernetes-wheel.yaml")])
    assert result.exit_code != 0
    assert "must hold exactly one SparkImage" in result.output


@pytest.mark.parametrize("command", [["dev", "up"], ["dev", "down"], ["dev", "status"]])
def test_dev_names_each_missing_tool_with_how_to_install_it(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert "missing: docker: install Docker Engine" in result.output
    assert "kind: go install sigs.k8s.io/kind@v0.33.0" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def operator_run(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """``kubricks run`` up to the operator itself, which is replaced: what it was called with."""
    calls: list[tuple[object, ...]] = []
    fake = ModuleType("kubricks.operator")
    fake.run = lambda *arguments: calls.append(arguments)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kubricks.operator", fake)
    return calls


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], OperatorOptions()),
        (
            [
                "--default-pull-secret=regcred",
                "--default-pod-security-level=baseline",
                "--allowed-service-account=etl-runner",
                "--allowed-service-account=reporter",
                "--allowed-toleration-key=nvidia.com/gpu",
                "--allow-tolerate-all",
                "--allowed-annotation-prefix=example.com/",
                "--databricks-allowed-host=*.cloud.databricks.com",
                "--databricks-allowed-host=ADB-1.azuredatabricks.net",
                "--max-builds=8",
                "--max-builds-per-namespace=1",
            ],
            OperatorOptions(
                default_pull_secret="regcred",
                policy=Policy(("etl-runner", "reporter"), ("nvidia.com/gpu",), True, ("example.com/",), "baseline"),
                databricks_allowed_hosts=("*.cloud.databricks.com", "adb-1.azuredatabricks.net"),
                max_builds=8,
                max_builds_per_namespace=1,
            ),
        ),
    ],
    ids=["defaults", "every-option"],
)
def test_run_hands_its_options_to_the_operator(
    operator_run: list[tuple[object, ...]], options: list[str], expected: OperatorOptions
) -> None:
    result = CliRunner().invoke(main, ["run", *options])
    assert result.exit_code == 0, result.output
    assert len(operator_run) == 1
    assert operator_run[0][-1] == expected


@pytest.mark.parametrize(
    ("option", "complaint"),
    [
        ("--default-pod-security-level=strict", "--default-pod-security-level"),
        ("--allowed-service-account=Not_A_Name", "--allowed-service-account"),
    ],
)
def test_run_refuses_a_policy_it_cannot_apply(
    operator_run: list[tuple[object, ...]], option: str, complaint: str
) -> None:
    result = CliRunner().invoke(main, ["run", option])
    assert result.exit_code == 2
    assert complaint in result.output
    assert operator_run == []
