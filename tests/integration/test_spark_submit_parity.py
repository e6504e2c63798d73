"""What kubricks renders for a SparkJob against what ``spark-submit --deploy-mode cluster`` creates for the
same job on the same API server (Spark from the pyspark package, run on the machine's JRE).

Every difference is listed below with the reason it exists; anything else must be equal.
"""

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from pprint import pformat
from typing import Any

import pytest
import yaml
from kubernetes import client

from kubricks.api.sparkjob import SparkJob
from kubricks.k8s.client import apply
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import (
    DRIVER_CONTAINER,
    EXECUTOR_CONTAINER,
    PROPERTIES_FILE,
    RESTRICTED_CONTAINER_SECURITY_CONTEXT,
    RESTRICTED_POD_SECURITY_CONTEXT,
    attempt_resources,
    driver_rbac,
)
from tests.support import spark_home, wait_until

IMAGE = "registry.example.com/team/etl@sha256:" + "c" * 64

# Properties only one side writes, and why.
ONLY_SPARK_SUBMIT = {
    "spark.app.submitTime": "the submission's wall clock; kubricks' status.startTime says when an attempt started",
    "spark.kubernetes.submission.waitAppCompletion": "a setting of the submitting client, which kubricks replaces",
    "spark.submit.pyFiles": "empty here; kubricks bakes Python dependencies into the image",
}
ONLY_KUBRICKS = {
    "spark.kubernetes.executor.podNamePrefix": "spark-submit derives it from the driver's random name prefix; "
    "kubricks pins it to its deterministic attempt prefix",
    "spark.kubernetes.executor.label.kubricks.dev/sparkjob": "labels executors with their SparkJob, for its watch",
    "spark.kubernetes.executor.label.kubricks.dev/attempt": "and with their attempt",
    "spark.local.dir": "spark-submit picks a random /var/data/spark-<uuid>; kubricks a fixed path per pod",
    "spark.kubernetes.executor.podTemplateFile": "the executors' securityContexts (and tolerations), which Spark "
    "has no setting for; spark-submit leaves the pods' securityContext empty, kubricks runs them restricted",
}
# Properties both write with values that differ by design.
DIFFERENT_VALUES = {
    "spark.master": "spark-submit records the URL it was given; the driver reaches the API server in-cluster",
    "spark.app.id": "random for spark-submit; derived from the SparkJob's uid and attempt for kubricks",
    "spark.driver.host": "names the driver Service, whose name prefix is random for spark-submit",
    "spark.kubernetes.driver.pod.name": "the same: random prefix against the attempt prefix",
}


def properties(text: str) -> dict[str, str]:
    """Java properties as Properties.store writes them (comments; a backslash escapes the next character,
    \\uXXXX a UTF-16 unit): one property per line, the key ending at the first unescaped '='."""
    entries = {}
    for line in text.splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        key, value = re.split(r"(?<!\\)=", line, maxsplit=1)
        entries[unescaped(key)] = unescaped(value)
    return entries


def unescaped(text: str) -> str:
    controls = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return re.sub(r"\\(.)", lambda m: controls.get(m.group(1), m.group(1)), text)


@pytest.fixture
def submitted(
    platform: dict[str, str], api_client: client.ApiClient, core_v1: client.CoreV1Api, namespace: str
) -> dict[str, Any]:
    """Runs spark-submit in cluster mode and returns the driver pod, its ConfigMap and Service it created."""
    for manifest in driver_rbac(namespace):
        apply(manifest)
    server = api_client.configuration.host
    command = [
        f"{spark_home()}/bin/spark-submit",
        "--master", f"k8s://{server}", "--deploy-mode", "cluster", "--name", "wordcount",
        "--conf", f"spark.kubernetes.namespace={namespace}",
        "--conf", f"spark.kubernetes.container.image={IMAGE}",
        "--conf", "spark.kubernetes.submission.waitAppCompletion=false",
        "--conf", "spark.kubernetes.authenticate.driver.serviceAccountName=kubricks-spark",
        "--conf", "spark.driver.cores=1", "--conf", "spark.driver.memory=1g",
        "--conf", "spark.executor.instances=2",
        "--conf", "spark.executor.cores=1", "--conf", "spark.executor.memory=1g",
        "--conf", "spark.kubernetes.resource.type=python",
        "local:///opt/app/main.py", "--date", "2026-11-22",
    ]  # fmt: skip
    env = {**os.environ, "SPARK_HOME": spark_home()}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    def driver() -> client.V1Pod | None:
        pods = core_v1.list_namespaced_pod(namespace, label_selector="spark-role=driver").items
        return pods[0] if pods else None

    pod = wait_until(driver, timeout=30, what="spark-submit's driver pod")
    config_map_name = next(v.config_map.name for v in pod.spec.volumes if v.config_map)
    conf = core_v1.read_namespaced_config_map(config_map_name, namespace).data["spark.properties"]
    service = next(
        s for s in core_v1.list_namespaced_service(namespace).items if s.metadata.name.endswith("-driver-svc")
    )
    return {
        "pod": client.ApiClient().sanitize_for_serialization(pod),
        "properties": properties(conf),
        "service": service,
    }


