"""The image check's judgement, from observed facts to findings."""

import pytest

from kubricks.images.check import Observations, judge

GOOD_FACTS = {
    "spark_submit": "version 3.5.3",
    "java": 'openjdk version "17.0.19"',
    "javac": "javac 17.0.19",
    "tini": "yes",
    "pyspark_spark_roles": "3.5.3",
    "kubernetes_jar": "/opt/spark/jars/spark-kubernetes_2.12-3.5.3.jar",
    "os": "ubuntu 22.04",
    **{f"package_{p}": "install ok installed" for p in ("bash", "iproute2", "coreutils", "procps", "sudo", "acl")},
    "venv_python": "yes",
    "venv_system_site_packages": "true",
    "venv_pyspark": "ModuleNotFoundError: No module named 'pyspark'",
    "libraries_user": "libraries",
    "libraries_password": "!",
    "cuda_runtime": "libcudart.so.12",
    "discovery_executable": "yes",
    "discovery_output": '{"name": "gpu", "addresses": ["0", "1"]}',
    "rapids_jar": "/opt/spark/jars/rapids-4-spark_2.12-25.04.0.jar",
}


def observed(**facts: str) -> Observations:
    return Observations(
        facts={**GOOD_FACTS, **facts},
        config={
            "User": "185",
            "Env": ["PYSPARK_PYTHON=/databricks/python3/bin/python3", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"],
        },
        arbitrary_uid_output="spark\nwritable\n",
        driver_exit=0,
        driver_output="... version 3.5.3 ...",
        executor_output="24/11/24 10:00:00 INFO KubernetesExecutorBackend: Started daemon with process name: 1@x",
    )


def failing(findings: list) -> dict[str, str]:
    return {f.check: f.detail for f in findings if f.failed}


def test_a_good_image_passes_every_check() -> None:
    findings = judge(observed(), "gpu", databricks=True)
    assert failing(findings) == {}
    assert len(findings) == 9 + 9 + 3


def test_databricks_failures_are_named() -> None:
    findings = judge(
        observed(package_sudo="", venv_pyspark="/databricks/python3/lib/python3.11/site-packages/pyspark/__init__.py"),
        "cpu",
        databricks=True,
    )
    assert failing(findings) == {
        "databricks packages": "missing: sudo",
        "no pyspark in the venv": "pyspark importable from /databricks/python3: "
        "/databricks/python3/lib/python3.11/site-packages/pyspark/__init__.py",
    }
    assert [f.ok for f in findings[:2]] == [False, False], "failing findings come first"


def test_gpu_discovery_must_print_valid_json() -> None:
    findings = judge(observed(discovery_output="nvidia-smi: not found"), "gpu", databricks=False)
    assert "GPU discovery script" in failing(findings)


def test_a_debian_base_is_only_a_warning_for_databricks() -> None:
    findings = judge(observed(os="debian 12"), "cpu", databricks=True)
    assert failing(findings) == {}
    warning = next(f for f in findings if f.check == "ubuntu base")
    assert not warning.ok
    assert warning.line().startswith("WARN")


def test_roles_and_user() -> None:
    bad = observed()
    bad.config["User"] = ""
    bad.driver_exit = 1
    bad.executor_output = "Error: could not find or load main class"
    bad.arbitrary_uid_output = "I have no name!"
    assert set(failing(judge(bad, "cpu", databricks=False))) == {
        "user",
        "driver role",
        "executor role",
        "arbitrary uid",
    }


@pytest.mark.parametrize(
    ("output", "passes"),
    [
        ("INFO KubernetesExecutorBackend: Started daemon with process name: 1@host", True),
        ("INFO KubernetesExecutorBackend: Connecting to driver: spark://CoarseGrainedScheduler@127.0.0.1:9/", True),
        (
            "Error: Could not find or load main class "
            "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend\n"
            "Caused by: java.lang.ClassNotFoundException: "
            "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend",
            False,
        ),
        ("", False),
    ],
    ids=["started", "connecting", "class-not-found-naming-the-class", "nothing"],
)
def test_the_executor_role_passes_only_when_the_backend_started(output: str, passes: bool) -> None:
    bad = observed()
    bad.executor_output = output
    assert ("executor role" not in failing(judge(bad, "cpu", databricks=False))) == passes


@pytest.mark.parametrize(
    ("output", "mark"),
    [
        ('{"name": "gpu", "addresses": ["0", "1"]}', "PASS"),
        ('{"name": "gpu", "addresses": []}', "SKIP"),
        ("nvidia-smi: not found", "FAIL"),
        ('{"name": "fpga", "addresses": ["0"]}', "FAIL"),
    ],
    ids=["gpus-found", "no-gpu-here", "not-json", "wrong-resource"],
)
def test_gpu_discovery_without_a_gpu_is_skipped_never_passed(output: str, mark: str) -> None:
    findings = judge(observed(discovery_output=output), "gpu", databricks=False)
    discovery = next(f for f in findings if f.check == "GPU discovery script")
    assert discovery.line().startswith(mark)
    assert discovery.failed == (mark == "FAIL")
