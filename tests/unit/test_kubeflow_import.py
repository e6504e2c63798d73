"""kubeflow SparkApplication → SparkJob: one case per field of kubeflow's v1beta2 API, what it becomes and what
is reported as not mapped; then the example manifests of tests/kubeflow/, whole documents and the command."""

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubricks.api.scheduled import ScheduledSparkJob
from kubricks.api.sparkjob import SparkJob
from kubricks.cli import main
from kubricks.migrate.kubeflow import (
    DEPS_FIELDS,
    DRIVER_FIELDS,
    DRIVER_INGRESS_FIELDS,
    DYNAMIC_ALLOCATION_FIELDS,
    EXECUTOR_FIELDS,
    JMX_EXPORTER,
    JMX_EXPORTER_FIELDS,
    MONITORING_FIELDS,
    NO_INGRESS_FLAG,
    RESTART_POLICY_FIELDS,
    SCHEDULED_FIELDS,
    SPARK_UI_FIELDS,
    SPEC_FIELDS,
    Note,
    OperatorFlags,
    Unmapped,
    import_documents,
    scheduled_spark_job,
    spark_job,
)

KUBEFLOW = Path(__file__).resolve().parents[1] / "kubeflow"
JAR = "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.3.jar"
BASE: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "app"},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "sparkVersion": "3.5.3",
        "image": "spark:3.5.3",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": JAR,
        "driver": {"cores": 1},
        "executor": {"instances": 1},
    },
}
DELETE = object()


def merged(base: Any, changes: Any) -> Any:
    """``changes`` deep-merged into a copy of ``base``; DELETE removes a key."""
    if not isinstance(base, dict) or not isinstance(changes, dict):
        return copy.deepcopy(changes)
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DELETE:
            result.pop(key, None)
        else:
            result[key] = merged(result.get(key), value)
    return result


def contains(actual: Any, expected: Any) -> bool:
    """Every key of ``expected`` (recursively) is in ``actual`` with that value; lists and scalars are equal."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and contains(actual[k], v) for k, v in expected.items())
    return bool(actual == expected)


@dataclass(frozen=True)
class Case:
    id: str
    given: dict[str, Any]
    """Deep-merged into BASE's spec."""
    expected: dict[str, Any]
    """What the SparkJob's spec holds (among other things)."""
    unmapped: tuple[tuple[str, str], ...] = ()
    """Exactly the fields reported, each with a fragment of its reason."""
    absent: tuple[str, ...] = ()
    """Dotted paths of the SparkJob's spec that must not be there."""
    notes: tuple[tuple[str, str], ...] = ()
    """Exactly the fields noted, each with a fragment of its note."""
    flags: OperatorFlags = dataclasses.field(default_factory=OperatorFlags)
    """The flags kubeflow's operator ran with."""
    namespace: str | None = None
    """The namespace given to the import."""


def driver(**fields: Any) -> dict[str, Any]:
    return {"kubernetes": {"driver": fields}}


def executor(**fields: Any) -> dict[str, Any]:
    return {"kubernetes": {"executor": fields}}


def spark_container(role: str, **fields: Any) -> dict[str, Any]:
    name = {"driver": "spark-kubernetes-driver", "executor": "spark-kubernetes-executor"}[role]
    return {"kubernetes": {role: {"template": {"spec": {"containers": [{"name": name, **fields}]}}}}}


def template_spec(role: str, **fields: Any) -> dict[str, Any]:
    return {"kubernetes": {role: {"template": {"spec": fields}}}}


SECRET_REF = {"secretKeyRef": {"name": "db", "key": "password"}}
NFS = {"name": "models", "nfs": {"server": "nfs.example.com", "path": "/models"}}
PROBE = {"httpGet": {"path": "/", "port": 2020}}
AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]
        }
    }
}
# matchLabelKeys is newer than kubricks' model of a pod affinity term: Kubernetes takes it, kubricks' field not.
NEWER_AFFINITY = {
    "podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "matchLabelKeys": ["spark-app-selector"]}
        ]
    }
}

