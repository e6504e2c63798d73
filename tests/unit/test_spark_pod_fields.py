"""The pod fields of a SparkJob: where each lands in the driver pod, the executor pod template and the properties."""

from datetime import datetime
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from kubricks.api.sparkjob import SparkJob
from kubricks.jobs import ImageState
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import (
    RESTRICTED_CONTAINER_SECURITY_CONTEXT,
    Submission,
    attempt_resources,
    over_template,
    parse_properties,
    spark_properties,
)
from kubricks.spark.state import Observation, decide
from tests.invalid_manifests import example, patched

UID = "6f1c1b2a-0000-4000-8000-000000000001"
IMAGE = "registry.example.com/etl@sha256:" + "a" * 64
SECRET_VOLUME = {"name": "creds", "secret": {"secretName": "db", "items": [{"key": "password", "path": "pw"}]}}
CLAIM_VOLUME = {"name": "out", "persistentVolumeClaim": {"claimName": "results"}}


def job(changes: dict[str, Any]) -> SparkJob:
    return SparkJob.model_validate(
        patched(example("sparkjob-kubernetes-wheel.yaml"), {"metadata.namespace": "team", **changes})
    )


def rendered(changes: dict[str, Any], spark_config: dict[str, str] | None = None) -> dict[str, Any]:
    """The driver pod, the executor pod template and the properties of the job's first attempt."""
    resource = job(changes)
    attempt = Attempt(resource.metadata["name"], "team", UID, 1)
    resources = {m["kind"]: m for m in attempt_resources(resource, attempt, IMAGE, None, None, spark_config)}
    return {
        "driver": resources["Pod"],
        "executor": yaml.safe_load(resources["ConfigMap"]["data"]["executor-pod-template.yaml"]),
        "properties": spark_properties(Submission.of(resource, attempt, IMAGE, None, None, spark_config)),
    }


def at(document: Any, path: str) -> Any:
    """A value by a dotted path whose list steps name an item: spec.containers[name=x].env."""
    for step in path.split("."):
        key, _, selector = step.partition("[")
        document = document[key] if key else document
        if selector:
            name = selector.rstrip("]").removeprefix("name=")
            document = document[int(name)] if name.isdigit() else next(i for i in document if i["name"] == name)
    return document


DRIVER = "spec.containers[spark-kubernetes-driver]"
EXECUTOR = "spec.containers[spark-kubernetes-executor]"


