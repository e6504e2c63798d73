import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from kubernetes import config
from kubernetes.client.exceptions import ApiException

from kubricks import __version__
from kubricks.cli import main
from kubricks.control.leader import Leadership
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
    assert operator_run[0][5] == expected


@pytest.mark.parametrize(
    ("options", "probe_port", "leadership"),
    [
        ([], 0, None),
        (
            ["--probe-port=8080", "--leader-election-lease=kubricks-leader", "--leader-election-namespace=ops"],
            8080,
            Leadership("ops", "kubricks-leader", "operator-0"),
        ),
    ],
    ids=["standalone", "leader-election"],
)
def test_run_elects_a_leader_when_asked(
    operator_run: list[tuple[object, ...]],
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    probe_port: int,
    leadership: Leadership | None,
) -> None:
    monkeypatch.setenv("POD_NAME", "operator-0")
    result = CliRunner().invoke(main, ["run", *options])
    assert result.exit_code == 0, result.output
    assert operator_run[0][6:] == (probe_port, leadership)


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


RUNNING_JOB = {
    "kind": "SparkJob",
    "metadata": {"name": "daily", "namespace": "etl"},
    "spec": {"image": {"ref": IMAGE}, "app": {"mainApplicationFile": "local:///opt/app/main.py"}, "kubernetes": {}},
    "status": {"phase": "Running", "attempt": 1, "kubernetes": {"driverPod": "daily-1-driver"}},
}


def spark_pod(name: str, role: str, phase: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"spark-role": role, **labels}}, "status": {"phase": phase}}


