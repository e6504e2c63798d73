"""A SparkJob that uses what a kubeflow SparkApplication's driver, executor and deps sections offer, on real pods.

The application, a jar and a Python module come from a file server in the cluster (pods here reach nothing
outside); the job reads a mounted Secret and ConfigMap, env from a Secret and a ConfigMap, a file its init
container wrote, Spark defaults from a sparkConfigMap, Hadoop conf and JVM options, runs its executors where
their affinity says with the Secret mounted, and writes its answer to a PVC that a sidecar prints and exits on.
Every part is in the one answer line, so a part that did not arrive breaks it.
"""

import base64
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.e2e.conftest import kubectl
from tests.e2e.test_sparkjob_kubernetes import SMALL_PODS, pods, wait_phase
from tests.support import small_claim

FILE_SERVER_PORT = 8000
FILES_HOST = "files.internal"
FILES = f"http://{FILES_HOST}:{FILE_SERVER_PORT}"

APP = """
import os
from pyspark.sql import SparkSession

import answer_part

spark = SparkSession.builder.getOrCreate()
jvm = spark._jvm


def jar_resource(path):
    stream = jvm.java.lang.Thread.currentThread().getContextClassLoader().getResourceAsStream(path)
    return jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream)).readLine()


def on_executor(_):
    import socket
    import answer_part
    return "|".join([open("/etc/db/pw").read().strip(), os.environ["DB_PASSWORD"], answer_part.PART])


executors = sorted(set(spark.sparkContext.parallelize(range(4), 2).map(on_executor).collect()))
parts = {
    "secret": open("/etc/db/pw").read().strip(),
    "configMap": open("/etc/settings/greeting").read().strip(),
    "env": os.environ["DB_PASSWORD"],
    "envFrom": os.environ["CFG_greeting"],
    "init": open("/scratch/init").read().strip(),
    "jar": jar_resource("kubricks/answer.txt"),
    "package": jar_resource("kubricks/package.txt"),
    "pyFile": answer_part.PART,
    "defaults": spark.conf.get("spark.kubricks.greeting"),
    "hadoop": spark.sparkContext._jsc.hadoopConfiguration().get("kubricks.origin"),
    "javaOptions": jvm.java.lang.System.getProperty("kubricks.answer"),
    "executors": executors,
}
line = "ANSWER " + " ".join(f"{key}={value}" for key, value in parts.items())
with open("/out/answer.txt", "w") as out:
    out.write(line + "\\n")
print(line)
spark.stop()
"""
ANSWER = (
    "ANSWER secret=s3cr3t configMap=hello env=s3cr3t envFrom=hello init=init-ok jar=jar-part package=package-part "
    "pyFile=py-part "
    "defaults=from-defaults hadoop=from-hadoop-conf javaOptions=42 executors=['s3cr3t|s3cr3t|py-part']"
)
PACKAGE = "org.example:answer-pkg:1.0"
PACKAGE_DIR = "maven/org/example/answer-pkg/1.0"
PACKAGE_PATHS = {
    "answer-pkg.jar": f"{PACKAGE_DIR}/answer-pkg-1.0.jar",
    "answer-pkg.pom": f"{PACKAGE_DIR}/answer-pkg-1.0.pom",
}
PACKAGE_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.example</groupId>
  <artifactId>answer-pkg</artifactId>
  <version>1.0</version>
</project>
"""
# Waits for the driver's answer on the shared claim, prints it, and ends, so the driver pod completes.
SIDECAR_SCRIPT = "until [ -s /out/answer.txt ]; do sleep 1; done; echo SIDECAR $(cat /out/answer.txt)"


def jar(entries: dict[str, str]) -> bytes:
    """A jar is a zip; these hold only resources, which the class loader serves all the same."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        for path, text in entries.items():
            archive.writestr(path, text)
    return buffer.getvalue()


@pytest.fixture
def file_server(core_v1: client.CoreV1Api, namespace: str, pull_secret: str, wordcount_image: str) -> Iterator[str]:
    """An HTTP server in the namespace serving the app, a jar and a Python module; returns its Service's IP."""
    files = {"app.py": APP, "answer_part.py": 'PART = "py-part"\n', "answer-pkg.pom": PACKAGE_POM}
    binary = {
        "answer.jar": jar({"kubricks/answer.txt": "jar-part\n"}),
        "answer-pkg.jar": jar({"kubricks/package.txt": "package-part\n"}),
    }
    # A Maven repository's layout, for deps.packages: ConfigMap keys cannot hold the slashes.
    paths = {**{name: name for name in [*files, *binary]}, **PACKAGE_PATHS}
    core_v1.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="files"),
            data=files,
            binary_data={name: base64.b64encode(data).decode() for name, data in binary.items()},
        ),
    )
    labels = {"app": "files"}
    server = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "files", "labels": labels},
        "spec": {
            "imagePullSecrets": [{"name": pull_secret}],
            "containers": [
                {
                    "name": "http",
                    "image": wordcount_image,
                    "command": ["python3", "-m", "http.server", str(FILE_SERVER_PORT), "--directory", "/srv"],
                    "ports": [{"containerPort": FILE_SERVER_PORT}],
                    "readinessProbe": {"tcpSocket": {"port": FILE_SERVER_PORT}, "periodSeconds": 1},
                    "volumeMounts": [{"name": "files", "mountPath": "/srv"}],
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
                }
            ],
            "volumes": [
                {
                    "name": "files",
                    "configMap": {"name": "files", "items": [{"key": k, "path": p} for k, p in paths.items()]},
                }
            ],
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "files"},
        "spec": {"selector": labels, "ports": [{"port": FILE_SERVER_PORT, "targetPort": FILE_SERVER_PORT}]},
    }
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all([server, service]))
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/files", "--timeout=120s")
    yield str(core_v1.read_namespaced_service("files", namespace).spec.cluster_ip)