@pytest.fixture
def rendered(namespace: str) -> dict[str, Any]:
    job = SparkJob.model_validate(
        {
            "apiVersion": "kubricks.dev/v1alpha1",
            "kind": "SparkJob",
            "metadata": {"name": "wordcount", "namespace": namespace},
            "spec": {
                "image": {"ref": IMAGE},
                "app": {"mainApplicationFile": "local:///opt/app/main.py", "arguments": ["--date", "2026-11-22"]},
                "kubernetes": {},
            },
        }
    )
    resources = {
        m["kind"]: m for m in attempt_resources(job, Attempt("wordcount", namespace, str(uuid.uuid4()), 1), IMAGE, None)
    }
    return {
        "pod": resources["Pod"],
        "properties": properties(resources["ConfigMap"]["data"]["spark.properties"]),
        "service": resources["Service"],
    }


def test_driver_pod_matches_spark_submits(submitted: dict[str, Any], rendered: dict[str, Any]) -> None:
    theirs, ours = submitted["pod"], rendered["pod"]
    their_container, our_container = theirs["spec"]["containers"][0], ours["spec"]["containers"][0]
    for field in ("name", "image", "imagePullPolicy", "args", "ports", "resources"):
        assert our_container[field] == their_container[field], field
    their_env = {e["name"]: e for e in their_container["env"]}
    our_env = {e["name"]: e for e in our_container["env"]}
    assert our_env.keys() == their_env.keys()
    for name in ("SPARK_APPLICATION_ID", "SPARK_USER", "SPARK_LOCAL_DIRS"):
        # Values that differ by design: the application id (see spark.app.id), the user name (spark-submit
        # takes the submitting user's; kubricks has none and names the image's user) and the local dir.
        their_env.pop(name), our_env.pop(name)
    assert our_env == their_env
    assert ours["spec"]["restartPolicy"] == theirs["spec"]["restartPolicy"]
    # securityContext: none from spark-submit; kubricks runs the pod restricted (see the pod template above).
    assert not theirs["spec"].get("securityContext") and not their_container.get("securityContext")
    assert ours["spec"]["securityContext"] == RESTRICTED_POD_SECURITY_CONTEXT
    assert our_container["securityContext"] == RESTRICTED_CONTAINER_SECURITY_CONTEXT
    assert ours["spec"]["serviceAccountName"] == theirs["spec"]["serviceAccountName"]
    their_labels, our_labels = theirs["metadata"]["labels"], ours["metadata"]["labels"]
    for label in ("spark-role", "spark-app-name"):
        assert our_labels[label] == their_labels[label]
    # spark-version: spark-submit knows its own version; kubricks runs any image and does not claim one.
    assert set(their_labels) - set(our_labels) == {"spark-version"}
    their_mounts = {
        m["name"]: m["mountPath"] for m in their_container["volumeMounts"] if "kube-api-access" not in m["name"]
    }
    our_mounts = {m["name"]: m["mountPath"] for m in our_container["volumeMounts"]}
    assert our_mounts["spark-conf-volume-driver"] == their_mounts["spark-conf-volume-driver"]
    assert our_mounts.keys() == their_mounts.keys()


def test_spark_properties_match_spark_submits(submitted: dict[str, Any], rendered: dict[str, Any]) -> None:
    theirs, ours = submitted["properties"], rendered["properties"]
    assert set(theirs) - set(ours) == set(ONLY_SPARK_SUBMIT)
    assert set(ours) - set(theirs) == set(ONLY_KUBRICKS)
    for key in set(theirs) & set(ours) - set(DIFFERENT_VALUES):
        assert ours[key] == theirs[key], key
    assert (
        ours["spark.driver.host"]
        == f"{rendered['service']['metadata']['name']}.{rendered['pod']['metadata']['namespace']}.svc"
    )
    assert (
        theirs["spark.driver.host"]
        == f"{submitted['service'].metadata.name}.{submitted['service'].metadata.namespace}.svc"
    )


def test_driver_service_matches_spark_submits(submitted: dict[str, Any], rendered: dict[str, Any]) -> None:
    theirs, ours = submitted["service"], rendered["service"]
    assert ours["spec"]["clusterIP"] == theirs.spec.cluster_ip == "None"
    assert [(p["name"], p["port"], p["targetPort"]) for p in ours["spec"]["ports"]] == [
        (p.name, p.port, p.target_port) for p in theirs.spec.ports
    ]
    # spark-submit selects on every driver label; the application id and the role already pick the one pod.
    assert set(ours["spec"]["selector"]) == {"spark-app-selector", "spark-role"} <= set(theirs.spec.selector)


# Executor pod fields that differ by design, because the driver they belong to differs.
EXECUTOR_ENV_DIFFERENCES = {
    "SPARK_APPLICATION_ID": "spark.app.id: random for spark-submit, derived from the SparkJob for kubricks",
    "SPARK_DRIVER_URL": "names the driver Service, whose name prefix is random for spark-submit",
    "SPARK_EXECUTOR_POD_NAME": "the executor pod name prefix, random against the attempt's",
    "SPARK_USER": "spark-submit takes the submitting user's name; kubricks names the image's user",
    "SPARK_DRIVER_POD_IP": "each application's own driver pod",
    "SPARK_LOCAL_DIRS": "spark.local.dir: a random /var/data/spark-<uuid> for spark-submit, a fixed path for kubricks",
}
# Executor pod fields that differ by design: spark-submit's executors get no securityContext, kubricks' the
# restricted ones of its executor pod template (spark.kubernetes.executor.podTemplateFile).
EXECUTOR_SECURITY = {
    "podSecurityContext": RESTRICTED_POD_SECURITY_CONTEXT,
    "securityContext": RESTRICTED_CONTAINER_SECURITY_CONTEXT,
}
SMALL_PODS = {
    "spark.kubernetes.driver.request.cores": "200m",
    "spark.kubernetes.executor.request.cores": "200m",
    # Kept, so that both applications' executors can be compared once they finished.
    "spark.kubernetes.executor.deleteOnTermination": "false",
}
WORDS = "to be or not to be"
ANSWER = 'WORDCOUNT {"be": 2, "not": 1, "or": 1, "to": 2}'