@pytest.mark.parametrize(
    ("changes", "where", "path", "expected"),
    [
        (
            {
                "spec.kubernetes.volumes": [SECRET_VOLUME],
                "spec.kubernetes.driver.volumeMounts": [{"name": "creds", "mountPath": "/etc/db", "readOnly": True}],
            },
            "driver",
            "spec.volumes[creds]",
            SECRET_VOLUME,
        ),
        (
            {
                "spec.kubernetes.volumes": [SECRET_VOLUME],
                "spec.kubernetes.driver.volumeMounts": [{"name": "creds", "mountPath": "/etc/db", "readOnly": True}],
            },
            "driver",
            f"{DRIVER}.volumeMounts[creds]",
            {"name": "creds", "mountPath": "/etc/db", "readOnly": True},
        ),
        (
            {
                "spec.kubernetes.volumes": [SECRET_VOLUME, CLAIM_VOLUME],
                "spec.kubernetes.pods.volumeMounts": [{"name": "out", "mountPath": "/out"}],
            },
            "executor",
            "spec.volumes",
            [CLAIM_VOLUME],
        ),
        (
            {"spec.kubernetes.executor.envValueFrom": {"PW": {"secretKeyRef": {"name": "db", "key": "password"}}}},
            "executor",
            f"{EXECUTOR}.env",
            [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
        ),
        (
            {"spec.kubernetes.pods.envValueFrom": {"NODE": {"fieldRef": {"fieldPath": "spec.nodeName"}}}},
            "driver",
            f"{DRIVER}.env[NODE]",
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ),
        (
            {"spec.kubernetes.driver.envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "APP_"}]},
            "driver",
            f"{DRIVER}.envFrom",
            [{"prefix": "APP_", "configMapRef": {"name": "settings"}}],
        ),
        (
            {
                "spec.kubernetes.executor.affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["spark"]}]}
                            ]
                        }
                    }
                }
            },
            "executor",
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]",
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["spark"]}]},
        ),
        ({"spec.kubernetes.pods.priorityClassName": "batch"}, "executor", "spec.priorityClassName", "batch"),
        ({"spec.kubernetes.driver.schedulerName": "volcano"}, "driver", "spec.schedulerName", "volcano"),
        (
            {"spec.kubernetes.driver.terminationGracePeriodSeconds": 5},
            "driver",
            "spec.terminationGracePeriodSeconds",
            5,
        ),
        (
            {"spec.kubernetes.pods.hostAliases": [{"ip": "10.0.0.9", "hostnames": ["files.internal"]}]},
            "executor",
            "spec.hostAliases",
            [{"ip": "10.0.0.9", "hostnames": ["files.internal"]}],
        ),
        (
            {"spec.kubernetes.driver.dnsConfig": {"options": [{"name": "ndots", "value": "2"}]}},
            "driver",
            "spec.dnsConfig",
            {"options": [{"name": "ndots", "value": "2"}]},
        ),
        (
            {"spec.kubernetes.driver.sidecars": [{"name": "proxy", "args": ["--port", "8080"]}]},
            "driver",
            "spec.containers[proxy]",
            {
                "name": "proxy",
                "image": IMAGE,
                "args": ["--port", "8080"],
                "securityContext": RESTRICTED_CONTAINER_SECURITY_CONTEXT,
            },
        ),
        (
            {
                "spec.kubernetes.executor.initContainers": [
                    {
                        "name": "warm",
                        "image": "registry.example.com/tools:1",
                        "env": {"A": "1"},
                        "restartPolicy": "Always",
                    }
                ]
            },
            "executor",
            "spec.initContainers[warm]",
            {
                "name": "warm",
                "image": "registry.example.com/tools:1",
                "env": [{"name": "A", "value": "1"}],
                "securityContext": RESTRICTED_CONTAINER_SECURITY_CONTEXT,
                "restartPolicy": "Always",
            },
        ),
        # The template: its first container is the Spark container, its others stay, its pod fields stay.
        (
            {"spec.kubernetes.driver.template": {"spec": {"containers": [{"name": "main", "workingDir": "/work"}]}}},
            "driver",
            f"{DRIVER}.workingDir",
            "/work",
        ),
        (
            {"spec.kubernetes.executor.template": {"spec": {"containers": [{}, {"name": "raw", "image": "x:1"}]}}},
            "executor",
            "spec.containers",
            [
                {"name": "spark-kubernetes-executor", "securityContext": RESTRICTED_CONTAINER_SECURITY_CONTEXT},
                {"name": "raw", "image": "x:1"},
            ],
        ),
        (
            {"spec.kubernetes.pods.template": {"spec": {"shareProcessNamespace": True}}},
            "executor",
            "spec.shareProcessNamespace",
            True,
        ),
        (
            {"spec.kubernetes.driver.template": {"metadata": {"labels": {"team": "a", "spark-role": "x"}}}},
            "driver",
            "metadata.labels.team",
            "a",
        ),
        # Security settings: kubricks' defaults, under the template's, under the job's own fields.
        (
            {
                "spec.kubernetes.driver.template": {"spec": {"securityContext": {"runAsUser": 1000, "fsGroup": 7}}},
                "spec.kubernetes.driver.podSecurityContext": {"fsGroup": 8},
            },
            "driver",
            "spec.securityContext",
            {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": 8},
        ),
        # A template's lists inside a securityContext are taken once, not added to themselves.
        (
            {"spec.kubernetes.driver.template": {"spec": {"securityContext": {"supplementalGroups": [1000]}}}},
            "driver",
            "spec.securityContext.supplementalGroups",
            [1000],
        ),
        (
            {
                "spec.kubernetes.executor.template": {
                    "spec": {"containers": [{"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}]}
                }
            },
            "executor",
            f"{EXECUTOR}.securityContext.capabilities",
            {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
        ),
        (
            {"spec.image.pullPolicy": "Always"},
            "driver",
            f"{DRIVER}.imagePullPolicy",
            "Always",
        ),
        # Shared settings: maps merged with the role's winning, lists added up.
        (
            {"spec.kubernetes.pods.labels": {"team": "a", "tier": "x"}, "spec.kubernetes.driver.labels": {"tier": "y"}},
            "driver",
            "metadata.labels.tier",
            "y",
        ),
        (
            {
                "spec.kubernetes.pods.tolerations": [{"key": "spot", "operator": "Exists"}],
                "spec.kubernetes.executor.tolerations": [{"key": "gpu", "operator": "Exists"}],
            },
            "executor",
            "spec.tolerations",
            [{"key": "spot", "operator": "Exists"}, {"key": "gpu", "operator": "Exists"}],
        ),
    ],
    ids=[
        "secret-volume",
        "volume-mount",
        "only-mounted-volumes",
        "env-from-secret-key",
        "shared-env-from-field",
        "env-from-config-map",
        "affinity",
        "priority-class",
        "scheduler",
        "grace-period",
        "host-aliases",
        "dns-config",
        "sidecar-defaults",
        "native-sidecar",
        "template-spark-container",
        "template-other-containers",
        "template-pod-field",
        "template-labels",
        "security-context-layers",
        "template-pod-groups-once",
        "template-container-capabilities-once",
        "pull-policy",
        "shared-labels",
        "shared-tolerations",
    ],
)
def test_each_pod_field_lands_where_kubernetes_reads_it(
    changes: dict[str, Any], where: str, path: str, expected: Any
) -> None:
    assert at(rendered(changes)[where], path) == expected


def test_driver_annotations_name_the_application_as_sparks_do() -> None:
    """Spark puts the application id for {{APP_ID}} in the driver's annotations, and nothing for {{EXECUTOR_ID}};
    the executors' get theirs from Spark itself (spark.kubernetes.executor.annotation.*)."""
    driver = rendered({"spec.kubernetes.driver.annotations": {"run": "{{APP_ID}}/{{EXECUTOR_ID}}"}})["driver"]
    assert driver["metadata"]["annotations"]["run"] == f"{Attempt('etl-daily', 'team', UID, 1).app_id}/"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"spec.kubernetes.driver.sidecars": [{"name": "proxy"}]}, ["proxy", "spark-kubernetes-driver"]),
        (
            {
                "spec.kubernetes.driver.template": {"spec": {"containers": [{}, {"name": "raw", "image": "x:1"}]}},
                "spec.kubernetes.driver.sidecars": [{"name": "proxy"}],
            },
            ["raw", "proxy", "spark-kubernetes-driver"],
        ),
    ],
    ids=["sidecar", "template-and-sidecar"],
)
def test_the_driver_container_comes_after_the_others_as_spark_submit_appends_it(
    changes: dict[str, Any], expected: list[str]
) -> None:
    """The kubelet starts a pod's containers in order, each after the one before's postStart hook: a sidecar that
    must be up before the driver starts relies on coming first, as in the pods of spark-submit."""
    assert [container["name"] for container in rendered(changes)["driver"]["spec"]["containers"]] == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"spec.kubernetes.driver.javaOptions": "-XX:+UseG1GC"}, {"spark.driver.extraJavaOptions": "-XX:+UseG1GC"}),
        ({"spec.kubernetes.pods.javaOptions": "-Dx=1"}, {"spark.executor.extraJavaOptions": "-Dx=1"}),
        (
            {
                "spec.kubernetes.deps": {
                    "jars": ["http://files/a.jar", "local:///opt/b.jar"],
                    "pyFiles": ["http://f/m.py"],
                }
            },
            {"spark.jars": "http://files/a.jar,local:///opt/b.jar", "spark.submit.pyFiles": "http://f/m.py"},
        ),
        (
            {"spec.kubernetes.deps": {"files": ["s3a://b/f.txt"], "archives": ["http://f/env.tgz#env"]}},
            {"spark.files": "s3a://b/f.txt", "spark.archives": "http://f/env.tgz#env"},
        ),
        (
            {
                "spec.kubernetes.deps": {
                    "packages": ["org.example:answer:1.0"],
                    "excludePackages": ["org.slf4j:slf4j-api"],
                    "repositories": ["http://files/maven"],
                }
            },
            {
                "spark.jars.packages": "org.example:answer:1.0",
                "spark.jars.excludes": "org.slf4j:slf4j-api",
                "spark.jars.repositories": "http://files/maven",
                "spark.jars.ivy": "/var/data/spark-local/ivy",
            },
        ),
        (
            {"spec.app.hadoopConf": {"fs.s3a.endpoint": "http://minio"}},
            {"spark.hadoop.fs.s3a.endpoint": "http://minio"},
        ),
        ({"spec.image.pullPolicy": "Always"}, {"spark.kubernetes.container.image.pullPolicy": "Always"}),
        ({}, {"spark.kubernetes.container.image.pullPolicy": None}),
        (
            {"spec.app.hadoopConf": {"fs.x": "1"}, "spec.app.sparkConf": {"spark.hadoop.fs.x": "2"}},
            {"spark.hadoop.fs.x": "2"},
        ),
    ],
    ids=[
        "driver-java-options",
        "shared-java-options",
        "jars-and-py-files",
        "files-and-archives",
        "packages",
        "hadoop",
        "pull-policy",
        "spark-default-pull-policy",
        "spark-conf-wins",
    ],
)
def test_submit_time_settings_become_sparks_properties(changes: dict[str, Any], expected: dict[str, str]) -> None:
    properties = rendered(changes)["properties"]
    assert {key: properties.get(key) for key in expected} == expected