SPEC_CASES = [
    Case("type-scala-java-python-need-nothing", {"type": "Java"}, {"app": {"mainApplicationFile": JAR}}),
    Case("type-r", {"type": "R"}, {}, (("spec.type", "not R"),)),
    Case("spark-version-needs-nothing-the-image-decides", {"sparkVersion": "3.4.1"}, {}),
    Case("mode-cluster", {"mode": "cluster"}, {}),
    Case("mode-client", {"mode": "client"}, {}, (("spec.mode", "cluster mode"),)),
    Case("proxy-user", {"proxyUser": "alice"}, {}, (("spec.proxyUser", "--proxy-user"),)),
    Case(
        "image",
        {"image": "registry.example.com/team/spark:3.5.3"},
        {"image": {"ref": "registry.example.com/team/spark:3.5.3"}},
    ),
    Case(
        "image-pull-policy",
        {"imagePullPolicy": "Always"},
        {"image": {"ref": "spark:3.5.3", "pullPolicy": "Always"}},
    ),
    Case(
        "spark-conf-of-the-driver-pod",
        {"sparkConf": {"spark.kubernetes.driver.label.team": "a", "spark.sql.shuffle.partitions": "8"}},
        {"app": {"sparkConf": {"spark.sql.shuffle.partitions": "8"}}},
        (("spec.sparkConf[spark.kubernetes.driver.label.team]", "through spec.kubernetes.driver.labels"),),
    ),
    Case("image-pull-policy-unknown", {"imagePullPolicy": "Sometimes"}, {}, (("spec.imagePullPolicy", "Always"),)),
    Case(
        "image-pull-secrets",
        {"imagePullSecrets": ["regcred", "other"]},
        {"image": {"pullSecret": "regcred"}},
        (("spec.imagePullSecrets[1]", "one Secret"),),
    ),
    Case("main-class", {"mainClass": "com.example.Main"}, {"app": {"mainClass": "com.example.Main"}}),
    Case(
        "main-class-of-a-python-application-is-dropped-as-spark-submit-ignores-it",
        {"type": "Python", "mainApplicationFile": "local:///opt/app/main.py"},
        {"app": {"mainApplicationFile": "local:///opt/app/main.py"}},
        absent=("app.mainClass",),
    ),
    Case(
        "main-application-file",
        {"mainApplicationFile": "s3a://jobs/etl.jar"},
        {"app": {"mainApplicationFile": "s3a://jobs/etl.jar"}},
    ),
    Case("arguments", {"arguments": ["--date", "2025-01-31"]}, {"app": {"arguments": ["--date", "2025-01-31"]}}),
    Case(
        "spark-conf",
        {"sparkConf": {"spark.sql.shuffle.partitions": "64"}},
        {"app": {"sparkConf": {"spark.sql.shuffle.partitions": "64"}}},
    ),
    Case(
        "spark-conf-sizes-become-the-pod-fields-kubricks-sets-them-from",
        {
            "sparkConf": {"spark.executor.instances": "5", "spark.driver.memory": "2g", "spark.executor.cores": "4"},
            "executor": DELETE,
        },
        {**executor(instances=5, cores=4), **driver(memory="2g")},
        absent=("app.sparkConf",),
    ),
    Case(
        "spark-conf-size-under-a-pod-field-is-dropped-as-kubeflow-let-the-field-win",
        {"sparkConf": {"spark.executor.instances": "5"}, "executor": {"instances": 3}},
        executor(instances=3),
        absent=("app.sparkConf",),
    ),
    Case(
        "spark-conf-that-kubricks-sets-itself",
        {"sparkConf": {"spark.app.name": "renamed", "spark.local.dir": "/scratch"}},
        {},
        (
            ("spec.sparkConf[spark.app.name]", "sets this Spark property itself"),
            ("spec.sparkConf[spark.local.dir]", "sets this Spark property itself"),
        ),
    ),
    Case(
        "hadoop-conf",
        {"hadoopConf": {"fs.s3a.endpoint": "https://s3.example.com"}},
        {"app": {"hadoopConf": {"fs.s3a.endpoint": "https://s3.example.com"}}},
    ),
    Case(
        "hadoop-conf-wins-over-spark-conf-as-in-kubeflow",
        {"hadoopConf": {"fs.x": "from-hadoop-conf"}, "sparkConf": {"spark.hadoop.fs.x": "from-spark-conf"}},
        {"app": {"hadoopConf": {"fs.x": "from-hadoop-conf"}}},
        absent=("app.sparkConf",),
    ),
    Case("spark-config-map", {"sparkConfigMap": "spark-conf"}, {"kubernetes": {"sparkConfigMap": "spark-conf"}}),
    Case(
        "hadoop-config-map",
        {"hadoopConfigMap": "hadoop-conf"},
        {
            "kubernetes": {
                "volumes": [{"name": "hadoop-configmap-volume", "configMap": {"name": "hadoop-conf"}}],
                "pods": {
                    "volumeMounts": [
                        {"name": "hadoop-configmap-volume", "mountPath": "/etc/hadoop/conf", "readOnly": True}
                    ],
                    "env": {"HADOOP_CONF_DIR": "/etc/hadoop/conf"},
                },
            }
        },
    ),
    Case(
        "volumes-of-types-kubricks-models",
        {
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "scratch", "emptyDir": {}},
                {"name": "node", "hostPath": {"path": "/mnt/disks/ssd0", "type": "Directory"}},
            ]
        },
        {
            "kubernetes": {
                "volumes": [
                    {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                    {"name": "scratch", "emptyDir": {}},
                    {"name": "node", "hostPath": {"path": "/mnt/disks/ssd0", "type": "Directory"}},
                ]
            }
        },
    ),
    Case(
        "volume-of-another-type-goes-to-the-template-of-the-pods-that-mount-it",
        {"volumes": [NFS], "driver": {"volumeMounts": [{"name": "models", "mountPath": "/models"}]}},
        merged(
            template_spec("driver", volumes=[NFS]),
            spark_container("driver", volumeMounts=[{"name": "models", "mountPath": "/models"}]),
        ),
        absent=("kubernetes.volumes", "kubernetes.executor.template"),
    ),
    Case(
        "spark-local-dir-volume",
        {
            "volumes": [{"name": "spark-local-dir-1", "hostPath": {"path": "/mnt/ssd"}}],
            "executor": {"volumeMounts": [{"name": "spark-local-dir-1", "mountPath": "/ssd"}]},
        },
        {},
        (
            ("spec.volumes[0]", "local storage"),
            ("spec.executor.volumeMounts[0]", "was not mapped"),
        ),
    ),
    Case(
        "deps",
        {
            "deps": {
                "jars": ["https://repo.example.com/udfs.jar"],
                "files": ["s3a://config/lookup.csv"],
                "pyFiles": ["local:///opt/app/helpers.zip"],
                "archives": ["s3a://config/env.tar.gz#env"],
                "packages": ["org.apache.hadoop:hadoop-aws:3.3.4"],
                "excludePackages": ["com.amazonaws:aws-java-sdk-bundle"],
                "repositories": ["https://repo.example.com/maven"],
            }
        },
        {
            "kubernetes": {
                "deps": {
                    "jars": ["https://repo.example.com/udfs.jar"],
                    "files": ["s3a://config/lookup.csv"],
                    "pyFiles": ["local:///opt/app/helpers.zip"],
                    "archives": ["s3a://config/env.tar.gz#env"],
                    "packages": ["org.apache.hadoop:hadoop-aws:3.3.4"],
                    "excludePackages": ["com.amazonaws:aws-java-sdk-bundle"],
                    "repositories": ["https://repo.example.com/maven"],
                }
            }
        },
    ),
    Case(
        "deps-item-kubricks-refuses",
        {"deps": {"packages": ["org.apache.hadoop:hadoop-aws:3.3.4", "not-a-coordinate"]}},
        {"kubernetes": {"deps": {"packages": ["org.apache.hadoop:hadoop-aws:3.3.4"]}}},
        (("spec.deps.packages[1]", "should match pattern"),),
    ),
    Case(
        "restart-policy-never",
        {"restartPolicy": {"type": "Never", "onFailureRetries": 3}},
        {},
        absent=("restartPolicy",),
    ),
    Case(
        "restart-policy-on-failure",
        {
            "restartPolicy": {
                "type": "OnFailure",
                "onFailureRetries": 3,
                "onFailureRetryInterval": 60,
                "onSubmissionFailureRetries": 3,
                "onSubmissionFailureRetryInterval": 60,
            }
        },
        {"restartPolicy": {"type": "OnFailure", "retries": 3, "backoffSeconds": 60}},
    ),
    Case(
        "restart-policy-on-failure-with-kubeflow-default-interval",
        {"restartPolicy": {"type": "OnFailure", "onFailureRetries": 2}},
        {"restartPolicy": {"type": "OnFailure", "retries": 2, "backoffSeconds": 5}},
    ),
    Case(
        "restart-policy-submission-retries-of-their-own",
        {
            "restartPolicy": {
                "type": "OnFailure",
                "onFailureRetries": 3,
                "onFailureRetryInterval": 10,
                "onSubmissionFailureRetries": 5,
                "onSubmissionFailureRetryInterval": 20,
            }
        },
        {"restartPolicy": {"type": "OnFailure", "retries": 3, "backoffSeconds": 10}},
        (
            ("spec.restartPolicy.onSubmissionFailureRetries", "restartPolicy.retries (3)"),
            ("spec.restartPolicy.onSubmissionFailureRetryInterval", "restartPolicy.backoffSeconds (10)"),
        ),
    ),
    Case(
        "restart-policy-always",
        {"restartPolicy": {"type": "Always", "onFailureRetryInterval": 30}},
        {"restartPolicy": {"type": "Always", "retries": 100, "backoffSeconds": 30}},
        (("spec.restartPolicy.type", "without end"),),
    ),
    Case(
        "restart-policy-retries-beyond-kubricks-most",
        {"restartPolicy": {"type": "OnFailure", "onFailureRetries": 500}},
        {"restartPolicy": {"type": "OnFailure"}},
        (("spec.restartPolicy.onFailureRetries", "less than or equal to 100"),),
    ),
    Case(
        "node-selector-for-both-pods",
        {"nodeSelector": {"pool": "spark"}},
        {"kubernetes": {"pods": {"nodeSelector": {"pool": "spark"}}}},
    ),
    Case(
        "failure-retries-and-retry-interval-which-kubeflow-does-not-read",
        {"failureRetries": 3, "retryInterval": 10},
        {},
    ),
    Case("python-version-3", {"pythonVersion": "3"}, {}),
    Case("python-version-2", {"pythonVersion": "2"}, {}, (("spec.pythonVersion", "Python 3"),)),
    Case(
        "memory-overhead-factor",
        {"memoryOverheadFactor": "0.2", "driver": {"memory": "4g"}, "executor": {"memoryOverhead": "1g"}},
        {**driver(memoryOverhead="819m"), **executor(memoryOverhead="1g")},
    ),
    Case(
        "memory-overhead-factor-at-least-384m",
        {"memoryOverheadFactor": "0.1"},
        merged(driver(memoryOverhead="384m"), executor(memoryOverhead="384m")),
    ),
    Case("batch-scheduler", {"batchScheduler": "volcano"}, {"kubernetes": {"batchScheduler": {"name": "volcano"}}}),
    Case("default-scheduler", {"batchScheduler": "default-scheduler"}, {}, absent=("kubernetes.batchScheduler",)),
    Case(
        "unknown-batch-scheduler",
        {"batchScheduler": "slurm"},
        {},
        (("spec.batchScheduler", "volcano, yunikorn"),),
        absent=("kubernetes.batchScheduler",),
    ),
    Case(
        "batch-scheduler-options",
        {
            "batchScheduler": "yunikorn",
            "batchSchedulerOptions": {
                "queue": "root.etl",
                "priorityClassName": "batch-high",
                "resources": {"cpu": "4"},
            },
        },
        {
            "kubernetes": {
                "batchScheduler": {"name": "yunikorn", "queue": "root.etl"},
                "driver": {"priorityClassName": "batch-high"},
            }
        },
        (("spec.batchSchedulerOptions.resources", "requests together"),),
        notes=(("spec.batchSchedulerOptions.priorityClassName", "gives the PodGroup too"),),
    ),
    Case(
        "batch-scheduler-options-without-a-batch-scheduler",
        {"batchSchedulerOptions": {"queue": "default"}},
        {},
        (("spec.batchSchedulerOptions.queue", "no queue for it"),),
    ),
    Case(
        "time-to-live-deletes-the-job-as-kubeflow-does",
        {"timeToLiveSeconds": 600},
        {"ttlSecondsAfterFinished": 600, "ttlPolicy": "DeleteJob"},
    ),
    Case("no-time-to-live-leaves-kubricks-default", {}, {}, absent=("ttlSecondsAfterFinished",)),
    Case(
        "dynamic-allocation",
        {
            "dynamicAllocation": {
                "enabled": True,
                "initialExecutors": 3,
                "minExecutors": 1,
                "maxExecutors": 8,
                "shuffleTrackingTimeout": 600000,
            },
            "executor": {"instances": 2},
        },
        {
            "kubernetes": {
                "dynamicAllocation": {"enabled": True, "minExecutors": 1, "maxExecutors": 8},
                "executor": {"instances": 3},
            },
            "app": {"sparkConf": {"spark.dynamicAllocation.shuffleTracking.timeout": "600000"}},
        },
    ),
    Case(
        "dynamic-allocation-without-bound-gets-kubricks-most",
        {"dynamicAllocation": {"enabled": True}, "executor": DELETE},
        {"kubernetes": {"dynamicAllocation": {"enabled": True, "maxExecutors": 10000}}},
        absent=("kubernetes.executor",),
    ),
    Case(
        "dynamic-allocation-disabled",
        {"dynamicAllocation": {"enabled": False, "maxExecutors": 8}},
        {},
        absent=("kubernetes.dynamicAllocation",),
    ),
    Case(
        "dynamic-allocation-shuffle-tracking-off",
        {"dynamicAllocation": {"enabled": True, "shuffleTrackingEnabled": False}},
        {},
        (("spec.dynamicAllocation.shuffleTrackingEnabled", "always tracks shuffles"),),
    ),
    Case("executor-instances-kubeflow-default", {"executor": DELETE}, executor(instances=1)),
    Case("suspend", {"suspend": True}, {"suspend": True}),
    Case("not-suspended", {"suspend": False}, {}, absent=("suspend",)),
    Case(
        "driver-pod-disruption-budget",
        {"driverPodDisruptionBudget": {"enabled": True}},
        {},
        (("spec.driverPodDisruptionBudget", "PodDisruptionBudget"),),
    ),
    Case("unknown-field", {"somethingNew": 1}, {}, (("spec.somethingNew", "not a field"),)),
    Case(
        "value-of-the-wrong-shape",
        {"sparkConf": ["spark.a=b"]},
        {},
        (("spec.sparkConf", "not of the shape"),),
    ),
]