def wordcount_conf(namespace: str, image: str, pull_secret: str) -> dict[str, str]:
    """spark-submit's settings for the wordcount wheel on small pods."""
    return {
        "spark.kubernetes.namespace": namespace,
        "spark.kubernetes.container.image": image,
        "spark.kubernetes.container.image.pullSecrets": pull_secret,
        "spark.kubernetes.authenticate.driver.serviceAccountName": "kubricks-spark",
        "spark.kubernetes.resource.type": "python",
        "spark.driver.cores": "1", "spark.driver.memory": "512m",
        "spark.executor.instances": "2", "spark.executor.cores": "1", "spark.executor.memory": "512m",
        **SMALL_PODS,
    }  # fmt: skip


def submit_wordcount(api_client: client.ApiClient, conf: dict[str, str], options: tuple[str, ...] = ()) -> None:
    """Runs spark-submit in cluster mode with these settings and options (--jars, ...), until the application ends."""
    command = [
        f"{spark_home()}/bin/spark-submit", "--master", f"k8s://{api_client.configuration.host}",
        "--deploy-mode", "cluster", "--name", "wordcount",
        *(argument for key, value in conf.items() for argument in ("--conf", f"{key}={value}")), *options,
        "local:///opt/kubricks/bin/run-entry-point.py", "wordcount", "wordcount", WORDS,
    ]  # fmt: skip
    env = {**os.environ, "SPARK_HOME": spark_home()}
    submitted = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert submitted.returncode == 0, submitted.stdout[-3000:] + submitted.stderr[-3000:]


def apply_attempt(job: SparkJob, namespace: str, image: str) -> list[dict[str, Any]]:
    """Creates what kubricks would for the job's first attempt, as the operator would; returns it."""
    resources = attempt_resources(job, Attempt(job.metadata["name"], namespace, str(uuid.uuid4()), 1), image, None)
    for manifest in resources:
        # No SparkJob object exists here: owned by a missing uid, the garbage collector would delete them at once.
        manifest["metadata"].pop("ownerReferences", None)
        apply(manifest)
    return resources


def finished_pods(core_v1: client.CoreV1Api, namespace: str, app_id: str, role: str) -> list[client.V1Pod]:
    selector = f"spark-app-selector={app_id},spark-role={role}"
    return sorted(
        core_v1.list_namespaced_pod(namespace, label_selector=selector).items,
        key=lambda p: p.metadata.labels.get("spark-exec-id", ""),
    )


def wait_driver_succeeded(core_v1: client.CoreV1Api, namespace: str, selector: str) -> client.V1Pod:
    def succeeded() -> client.V1Pod | None:
        pods = core_v1.list_namespaced_pod(namespace, label_selector=f"{selector},spark-role=driver").items
        if pods and pods[0].status.phase == "Failed":
            log = core_v1.read_namespaced_pod_log(pods[0].metadata.name, namespace, container=DRIVER_CONTAINER)
            raise AssertionError(log[-3000:])
        return pods[0] if pods and pods[0].status.phase == "Succeeded" else None

    return wait_until(succeeded, timeout=300, what="the driver to succeed", interval=1)


def assert_answered(core_v1: client.CoreV1Api, driver: client.V1Pod) -> None:
    log = core_v1.read_namespaced_pod_log(driver.metadata.name, driver.metadata.namespace, container=DRIVER_CONTAINER)
    assert ANSWER in log.splitlines(), log[-3000:]


def executor_view(pod: client.V1Pod) -> dict[str, Any]:
    """What an executor pod is made of, less what differs by design."""
    container = pod.spec.containers[0]
    env = {e.name: e.value for e in container.env if e.name not in EXECUTOR_ENV_DIFFERENCES}
    return {
        "image": container.image,
        "args": container.args,
        "ports": [(p.name, p.container_port) for p in container.ports or []],
        "resources": (container.resources.requests, container.resources.limits),
        "env": env,
        "volumes": sorted(v.name for v in pod.spec.volumes if not v.name.startswith("kube-api-access")),
        "labels": sorted(set(pod.metadata.labels) - {"kubricks.dev/sparkjob", "kubricks.dev/attempt"}),
        "owner": [(o.kind, o.controller) for o in pod.metadata.owner_references],
        "restartPolicy": pod.spec.restart_policy,
        "pullSecrets": [s.name for s in pod.spec.image_pull_secrets or []],
        "exit": pod.status.container_statuses[0].state.terminated.exit_code,
        "podSecurityContext": client.ApiClient().sanitize_for_serialization(pod.spec.security_context) or {},
        "securityContext": client.ApiClient().sanitize_for_serialization(container.security_context) or {},
    }