def test_a_spark_config_map_gives_defaults_and_conf_files() -> None:
    spark_config = {
        "spark-defaults.conf": "# defaults\nspark.sql.shuffle.partitions 7\nspark.app.name = theirs\n\n"
        "spark.sql.adaptive.enabled: false\n",
        "log4j2.properties": "rootLogger.level = warn\n",
        "spark.properties": "never used",
    }
    result = rendered(
        {
            "spec.kubernetes.sparkConfigMap": "spark-settings",
            "spec.app.sparkConf": {"spark.sql.adaptive.enabled": "true"},
        },
        spark_config,
    )
    properties = result["properties"]
    assert properties["spark.sql.shuffle.partitions"] == "7"
    assert properties["spark.sql.adaptive.enabled"] == "true", "the job's sparkConf wins over the defaults"
    assert properties["spark.app.name"] == "etl-daily", "what kubricks sets wins over the defaults"
    sources = at(result["driver"], "spec.volumes[spark-conf-volume-driver].projected.sources")
    assert sources[1] == {
        "configMap": {"name": "spark-settings", "items": [{"key": "log4j2.properties", "path": "log4j2.properties"}]}
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a b", {"a": "b"}),
        ("a=b", {"a": "b"}),
        ("a : b c", {"a": "b c"}),
        ("  a   =   b  ", {"a": "b"}),
        ("# a b\n! c d", {}),
        ("flag", {"flag": ""}),
    ],
)
def test_spark_defaults_are_read_as_spark_reads_them(text: str, expected: dict[str, str]) -> None:
    assert parse_properties(text) == expected