def pod_cases(role: str) -> list[Case]:
    """The fields of kubeflow's SparkPodSpec and those the driver's and the executors' specs share."""
    at = f"spec.{role}"

    def pod(**fields: Any) -> dict[str, Any]:
        return {"kubernetes": {role: fields}}

    def given(**fields: Any) -> dict[str, Any]:
        return {role: fields}

    return [
        Case(
            f"{role}-template",
            given(template={"metadata": {"labels": {"a": "b"}}}),
            pod(template={"metadata": {"labels": {"a": "b"}}}),
        ),
        Case(f"{role}-cores", given(cores=2), pod(cores=2)),
        Case(f"{role}-cores-as-a-string", given(cores="3"), pod(cores=3)),
        Case(f"{role}-core-request", given(coreRequest="250m"), pod(coreRequest="250m")),
        Case(f"{role}-core-limit", given(coreLimit="1200m"), pod(coreLimit="1200m")),
        Case(f"{role}-memory", given(memory="2g"), pod(memory="2g")),
        Case(f"{role}-memory-kubricks-refuses", given(memory="lots"), {}, ((f"{at}.memory", "should match pattern"),)),
        Case(f"{role}-memory-overhead-in-mib", given(memoryOverhead="512"), pod(memoryOverhead="512m")),
        Case(f"{role}-memory-overhead", given(memoryOverhead="1g"), pod(memoryOverhead="1g")),
        Case(f"{role}-memory-limit", given(memoryLimit="4g"), {}, ((f"{at}.memoryLimit", "memory limit"),)),
        Case(f"{role}-gpu", given(gpu={"name": "nvidia.com/gpu", "quantity": 2}), pod(gpus=2)),
        Case(
            f"{role}-gpu-of-another-vendor",
            given(gpu={"name": "amd.com/gpu", "quantity": 1}),
            {},
            ((f"{at}.gpu.name", "nvidia.com/gpu only"),),
        ),
        Case(f"{role}-same-image", given(image="spark:3.5.3"), {"image": {"ref": "spark:3.5.3"}}),
        Case(
            f"{role}-other-image",
            given(image="spark:3.5.0"),
            {"image": {"ref": "spark:3.5.3"}},
            ((f"{at}.image", "one image"),),
        ),
        Case(
            f"{role}-config-maps",
            given(configMaps=[{"name": "queries.v2", "path": "/opt/queries"}]),
            {
                "kubernetes": {
                    "volumes": [{"name": "queries-v2-vol", "configMap": {"name": "queries.v2"}}],
                    role: {"volumeMounts": [{"name": "queries-v2-vol", "mountPath": "/opt/queries", "readOnly": True}]},
                }
            },
        ),
        Case(
            f"{role}-secrets",
            given(
                secrets=[
                    {"name": "plain", "path": "/etc/plain", "secretType": "Generic"},
                    {"name": "gcp", "path": "/etc/gcp", "secretType": "GCPServiceAccount"},
                    {"name": "hadoop-token", "path": "/etc/token", "secretType": "HadoopDelegationToken"},
                ]
            ),
            {
                "kubernetes": {
                    "volumes": [
                        {"name": "plain-volume", "secret": {"secretName": "plain"}},
                        {"name": "gcp-volume", "secret": {"secretName": "gcp"}},
                        {"name": "hadoop-token-volume", "secret": {"secretName": "hadoop-token"}},
                    ],
                    role: {
                        "volumeMounts": [
                            {"name": "plain-volume", "mountPath": "/etc/plain"},
                            {"name": "gcp-volume", "mountPath": "/etc/gcp"},
                            {"name": "hadoop-token-volume", "mountPath": "/etc/token"},
                        ],
                        "env": {
                            "GOOGLE_APPLICATION_CREDENTIALS": "/etc/gcp/key.json",
                            "HADOOP_TOKEN_FILE_LOCATION": "/etc/token/hadoop.token",
                        },
                    },
                }
            },
        ),
        Case(
            f"{role}-secret-of-a-type-kubricks-does-not-know",
            given(secrets=[{"name": "keytab", "path": "/etc/krb", "secretType": "KerberosKeytab"}]),
            pod(volumeMounts=[{"name": "keytab-volume", "mountPath": "/etc/krb"}]),
            ((f"{at}.secrets[0].secretType", "no variable for KerberosKeytab"),),
        ),
        Case(
            f"{role}-env",
            given(
                env=[
                    {"name": "MODE", "value": "prod"},
                    {"name": "EMPTY"},
                    {"name": "PASSWORD", "valueFrom": SECRET_REF},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                ]
            ),
            pod(
                env={"MODE": "prod", "EMPTY": ""},
                envValueFrom={"PASSWORD": SECRET_REF, "POD_IP": {"fieldRef": {"fieldPath": "status.podIP"}}},
            ),
        ),
        Case(
            f"{role}-env-kubricks-refuses-goes-to-the-template",
            given(env=[{"name": "my.var", "value": "x"}]),
            spark_container(role, env=[{"name": "my.var", "value": "x"}]),
            absent=(f"kubernetes.{role}.env",),
        ),
        Case(f"{role}-env-vars", given(envVars={"MODE": "prod"}), pod(env={"MODE": "prod"})),
        Case(
            f"{role}-env-list-wins-over-env-vars-as-in-kubeflow",
            given(envVars={"MODE": "dev"}, env=[{"name": "MODE", "valueFrom": SECRET_REF}]),
            pod(envValueFrom={"MODE": SECRET_REF}),
            absent=(f"kubernetes.{role}.env.MODE",),
        ),
        Case(
            f"{role}-env-from",
            given(envFrom=[{"configMapRef": {"name": "settings"}, "prefix": "APP_"}]),
            pod(envFrom=[{"configMapRef": {"name": "settings"}, "prefix": "APP_"}]),
        ),
        Case(
            f"{role}-env-secret-key-refs",
            given(envSecretKeyRefs={"PASSWORD": {"name": "db", "key": "password"}}),
            pod(envValueFrom={"PASSWORD": SECRET_REF}),
        ),
        Case(f"{role}-labels", given(labels={"team": "data"}), pod(labels={"team": "data"})),
        Case(
            f"{role}-annotations",
            given(annotations={"a.example.com/b": "c"}),
            pod(annotations={"a.example.com/b": "c"}),
        ),
        Case(
            f"{role}-volume-mounts",
            {
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
                **given(volumeMounts=[{"name": "data", "mountPath": "/data", "subPath": "in", "readOnly": True}]),
            },
            pod(volumeMounts=[{"name": "data", "mountPath": "/data", "subPath": "in", "readOnly": True}]),
        ),
        Case(
            f"{role}-volume-mount-of-no-volume",
            given(volumeMounts=[{"name": "nowhere", "mountPath": "/x"}]),
            {},
            ((f"{at}.volumeMounts[0]", "no volume nowhere"),),
        ),
        Case(f"{role}-affinity", given(affinity=AFFINITY), pod(affinity=AFFINITY)),
        Case(
            f"{role}-affinity-kubricks-does-not-model-goes-to-the-template",
            given(affinity=NEWER_AFFINITY),
            template_spec(role, affinity=NEWER_AFFINITY),
            absent=(f"kubernetes.{role}.affinity",),
        ),
        Case(
            f"{role}-tolerations",
            given(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "spark", "effect": "NoSchedule"}]),
            pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "spark", "effect": "NoSchedule"}]),
        ),
        Case(
            f"{role}-pod-security-context",
            given(
                podSecurityContext={
                    "fsGroup": 185,
                    "supplementalGroups": [1000],
                    "sysctls": [{"name": "a", "value": "1"}],
                }
            ),
            merged(
                pod(podSecurityContext={"fsGroup": 185}),
                template_spec(
                    role, securityContext={"supplementalGroups": [1000], "sysctls": [{"name": "a", "value": "1"}]}
                ),
            ),
        ),
        Case(
            f"{role}-security-context",
            given(securityContext={"readOnlyRootFilesystem": True, "seLinuxOptions": {"level": "s0:c1"}}),
            merged(
                pod(securityContext={"readOnlyRootFilesystem": True}),
                spark_container(role, securityContext={"seLinuxOptions": {"level": "s0:c1"}}),
            ),
        ),
        Case(
            f"{role}-root-as-kubeflow-allowed-it",
            given(podSecurityContext={"runAsUser": 0}),
            pod(podSecurityContext={"runAsUser": 0, "runAsNonRoot": False}),
        ),
        Case(
            f"{role}-privileged-as-kubeflow-allowed-it",
            given(securityContext={"privileged": True}),
            pod(securityContext={"privileged": True, "allowPrivilegeEscalation": True}),
        ),
        Case(f"{role}-scheduler-name", given(schedulerName="yunikorn"), pod(schedulerName="yunikorn")),
        Case(
            f"{role}-sidecars",
            given(
                sidecars=[
                    {
                        "name": "proxy",
                        "image": "envoy:1.30",
                        "args": ["-c", "/etc/envoy.yaml"],
                        "env": [{"name": "A", "value": "1"}],
                        "ports": [{"containerPort": 9901}],
                    }
                ]
            ),
            pod(
                sidecars=[
                    {
                        "name": "proxy",
                        "image": "envoy:1.30",
                        "args": ["-c", "/etc/envoy.yaml"],
                        "env": {"A": "1"},
                        "ports": [{"containerPort": 9901}],
                    }
                ]
            ),
        ),
        Case(
            f"{role}-sidecar-kubricks-does-not-model-goes-to-the-template",
            given(sidecars=[{"name": "shipper", "image": "fluent-bit:3.0", "livenessProbe": PROBE}]),
            merged(
                spark_container(role),
                template_spec(
                    role,
                    containers=[
                        {"name": f"spark-kubernetes-{role}"},
                        {"name": "shipper", "image": "fluent-bit:3.0", "livenessProbe": PROBE},
                    ],
                ),
            ),
            absent=(f"kubernetes.{role}.sidecars",),
        ),
        Case(
            f"{role}-privileged-sidecar-as-kubeflow-allowed-it",
            given(sidecars=[{"name": "fuse", "image": "fuse:1", "securityContext": {"privileged": True}}]),
            pod(
                sidecars=[
                    {
                        "name": "fuse",
                        "image": "fuse:1",
                        "securityContext": {"privileged": True, "allowPrivilegeEscalation": True},
                    }
                ]
            ),
        ),
        Case(
            f"{role}-init-containers",
            given(
                initContainers=[
                    {"name": "wait", "image": "busybox:1.36", "command": ["sleep", "1"]},
                    {"name": "agent", "image": "agent:1", "restartPolicy": "Always"},
                ]
            ),
            pod(
                initContainers=[
                    {"name": "wait", "image": "busybox:1.36", "command": ["sleep", "1"]},
                    {"name": "agent", "image": "agent:1", "restartPolicy": "Always"},
                ]
            ),
        ),
        Case(
            f"{role}-init-container-mounting-a-template-volume",
            {
                "volumes": [NFS],
                **given(
                    initContainers=[
                        {
                            "name": "warm",
                            "image": "busybox:1.36",
                            "volumeMounts": [{"name": "models", "mountPath": "/m"}],
                        }
                    ]
                ),
            },
            template_spec(
                role,
                volumes=[NFS],
                initContainers=[
                    {"name": "warm", "image": "busybox:1.36", "volumeMounts": [{"name": "models", "mountPath": "/m"}]}
                ],
            ),
            absent=(f"kubernetes.{role}.initContainers",),
        ),
        Case(
            f"{role}-template-container-mounting-a-volume-only-it-mounts",
            {
                "volumes": [{"name": "scratch", "emptyDir": {}}],
                **given(
                    sidecars=[
                        {
                            "name": "s",
                            "image": "s:1",
                            "startupProbe": PROBE,
                            "volumeMounts": [{"name": "scratch", "mountPath": "/s"}],
                        }
                    ]
                ),
            },
            merged(
                {"kubernetes": {"volumes": [{"name": "scratch", "emptyDir": {}}]}},
                template_spec(role, volumes=[{"name": "scratch", "emptyDir": {}}]),
            ),
        ),
        Case(
            f"{role}-host-network",
            given(hostNetwork=True),
            template_spec(role, hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"),
        ),
        Case(f"{role}-no-host-network", given(hostNetwork=False), {}, absent=(f"kubernetes.{role}.template",)),
        Case(f"{role}-node-selector", given(nodeSelector={"pool": "spark"}), pod(nodeSelector={"pool": "spark"})),
        Case(
            f"{role}-dns-config",
            given(dnsConfig={"options": [{"name": "ndots", "value": "2"}]}),
            pod(dnsConfig={"options": [{"name": "ndots", "value": "2"}]}),
        ),
        Case(
            f"{role}-termination-grace-period",
            given(terminationGracePeriodSeconds=60),
            pod(terminationGracePeriodSeconds=60),
        ),
        Case(
            f"{role}-termination-grace-period-beyond-kubricks-most-goes-to-the-template",
            given(terminationGracePeriodSeconds=172800),
            template_spec(role, terminationGracePeriodSeconds=172800),
        ),
        Case(
            f"{role}-host-aliases",
            given(hostAliases=[{"ip": "10.0.0.1", "hostnames": ["db.internal"]}]),
            pod(hostAliases=[{"ip": "10.0.0.1", "hostnames": ["db.internal"]}]),
        ),
        Case(
            f"{role}-share-process-namespace",
            given(shareProcessNamespace=True),
            template_spec(role, shareProcessNamespace=True),
        ),
        Case(
            f"{role}-runtime-class-name",
            given(runtimeClassName="gvisor"),
            template_spec(role, runtimeClassName="gvisor"),
        ),
        Case(f"{role}-java-options", given(javaOptions="-XX:+UseG1GC\n-Dx=1"), pod(javaOptions="-XX:+UseG1GC -Dx=1")),
        Case(
            f"{role}-lifecycle",
            given(lifecycle={"preStop": {"exec": {"command": ["sleep", "5"]}}}),
            spark_container(role, lifecycle={"preStop": {"exec": {"command": ["sleep", "5"]}}}),
        ),
        Case(
            f"{role}-ports",
            given(ports=[{"name": "jmx", "protocol": "TCP", "containerPort": 9090}]),
            spark_container(role, ports=[{"name": "jmx", "protocol": "TCP", "containerPort": 9090}]),
        ),
        Case(f"{role}-priority-class-name", given(priorityClassName="batch"), pod(priorityClassName="batch")),
        Case(f"{role}-unknown-field", given(somethingNew=1), {}, ((f"{at}.somethingNew", "not a field"),)),
    ]