def test_both_submissions_run_to_the_same_answer_with_the_same_executors(
    platform: dict[str, str],
    api_client: client.ApiClient,
    core_v1: client.CoreV1Api,
    namespace: str,
    pull_secret: str,
    wordcount_image: str,
) -> None:
    for manifest in driver_rbac(namespace):
        apply(manifest)
    submit_wordcount(api_client, wordcount_conf(namespace, wordcount_image, pull_secret))
    their_driver = wait_driver_succeeded(core_v1, namespace, "spark-app-name=wordcount")

    job = SparkJob.model_validate(
        {
            "apiVersion": "kubricks.dev/v1alpha1",
            "kind": "SparkJob",
            "metadata": {"name": "wordcount", "namespace": namespace},
            "spec": {
                "image": {"ref": wordcount_image, "pullSecret": pull_secret},
                "app": {
                    "wheel": {"packageName": "wordcount", "entryPoint": "wordcount"},
                    "arguments": [WORDS],
                    "sparkConf": {"spark.kubernetes.executor.deleteOnTermination": "false"},
                },
                "kubernetes": {
                    "driver": {"cores": 1, "coreRequest": "200m", "memory": "512m"},
                    "executor": {"instances": 2, "cores": 1, "coreRequest": "200m", "memory": "512m"},
                },
            },
        }
    )
    apply_attempt(job, namespace, wordcount_image)
    our_driver = wait_driver_succeeded(core_v1, namespace, "kubricks.dev/sparkjob=wordcount")

    for driver in (their_driver, our_driver):
        assert_answered(core_v1, driver)
    theirs, ours = (
        [
            executor_view(p)
            for p in finished_pods(core_v1, namespace, d.metadata.labels["spark-app-selector"], "executor")
        ]
        for d in (their_driver, our_driver)
    )
    assert len(theirs) == len(ours) == 2
    for our, their in zip(ours, theirs, strict=True):
        differing = {
            key: (our[key], their[key])
            for key in our
            if our[key] != their[key] and key not in {"env", *EXECUTOR_SECURITY}
        }
        assert not differing
        assert {key: our[key] for key in EXECUTOR_SECURITY} == EXECUTOR_SECURITY
        assert not any(their[key] for key in EXECUTOR_SECURITY)
        env = {name: (our["env"].get(name), their["env"].get(name)) for name in our["env"].keys() | their["env"]}
        assert not {name: values for name, values in env.items() if values[0] != values[1]}


# --- A job that sets every pod field ---------------------------------------------------------------------------
# kubricks gets them as SparkJob fields; spark-submit as a user hands them over: Spark's settings where it has
# one, pod template files (written out below by hand) for the rest. The pods both make, as the API server keeps
# them, must then be the same but for the differences listed with their reasons.

VOLUMES = [
    {"name": "db", "secret": {"secretName": "db", "items": [{"key": "password", "path": "pw"}]}},
    {"name": "settings", "configMap": {"name": "settings"}},
    {"name": "scratch", "emptyDir": {}},
]
DB_MOUNT = {"name": "db", "mountPath": "/etc/db", "readOnly": True}
SETTINGS_MOUNT = {"name": "settings", "mountPath": "/etc/settings"}
SCRATCH_MOUNT = {"name": "scratch", "mountPath": "/scratch"}
# The fake GPU node is labelled type=kwok and tainted; its taint is tolerated, and the affinity keeps pods off it.
AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "type", "operator": "NotIn", "values": ["kwok"]}]}]
        }
    }
}
TOLERATIONS = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
HOST_ALIASES = [{"ip": "10.0.0.9", "hostnames": ["files.internal"]}]
DNS_CONFIG = {"options": [{"name": "ndots", "value": "5"}, {"name": "edns0"}]}
GRACE_SECONDS = 10
LIFECYCLE = {"preStop": {"exec": {"command": ["sh", "-c", "sleep 1"]}}}
PREPARE = ["sh", "-c", "echo ready > /scratch/ready"]
# Lives as long as the Spark container's JVM, which it sees as the pods share their process namespace: a sidecar
# that ended first would make the driver pod unready, and the headless Service the executors reach the driver by
# would stop resolving; one that outlived it would keep the driver pod Running after the driver ended.
SIDECAR = [
    "sh",
    "-c",
    "for _ in $(seq 60); do pgrep -x java >/dev/null && break; sleep 1; done; "
    "while pgrep -x java >/dev/null; do sleep 1; done",
]
JAR = "local:///opt/spark/jars/spark-tags_2.12-3.5.3.jar"
FILE = "local:///etc/hostname"
PY_FILE = "local:///opt/kubricks/bin/run-entry-point.py"


@pytest.fixture
def job_inputs(core_v1: client.CoreV1Api, namespace: str) -> None:
    """The Secret and the ConfigMap the job's pods mount and read variables from."""
    core_v1.create_namespaced_secret(
        namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="db"), string_data={"password": "s3cr3t"})
    )
    core_v1.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"greeting": "hello"})
    )


@pytest.fixture
def priority_class(api_client: client.ApiClient) -> Iterator[str]:
    scheduling = client.SchedulingV1Api(api_client)
    name = f"parity-{uuid.uuid4().hex[:8]}"
    # Never preempting: the pods of tests that share the cluster must not be evicted for these.
    scheduling.create_priority_class(
        client.V1PriorityClass(metadata=client.V1ObjectMeta(name=name), value=1000, preemption_policy="Never")
    )
    yield name
    scheduling.delete_priority_class(name)