@pytest.mark.parametrize(
    ("template", "ours", "expected"),
    [
        ({"a": 1}, {"a": 2}, {"a": 2}),
        ({"m": {"x": 1, "y": 1}}, {"m": {"y": 2}}, {"m": {"x": 1, "y": 2}}),
        ({"l": [1]}, {"l": [2]}, {"l": [1, 2]}),
        ({"keep": True}, {}, {"keep": True}),
    ],
    ids=["value", "map", "list", "template-only"],
)
def test_kubricks_settings_go_over_a_template_as_sparks_do(
    template: dict[str, Any], ours: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert over_template(template, ours) == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"spec.kubernetes.driver.volumeMounts": [{"name": "nowhere", "mountPath": "/x"}]},
            "must name a volume of spec.kubernetes.volumes",
        ),
        (
            {"spec.kubernetes.volumes": [CLAIM_VOLUME, CLAIM_VOLUME]},
            "names must be unique in the list; repeated: out",
        ),
        (
            {"spec.kubernetes.volumes": [{"name": "v", "emptyDir": {}, "secret": {"secretName": "s"}}]},
            "exactly one of spec.kubernetes.volumes[].persistentVolumeClaim",
        ),
        (
            {"spec.kubernetes.driver.envValueFrom": {"X": {}}},
            "exactly one of spec.kubernetes.<pods|driver|executor>.envValueFrom.<name>.secretKeyRef",
        ),
        ({"spec.kubernetes.deps": {"jars": ["a.jar,b.jar"]}}, "String should match pattern"),
        ({"spec.kubernetes.deps": {"packages": ["org.example:answer"]}}, "String should match pattern"),
        ({"spec.kubernetes.driver.volumeMounts": [{"name": "v", "mountPath": "/x", "subPath": "../etc"}]}, "pattern"),
    ],
    ids=[
        "undeclared-volume",
        "duplicate-volume",
        "two-volume-sources",
        "empty-value-from",
        "comma-in-jar",
        "short-package",
        "sub-path-escape",
    ],
)
def test_mistakes_are_refused_naming_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("|", r"\|").replace(".", r"\.")):
        job(changes)