ROLE_CASES = [
    *pod_cases("driver"),
    *pod_cases("executor"),
    Case("driver-service-account", {"driver": {"serviceAccount": "etl"}}, {"kubernetes": {"serviceAccount": "etl"}}),
    Case(
        "executor-service-account",
        {"executor": {"serviceAccount": "etl-executor"}},
        template_spec("executor", serviceAccountName="etl-executor"),
        absent=("kubernetes.serviceAccount",),
    ),
    Case("driver-pod-name", {"driver": {"podName": "fixed"}}, {}, (("spec.driver.podName", "one per attempt"),)),
    Case(
        "driver-kubernetes-master",
        {"driver": {"kubernetesMaster": "https://k8s.example.com"}},
        {},
        (("spec.driver.kubernetesMaster", "cluster it runs in"),),
    ),
    Case(
        "driver-service-annotations",
        {"driver": {"serviceAnnotations": {"a": "b"}}},
        driver(serviceAnnotations={"a": "b"}),
    ),
    Case("driver-service-labels", {"driver": {"serviceLabels": {"a": "b"}}}, driver(serviceLabels={"a": "b"})),
    Case("executor-instances", {"executor": {"instances": 4}}, executor(instances=4)),
    Case(
        "executor-delete-on-termination",
        {"executor": {"deleteOnTermination": False}},
        {"app": {"sparkConf": {"spark.kubernetes.executor.deleteOnTermination": "false"}}},
    ),
    Case(
        "only-the-pods-name-the-image",
        {"image": DELETE, "driver": {"image": "spark:3.5.3"}, "executor": {"image": "spark:3.5.3"}},
        {"image": {"ref": "spark:3.5.3"}},
    ),
    Case(
        "a-volume-of-both-pods-once",
        {
            "driver": {"secrets": [{"name": "s", "path": "/s"}]},
            "executor": {"secrets": [{"name": "s", "path": "/s"}]},
        },
        {"kubernetes": {"volumes": [{"name": "s-volume", "secret": {"secretName": "s"}}]}},
    ),
]

HOST_FORMAT = OperatorFlags("{{$appName}}.{{$appNamespace}}.spark.example.com")
HOST = "app.team-a.spark.example.com"


def ui(**parts: Any) -> dict[str, Any]:
    return {"kubernetes": {"ui": parts}}


