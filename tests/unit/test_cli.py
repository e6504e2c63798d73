import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kubricks import __version__
from kubricks.cli import main


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


def test_job_render_prints_the_submit_body_of_a_databricks_job_without_passwords(tmp_path: Path) -> None:
    job = yaml.safe_load((EXAMPLES / "sparkjob-databricks-new-cluster.yaml").read_text())
    job["spec"]["databricks"]["registryAuth"] = {"secret": "regcred"}
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job))
    result = CliRunner().invoke(main, ["job", "render", "-f", str(path), "--image", IMAGE])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    auth = body["tasks"][0]["new_cluster"]["docker_image"]["basic_auth"]
    assert auth == {"username": "<user from Secret regcred>", "password": "**redacted**"}


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