def every_field_job(namespace: str, image: str, pull_secret: str, priority_class: str) -> SparkJob:
    """The wordcount job with every pod field set: what both roles share in pods, the rest per role."""
    return SparkJob.model_validate(
        {
            "apiVersion": "kubricks.dev/v1alpha1",
            "kind": "SparkJob",
            "metadata": {"name": "wordcount", "namespace": namespace},
            "spec": {
                "image": {"ref": image, "pullSecret": pull_secret},
                "app": {
                    "wheel": {"packageName": "wordcount", "entryPoint": "wordcount"},
                    "arguments": [WORDS],
                    "sparkConf": {"spark.kubernetes.executor.deleteOnTermination": "false"},
                },
                "kubernetes": {
                    "volumes": VOLUMES,
                    "pods": {
                        "labels": {"team": "data"},
                        "annotations": {"example.com/owner": "data-team"},
                        "nodeSelector": {"kubernetes.io/os": "linux"},
                        "affinity": AFFINITY,
                        "tolerations": TOLERATIONS,
                        "priorityClassName": priority_class,
                        "schedulerName": "default-scheduler",
                        "terminationGracePeriodSeconds": GRACE_SECONDS,
                        "hostAliases": HOST_ALIASES,
                        "dnsConfig": DNS_CONFIG,
                        "envValueFrom": {
                            "DB_PASSWORD": {"secretKeyRef": {"name": "db", "key": "password"}},
                            "NODE_NAME": {"fieldRef": {"fieldPath": "spec.nodeName"}},
                        },
                        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
                        "volumeMounts": [DB_MOUNT, SCRATCH_MOUNT],
                        "podSecurityContext": {"fsGroup": 185},
                        "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}},
                        "initContainers": [{"name": "prepare", "command": PREPARE, "volumeMounts": [SCRATCH_MOUNT]}],
                        "sidecars": [{"name": "reporter", "command": SIDECAR}],
                        "template": {"spec": {"shareProcessNamespace": True, "containers": [{"lifecycle": LIFECYCLE}]}},
                    },
                    "driver": {
                        "cores": 1, "coreRequest": "200m", "coreLimit": "500m",
                        "memory": "512m", "memoryOverhead": "400m",
                        "labels": {"tier": "driver"},
                        "annotations": {"example.com/app-id": "{{APP_ID}}"},
                        "env": {"GREETING": "hello driver"},
                        "javaOptions": "-Dkubricks.role=driver",
                        "volumeMounts": [SETTINGS_MOUNT],
                    },
                    "executor": {
                        "instances": 2, "cores": 1, "coreRequest": "200m", "coreLimit": "500m",
                        "memory": "512m", "memoryOverhead": "400m",
                        "labels": {"tier": "executor"},
                        "annotations": {"example.com/app-id": "{{APP_ID}}-{{EXECUTOR_ID}}"},
                        "env": {"GREETING": "hello executor"},
                        "javaOptions": "-Dkubricks.role=executor",
                    },
                    "deps": {"jars": [JAR], "files": [FILE], "pyFiles": [PY_FILE]},
                },
            },
        }
    )  # fmt: skip


def pod_template(image: str, priority_class: str, mounts: list[Any], volumes: list[Any]) -> dict[str, Any]:
    """The pod template a spark-submit user writes for the same job, for what Spark has no setting for; the
    roles' differ only in what their Spark container mounts. The securityContexts are the restricted ones
    kubricks starts from, with the job's additions."""
    restricted_container = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 185,
                "seccompProfile": {"type": "RuntimeDefault"},
                "fsGroup": 185,
            },
            "affinity": AFFINITY,
            "tolerations": TOLERATIONS,
            "priorityClassName": priority_class,
            "terminationGracePeriodSeconds": GRACE_SECONDS,
            "hostAliases": HOST_ALIASES,
            "dnsConfig": DNS_CONFIG,
            "shareProcessNamespace": True,
            "initContainers": [
                {
                    "name": "prepare",
                    "image": image,
                    "command": PREPARE,
                    "volumeMounts": [SCRATCH_MOUNT],
                    "securityContext": restricted_container,
                }
            ],
            "containers": [
                # Spark builds its own container on the first one.
                {
                    "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                    "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
                    "volumeMounts": mounts,
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                    },
                    "lifecycle": LIFECYCLE,
                },
                {"name": "reporter", "image": image, "command": SIDECAR, "securityContext": restricted_container},
            ],
            "volumes": volumes,
        },
    }


def every_field_conf(namespace: str, image: str, pull_secret: str, templates: dict[str, Path]) -> dict[str, str]:
    """The same job's settings for spark-submit: Spark's own for what it has them for, the templates for the rest."""
    conf = {
        **wordcount_conf(namespace, image, pull_secret),
        "spark.kubernetes.driver.podTemplateFile": str(templates["driver"]),
        "spark.kubernetes.executor.podTemplateFile": str(templates["executor"]),
        "spark.kubernetes.node.selector.kubernetes.io/os": "linux",
        "spark.kubernetes.scheduler.name": "default-scheduler",
    }
    for role, env_setting in (("driver", "spark.kubernetes.driverEnv"), ("executor", "spark.executorEnv")):
        conf |= {
            f"spark.kubernetes.{role}.limit.cores": "500m",
            f"spark.{role}.memoryOverhead": "400m",
            f"spark.kubernetes.{role}.label.team": "data",
            f"spark.kubernetes.{role}.label.tier": role,
            f"spark.kubernetes.{role}.annotation.example.com/owner": "data-team",
            f"{env_setting}.GREETING": f"hello {role}",
            f"spark.kubernetes.{role}.secretKeyRef.DB_PASSWORD": "db:password",
            f"spark.kubernetes.{role}.volumes.emptyDir.scratch.mount.path": "/scratch",
            f"spark.{role}.extraJavaOptions": f"-Dkubricks.role={role}",
        }
    conf["spark.kubernetes.driver.annotation.example.com/app-id"] = "{{APP_ID}}"
    conf["spark.kubernetes.executor.annotation.example.com/app-id"] = "{{APP_ID}}-{{EXECUTOR_ID}}"
    return conf


