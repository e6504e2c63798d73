"""Migration for real: kubeflow SparkApplications, as a team would have them, go through `kubricks import`, are
applied, and run to their answer on real pods."""

import subprocess
from typing import Any

import yaml
from kubernetes import client

from tests.e2e.conftest import kubectl
from tests.e2e.test_sparkjob_kubernetes import ANSWER, WORDS, pods, wait_phase
from tests.support import VENV_BIN

LAUNCHER = "local:///opt/kubricks/bin/run-entry-point.py"


def spark_application(name: str, image: str, **spec: Any) -> dict[str, Any]:
    """A SparkApplication running the wordcount wheel through the image's launcher, sized for the one node."""
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name},
        "spec": {
            "type": "Python",
            "pythonVersion": "3",
            "mode": "cluster",
            "sparkVersion": "3.5.3",
            "image": image,
            "imagePullSecrets": ["regcred"],
            "mainApplicationFile": LAUNCHER,
            "arguments": ["wordcount", "wordcount", *WORDS],
            "restartPolicy": {"type": "Never"},
            "driver": {"cores": 1, "coreRequest": "200m", "memory": "512m", "labels": {"team": "data"}},
            "executor": {"cores": 1, "coreRequest": "200m", "instances": 1, "memory": "512m"},
            **spec,
        },
    }


def test_imported_kubeflow_applications_run_to_their_answer(
    core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str, operator_log: object
) -> None:
    core_v1.create_namespaced_secret(
        namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="db"), string_data={"password": "s3cr3t"})
    )
    applications = [
        spark_application("plain", wordcount_image),
        spark_application(
            "with-secrets",
            wordcount_image,
            sparkConf={"spark.sql.shuffle.partitions": "4"},
            driver={
                "cores": 1,
                "coreRequest": "200m",
                "memory": "512m",
                "secrets": [{"name": "db", "path": "/etc/db", "secretType": "Generic"}],
                "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
                "envVars": {"STAGE": "test"},
            },
            dynamicAllocation={"enabled": False},
            timeToLiveSeconds=3600,
        ),
    ]
    imported = subprocess.run(
        [str(VENV_BIN / "kubricks"), "import", "-f", "-", "--strict"],
        input=yaml.safe_dump_all(applications), capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    jobs = list(yaml.safe_load_all(imported.stdout))
    assert [job["kind"] for job in jobs] == ["SparkJob", "SparkJob"]
    kubectl("apply", "-n", namespace, "-f", "-", stdin=imported.stdout)
    for application in applications:
        name = application["metadata"]["name"]
        wait_phase(namespace, name, "Succeeded")
        (driver,) = pods(core_v1, namespace, name, "driver")
        log = core_v1.read_namespaced_pod_log(driver.metadata.name, namespace, container="spark-kubernetes-driver")
        assert ANSWER in log.splitlines(), log[-3000:]
    (driver,) = pods(core_v1, namespace, "plain", "driver")
    assert driver.metadata.labels["team"] == "data"
    (driver,) = pods(core_v1, namespace, "with-secrets", "driver")
    container = driver.spec.containers[0]
    assert {m.mount_path for m in container.volume_mounts} >= {"/etc/db"}
    assert {e.name for e in container.env} >= {"DB_PASSWORD", "STAGE"}
