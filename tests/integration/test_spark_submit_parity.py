"""What kubricks renders for a SparkJob against what ``spark-submit --deploy-mode cluster`` creates for the
same job on the same API server (Spark from the pyspark package, run on the machine's JRE).

Every difference is listed below with the reason it exists; anything else must be equal.
"""

import os
import re
import subprocess
import uuid
from typing import Any

import pytest
from kubernetes import client

from kubricks.api.sparkjob import SparkJob
from kubricks.k8s.client import apply
from kubricks.spark.manifests import (
    RESTRICTED_CONTAINER_SECURITY_CONTEXT,
    RESTRICTED_POD_SECURITY_CONTEXT,
    Attempt,
    attempt_resources,
    driver_rbac,
)
from tests.support import VENV_BIN, wait_until

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


def spark_home() -> str:
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip()


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
            raise AssertionError(core_v1.read_namespaced_pod_log(pods[0].metadata.name, namespace)[-3000:])
        return pods[0] if pods and pods[0].status.phase == "Succeeded" else None

    return wait_until(succeeded, timeout=300, what="the driver to succeed", interval=1)


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
    conf = {
        "spark.kubernetes.namespace": namespace,
        "spark.kubernetes.container.image": wordcount_image,
        "spark.kubernetes.container.image.pullSecrets": pull_secret,
        "spark.kubernetes.authenticate.driver.serviceAccountName": "kubricks-spark",
        "spark.kubernetes.resource.type": "python",
        "spark.driver.cores": "1", "spark.driver.memory": "512m",
        "spark.executor.instances": "2", "spark.executor.cores": "1", "spark.executor.memory": "512m",
        **SMALL_PODS,
    }  # fmt: skip
    command = [
        f"{spark_home()}/bin/spark-submit", "--master", f"k8s://{api_client.configuration.host}",
        "--deploy-mode", "cluster", "--name", "wordcount",
        *(argument for key, value in conf.items() for argument in ("--conf", f"{key}={value}")),
        "local:///opt/kubricks/bin/run-entry-point.py", "wordcount", "wordcount", WORDS,
    ]  # fmt: skip
    env = {**os.environ, "SPARK_HOME": spark_home()}
    submitted = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert submitted.returncode == 0, submitted.stdout[-3000:] + submitted.stderr[-3000:]
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
    attempt = Attempt("wordcount", namespace, str(uuid.uuid4()), 1)
    for manifest in attempt_resources(job, attempt, wordcount_image, None):
        # No SparkJob object exists here: owned by a missing uid, the garbage collector would delete them at once.
        manifest["metadata"].pop("ownerReferences", None)
        apply(manifest)
    our_driver = wait_driver_succeeded(core_v1, namespace, "kubricks.dev/sparkjob=wordcount")

    answer = 'WORDCOUNT {"be": 2, "not": 1, "or": 1, "to": 2}'
    for driver in (their_driver, our_driver):
        assert answer in core_v1.read_namespaced_pod_log(driver.metadata.name, namespace).splitlines()
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