ORDERED_LISTS = ("containers", "initContainers")
"""Lists of named items whose order has an effect: the kubelet starts the containers in it, one by one."""


def differences(ours: Any, theirs: Any, path: str = "") -> dict[str, tuple[Any, Any]]:
    """Where two documents differ, by path: items of lists of named objects are matched by name
    (spec.containers[reporter].image), and the order of containers is a place of its own."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found: dict[str, tuple[Any, Any]] = {}
        for key in ours.keys() | theirs.keys():
            found |= differences(ours.get(key), theirs.get(key), f"{path}.{key}" if path else key)
        return found
    if named_items(ours) and named_items(theirs):
        our_items, their_items = ({item["name"]: item for item in items} for items in (ours, theirs))
        found = {}
        for name in our_items.keys() | their_items.keys():
            found |= differences(our_items.get(name), their_items.get(name), f"{path}[{name}]")
        shared = [name for name in our_items if name in their_items]
        if path.rsplit(".", 1)[-1] in ORDERED_LISTS and shared != [name for name in their_items if name in our_items]:
            found[f"{path} order"] = (list(our_items), list(their_items))
        return found
    return {} if ours == theirs else {path: (ours, theirs)}


def named_items(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) and "name" in item for item in value)


def pod_document(pod: client.V1Pod) -> dict[str, Any]:
    """What a pod is made of, as the API server keeps it (its defaults filled in on both sides)."""
    document = client.ApiClient().sanitize_for_serialization(pod)
    metadata = document["metadata"]
    owners = [{k: v for k, v in owner.items() if k != "uid"} for owner in metadata.get("ownerReferences", [])]
    spec = document["spec"]
    for container in spec["containers"]:
        container["env"] = java_options_unordered(container.get("env", []))
    return {
        "metadata": {
            "labels": metadata.get("labels", {}),
            "annotations": metadata.get("annotations", {}),
            "ownerReferences": owners,
        },
        "spec": spec,
    }


def java_options_unordered(env: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``env`` with the executor's JVM options (SPARK_JAVA_OPT_<n>) as one set: Spark numbers those of its own
    properties in its configuration's hash order, which changes with the set of properties; each names its own
    property, so their order has no effect."""
    options = [variable for variable in env if re.fullmatch(r"SPARK_JAVA_OPT_\d+", variable["name"])]
    if not options:
        return env
    others = [variable for variable in env if variable not in options]
    return [*others, {"name": "SPARK_JAVA_OPT_*", "value": sorted(variable["value"] for variable in options)}]


def application_neutral(document: Any, driver: client.V1Pod, executor: client.V1Pod | None = None) -> Any:
    """``document`` with the names of the driver's application, which differ by design (random for spark-submit,
    derived from the SparkJob for kubricks: the application id, the name prefix of the driver and its Service, and
    that of the executors), and the random suffix of the service account token's volume, made the same on both
    sides."""
    text = json.dumps(document).replace(driver.metadata.labels["spark-app-selector"], "<app-id>")
    if executor:
        # kubricks' executors share the driver's prefix, spark-submit's driver picks one of its own for them.
        text = text.replace(executor.metadata.name.rsplit("-exec-", 1)[0] + "-exec-", "<executor-prefix>-exec-")
    text = text.replace(driver.metadata.name.removesuffix("-driver"), "<prefix>")
    return json.loads(re.sub(r"kube-api-access-[a-z0-9]+", "kube-api-access", text))