UI_CASES = [
    Case(
        "spark-ui-service",
        {
            "sparkUIOptions": {
                "servicePort": 80,
                "serviceType": "LoadBalancer",
                "serviceAnnotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
                "serviceLabels": {"team": "data"},
            }
        },
        ui(
            service={
                "port": 80,
                "type": "LoadBalancer",
                "annotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
                "labels": {"team": "data"},
            }
        ),
        absent=("kubernetes.ui.ingress",),
    ),
    Case(
        "spark-ui-service-type-kubricks-refuses",
        {"sparkUIOptions": {"serviceType": "ExternalName"}},
        {},
        (("spec.sparkUIOptions.serviceType", "Input should be"),),
        absent=("kubernetes.ui",),
    ),
    Case(
        "spark-ui-service-port-name-kubeflow-default",
        {"sparkUIOptions": {"servicePortName": "spark-driver-ui-port"}},
        {},
        absent=("kubernetes.ui",),
    ),
    Case("spark-ui-service-port-name-kubricks-own", {"sparkUIOptions": {"servicePortName": "spark-ui"}}, {}),
    Case(
        "spark-ui-service-port-name-of-its-own",
        {"sparkUIOptions": {"servicePortName": "http"}},
        {},
        (("spec.sparkUIOptions.servicePortName", "port spark-ui"),),
    ),
    Case(
        "spark-ui-ingress-settings-without-the-ingress-url-format",
        {"sparkUIOptions": {"ingressAnnotations": {"a": "b"}, "ingressTLS": [{"secretName": "tls"}]}},
        {},
        (
            ("spec.sparkUIOptions.ingressAnnotations", "give kubricks import the same --ingress-url-format"),
            ("spec.sparkUIOptions.ingressTLS", "give kubricks import the same --ingress-url-format"),
        ),
        absent=("kubernetes.ui",),
    ),
    Case(
        "ingress-url-format-gives-every-ui-an-ingress",
        {},
        ui(ingress={"host": HOST}),
        absent=("kubernetes.ui.ingress.className", "kubernetes.ui.service"),
        flags=HOST_FORMAT,
        namespace="team-a",
    ),
    Case(
        "ingress-url-format-with-a-scheme-and-blanks-in-placeholders",
        {},
        ui(ingress={"host": "app.spark.example.com"}),
        flags=OperatorFlags("https://{{ $appName }}.spark.example.com/"),
    ),
    Case(
        "ingress-url-format-and-class-name",
        {},
        ui(ingress={"host": HOST, "className": "nginx"}),
        flags=OperatorFlags(HOST_FORMAT.ingress_url_format, "nginx"),
        namespace="team-a",
    ),
    Case(
        "ingress-class-name-alone-makes-no-ingress-as-in-kubeflow",
        {},
        {},
        absent=("kubernetes.ui",),
        flags=OperatorFlags(ingress_class_name="nginx"),
    ),
    Case(
        "ingress-url-format-with-a-path",
        {"sparkUIOptions": {"ingressAnnotations": {"a": "b"}}},
        {},
        (
            ("--ingress-url-format", "a path after the host (/team-a/app)"),
            ("spec.sparkUIOptions.ingressAnnotations", "see --ingress-url-format"),
        ),
        absent=("kubernetes.ui",),
        flags=OperatorFlags("spark.example.com/{{$appNamespace}}/{{$appName}}"),
        namespace="team-a",
    ),
    Case(
        "ingress-url-format-with-the-application-id",
        {},
        {},
        (("--ingress-url-format", "{{$appId}}"),),
        absent=("kubernetes.ui",),
        flags=OperatorFlags("{{$appId}}.spark.example.com"),
    ),
    Case(
        "ingress-url-format-with-a-namespace-the-application-does-not-name",
        {},
        {},
        (("--ingress-url-format", "give kubricks import --namespace"),),
        absent=("kubernetes.ui",),
        flags=HOST_FORMAT,
    ),
    Case(
        "ingress-url-format-with-a-port",
        {},
        {},
        (("--ingress-url-format", "should match pattern"),),
        absent=("kubernetes.ui",),
        flags=OperatorFlags("{{$appName}}.spark.example.com:8443"),
    ),
    Case(
        "spark-ui-ingress-settings",
        {
            "sparkUIOptions": {
                "ingressAnnotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
                "ingressTLS": [{"hosts": [HOST], "secretName": "spark-ui-tls"}],
            }
        },
        ui(
            ingress={
                "host": HOST,
                "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
                "tls": [{"hosts": [HOST], "secretName": "spark-ui-tls"}],
            }
        ),
        flags=HOST_FORMAT,
        namespace="team-a",
    ),
    Case(
        "spark-ui-ingress-tls-wildcard-that-covers-the-host-becomes-it",
        {
            "sparkUIOptions": {
                "ingressTLS": [
                    {"hosts": ["*.team-a.spark.example.com", HOST], "secretName": "wildcard"},
                    {"hosts": ["*.example.com"], "secretName": "too-wide"},
                ]
            }
        },
        ui(ingress={"host": HOST, "tls": [{"hosts": [HOST], "secretName": "wildcard"}]}),
        (("spec.sparkUIOptions.ingressTLS[1]", "should match pattern"),),
        flags=HOST_FORMAT,
        namespace="team-a",
    ),
    Case(
        "spark-ui-options-unknown-field",
        {"sparkUIOptions": {"somethingNew": 1}},
        {},
        (("spec.sparkUIOptions.somethingNew", "not a field"),),
    ),
    Case(
        "driver-ingress-options-of-another-port",
        {"driverIngressOptions": [{"servicePort": 8080, "servicePortName": "http", "ingressURLFormat": "x.io"}]},
        {},
        (("spec.driverIngressOptions[0]", "port (4040) only, not 8080"),),
        absent=("kubernetes.ui",),
    ),
    Case(
        "driver-ingress-options-of-the-ui-port-map-as-spark-ui-options",
        {
            "driverIngressOptions": [
                {
                    "servicePort": 4040,
                    "servicePortName": "driver-ing-4040",
                    "serviceType": "NodePort",
                    "serviceAnnotations": {"a": "b"},
                    "serviceLabels": {"c": "d"},
                    "ingressURLFormat": "{{$appName}}-ui.spark.example.com",
                    "ingressAnnotations": {"e": "f"},
                    "ingressTLS": [{"hosts": ["*.spark.example.com"], "secretName": "wildcard"}],
                }
            ]
        },
        ui(
            service={"port": 4040, "type": "NodePort", "annotations": {"a": "b"}, "labels": {"c": "d"}},
            ingress={
                "host": "app-ui.spark.example.com",
                "className": "nginx",
                "annotations": {"e": "f"},
                "tls": [{"hosts": ["app-ui.spark.example.com"], "secretName": "wildcard"}],
            },
        ),
        flags=OperatorFlags(ingress_class_name="nginx"),
    ),
    Case(
        "driver-ingress-options-of-the-ui-port-without-an-ingress-as-in-kubeflow",
        {"driverIngressOptions": [{"servicePort": 4040, "servicePortName": "ui", "ingressAnnotations": {"a": "b"}}]},
        ui(service={"port": 4040}),
        (("spec.driverIngressOptions[0].servicePortName", "port spark-ui"),),
        absent=("kubernetes.ui.ingress",),
    ),
    Case(
        "driver-ingress-options-of-the-ui-port-with-a-path",
        {
            "driverIngressOptions": [
                {"servicePort": 4040, "ingressURLFormat": "spark.example.com/{{$appName}}", "ingressTLS": []}
            ]
        },
        ui(service={"port": 4040}),
        (
            ("spec.driverIngressOptions[0].ingressURLFormat", "a path after the host (/app)"),
            ("spec.driverIngressOptions[0].ingressTLS", "see its ingressURLFormat"),
        ),
        absent=("kubernetes.ui.ingress",),
    ),
    Case(
        "driver-ingress-options-of-the-ui-port-beside-spark-ui-options",
        {
            "sparkUIOptions": {"serviceType": "NodePort"},
            "driverIngressOptions": [{"servicePort": 4040, "serviceType": "LoadBalancer"}],
        },
        ui(service={"type": "NodePort"}),
        (("spec.driverIngressOptions[0]", "one Service and one Ingress"),),
    ),
    Case(
        "driver-ingress-options-of-the-ui-port-beside-the-ingress-url-format",
        {"driverIngressOptions": [{"servicePort": 4040, "ingressURLFormat": "{{$appName}}-ui.spark.example.com"}]},
        ui(ingress={"host": HOST}),
        (("spec.driverIngressOptions[0]", "one Service and one Ingress"),),
        flags=HOST_FORMAT,
        namespace="team-a",
    ),
    Case(
        "driver-ingress-options-unknown-field",
        {"driverIngressOptions": [{"servicePort": 4040, "somethingNew": 1}]},
        ui(service={"port": 4040}),
        (("spec.driverIngressOptions[0].somethingNew", "not a field"),),
    ),
]

JMX_NOTE = "not the JMX exporter's on port"