class FakeCluster:
    """The cluster as ``kubricks job logs`` and ``job ui`` read it: one SparkJob, its pods and their logs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.job: dict[str, Any] | None = RUNNING_JOB
        self.pods = {
            "daily-1-driver": spark_pod("daily-1-driver", "driver", "Running"),
            "daily-exec-1": spark_pod("daily-exec-1", "executor", "Succeeded", **{"spark-exec-id": "1"}),
        }
        self.logs = {"daily-1-driver": [b"driver says hi\n", b"WORDCOUNT {}\n"], "daily-exec-1": [b"executor 1\n"]}
        self.log_calls: list[tuple[str, str, str, bool, int | None]] = []
        self.interrupt_after_log = False
        monkeypatch.setattr("kubricks.cli.default_namespace", lambda: "etl")
        monkeypatch.setattr("kubricks.cli.read_custom_object", lambda plural, namespace, name: self.job)
        monkeypatch.setattr("kubricks.cli.list_pods", self.list_pods)
        monkeypatch.setattr("kubricks.cli.read_pod", lambda namespace, name: self.pods.get(name))
        monkeypatch.setattr("kubricks.cli.open_pod_log", self.open_pod_log)

    def list_pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        assert selector == "kubricks.dev/sparkjob=daily,kubricks.dev/attempt=1,spark-role=executor"
        return [pod for pod in self.pods.values() if pod["metadata"]["labels"]["spark-role"] == "executor"]

    def open_pod_log(
        self, namespace: str, pod: str, container: str, *, follow: bool, tail_lines: int | None
    ) -> Iterator[bytes] | None:
        self.log_calls.append((namespace, pod, container, follow, tail_lines))
        if pod not in self.logs:
            return None
        return self.lines(self.logs[pod])

    def lines(self, lines: list[bytes]) -> Iterator[bytes]:
        yield from lines
        if self.interrupt_after_log:
            raise KeyboardInterrupt


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    return FakeCluster(monkeypatch)


@pytest.mark.parametrize(
    ("arguments", "log_call", "output"),
    [
        ([], ("etl", "daily-1-driver", "spark-kubernetes-driver", False, None), "driver says hi\nWORDCOUNT {}\n"),
        (
            ["--executor", "1", "--tail", "5", "-n", "etl"],
            ("etl", "daily-exec-1", "spark-kubernetes-executor", False, 5),
            "executor 1\n",
        ),
    ],
    ids=["driver", "executor"],
)
def test_job_logs_prints_the_log_of_the_pod_asked_for(
    cluster: FakeCluster, arguments: list[str], log_call: tuple[object, ...], output: str
) -> None:
    result = CliRunner().invoke(main, ["job", "logs", "daily", *arguments])
    assert result.exit_code == 0, result.output
    assert result.output == output
    assert cluster.log_calls == [log_call]


def test_job_logs_follows_until_ctrl_c_and_exits_cleanly(cluster: FakeCluster) -> None:
    cluster.interrupt_after_log = True
    result = CliRunner().invoke(main, ["job", "logs", "daily", "-f"])
    assert result.exit_code == 0, result.output
    assert result.output == "driver says hi\nWORDCOUNT {}\n"
    assert cluster.log_calls == [("etl", "daily-1-driver", "spark-kubernetes-driver", True, None)]


def without_driver_pod(cluster: FakeCluster) -> None:
    del cluster.pods["daily-1-driver"]


def with_driver(phase: str) -> Callable[[FakeCluster], None]:
    return lambda cluster: cluster.pods.update({"daily-1-driver": spark_pod("daily-1-driver", "driver", phase)})


@pytest.mark.parametrize(
    ("command", "change", "message"),
    [
        (["logs", "daily"], lambda c: setattr(c, "job", None), "SparkJob etl/daily does not exist"),
        (
            ["logs", "daily"],
            lambda c: setattr(c, "job", {**RUNNING_JOB, "status": {"phase": "WaitingForImage"}}),
            "SparkJob etl/daily has no driver pod yet (phase WaitingForImage)",
        ),
        (["logs", "daily"], without_driver_pod, "the pod daily-1-driver of SparkJob etl/daily no longer exists"),
        (
            ["logs", "daily", "-f"],
            with_driver("Pending"),
            "the pod daily-1-driver of SparkJob etl/daily is Pending (not started): its log begins when",
        ),
        (["logs", "daily", "--executor", "2"], lambda c: None, "has no executor 2: its executors are 1"),
        (["ui", "daily"], lambda c: setattr(c, "job", None), "SparkJob etl/daily does not exist"),
        (["ui", "daily"], without_driver_pod, "the pod daily-1-driver of SparkJob etl/daily no longer exists"),
        (
            ["ui", "daily"],
            with_driver("Failed"),
            "the driver pod daily-1-driver of SparkJob etl/daily is Failed, not Running",
        ),
    ],
    ids=[
        "no-job",
        "no-driver-yet",
        "driver-deleted",
        "driver-pending",
        "no-such-executor",
        "ui-no-job",
        "ui-driver-deleted",
        "ui-ended",
    ],
)
def test_job_logs_and_ui_fail_in_one_line(
    cluster: FakeCluster, command: list[str], change: Callable[[FakeCluster], None], message: str
) -> None:
    change(cluster)
    result = CliRunner().invoke(main, ["job", *command])
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_job_logs_tells_what_the_api_server_answered(cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(namespace: str, selector: str) -> list[dict[str, Any]]:
        raise ApiException(status=403, reason="Forbidden")

    monkeypatch.setattr("kubricks.cli.list_pods", forbidden)
    result = CliRunner().invoke(main, ["job", "logs", "daily", "--executor", "1"])
    assert result.exit_code == 1
    assert result.output == "Error: the API server answered HTTP 403: Forbidden\n"


def fake_kubectl(directory: Path, script: str) -> None:
    """A kubectl on PATH that runs ``script`` (sh) and records its arguments in ``directory``/arguments."""
    kubectl = directory / "kubectl"
    kubectl.write_text(f'#!/bin/sh\necho "$@" > {directory}/arguments\n{script}\n')
    kubectl.chmod(0o755)


@pytest.mark.parametrize(
    ("script", "output"),
    [
        (
            "echo 'Forwarding from 127.0.0.1:39117 -> 4040'; echo 'Forwarding from [::1]:39117 -> 4040'; "
            "echo 'Handling connection for 39117'; echo 'error: lost connection to pod'; exit 1",
            "Spark UI of etl/daily: http://127.0.0.1:39117\nerror: lost connection to pod\n"
            "Error: the port-forward to daily-1-driver ended (kubectl exited 1): error: lost connection to pod\n",
        ),
        (
            "echo 'Unable to listen on port 0: address already in use' >&2; exit 1",
            "Error: kubectl port-forward to daily-1-driver failed (exit 1): Unable to listen on port 0: "
            "address already in use\n",
        ),
    ],
    ids=["forwarded-until-the-driver-ended", "never-listened"],
)
def test_job_ui_runs_kubectl_port_forward_and_prints_the_url_it_listens_on(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str, output: str
) -> None:
    fake_kubectl(tmp_path, script)
    monkeypatch.setenv("PATH", str(tmp_path), prepend=":")
    result = CliRunner().invoke(main, ["job", "ui", "daily", "--port", "0"])
    assert result.exit_code == 1
    assert result.output == output
    assert (tmp_path / "arguments").read_text() == "port-forward pod/daily-1-driver 0:4040 -n etl\n"


POD_FIELDS_EXAMPLE = EXAMPLES / "sparkjob-kubernetes-pods.yaml"


def test_job_render_reads_the_spark_config_map_from_the_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kubricks.cli.config.load_kube_config", lambda: None)
    files = {"spark-defaults.conf": "spark.sql.shuffle.partitions 9\n", "log4j2.properties": "x\n"}
    # A job without a namespace renders in default, as the other kinds do.
    monkeypatch.setattr("kubricks.cli.read_config_map_data", lambda ns, name: files if ns == "default" else None)
    result = CliRunner().invoke(main, ["job", "render", "-f", str(POD_FIELDS_EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "spark.sql.shuffle.partitions=9" in result.output
    assert "key: log4j2.properties" in result.output


def test_job_render_names_a_missing_spark_config_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kubricks.cli.config.load_kube_config", lambda: None)
    monkeypatch.setattr("kubricks.cli.read_config_map_data", lambda namespace, name: None)
    result = CliRunner().invoke(main, ["job", "render", "-f", str(POD_FIELDS_EXAMPLE)])
    assert result.exit_code == 1
    assert (
        "spec.kubernetes.sparkConfigMap: the ConfigMap report-spark-defaults does not exist in namespace default"
        in result.output
    )


def test_job_render_without_a_cluster_renders_without_the_spark_config_map(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_cluster() -> None:
        raise config.ConfigException("no kubeconfig")

    monkeypatch.setattr("kubricks.cli.config.load_kube_config", no_cluster)
    result = CliRunner().invoke(main, ["job", "render", "-f", str(POD_FIELDS_EXAMPLE)])
    assert result.exit_code == 0, result.stderr
    assert "rendered without it" in result.stderr
    assert "kind: Pod" in result.stdout