SPARK = f"spec.containers[{DRIVER_CONTAINER}]"
DRIVER_DIFFERENCES = {
    "metadata.labels.app.kubernetes.io/managed-by": "kubricks marks what it manages",
    "metadata.labels.kubricks.dev/sparkjob": "kubricks labels the driver with its SparkJob, for its watch",
    "metadata.labels.kubricks.dev/attempt": "and with its attempt",
    "metadata.labels.spark-version": "spark-submit knows its own version; kubricks runs any image and claims none",
    "metadata.annotations.kubectl.kubernetes.io/default-container": "with a sidecar first, kubricks points kubectl "
    "logs and exec at the Spark container; spark-submit's pod leaves them at the sidecar",
    f"{SPARK}.env[SPARK_USER].value": "spark-submit takes the submitting user's name; kubricks names the image's",
    f"{SPARK}.env[SPARK_LOCAL_DIRS].value": "spark.local.dir: a random /var/data/spark-<uuid> for spark-submit, "
    "a fixed path for kubricks",
    f"{SPARK}.volumeMounts[spark-local-dir-1].mountPath": "the same local dir",
    f"{SPARK}.terminationMessagePolicy": "kubricks makes a failed driver's last log lines its termination message, "
    "and so the job's status message",
    "spec.volumes[spark-conf-volume-driver].configMap.name": "spark-submit's conf ConfigMap has a random name, "
    "kubricks' is <prefix>-conf",
    "spec.volumes[spark-conf-volume-driver].configMap.items": "spark-submit lists its conf files; kubricks mounts "
    "its whole ConfigMap, which also holds the executor pod template",
    "spec.volumes[pod-template-volume]": "spark-submit ships the executor pod template in a ConfigMap of its own, "
    "kubricks in the conf ConfigMap (spark.kubernetes.executor.podTemplateFile)",
    f"{SPARK}.volumeMounts[pod-template-volume]": "the same: mounted at /opt/spark/pod-template",
}
EXECUTOR = f"spec.containers[{EXECUTOR_CONTAINER}]"
EXECUTOR_DIFFERENCES = {
    "metadata.labels.kubricks.dev/sparkjob": "kubricks labels executors with their SparkJob, for its watch",
    "metadata.labels.kubricks.dev/attempt": "and with their attempt",
    f"{EXECUTOR}.env[SPARK_USER].value": "spark-submit takes the submitting user's name; kubricks names the image's",
    f"{EXECUTOR}.env[SPARK_DRIVER_POD_IP].value": "each application's own driver pod",
    f"{EXECUTOR}.env[SPARK_LOCAL_DIRS].value": "spark.local.dir: a random /var/data/spark-<uuid> for spark-submit, "
    "a fixed path for kubricks",
    f"{EXECUTOR}.volumeMounts[spark-local-dir-1].mountPath": "the same local dir",
    "spec.volumes[spark-conf-volume-exec].configMap.name": "each driver names its executors' ConfigMap at random",
    "spec.volumes[spark-conf-volume-exec].configMap.items": "Spark's driver gives the executors the files of its conf "
    "directory but spark.properties: kubricks' holds the executor pod template too",
}
PROPERTY_DIFFERENCES = {
    "spark.app.submitTime": ONLY_SPARK_SUBMIT["spark.app.submitTime"],
    "spark.master": DIFFERENT_VALUES["spark.master"],
    "spark.local.dir": ONLY_KUBRICKS["spark.local.dir"],
    "spark.kubernetes.executor.podNamePrefix": ONLY_KUBRICKS["spark.kubernetes.executor.podNamePrefix"],
    "spark.kubernetes.executor.label.kubricks.dev/sparkjob": ONLY_KUBRICKS[
        "spark.kubernetes.executor.label.kubricks.dev/sparkjob"
    ],
    "spark.kubernetes.executor.label.kubricks.dev/attempt": ONLY_KUBRICKS[
        "spark.kubernetes.executor.label.kubricks.dev/attempt"
    ],
    "spark.kubernetes.executor.podTemplateFile": "where each driver finds the executor pod template: spark-submit's "
    "own ConfigMap's mount, kubricks' conf directory",
    "spark.kubernetes.node.selector.kubernetes.io/os": "kubricks puts the node selector on the driver pod itself and "
    "gives the executors theirs as spark.kubernetes.executor.node.selector",
    "spark.kubernetes.executor.node.selector.kubernetes.io/os": "the same",
    "spark.kubernetes.scheduler.name": "kubricks puts the scheduler on the driver pod and in the executor pod template",
    **{
        key: "what Spark reads only to make the driver pod, which kubricks renders itself"
        for key in (
            "spark.kubernetes.driver.podTemplateFile",
            "spark.kubernetes.driver.label.team",
            "spark.kubernetes.driver.label.tier",
            "spark.kubernetes.driver.annotation.example.com/owner",
            "spark.kubernetes.driver.annotation.example.com/app-id",
            "spark.kubernetes.driverEnv.GREETING",
            "spark.kubernetes.driver.secretKeyRef.DB_PASSWORD",
            "spark.kubernetes.driver.volumes.emptyDir.scratch.mount.path",
        )
    },
    **{
        key: "kubricks gives the executors their variables from elsewhere and their volumes in their pod template"
        for key in (
            "spark.kubernetes.executor.secretKeyRef.DB_PASSWORD",
            "spark.kubernetes.executor.volumes.emptyDir.scratch.mount.path",
        )
    },
}


JOB_PROPERTIES = {
    "spark.driver.extraJavaOptions": "-Dkubricks.role=driver",
    "spark.executor.extraJavaOptions": "-Dkubricks.role=executor",
    "spark.driver.memoryOverhead": "400m",
    "spark.executor.memoryOverhead": "400m",
    "spark.jars": JAR,
    "spark.files": FILE,
    "spark.submit.pyFiles": PY_FILE,
}
"""The job's fields that reach the pods only through the properties; the comparison finds them equal."""