MONITORING_CASES = [
    Case(
        "monitoring-driver-and-executor-metrics-without-a-service-monitor-as-in-kubeflow",
        {"monitoring": {"exposeDriverMetrics": True, "exposeExecutorMetrics": True}},
        {"kubernetes": {"monitoring": {"prometheus": True}}},
        absent=("kubernetes.monitoring.serviceMonitor", "kubernetes.monitoring.podMonitor"),
    ),
    Case(
        "monitoring-executor-metrics-alone",
        {"monitoring": {"exposeDriverMetrics": False, "exposeExecutorMetrics": True}},
        {"kubernetes": {"monitoring": {"prometheus": True}}},
    ),
    Case(
        "monitoring-nothing-exposed",
        {"monitoring": {"exposeDriverMetrics": False, "exposeExecutorMetrics": False}},
        {},
        absent=("kubernetes.monitoring",),
    ),
    Case(
        "monitoring-exposure-not-a-boolean",
        {"monitoring": {"exposeDriverMetrics": "yes"}},
        {},
        (("spec.monitoring.exposeDriverMetrics", "not true or false"),),
        absent=("kubernetes.monitoring",),
    ),
    Case(
        "monitoring-jmx-exporter-is-noted",
        {
            "monitoring": {
                "exposeDriverMetrics": True,
                "metricsProperties": "*.sink.jmx.class=org.apache.spark.metrics.sink.JmxSink",
                "metricsPropertiesFile": "/etc/metrics/metrics.properties",
                "prometheus": {
                    "jmxExporterJar": "/prometheus/jmx_prometheus_javaagent.jar",
                    "port": 8091,
                    "portName": "jmx",
                    "configFile": "/etc/metrics/prometheus.yaml",
                    "configuration": "rules: []",
                },
            }
        },
        {"kubernetes": {"monitoring": {"prometheus": True}}},
        (
            ("spec.monitoring.metricsProperties", "kubricks configures Spark's metrics system itself"),
            ("spec.monitoring.metricsPropertiesFile", "kubricks configures Spark's metrics system itself"),
            ("spec.monitoring.prometheus.jmxExporterJar", "no JMX exporter"),
            ("spec.monitoring.prometheus.port", "no JMX exporter"),
            ("spec.monitoring.prometheus.portName", "no JMX exporter"),
            ("spec.monitoring.prometheus.configFile", "no JMX exporter"),
            ("spec.monitoring.prometheus.configuration", "no JMX exporter"),
        ),
        notes=(("spec.monitoring", f"{JMX_NOTE} 8091: the metric names differ"),),
    ),
    Case(
        "monitoring-jmx-exporter-on-kubeflow-default-port",
        {"monitoring": {"exposeExecutorMetrics": True, "prometheus": {"jmxExporterJar": "/jmx.jar"}}},
        {"kubernetes": {"monitoring": {"prometheus": True}}},
        (("spec.monitoring.prometheus.jmxExporterJar", "no JMX exporter"),),
        notes=(("spec.monitoring", f"{JMX_NOTE} 8090"),),
    ),
    Case(
        "monitoring-jmx-exporter-with-nothing-exposed-is-not-noted",
        {"monitoring": {"exposeDriverMetrics": False, "prometheus": {"jmxExporterJar": "/jmx.jar"}}},
        {},
        (("spec.monitoring.prometheus.jmxExporterJar", "no JMX exporter"),),
        absent=("kubernetes.monitoring",),
    ),
    Case(
        "monitoring-unknown-fields",
        {"monitoring": {"somethingNew": 1, "prometheus": {"somethingNewer": 2}}},
        {},
        (
            ("spec.monitoring.somethingNew", "not a field"),
            ("spec.monitoring.prometheus.somethingNewer", "not a field"),
        ),
    ),
]

EVENT_LOG_ON = {"spark.eventLog.enabled": "true", "spark.eventLog.dir": "s3a://logs/spark-events"}

EVENT_LOG_CASES = [
    Case(
        "spark-conf-event-log",
        {
            "sparkConf": {
                **EVENT_LOG_ON,
                "spark.eventLog.compress": "true",
                "spark.eventLog.rolling.enabled": "true",
                "spark.eventLog.rolling.maxFileSize": "256M",
            }
        },
        {
            "kubernetes": {
                "eventLog": {"dir": "s3a://logs/spark-events", "compress": True, "rollingMaxFileSize": "256m"}
            }
        },
        absent=("app.sparkConf",),
    ),
    Case(
        "spark-conf-event-log-rolling-at-spark-default-size",
        {"sparkConf": {**EVENT_LOG_ON, "spark.eventLog.rolling.enabled": " True "}},
        {"kubernetes": {"eventLog": {"rollingMaxFileSize": "128m"}}},
        absent=("app.sparkConf",),
    ),
    Case(
        "spark-conf-event-log-not-rolling",
        {
            "sparkConf": {
                **EVENT_LOG_ON,
                "spark.eventLog.rolling.enabled": "false",
                "spark.eventLog.rolling.maxFileSize": "256m",
            }
        },
        {"kubernetes": {"eventLog": {"dir": "s3a://logs/spark-events"}}},
        absent=("app.sparkConf", "kubernetes.eventLog.rollingMaxFileSize"),
    ),
    Case(
        "spark-conf-event-log-off-stays-in-spark-conf-where-kubricks-sets-nothing",
        {"sparkConf": {"spark.eventLog.enabled": "false", "spark.eventLog.dir": "s3a://logs/spark-events"}},
        {"app": {"sparkConf": {"spark.eventLog.enabled": "false", "spark.eventLog.dir": "s3a://logs/spark-events"}}},
        absent=("kubernetes.eventLog",),
    ),
    Case(
        "spark-conf-event-log-without-a-directory-stays-in-spark-conf",
        {"sparkConf": {"spark.eventLog.enabled": "true"}},
        {"app": {"sparkConf": {"spark.eventLog.enabled": "true"}}},
        absent=("kubernetes.eventLog",),
    ),
    Case(
        "spark-conf-event-log-in-a-directory-kubricks-refuses-stays-in-spark-conf",
        {"sparkConf": {**EVENT_LOG_ON, "spark.eventLog.dir": "s3a://logs/a,s3a://logs/b"}},
        {"app": {"sparkConf": {**EVENT_LOG_ON, "spark.eventLog.dir": "s3a://logs/a,s3a://logs/b"}}},
        absent=("kubernetes.eventLog",),
    ),
    Case(
        "spark-conf-event-log-compress-not-a-boolean",
        {"sparkConf": {**EVENT_LOG_ON, "spark.eventLog.compress": "zstd"}},
        {"kubernetes": {"eventLog": {"dir": "s3a://logs/spark-events"}}},
        (("spec.sparkConf[spark.eventLog.compress]", "not true or false"),),
        absent=("app.sparkConf", "kubernetes.eventLog.compress"),
    ),
    Case(
        "spark-conf-event-log-rolling-size-kubricks-refuses",
        {
            "sparkConf": {
                **EVENT_LOG_ON,
                "spark.eventLog.rolling.enabled": "true",
                "spark.eventLog.rolling.maxFileSize": "1t",
            }
        },
        {"kubernetes": {"eventLog": {"dir": "s3a://logs/spark-events"}}},
        (("spec.sparkConf[spark.eventLog.rolling.maxFileSize]", "should match pattern"),),
        absent=("kubernetes.eventLog.rollingMaxFileSize",),
    ),
]

CASES = [*SPEC_CASES, *ROLE_CASES, *UI_CASES, *MONITORING_CASES, *EVENT_LOG_CASES]


def at_path(spec: dict[str, Any], dotted: str) -> bool:
    node: Any = spec
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_field(case: Case) -> None:
    application = merged(BASE, {"spec": case.given})
    job, unmapped, notes = spark_job(application, case.namespace, case.flags)
    assert job is not None, unmapped
    assert contains(job["spec"], case.expected), yaml.safe_dump(job["spec"])
    assert sorted(u.field for u in unmapped) == sorted(field for field, _ in case.unmapped), unmapped
    reasons = {u.field: u.reason for u in unmapped}
    for field, fragment in case.unmapped:
        assert fragment in reasons[field]
    assert sorted(n.field for n in notes) == sorted(field for field, _ in case.notes), notes
    texts = {n.field: n.text for n in notes}
    for field, fragment in case.notes:
        assert fragment in texts[field]
    for path in case.absent:
        assert not at_path(job["spec"], path), path
    SparkJob.model_validate(job)


def test_the_event_log_leaves_spark_conf_but_for_the_properties_kubricks_does_not_set() -> None:
    conf = {**EVENT_LOG_ON, "spark.eventLog.compress": "false", "spark.eventLog.logBlockUpdates.enabled": "true"}
    job, unmapped, _ = spark_job(merged(BASE, {"spec": {"sparkConf": conf}}))
    assert job is not None, unmapped
    assert job["spec"]["app"]["sparkConf"] == {"spark.eventLog.logBlockUpdates.enabled": "true"}
    assert job["spec"]["kubernetes"]["eventLog"] == {"dir": "s3a://logs/spark-events", "compress": False}
    assert unmapped == []


def touched(section: str) -> set[str]:
    """The fields of the SparkApplication's spec, or of the object at the dotted ``section`` under it (of each
    item, for a list), that some case sets."""
    fields: set[str] = set()
    for case in CASES:
        nodes: list[Any] = [case.given]
        for key in [] if section == "spec" else section.split("."):
            values = [node.get(key) for node in nodes if isinstance(node, dict)]
            nodes = [item for value in values for item in (value if isinstance(value, list) else [value])]
        fields |= {field for node in nodes if isinstance(node, dict) for field in node}
    return fields


@pytest.mark.parametrize(
    ("section", "table"),
    [
        ("spec", SPEC_FIELDS),
        ("driver", DRIVER_FIELDS),
        ("executor", EXECUTOR_FIELDS),
        ("deps", DEPS_FIELDS),
        ("restartPolicy", RESTART_POLICY_FIELDS),
        ("dynamicAllocation", DYNAMIC_ALLOCATION_FIELDS),
        ("sparkUIOptions", SPARK_UI_FIELDS),
        ("driverIngressOptions", DRIVER_INGRESS_FIELDS),
        ("monitoring", MONITORING_FIELDS),
        ("monitoring.prometheus", JMX_EXPORTER_FIELDS),
    ],
)
def test_every_field_the_importer_knows_has_a_case(section: str, table: Any) -> None:
    assert set(table) - touched(section) == set()