def test_a_missing_spark_config_map_fails_the_submission_naming_the_field() -> None:
    resource = job({"spec.kubernetes.sparkConfigMap": "spark-settings", "spec.restartPolicy": {"type": "Never"}})
    observation = Observation(
        job=resource,
        uid=UID,
        generation=1,
        status={},
        image=ImageState(ref=IMAGE),
        now=datetime(2026, 11, 24, 12, 0, 0),
        spark_config=None,
    )
    decision = decide(observation)
    assert decision.create == []
    assert decision.status["phase"] == "Failed"
    assert "spec.kubernetes.sparkConfigMap: the ConfigMap spark-settings does not exist" in decision.status["message"]


def test_the_driver_service_carries_the_jobs_labels_and_annotations_under_the_operators() -> None:
    resource = job(
        {
            "spec.kubernetes.driver.serviceLabels": {"team": "a", "kubricks.dev/sparkjob": "other"},
            "spec.kubernetes.driver.serviceAnnotations": {"mesh/inject": "false"},
        }
    )
    (service,) = [
        m
        for m in attempt_resources(resource, Attempt("etl-daily", "team", UID, 1), IMAGE, None)
        if m["kind"] == "Service"
    ]
    assert service["metadata"]["labels"]["team"] == "a"
    assert service["metadata"]["labels"]["kubricks.dev/sparkjob"] == "etl-daily"
    assert service["metadata"]["annotations"] == {"mesh/inject": "false"}


def test_kubectl_means_the_driver_container_when_a_sidecar_comes_first() -> None:
    alone = rendered({})["driver"]
    assert "kubectl.kubernetes.io/default-container" not in alone["metadata"].get("annotations", {})
    with_sidecar = rendered({"spec.kubernetes.driver.sidecars": [{"name": "proxy"}]})["driver"]
    assert [c["name"] for c in with_sidecar["spec"]["containers"]] == ["proxy", "spark-kubernetes-driver"]
    assert (
        with_sidecar["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] == "spark-kubernetes-driver"
    )