def missing_job_fields(pod: client.V1Pod) -> list[str]:
    """The job's fields that the pod lacks: the comparison proves nothing of a field missing on both sides. (Its
    schedulerName is the default scheduler, the only one here, which any pod gets.)"""
    document = pod_document(pod)
    metadata, spec = document["metadata"], document["spec"]
    spark = next(c for c in spec["containers"] if c["name"] in (DRIVER_CONTAINER, EXECUTOR_CONTAINER))
    present = {
        "labels": {"team", "tier"} <= metadata["labels"].keys(),
        "annotations": {"example.com/owner", "example.com/app-id"} <= metadata["annotations"].keys(),
        "nodeSelector": spec.get("nodeSelector") == {"kubernetes.io/os": "linux"},
        "affinity": spec.get("affinity") == AFFINITY,
        "tolerations": TOLERATIONS[0] in spec["tolerations"],
        "priorityClassName": spec.get("priorityClassName", "").startswith("parity-"),
        "terminationGracePeriodSeconds": spec["terminationGracePeriodSeconds"] == GRACE_SECONDS,
        "hostAliases": spec.get("hostAliases") == HOST_ALIASES,
        "dnsConfig": spec.get("dnsConfig") == DNS_CONFIG,
        "template": spec.get("shareProcessNamespace") is True and spark.get("lifecycle") == LIFECYCLE,
        "podSecurityContext": spec["securityContext"].get("fsGroup") == 185,
        "securityContext": spark["securityContext"]["capabilities"].get("add") == ["NET_BIND_SERVICE"],
        "initContainers": [c["name"] for c in spec.get("initContainers", [])] == ["prepare"],
        "sidecars": "reporter" in {c["name"] for c in spec["containers"]},
        "volumes": {"db", "scratch"} <= {v["name"] for v in spec["volumes"]},
        "volumeMounts": {"db", "scratch"} <= {m["name"] for m in spark["volumeMounts"]},
        "env": {"GREETING", "DB_PASSWORD", "NODE_NAME"} <= {e["name"] for e in spark["env"]},
        "envFrom": spark.get("envFrom") == [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
        "coreRequest, coreLimit, memoryOverhead": spark["resources"]
        == {"requests": {"cpu": "200m", "memory": "912Mi"}, "limits": {"cpu": "500m", "memory": "912Mi"}},
    }
    return [field for field, there in present.items() if not there]


def test_every_pod_field_reaches_the_pods_as_spark_submit_puts_it_there(
    platform: dict[str, str],
    api_client: client.ApiClient,
    core_v1: client.CoreV1Api,
    namespace: str,
    pull_secret: str,
    wordcount_image: str,
    job_inputs: None,
    priority_class: str,
    tmp_path: Path,
) -> None:
    for manifest in driver_rbac(namespace):
        apply(manifest)
    templates = {
        "driver": pod_template(wordcount_image, priority_class, [DB_MOUNT, SETTINGS_MOUNT], VOLUMES[:2]),
        "executor": pod_template(wordcount_image, priority_class, [DB_MOUNT], VOLUMES[:1]),
    }
    template_files = {role: tmp_path / f"{role}-pod-template.yaml" for role in templates}
    for role, template in templates.items():
        template_files[role].write_text(yaml.safe_dump(template))
    conf = every_field_conf(namespace, wordcount_image, pull_secret, template_files)
    submit_wordcount(api_client, conf, ("--jars", JAR, "--files", FILE, "--py-files", PY_FILE))
    their_driver = wait_driver_succeeded(core_v1, namespace, "spark-app-name=wordcount")

    job = every_field_job(namespace, wordcount_image, pull_secret, priority_class)
    our_conf = next(m for m in apply_attempt(job, namespace, wordcount_image) if m["kind"] == "ConfigMap")
    our_driver = wait_driver_succeeded(core_v1, namespace, "kubricks.dev/sparkjob=wordcount")

    for driver in (their_driver, our_driver):
        assert_answered(core_v1, driver)
    their_conf = core_v1.read_namespaced_config_map(
        next(v.config_map.name for v in their_driver.spec.volumes if v.name == "spark-conf-volume-driver"), namespace
    )
    found = {
        "driver": differences(
            application_neutral(pod_document(our_driver), our_driver),
            application_neutral(pod_document(their_driver), their_driver),
        ),
        "properties": differences(
            application_neutral(properties(our_conf["data"][PROPERTIES_FILE]), our_driver),
            application_neutral(properties(their_conf.data[PROPERTIES_FILE]), their_driver),
        ),
    }
    executors = {
        "ours": wait_executors_finished(core_v1, namespace, our_driver),
        "theirs": wait_executors_finished(core_v1, namespace, their_driver),
    }
    assert len(executors["ours"]) == len(executors["theirs"]) == 2
    for index, (our, their) in enumerate(zip(executors["ours"], executors["theirs"], strict=True)):
        found[f"executor {index + 1}"] = differences(
            application_neutral(pod_document(our), our_driver, our),
            application_neutral(pod_document(their), their_driver, their),
        )
    listed = {"driver": DRIVER_DIFFERENCES, "properties": PROPERTY_DIFFERENCES}
    listed |= {name: EXECUTOR_DIFFERENCES for name in found if name.startswith("executor")}
    unexplained = {
        name: {path: values for path, values in paths.items() if path not in listed[name]}
        for name, paths in found.items()
    }
    assert not any(unexplained.values()), pformat(unexplained, width=120)
    # Every listed difference is still there, so that the list stays true.
    assert {name: set(listed[name]) - set(paths) for name, paths in found.items()} == {name: set() for name in found}
    assert {pod.metadata.name: missing_job_fields(pod) for pod in (our_driver, *executors["ours"])} == {
        pod.metadata.name: [] for pod in (our_driver, *executors["ours"])
    }
    our_properties = properties(our_conf["data"][PROPERTIES_FILE])
    assert {key: our_properties.get(key) for key in JOB_PROPERTIES} == JOB_PROPERTIES
    for pod in (our_driver, their_driver, *executors["ours"], *executors["theirs"]):
        node = core_v1.read_node(pod.spec.node_name)
        assert node.metadata.labels.get("type") != "kwok", "the affinity kept the pods off the fake node"


def wait_executors_finished(core_v1: client.CoreV1Api, namespace: str, driver: client.V1Pod) -> list[client.V1Pod]:
    """The driver's executors once each has ended (their sidecars too)."""

    def finished() -> list[client.V1Pod] | None:
        pods = finished_pods(core_v1, namespace, driver.metadata.labels["spark-app-selector"], "executor")
        return pods if pods and all(p.status.phase in ("Succeeded", "Failed") for p in pods) else None

    return wait_until(finished, timeout=120, what="the executors to finish", interval=1)