@pytest.mark.parametrize(
    ("given", "field", "fragment"),
    [
        ({"image": DELETE}, "spec.image", "exactly one of spec.image.sparkImage / spec.image.ref"),
        ({"mainClass": DELETE}, "spec.app", "mainClass is required with a .jar"),
        ({"mainApplicationFile": "local:///opt/app/main.R", "type": "R"}, "spec.app", "exactly one of"),
        ({"driver": {"coreRequest": "2", "coreLimit": "1"}}, "spec.kubernetes.driver", "must not be below"),
        (
            {"dynamicAllocation": {"enabled": True, "minExecutors": 5, "maxExecutors": 2}},
            "spec.kubernetes.dynamicAllocation",
            "must not exceed maxExecutors",
        ),
    ],
    ids=["no-image", "jar-without-main-class", "r-application", "core-limit-below-request", "min-above-max"],
)
def test_an_invalid_sparkjob_is_not_made_and_says_why(given: dict[str, Any], field: str, fragment: str) -> None:
    job, unmapped, _ = spark_job(merged(BASE, {"spec": given}))
    assert job is None
    made = [u for u in unmapped if u.reason.startswith("no SparkJob is made")]
    assert any(u.field == field and fragment in u.reason for u in made), unmapped


def test_metadata_keeps_what_describes_the_job_and_drops_what_the_api_server_wrote() -> None:
    application = merged(
        BASE,
        {
            "metadata": {
                "namespace": "data",
                "labels": {"team": "data"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "owner": "me"},
                "uid": "1234",
                "resourceVersion": "42",
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "managedFields": [{"manager": "kubectl"}],
            },
            "status": {"applicationState": {"state": "COMPLETED"}},
        },
    )
    job, _, _ = spark_job(application)
    assert job is not None
    assert job["metadata"] == {
        "name": "app",
        "namespace": "data",
        "labels": {"team": "data"},
        "annotations": {"owner": "me"},
    }
    assert "status" not in job
    assert job["spec"]["kubernetes"]["driver"]["labels"] == {"team": "data"}, "kubeflow labels its driver so too"


def test_namespace_replaces_the_applications() -> None:
    job, _, _ = spark_job(merged(BASE, {"metadata": {"namespace": "data"}}), namespace="team-a")
    assert job is not None
    assert job["metadata"]["namespace"] == "team-a"


def test_the_application_is_left_as_it_was() -> None:
    application = merged(
        BASE, {"spec": {"volumes": [NFS], "driver": {"volumeMounts": [{"name": "models", "mountPath": "/m"}]}}}
    )
    before = copy.deepcopy(application)
    spark_job(application)
    assert application == before


PASSED_THROUGH = "passed through unchanged: {} is not a sparkoperator.k8s.io/v1beta2 SparkApplication or " \
    "ScheduledSparkApplication"  # fmt: skip


def test_documents_of_other_kinds_pass_through() -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "b"}}
    older = {**copy.deepcopy(BASE), "apiVersion": "sparkoperator.k8s.io/v1beta1", "metadata": {"name": "old"}}
    scheduled = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "ScheduledSparkApplication",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "@daily", "template": BASE["spec"]},
    }
    imported = import_documents([config_map, None, BASE, scheduled, older, "text"])
    assert [d if not isinstance(d, dict) else d.get("kind") for d in imported.documents] == [
        "ConfigMap",
        "SparkJob",
        "ScheduledSparkJob",
        "SparkApplication",
        "text",
    ]
    assert imported.documents[0] == config_map
    assert imported.messages == [
        f"settings: {PASSED_THROUGH.format('ConfigMap')}",
        f"old: {PASSED_THROUGH.format('SparkApplication')}",
        f"document 5: {PASSED_THROUGH.format('no kind')}",
    ]
    assert imported.unmapped == 0


def test_the_items_of_a_list_are_imported_as_kubectl_get_prints_them() -> None:
    listed = {"apiVersion": "v1", "kind": "List", "items": [BASE, merged(BASE, {"metadata": {"name": "other"}})]}
    imported = import_documents([listed])
    assert [(d["kind"], d["metadata"]["name"]) for d in imported.documents] == [
        ("SparkJob", "app"),
        ("SparkJob", "other"),
    ]
    assert imported.messages == []


DRIVER_PORT_8080 = "kubricks exposes the Spark UI's port (4040) only, not 8080"
JMX_NOTE_8090 = (
    "kubricks serves Spark's own metrics (its PrometheusServlet) on the UI port 4040, at /metrics/prometheus/ and "
    "/metrics/executors/prometheus/, not the JMX exporter's on port 8090: the metric names differ, and no "
    "prometheus.io/* pod annotations point at them"
)

EXAMPLES: dict[str, list[Unmapped | Note]] = {
    "spark-pi.yaml": [],
    "spark-pi-ui.yaml": [],
    "pyspark-pi.yaml": [
        Unmapped(
            "spec.restartPolicy.onSubmissionFailureRetries",
            "kubricks retries a failed submission as a failed run, restartPolicy.retries (3) times",
        ),
        Unmapped(
            "spec.restartPolicy.onSubmissionFailureRetryInterval",
            "kubricks waits restartPolicy.backoffSeconds (10) after a failed submission as after a failed run",
        ),
    ],
    "etl-nightly.yaml": [
        Unmapped("spec.monitoring.prometheus.jmxExporterJar", JMX_EXPORTER),
        Unmapped("spec.monitoring.prometheus.port", JMX_EXPORTER),
        Unmapped("spec.sparkUIOptions.ingressAnnotations", NO_INGRESS_FLAG),
        Unmapped("spec.sparkUIOptions.ingressTLS", NO_INGRESS_FLAG),
        Unmapped("spec.driverIngressOptions[0]", DRIVER_PORT_8080),
        Note("spec.monitoring", JMX_NOTE_8090),
    ],
}
"""What each example loses or keeps with a note, without kubeflow's operator flags."""


def application(example: str) -> dict[str, Any]:
    applications = [
        d for d in yaml.safe_load_all((KUBEFLOW / example).read_text()) if d and d["kind"] == "SparkApplication"
    ]
    assert len(applications) == 1
    return applications[0]


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_becomes_a_valid_sparkjob_losing_only_what_is_listed(example: str) -> None:
    job, unmapped, notes = spark_job(application(example))
    assert job is not None, unmapped
    SparkJob.model_validate(job)
    assert [*unmapped, *notes] == EXAMPLES[example]


def test_example_gets_the_ui_ingress_of_kubeflows_operator_flags() -> None:
    flags = OperatorFlags("{{$appName}}-{{$appNamespace}}.spark.example.com", "nginx")
    job, unmapped, _ = spark_job(application("etl-nightly.yaml"), "team-a", flags)
    assert job is not None, unmapped
    assert job["spec"]["kubernetes"]["ui"] == {
        "service": {
            "port": 80,
            "type": "ClusterIP",
            "labels": {"team": "data"},
            "annotations": {"example.com/owner": "data-team"},
        },
        "ingress": {
            "host": "etl-nightly-team-a.spark.example.com",
            "className": "nginx",
            "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
            "tls": [{"hosts": ["etl-nightly-team-a.spark.example.com"], "secretName": "spark-ui-tls"}],
        },
    }
    assert [u.field for u in unmapped if u.field.startswith("spec.sparkUIOptions")] == []
    SparkJob.model_validate(job)


def test_every_example_is_listed() -> None:
    assert sorted(path.name for path in KUBEFLOW.glob("*.yaml")) == sorted(EXAMPLES)