@pytest.fixture
def job_inputs(core_v1: client.CoreV1Api, namespace: str) -> None:
    """The Secret, ConfigMaps and claim the job reads and writes."""
    core_v1.create_namespaced_secret(
        namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="db"), string_data={"password": "s3cr3t"})
    )
    for name, data in {
        "settings": {"greeting": "hello"},
        "spark-settings": {"spark-defaults.conf": "spark.kubricks.greeting from-defaults\n"},
    }.items():
        core_v1.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data)
        )
    core_v1.create_namespaced_persistent_volume_claim(
        namespace,
        small_claim("results"),
    )


def everything_job(image: str, files_ip: str) -> dict[str, Any]:
    secret_env = {"DB_PASSWORD": {"secretKeyRef": {"name": "db", "key": "password"}}}
    secret_mount = {"name": "db", "mountPath": "/etc/db", "readOnly": True}
    return {
        "apiVersion": "kubricks.dev/v1alpha1",
        "kind": "SparkJob",
        "metadata": {"name": "everything"},
        "spec": {
            "image": {"ref": image, "pullSecret": "regcred"},
            "app": {
                "mainApplicationFile": f"{FILES}/app.py",
                "hadoopConf": {"kubricks.origin": "from-hadoop-conf"},
                # Kept, so that where they ran can be checked.
                "sparkConf": {"spark.kubernetes.executor.deleteOnTermination": "false"},
            },
            "restartPolicy": {"type": "Never"},
            "kubernetes": {
                "volumes": [
                    {"name": "db", "secret": {"secretName": "db", "items": [{"key": "password", "path": "pw"}]}},
                    {"name": "settings", "configMap": {"name": "settings"}},
                    {"name": "scratch", "emptyDir": {}},
                    {"name": "out", "persistentVolumeClaim": {"claimName": "results"}},
                ],
                "pods": {
                    # The deps' host name exists only through hostAliases, on the driver and on the executors.
                    "hostAliases": [{"ip": files_ip, "hostnames": [FILES_HOST]}],
                    "envValueFrom": secret_env,
                    "volumeMounts": [secret_mount],
                },
                "driver": {
                    **SMALL_PODS["driver"],
                    "javaOptions": "-Dkubricks.answer=42",
                    "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
                    "volumeMounts": [
                        {"name": "settings", "mountPath": "/etc/settings"},
                        {"name": "scratch", "mountPath": "/scratch"},
                        {"name": "out", "mountPath": "/out"},
                    ],
                    "initContainers": [
                        {
                            "name": "prepare",
                            "command": ["sh", "-c", "echo init-ok > /scratch/init"],
                            "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                        }
                    ],
                    "sidecars": [
                        {
                            "name": "reporter",
                            "command": ["sh", "-c", SIDECAR_SCRIPT],
                            "volumeMounts": [{"name": "out", "mountPath": "/out"}],
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }
                    ],
                },
                "executor": {
                    **SMALL_PODS["executor"],
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [
                                    {"matchExpressions": [{"key": "type", "operator": "NotIn", "values": ["kwok"]}]}
                                ]
                            }
                        }
                    },
                },
                "deps": {
                    "pyFiles": [f"{FILES}/answer_part.py"],
                    "jars": [f"{FILES}/answer.jar"],
                    "packages": [PACKAGE],
                    "repositories": [f"{FILES}/maven"],
                },
                "sparkConfigMap": "spark-settings",
            },
        },
    }


def test_a_job_with_volumes_env_containers_affinity_and_deps_prints_its_known_answer(
    core_v1: client.CoreV1Api,
    namespace: str,
    pull_secret: str,
    wordcount_image: str,
    file_server: str,
    job_inputs: None,
    operator_log: object,
) -> None:
    manifest = everything_job(wordcount_image, file_server)
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest))
    status = wait_phase(namespace, "everything", "Succeeded")
    (driver,) = pods(core_v1, namespace, "everything", "driver")
    log = core_v1.read_namespaced_pod_log(driver.metadata.name, namespace, container="spark-kubernetes-driver")
    assert ANSWER in log.splitlines(), log[-4000:]
    sidecar = core_v1.read_namespaced_pod_log(driver.metadata.name, namespace, container="reporter")
    assert f"SIDECAR {ANSWER}" in sidecar.splitlines(), "the answer reached the claim the sidecar reads"
    executors = pods(core_v1, namespace, "everything", "executor")
    assert executors, "Spark's driver created executors"
    for executor in executors:
        assert executor.spec.affinity.node_affinity is not None
        node = core_v1.read_node(executor.spec.node_name)
        assert node.metadata.labels.get("type") != "kwok", "the affinity kept executors off the fake node"
        assert {v.name for v in executor.spec.volumes} >= {"db"}
    assert status["kubernetes"]["driverPod"] == driver.metadata.name


def test_the_api_server_refuses_a_mount_of_an_undeclared_volume(namespace: str, wordcount_image: str) -> None:
    manifest = everything_job(wordcount_image, "10.0.0.1")
    manifest["spec"]["kubernetes"]["volumes"] = manifest["spec"]["kubernetes"]["volumes"][:1]
    result = kubectl(
        "apply", "-n", namespace, "--dry-run=server", "-f", "-", stdin=yaml.safe_dump(manifest), check=False
    )
    assert result.returncode != 0
    assert "must name a volume of spec.kubernetes.volumes" in result.stderr
