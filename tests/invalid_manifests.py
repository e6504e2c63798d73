"""A corpus of invalid manifests, each a valid example with one thing broken.

The unit tests check that the pydantic models refuse each one and the integration tests that the API
server does, in both cases with a message naming ``field``.
"""

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DELETE = object()


def example(file: str, name: str | None = None) -> dict[str, Any]:
    """The example manifest from examples/``file`` (the one called ``name`` when the file holds several)."""
    documents = list(yaml.safe_load_all((EXAMPLES / file).read_text()))
    return next(d for d in documents if name is None or d["metadata"]["name"] == name)


def patched(manifest: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy with each dotted path set to its value, or removed for DELETE."""
    result = copy.deepcopy(manifest)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = result
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return result


def merge_patch(changes: dict[str, Any]) -> dict[str, Any]:
    """The same changes as a JSON merge patch: nested objects, null for DELETE."""
    patch: dict[str, Any] = {}
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = patch
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = None if value is DELETE else value
    return patch


@dataclass(frozen=True)
class Invalid:
    id: str
    base: tuple[str, str | None]
    changes: dict[str, Any]
    field: str
    """Text the rejection must contain: the field it is about."""

    def manifest(self) -> dict[str, Any]:
        return patched(example(*self.base), self.changes)


PIP_IMAGE = ("sparkimage-pip.yaml", None)
GPU_IMAGE = ("sparkimage-gpu.yaml", None)
WHEEL_JOB = ("sparkjob-kubernetes-wheel.yaml", None)
JAR_JOB = ("sparkjob-kubernetes-jar.yaml", None)
DBX_JOB = ("sparkjob-databricks-new-cluster.yaml", None)
EXISTING_JOB = ("sparkjob-databricks-existing-cluster.yaml", "report-adhoc")
WORKSPACE = ("databricksworkspace.yaml", "prod")
CLUSTER = ("databrickscluster.yaml", None)
SCHEDULE = ("scheduledsparkjob.yaml", "etl-nightly")

NEW_CLUSTER = {
    "sparkVersion": "15.4.x-scala2.12",
    "nodeTypeId": "Standard_DS3_v2",
    "numWorkers": 1,
}

CASES = [
    # "exactly one of", violated both ways
    Invalid("spark-source-none", PIP_IMAGE, {"spec.spark.source": {}}, "spec.spark.source"),
    Invalid(
        "spark-source-two",
        PIP_IMAGE,
        {"spec.spark.source": {"pip": {}, "image": {"ref": "apache/spark:3.5.3"}}},
        "spec.spark.source",
    ),
    Invalid("app-source-none", PIP_IMAGE, {"spec.app.sources": [{}]}, "spec.app.sources"),
    Invalid(
        "app-source-two",
        PIP_IMAGE,
        {"spec.app.sources": [{"pip": "etl==1.0", "configMap": {"name": "code"}}]},
        "spec.app.sources",
    ),
    Invalid("job-image-none", WHEEL_JOB, {"spec.image": {"variant": "cpu"}}, "spec.image"),
    Invalid("job-image-two", WHEEL_JOB, {"spec.image.ref": "registry.example.com/team/etl:1"}, "spec.image"),
    Invalid("job-app-none", WHEEL_JOB, {"spec.app.wheel": DELETE}, "spec.app"),
    Invalid("job-app-two", WHEEL_JOB, {"spec.app.mainApplicationFile": "local:///opt/app/main.py"}, "spec.app"),
    Invalid("job-target-none", WHEEL_JOB, {"spec.kubernetes": DELETE}, "spec.kubernetes"),
    # Pod fields: what Kubernetes would refuse when the driver is created is refused when the job is applied.
    Invalid(
        "job-mount-undeclared-volume",
        WHEEL_JOB,
        {"spec.kubernetes.pods": {"volumeMounts": [{"name": "nowhere", "mountPath": "/x"}]}},
        "spec.kubernetes.volumes",
    ),
    Invalid(
        "job-volume-two-sources",
        WHEEL_JOB,
        {"spec.kubernetes.volumes": [{"name": "v", "emptyDir": {}, "secret": {"secretName": "s"}}]},
        "spec.kubernetes.volumes",
    ),
    Invalid(
        "job-volume-names-repeated",
        WHEEL_JOB,
        {"spec.kubernetes.volumes": [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}]},
        "spec.kubernetes.volumes",
    ),
    Invalid("job-ui-port", WHEEL_JOB, {"spec.app.sparkConf": {"spark.ui.port": "4041"}}, "spark.ui.port"),
    Invalid(
        "job-driver-label-in-spark-conf",
        WHEEL_JOB,
        {"spec.app.sparkConf": {"spark.kubernetes.driver.label.team": "a"}},
        "spark.kubernetes.driver.label.* → spec.kubernetes.driver.labels",
    ),
    Invalid("job-jar-with-comma", WHEEL_JOB, {"spec.kubernetes.deps": {"jars": ["a.jar,b.jar"]}}, "deps.jars"),
    Invalid(
        "job-sidecar-names-repeated",
        WHEEL_JOB,
        {"spec.kubernetes.driver.sidecars": [{"name": "a"}, {"name": "a"}]},
        "spec.kubernetes.driver.sidecars",
    ),
    Invalid(
        "job-target-two",
        WHEEL_JOB,
        {"spec.databricks": {"workspace": "prod", "cluster": {"existingClusterId": "0101-1"}}},
        "spec.databricks",
    ),
    Invalid("cluster-choice-none", DBX_JOB, {"spec.databricks.cluster": {}}, "spec.databricks.cluster"),
    Invalid(
        "cluster-choice-two",
        DBX_JOB,
        {"spec.databricks.cluster.existingClusterId": "0101-123456-abcdefgh"},
        "spec.databricks.cluster",
    ),
    Invalid("workspace-auth-none", WORKSPACE, {"spec.auth": {}}, "spec.auth"),
    Invalid("workspace-auth-two", WORKSPACE, {"spec.auth.oauth": {"secret": "dbx-sp"}}, "spec.auth"),
    Invalid(
        "job-registry-auth-none",
        DBX_JOB,
        {"spec.databricks.registryAuth": {}},
        "spec.databricks.registryAuth",
    ),
    Invalid(
        "job-registry-auth-two",
        DBX_JOB,
        {"spec.databricks.registryAuth.secret": "regcred"},
        "spec.databricks.registryAuth",
    ),
    Invalid("cluster-registry-auth-none", CLUSTER, {"spec.registryAuth": {}}, "spec.registryAuth"),
    Invalid(
        "cluster-registry-auth-from-image-false",
        CLUSTER,
        {"spec.registryAuth": {"fromSparkImage": False}},
        "spec.registryAuth.fromSparkImage",
    ),
    Invalid(
        "cluster-registry-auth-secret-and-from-image",
        CLUSTER,
        {"spec.registryAuth": {"secret": "regcred", "fromSparkImage": True}},
        "spec.registryAuth.fromSparkImage",
    ),
    Invalid(
        "cluster-registry-auth-from-image-without-one",
        CLUSTER,
        {"spec.image": {"ref": "registry.example.com/team/etl:1"}, "spec.registryAuth": {"fromSparkImage": True}},
        "spec.registryAuth.fromSparkImage needs spec.image.sparkImage",
    ),
    Invalid(
        "job-registry-auth-from-image-without-one",
        EXISTING_JOB,
        {"spec.databricks.registryAuth": {"fromSparkImage": True}},
        "spec.databricks.registryAuth.fromSparkImage needs spec.image.sparkImage",
    ),
    Invalid(
        "cluster-registry-auth-two",
        CLUSTER,
        {"spec.registryAuth.databricksSecret": {"scope": "ci", "usernameKey": "u", "passwordKey": "p"}},
        "spec.registryAuth",
    ),
    Invalid("cluster-size-none", CLUSTER, {"spec.numWorkers": DELETE}, "spec.numWorkers"),
    Invalid("cluster-size-two", CLUSTER, {"spec.autoscale": {"minWorkers": 1, "maxWorkers": 2}}, "spec.numWorkers"),
    Invalid(
        "new-cluster-size-two",
        DBX_JOB,
        {"spec.databricks.cluster.new.numWorkers": 2},
        "spec.databricks.cluster.new.numWorkers",
    ),
    Invalid(
        "init-script-two",
        DBX_JOB,
        {
            "spec.databricks.cluster.new.initScripts": [
                {"workspace": {"destination": "/a.sh"}, "volumes": {"destination": "/Volumes/b.sh"}}
            ]
        },
        "initScripts",
    ),
    Invalid("cluster-image-two", CLUSTER, {"spec.image.ref": "registry.example.com/a:1"}, "spec.image"),
    # rules between fields
    Invalid("jar-without-main-class", JAR_JOB, {"spec.app.mainClass": DELETE}, "spec.app.mainClass"),
    Invalid(
        "py-with-main-class",
        JAR_JOB,
        {"spec.app.mainApplicationFile": "local:///opt/app/main.py"},
        "spec.app.mainClass",
    ),
    Invalid("wheel-with-main-class", WHEEL_JOB, {"spec.app.mainClass": "org.example.Main"}, "spec.app.mainClass"),
    Invalid(
        "no-executors-without-dynamic-allocation",
        WHEEL_JOB,
        {"spec.kubernetes.executor.instances": 0},
        "spec.kubernetes.executor.instances",
    ),
    Invalid("gpus-on-cpu-variant", WHEEL_JOB, {"spec.kubernetes.executor.gpus": 1}, "spec.kubernetes.driver.gpus"),
    Invalid("driver-gpus-on-cpu-variant", WHEEL_JOB, {"spec.kubernetes.driver.gpus": 1}, "spec.image.variant"),
    Invalid("rapids-without-gpu-variant", GPU_IMAGE, {"spec.variants": ["cpu"]}, "spec.gpu.rapids"),
    Invalid(
        "java-8-with-spark-4",
        PIP_IMAGE,
        {"spec.spark.version": "4.0.1", "spec.spark.java": 8},
        "spec.spark.java",
    ),
    Invalid(
        "dynamic-allocation-min-above-max",
        WHEEL_JOB,
        {"spec.kubernetes.dynamicAllocation": {"enabled": True, "minExecutors": 5, "maxExecutors": 2}},
        "spec.kubernetes.dynamicAllocation",
    ),
    Invalid(
        "autoscale-min-above-max",
        DBX_JOB,
        {"spec.databricks.cluster.new.autoscale": {"minWorkers": 5, "maxWorkers": 2}},
        "autoscale.minWorkers",
    ),
    # wrong enums
    Invalid("variant-unknown", PIP_IMAGE, {"spec.variants": ["tpu"]}, "spec.variants"),
    Invalid("java-unknown", PIP_IMAGE, {"spec.spark.java": 9}, "spec.spark.java"),
    Invalid("scala-unknown", PIP_IMAGE, {"spec.spark.scala": "2.11"}, "spec.spark.scala"),
    Invalid(
        "restart-policy-unknown",
        WHEEL_JOB,
        {"spec.restartPolicy.type": "Sometimes"},
        "spec.restartPolicy.type",
    ),
    Invalid("deletion-policy-unknown", CLUSTER, {"spec.deletionPolicy": "Destroy"}, "spec.deletionPolicy"),
    Invalid("job-variant-unknown", WHEEL_JOB, {"spec.image.variant": "arm"}, "spec.image.variant"),
    # negative or out-of-range sizes
    Invalid(
        "negative-memory",
        WHEEL_JOB,
        {"spec.kubernetes.driver.memory": "-1g"},
        "spec.kubernetes.driver.memory",
    ),
    Invalid("zero-cores", WHEEL_JOB, {"spec.kubernetes.executor.cores": 0}, "spec.kubernetes.executor.cores"),
    Invalid(
        "negative-instances",
        WHEEL_JOB,
        {"spec.kubernetes.executor.instances": -1},
        "spec.kubernetes.executor.instances",
    ),
    Invalid("negative-retries", WHEEL_JOB, {"spec.restartPolicy.retries": -1}, "spec.restartPolicy.retries"),
    Invalid("negative-gpus", WHEEL_JOB, {"spec.kubernetes.driver.gpus": -1}, "spec.kubernetes.driver.gpus"),
    Invalid("negative-ttl", WHEEL_JOB, {"spec.ttlSecondsAfterFinished": -5}, "spec.ttlSecondsAfterFinished"),
    Invalid("unknown-ttl-policy", WHEEL_JOB, {"spec.ttlPolicy": "KeepForever"}, "spec.ttlPolicy"),
    Invalid(
        "batch-scheduler-beside-a-scheduler-name",
        WHEEL_JOB,
        {"spec.kubernetes.batchScheduler": {"name": "volcano"}, "spec.kubernetes.executor.schedulerName": "custom"},
        "batchScheduler sets the pods' schedulerName",
    ),
    Invalid(
        "unknown-batch-scheduler",
        WHEEL_JOB,
        {"spec.kubernetes.batchScheduler": {"name": "slurm"}},
        "batchScheduler.name",
    ),
    Invalid(
        "build-timeout-too-short",
        PIP_IMAGE,
        {"spec.build": {"timeoutSeconds": 10}},
        "spec.build.timeoutSeconds",
    ),
    Invalid("negative-workers", CLUSTER, {"spec.numWorkers": -1}, "spec.numWorkers"),
    # bad quantities
    Invalid(
        "memory-with-space",
        WHEEL_JOB,
        {"spec.kubernetes.driver.memory": "2 GB"},
        "spec.kubernetes.driver.memory",
    ),
    Invalid(
        "memory-words",
        WHEEL_JOB,
        {"spec.kubernetes.executor.memory": "lots"},
        "spec.kubernetes.executor.memory",
    ),
    Invalid(
        "memory-bad-suffix",
        WHEEL_JOB,
        {"spec.kubernetes.executor.memory": "2Gix"},
        "spec.kubernetes.executor.memory",
    ),
    Invalid(
        "overhead-two-dots",
        WHEEL_JOB,
        {"spec.kubernetes.executor.memoryOverhead": "1.2.3g"},
        "spec.kubernetes.executor.memoryOverhead",
    ),
    Invalid(
        "memory-without-unit",
        WHEEL_JOB,
        {"spec.kubernetes.driver.memory": "1024"},
        "spec.kubernetes.driver.memory",
    ),
    Invalid(
        "core-request-zero",
        WHEEL_JOB,
        {"spec.kubernetes.driver.coreRequest": "0"},
        "spec.kubernetes.driver.coreRequest",
    ),
    Invalid(
        "core-request-words",
        WHEEL_JOB,
        {"spec.kubernetes.executor.coreRequest": "250 millicores"},
        "spec.kubernetes.executor.coreRequest",
    ),
    Invalid(
        "core-request-fraction-of-a-millicore",
        WHEEL_JOB,
        {"spec.kubernetes.executor.coreRequest": "0.5m"},
        "spec.kubernetes.executor.coreRequest",
    ),
    Invalid(
        "core-request-as-number",
        WHEEL_JOB,
        {"spec.kubernetes.executor.coreRequest": 0.5},
        "spec.kubernetes.executor.coreRequest",
    ),
    Invalid(
        "core-limit-mega", WHEEL_JOB, {"spec.kubernetes.driver.coreLimit": "2M"}, "spec.kubernetes.driver.coreLimit"
    ),
    Invalid(
        "core-limit-below-request",
        WHEEL_JOB,
        {"spec.kubernetes.executor.coreLimit": "200m"},
        "executor.coreLimit must not be below",
    ),
    Invalid(
        "core-limit-below-cores",
        JAR_JOB,
        {"spec.kubernetes.driver": {"cores": 2, "coreLimit": "1"}},
        "spec.kubernetes.driver.coreLimit",
    ),
    # security contexts
    Invalid(
        "privileged-without-privilege-escalation",
        WHEEL_JOB,
        {"spec.kubernetes.executor.securityContext": {"privileged": True}},
        "privileged: true (or adding CAP_SYS_ADMIN) needs allowPrivilegeEscalation: true",
    ),
    Invalid(
        "sys-admin-without-privilege-escalation",
        WHEEL_JOB,
        {"spec.kubernetes.driver.securityContext": {"capabilities": {"add": ["CAP_SYS_ADMIN"]}}},
        "privileged: true (or adding CAP_SYS_ADMIN) needs allowPrivilegeEscalation: true",
    ),
    Invalid(
        "root-with-the-default-run-as-non-root",
        WHEEL_JOB,
        {"spec.kubernetes.driver.podSecurityContext": {"runAsUser": 0}},
        "runAsUser 0 (root) needs runAsNonRoot: false",
    ),
    Invalid(
        "root-container-in-a-non-root-pod",
        WHEEL_JOB,
        {
            "spec.kubernetes.executor.podSecurityContext": {"runAsNonRoot": False},
            "spec.kubernetes.executor.securityContext": {"runAsUser": 0, "runAsNonRoot": True},
        },
        "runAsUser 0 (root) needs runAsNonRoot: false",
    ),
    Invalid(
        "localhost-seccomp-without-its-profile",
        WHEEL_JOB,
        {"spec.kubernetes.driver.podSecurityContext": {"seccompProfile": {"type": "Localhost"}}},
        "seccompProfile.localhostProfile",
    ),
    Invalid(
        "capability-in-lower-case",
        WHEEL_JOB,
        {"spec.kubernetes.executor.securityContext": {"capabilities": {"drop": ["all"]}}},
        "spec.kubernetes.executor.securityContext.capabilities.drop",
    ),
    Invalid(
        "negative-user-id",
        WHEEL_JOB,
        {"spec.kubernetes.executor.podSecurityContext": {"runAsUser": -1}},
        "spec.kubernetes.executor.podSecurityContext.runAsUser",
    ),
    # unknown fields
    Invalid("unknown-spec-field", PIP_IMAGE, {"spec.colour": "blue"}, "spec.colour"),
    Invalid("unknown-nested-field", WHEEL_JOB, {"spec.kubernetes.driver.cpu": 1}, "spec.kubernetes.driver.cpu"),
    Invalid("misspelt-field", WORKSPACE, {"spec.hots": "https://x.example.com"}, "spec.hots"),
    # wrong types
    Invalid(
        "instances-as-text",
        WHEEL_JOB,
        {"spec.kubernetes.executor.instances": "two"},
        "spec.kubernetes.executor.instances",
    ),
    Invalid("variants-as-text", PIP_IMAGE, {"spec.variants": "cpu"}, "spec.variants"),
    Invalid(
        "spark-conf-number",
        WHEEL_JOB,
        {"spec.app.sparkConf": {"spark.executor.cores": 2}},
        "spec.app.sparkConf",
    ),
    Invalid("arguments-as-text", WHEEL_JOB, {"spec.app.arguments": "--date today"}, "spec.app.arguments"),
    Invalid("wheel-flag-as-object", PIP_IMAGE, {"spec.app.wheel": {"build": True}}, "spec.app.wheel"),
    # names, URLs, image references
    Invalid("spark-image-name-invalid", WHEEL_JOB, {"spec.image.sparkImage": "Etl_Image"}, "spec.image.sparkImage"),
    Invalid("workspace-name-invalid", CLUSTER, {"spec.workspace": "Prod!"}, "spec.workspace"),
    Invalid("host-without-scheme", WORKSPACE, {"spec.host": "adb-123.azuredatabricks.net"}, "spec.host"),
    # spec.host: the origin alone, https except to the machine or the cluster itself
    Invalid("host-with-path", WORKSPACE, {"spec.host": "https://adb-1.7.azuredatabricks.net/api/2.0"}, "spec.host"),
    Invalid("host-with-query", WORKSPACE, {"spec.host": "https://adb-1.7.azuredatabricks.net?o=1"}, "spec.host"),
    Invalid("host-with-fragment", WORKSPACE, {"spec.host": "https://adb-1.7.azuredatabricks.net/#x"}, "spec.host"),
    Invalid("host-with-userinfo", WORKSPACE, {"spec.host": "https://u:p@adb-1.7.azuredatabricks.net"}, "spec.host"),
    Invalid("host-two-slashes", WORKSPACE, {"spec.host": "https://adb-1.7.azuredatabricks.net//"}, "spec.host"),
    Invalid("host-plain-http", WORKSPACE, {"spec.host": "http://adb-1.7.azuredatabricks.net"}, "spec.host"),
    Invalid("host-http-metadata", WORKSPACE, {"spec.host": "http://169.254.169.254"}, "spec.host"),
    Invalid("host-http-loopback-lookalike", WORKSPACE, {"spec.host": "http://localhost.evil.example"}, "spec.host"),
    Invalid("host-port-too-large", WORKSPACE, {"spec.host": "https://adb-1.7.azuredatabricks.net:65536"}, "spec.host"),
    Invalid("host-port-zero", WORKSPACE, {"spec.host": "https://adb-1.7.azuredatabricks.net:0"}, "spec.host"),
    Invalid("host-scheme-upper-case", WORKSPACE, {"spec.host": "HTTPS://adb-1.7.azuredatabricks.net"}, "spec.host"),
    Invalid(
        "index-url-ftp",
        PIP_IMAGE,
        {"spec.python.indexUrl": "ftp://pypi.example.com/simple"},
        "spec.python.indexUrl",
    ),
    Invalid(
        "repository-with-tag",
        PIP_IMAGE,
        {"spec.registry.repository": "registry.example.com/team/etl:1"},
        "spec.registry.repository",
    ),
    Invalid(
        "image-ref-short-digest",
        EXISTING_JOB,
        {"spec.image.ref": "registry.example.com/a@sha256:abc"},
        "spec.image.ref",
    ),
    Invalid("spark-version-invalid", PIP_IMAGE, {"spec.spark.version": "latest"}, "spec.spark.version"),
    Invalid("missing-registry", PIP_IMAGE, {"spec.registry": DELETE}, "spec.registry"),
    # ScheduledSparkJob: what the API server can judge of a schedule, its limits and its template
    Invalid("schedule-six-fields", SCHEDULE, {"spec.schedule": "0 0 3 * * *"}, "spec.schedule must be five fields"),
    Invalid("schedule-minute-61", SCHEDULE, {"spec.schedule": "61 * * * *"}, "spec.schedule must be five fields"),
    Invalid("schedule-every", SCHEDULE, {"spec.schedule": "@every 5m"}, "spec.schedule must be five fields"),
    Invalid("schedule-last-day", SCHEDULE, {"spec.schedule": "0 0 L * *"}, "spec.schedule must be five fields"),
    Invalid(
        "schedule-cron-tz",
        SCHEDULE,
        {"spec.schedule": "CRON_TZ=Europe/Berlin 0 3 * * *"},
        "spec.schedule must not name a time zone (CRON_TZ= or TZ=): set spec.timeZone instead",
    ),
    Invalid("schedule-empty", SCHEDULE, {"spec.schedule": ""}, "spec.schedule"),
    Invalid("time-zone-path", SCHEDULE, {"spec.timeZone": "../../etc/passwd"}, "spec.timeZone"),
    Invalid("concurrency-policy-unknown", SCHEDULE, {"spec.concurrencyPolicy": "Queue"}, "spec.concurrencyPolicy"),
    Invalid("starting-deadline-zero", SCHEDULE, {"spec.startingDeadlineSeconds": 0}, "spec.startingDeadlineSeconds"),
    Invalid(
        "history-limit-negative", SCHEDULE, {"spec.successfulRunsHistoryLimit": -1}, "spec.successfulRunsHistoryLimit"
    ),
    Invalid("template-missing", SCHEDULE, {"spec.template": DELETE}, "spec.template"),
    Invalid(
        "template-two-targets",
        SCHEDULE,
        {"spec.template.databricks": {"workspace": "prod", "cluster": {"new": NEW_CLUSTER}}},
        "exactly one of spec.kubernetes / spec.databricks must be set",
    ),
    Invalid("schedule-name-too-long", SCHEDULE, {"metadata.name": "n" * 53}, "metadata.name must be at most 52"),
    # Attempts to add Dockerfile instructions or command-line options of the user's own to a build
    *(
        Invalid(f"injection-{name}", PIP_IMAGE, changes, field)
        for name, changes, field in [
            ("package-newline", {"spec.python.packages": ["pandas\nRUN echo injected"]}, "spec.python.packages"),
            ("package-option", {"spec.python.packages": ["--index-url=http://evil.example/"]}, "spec.python.packages"),
            ("package-editable", {"spec.python.packages": ["-e git+https://evil.example/x"]}, "spec.python.packages"),
            ("app-pip-option", {"spec.app.sources": [{"pip": "--pre"}]}, ".pip"),
            ("env-key-newline", {"spec.env": {"A\nRUN echo injected": "x"}}, "spec.env"),
            ("env-key-space", {"spec.env": {"A B": "x"}}, "spec.env"),
            ("env-value-newline", {"spec.env": {"A": "x\nRUN echo injected"}}, "spec.env"),
            ("env-value-carriage-return", {"spec.env": {"A": "x\rRUN echo injected"}}, "spec.env"),
            ("build-arg-key", {"spec.build.buildArgs": {"A=1 --no-cache": "x"}}, "spec.build.buildArgs"),
            ("no-proxy-newline", {"spec.build.proxy": {"noProxy": "a\nRUN echo"}}, "spec.build.proxy.noProxy"),
            ("index-url-newline", {"spec.python.indexUrl": "https://pypi.example/\nRUN echo"}, "spec.python.indexUrl"),
            ("system-package-shell", {"spec.system.packages": ["git=1;id"]}, "spec.system.packages"),
            (
                "git-subpath-newline",
                {"spec.app.sources": [{"git": {"url": "https://github.com/a/b.git", "subPath": "\nRUN echo"}}]},
                ".git.subPath",
            ),
            (
                "git-subpath-traversal",
                {"spec.app.sources": [{"git": {"url": "https://github.com/a/b.git", "subPath": "x/../../etc"}}]},
                ".git.subPath",
            ),
            (
                "git-subpath-shell",
                {"spec.app.sources": [{"git": {"url": "https://github.com/a/b.git", "subPath": "x;id"}}]},
                ".git.subPath",
            ),
            (
                "git-ref-option",
                {"spec.app.sources": [{"git": {"url": "https://github.com/a/b.git", "ref": "--upload-pack=id"}}]},
                ".git.ref",
            ),
            (
                "git-ref-newline",
                {"spec.app.sources": [{"git": {"url": "https://github.com/a/b.git", "ref": "main\nRUN id"}}]},
                ".git.ref",
            ),
            (
                "git-url-option-host",
                {"spec.app.sources": [{"git": {"url": "-oProxyCommand=id@host:x"}}]},
                ".git.url",
            ),
            (
                "spark-image-path-newline",
                {"spec.spark.source": {"image": {"ref": "apache/spark:3.5.3", "path": "/opt/spark\nRUN id"}}},
                "image.path",
            ),
            (
                "spark-image-path-space",
                {"spec.spark.source": {"image": {"ref": "apache/spark:3.5.3", "path": "/opt/spark /etc"}}},
                "image.path",
            ),
        ]
    ),
]


VALID_WORKSPACE_HOSTS = [
    "https://adb-1234567890123456.7.azuredatabricks.net",
    "https://dbc-a1b2c3d4-e5f6.cloud.databricks.com/",
    "https://workspace.example.com:8443",
    "https://10.0.0.7:65535",
    "https://[2001:db8::1]:443",
    "http://localhost:8765",
    "http://127.0.0.1:8765/",
    "http://[::1]:8765",
    "http://databricks-emulator.kubricks-system.svc:8765",
    "http://databricks-emulator.kubricks-system.svc.cluster.local",
]
"""spec.host values both the models and the API server accept."""


@dataclass(frozen=True)
class ImmutableChange:
    id: str
    base: tuple[str, str | None]
    changes: dict[str, Any]
    field: str

    def manifests(self) -> tuple[dict[str, Any], dict[str, Any]]:
        original = example(*self.base)
        return original, patched(original, self.changes)


IMMUTABLE_CHANGES = [
    ImmutableChange(
        "job-target-to-databricks",
        WHEEL_JOB,
        {
            "spec.kubernetes": DELETE,
            "spec.databricks": {"workspace": "prod", "cluster": {"new": NEW_CLUSTER}},
        },
        "spec.kubernetes / spec.databricks: the target of a SparkJob cannot change",
    ),
    ImmutableChange(
        "job-target-to-kubernetes",
        EXISTING_JOB,
        {"spec.databricks": DELETE, "spec.kubernetes": {}},
        "spec.kubernetes / spec.databricks: the target of a SparkJob cannot change",
    ),
    ImmutableChange("cluster-workspace", CLUSTER, {"spec.workspace": "staging"}, "spec.workspace is immutable"),
]