def test_command_prints_sparkjobs_and_lists_what_it_could_not_map() -> None:
    result = CliRunner().invoke(
        main, ["import", "-f", str(KUBEFLOW / "spark-pi.yaml"), "-f", "-", "--namespace", "team-a"],
        input=(KUBEFLOW / "etl-nightly.yaml").read_text(),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    documents = list(yaml.safe_load_all(result.stdout))
    assert [(d["kind"], d["metadata"]["name"]) for d in documents] == [
        ("SparkJob", "spark-pi"),
        ("SparkJob", "etl-nightly"),
        ("ConfigMap", "etl-settings"),
    ]
    assert [d["metadata"]["namespace"] for d in documents] == ["team-a", "team-a", "data"]
    assert result.stderr.splitlines() == [
        f"etl-nightly: spec.monitoring.prometheus.jmxExporterJar: {JMX_EXPORTER}",
        f"etl-nightly: spec.monitoring.prometheus.port: {JMX_EXPORTER}",
        f"etl-nightly: spec.sparkUIOptions.ingressAnnotations: {NO_INGRESS_FLAG}",
        f"etl-nightly: spec.sparkUIOptions.ingressTLS: {NO_INGRESS_FLAG}",
        f"etl-nightly: spec.driverIngressOptions[0]: {DRIVER_PORT_8080}",
        f"etl-nightly: spec.monitoring: note: {JMX_NOTE_8090}",
        f"etl-settings: {PASSED_THROUGH.format('ConfigMap')}",
    ]


def test_command_takes_kubeflows_operator_flags_for_the_ui_ingress() -> None:
    result = CliRunner().invoke(
        main,
        ["import", "-f", str(KUBEFLOW / "etl-nightly.yaml"), "--ingress-url-format", "{{$appName}}.spark.example.com",
         "--ingress-class-name", "nginx"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    job = next(yaml.safe_load_all(result.stdout))
    ingress = job["spec"]["kubernetes"]["ui"]["ingress"]
    assert (ingress["host"], ingress["className"]) == ("etl-nightly.spark.example.com", "nginx")
    assert "ingressAnnotations" not in result.stderr


def test_notes_go_to_standard_error_but_are_not_counted_as_unmapped() -> None:
    monitored = merged(
        BASE, {"spec": {"monitoring": {"exposeDriverMetrics": True, "prometheus": {"jmxExporterJar": "/jmx.jar"}}}}
    )
    imported = import_documents([monitored])
    assert imported.messages == [
        f"app: spec.monitoring.prometheus.jmxExporterJar: {JMX_EXPORTER}",
        f"app: spec.monitoring: note: {JMX_NOTE_8090}",
    ]
    assert imported.unmapped == 1


@pytest.mark.parametrize(("example", "code"), [("spark-pi.yaml", 0), ("pyspark-pi.yaml", 1)])
def test_strict_fails_when_a_field_was_not_mapped(example: str, code: int) -> None:
    result = CliRunner().invoke(main, ["import", "--strict", "-f", str(KUBEFLOW / example)])
    assert result.exit_code == code, result.output
    assert [d["kind"] for d in yaml.safe_load_all(result.stdout)] == ["SparkJob"]


def test_command_refuses_a_file_that_is_no_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec: [unclosed\n")
    result = CliRunner().invoke(main, ["import", "-f", str(broken)])
    assert result.exit_code == 1
    assert f"cannot read {broken}" in result.output


# --- ScheduledSparkApplication -------------------------------------------------------------------------------------

SCHEDULED: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "ScheduledSparkApplication",
    "metadata": {"name": "pi-nightly", "namespace": "data", "labels": {"team": "data"}},
    "spec": {"schedule": "0 3 * * *", "template": BASE["spec"]},
}
KUBEFLOW_HISTORY = {"successfulRunsHistoryLimit": 1, "failedRunsHistoryLimit": 1}
"""What kubeflow keeps when a ScheduledSparkApplication does not say, and its ScheduledSparkJob says then."""


@dataclass(frozen=True)
class ScheduledCase:
    id: str
    given: dict[str, Any]
    """Deep-merged into SCHEDULED's spec."""
    expected: dict[str, Any]
    """The ScheduledSparkJob's spec but its template."""
    unmapped: tuple[tuple[str, str], ...] = ()
    notes: tuple[tuple[str, str], ...] = ()


SCHEDULED_CASES = [
    ScheduledCase("schedule", {}, {"schedule": "0 3 * * *", **KUBEFLOW_HISTORY}),
    ScheduledCase(
        "time-zone",
        {"timeZone": "Europe/Berlin"},
        {"schedule": "0 3 * * *", "timeZone": "Europe/Berlin", **KUBEFLOW_HISTORY},
    ),
    ScheduledCase(
        "local-time-zone",
        {"timeZone": "Local"},
        {"schedule": "0 3 * * *", **KUBEFLOW_HISTORY},
        notes=(("spec.timeZone", "kubricks reads it in UTC"),),
    ),
    ScheduledCase(
        "time-zone-in-the-schedule",
        {"schedule": "CRON_TZ=America/New_York 0 9 * * MON-FRI"},
        {"schedule": "0 9 * * MON-FRI", "timeZone": "America/New_York", **KUBEFLOW_HISTORY},
    ),
    ScheduledCase(
        "two-time-zones",
        {"schedule": "TZ=Asia/Tokyo 0 9 * * *", "timeZone": "Europe/Berlin"},
        {"schedule": "0 9 * * *", "timeZone": "Europe/Berlin", **KUBEFLOW_HISTORY},
        unmapped=(("spec.schedule", "kubricks takes spec.timeZone"),),
    ),
    ScheduledCase(
        "every-minutes",
        {"schedule": "@every 10m"},
        {"schedule": "*/10 * * * *", **KUBEFLOW_HISTORY},
        notes=(("spec.schedule", "kubricks runs at fixed times: */10 * * * *"),),
    ),
    ScheduledCase(
        "every-hours",
        {"schedule": "@every 6h0m0s"},
        {"schedule": "0 */6 * * *", **KUBEFLOW_HISTORY},
        notes=(("spec.schedule", "0 */6 * * *"),),
    ),
    ScheduledCase(
        "every-day",
        {"schedule": "@every 24h"},
        {"schedule": "0 0 * * *", **KUBEFLOW_HISTORY},
        notes=(("spec.schedule", "0 0 * * *"),),
    ),
    ScheduledCase("suspend", {"suspend": True}, {"schedule": "0 3 * * *", "suspend": True, **KUBEFLOW_HISTORY}),
    ScheduledCase(
        "concurrency-policy",
        {"concurrencyPolicy": "Forbid"},
        {"schedule": "0 3 * * *", "concurrencyPolicy": "Forbid", **KUBEFLOW_HISTORY},
    ),
    ScheduledCase(
        "history-limits",
        {"successfulRunHistoryLimit": 5, "failedRunHistoryLimit": 0},
        {"schedule": "0 3 * * *", "successfulRunsHistoryLimit": 5, "failedRunsHistoryLimit": 0},
    ),
    ScheduledCase(
        "template-fields-not-mapped",
        {"template": {"driver": {"podName": "fixed"}}},
        {"schedule": "0 3 * * *", **KUBEFLOW_HISTORY},
        unmapped=(("spec.template.driver.podName", "kubricks names the driver pod itself"),),
    ),
    ScheduledCase(
        "unknown-field",
        {"startingDeadline": 60},
        {"schedule": "0 3 * * *", **KUBEFLOW_HISTORY},
        unmapped=(("spec.startingDeadline", "not a field of kubeflow's v1beta2 API"),),
    ),
]


@pytest.mark.parametrize("case", SCHEDULED_CASES, ids=lambda c: c.id)
def test_scheduled_field(case: ScheduledCase) -> None:
    scheduled, unmapped, notes = scheduled_spark_job(merged(SCHEDULED, {"spec": case.given}))
    assert scheduled is not None, unmapped
    ScheduledSparkJob.model_validate(scheduled)
    assert {key: value for key, value in scheduled["spec"].items() if key != "template"} == case.expected
    assert len(unmapped) == len(case.unmapped), unmapped
    for (field, fragment), entry in zip(case.unmapped, unmapped, strict=True):
        assert (entry.field, fragment in entry.reason) == (field, True), entry
    assert len(notes) == len(case.notes), notes
    for (field, fragment), note in zip(case.notes, notes, strict=True):
        assert (note.field, fragment in note.text) == (field, True), note


def test_every_field_of_a_scheduled_application_has_a_case() -> None:
    assert set(SCHEDULED_FIELDS) - {key for case in SCHEDULED_CASES for key in case.given} == set()


def test_a_scheduled_applications_template_becomes_the_sparkjob_its_spec_would() -> None:
    scheduled, _, _ = scheduled_spark_job(SCHEDULED, "team-a")
    job, _, _ = spark_job({**BASE, "metadata": SCHEDULED["metadata"]}, "team-a")
    assert scheduled is not None and job is not None
    assert scheduled["metadata"] == {"name": "pi-nightly", "namespace": "team-a", "labels": {"team": "data"}}
    assert scheduled["spec"]["template"] == job["spec"]
    assert scheduled["spec"]["template"]["kubernetes"]["driver"]["labels"] == {"team": "data"}, (
        "kubeflow gives each run the schedule's labels, and a run's labels go on its driver"
    )


@pytest.mark.parametrize(
    ("given", "field", "fragment"),
    [
        ({"schedule": "@every 7m"}, "spec.schedule", "@every 7m is no whole divisor of an hour or a day"),
        ({"schedule": "@every 90s"}, "spec.schedule", "write spec.schedule as a cron expression"),
        ({"schedule": "0 0 30 2 *"}, "spec.schedule", "never comes"),
        ({"schedule": "0 0 3 * * *"}, "spec", "spec.schedule must be five fields"),
        ({"schedule": DELETE}, "spec.schedule", "Field required"),
        ({"timeZone": "Mars/Olympus_Mons"}, "spec.timeZone", "is no time zone of the IANA database"),
        ({"concurrencyPolicy": "Sometimes"}, "spec.concurrencyPolicy", "'Allow', 'Forbid' or 'Replace'"),
        ({"template": {"image": DELETE}}, "spec.template.image", "no SparkJob is made: exactly one of"),
    ],
    ids=["every-7m", "every-90s", "never", "six-fields", "no-schedule", "unknown-time-zone", "policy", "template"],
)
def test_an_invalid_scheduled_sparkjob_is_not_made_and_says_why(
    given: dict[str, Any], field: str, fragment: str
) -> None:
    scheduled, unmapped, _ = scheduled_spark_job(merged(SCHEDULED, {"spec": given}))
    assert scheduled is None
    assert any(u.field == field and fragment in u.reason for u in unmapped), unmapped


def test_a_name_too_long_for_its_runs_is_reported_on_the_name() -> None:
    scheduled, unmapped, _ = scheduled_spark_job(merged(SCHEDULED, {"metadata": {"name": "n" * 53}}))
    assert scheduled is None
    assert [(u.field, "at most 52 characters" in u.reason) for u in unmapped] == [("metadata.name", True)]


def test_command_prints_a_scheduled_sparkjob() -> None:
    result = CliRunner().invoke(main, ["import", "-f", "-", "--strict"], input=yaml.safe_dump(SCHEDULED))
    assert result.exit_code == 0, result.output
    (document,) = yaml.safe_load_all(result.stdout)
    assert (document["kind"], document["metadata"]["name"]) == ("ScheduledSparkJob", "pi-nightly")
    assert result.stderr == ""
