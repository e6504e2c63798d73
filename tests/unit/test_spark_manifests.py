"""What a SparkJob renders to on Kubernetes: golden files for the examples, and Spark's conventions."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubricks.api.sparkjob import SparkJob
from kubricks.api.yamlio import dump_all
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import (
    Submission,
    _driver_metadata,
    _driver_resources,
    _dynamic_allocation,
    _executor_pods,
    _gpus,
    _image,
    _language,
    _pod_resources,
    _rapids,
    attempt_resources,
    config_map,
    driver_pod,
    driver_service,
    render_properties,
    spark_properties,
)
from tests.invalid_manifests import example, patched
from tests.support import assert_golden

GOLDEN = Path(__file__).parent / "golden"
UID = "6f1c1b2a-0000-4000-8000-000000000001"
IMAGE = "registry.example.com/etl@sha256:" + "a" * 64


def job(file: str, changes: dict[str, Any] | None = None) -> SparkJob:
    return SparkJob.model_validate(patched(example(file), {"metadata.namespace": "team", **(changes or {})}))


def attempt(resource: SparkJob, number: int = 1) -> Attempt:
    return Attempt(resource.metadata["name"], "team", UID, number)


def rendered(file: str, changes: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    resource = job(file, changes)
    return {m["kind"]: m for m in attempt_resources(resource, attempt(resource), IMAGE, None)}


def properties(file: str, changes: dict[str, Any] | None = None) -> dict[str, str]:
    resource = job(file, changes)
    return spark_properties(Submission.of(resource, attempt(resource), IMAGE, None))


@pytest.mark.parametrize(
    "file",
    [
        "sparkjob-kubernetes-wheel.yaml",
        "sparkjob-kubernetes-gpu.yaml",
        "sparkjob-kubernetes-jar.yaml",
        "sparkjob-kubernetes-pods.yaml",
    ],
)
def test_golden_manifests(file: str) -> None:
    """Set KUBRICKS_UPDATE_GOLDEN=1 to rewrite them after an intended change; review the diff."""
    resource = job(file)
    text = dump_all(attempt_resources(resource, attempt(resource), IMAGE, None))
    assert_golden(GOLDEN / file, text)


def test_driver_pod_follows_sparks_conventions() -> None:
    pod = rendered("sparkjob-kubernetes-jar.yaml")["Pod"]
    names = attempt(job("sparkjob-kubernetes-jar.yaml"))
    container = pod["spec"]["containers"][0]
    assert container["name"] == "spark-kubernetes-driver"
    assert container["args"] == [
        "driver",
        "--properties-file",
        "/opt/spark/conf/spark.properties",
        "--class",
        "org.apache.spark.examples.SparkPi",
        "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.3.jar",
        "1000",
    ]
    assert [p["containerPort"] for p in container["ports"]] == [7078, 7079, 4040]
    bind = next(e for e in container["env"] if e["name"] == "SPARK_DRIVER_BIND_ADDRESS")
    assert bind["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    labels = pod["metadata"]["labels"]
    assert labels["spark-role"] == "driver"
    assert labels["spark-app-selector"] == names.app_id
    assert labels["spark-app-name"] == "spark-pi"
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["serviceAccountName"] == "kubricks-spark"
    assert pod["metadata"]["ownerReferences"][0] == {
        "apiVersion": "kubricks.dev/v1alpha1",
        "kind": "SparkJob",
        "name": "spark-pi",
        "uid": UID,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def test_properties_name_the_driver_its_service_and_the_executors() -> None:
    resource = job("sparkjob-kubernetes-wheel.yaml")
    names = attempt(resource)
    conf = spark_properties(Submission.of(resource, names, IMAGE, None))
    assert conf["spark.driver.host"] == f"{names.service}.team.svc"
    assert conf["spark.kubernetes.driver.pod.name"] == names.driver_pod
    assert conf["spark.kubernetes.namespace"] == "team"
    assert conf["spark.kubernetes.container.image"] == IMAGE
    assert conf["spark.kubernetes.container.image.pullSecrets"] == "regcred"
    assert conf["spark.kubernetes.authenticate.driver.serviceAccountName"] == "kubricks-spark"
    assert (conf["spark.executor.instances"], conf["spark.executor.cores"], conf["spark.executor.memory"]) == (
        "2",
        "1",
        "512m",
    )
    assert conf["spark.sql.shuffle.partitions"] == "64", "the user's sparkConf passes through"
    assert conf["spark.app.id"] == names.app_id


def test_service_selects_the_driver() -> None:
    resource = job("sparkjob-kubernetes-wheel.yaml")
    service = driver_service(resource, attempt(resource))
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"] == {"spark-app-selector": attempt(resource).app_id, "spark-role": "driver"}


@pytest.mark.parametrize(
    ("file", "changes", "memory"),
    [
        ("sparkjob-kubernetes-jar.yaml", {}, "896Mi"),  # 512m + 384m minimum overhead
        ("sparkjob-kubernetes-jar.yaml", {"spec.kubernetes.driver.memory": "1g"}, "1408Mi"),  # 1g + 384m
        ("sparkjob-kubernetes-wheel.yaml", {}, "896Mi"),  # 512m + 384m (more than 40% of 512m)
        ("sparkjob-kubernetes-wheel.yaml", {"spec.kubernetes.driver.memory": "2g"}, "2867Mi"),  # 2g + 40% for Python
        ("sparkjob-kubernetes-wheel.yaml", {"spec.kubernetes.driver.memoryOverhead": "1g"}, "1536Mi"),
        ("sparkjob-kubernetes-jar.yaml", {"spec.kubernetes.driver.memory": "8g"}, "9011Mi"),  # 8g + 10%
    ],
)
def test_driver_memory_includes_the_overhead_as_spark_computes_it(
    file: str, changes: dict[str, Any], memory: str
) -> None:
    resources = rendered(file, changes)["Pod"]["spec"]["containers"][0]["resources"]
    assert resources["requests"]["memory"] == memory
    assert resources["limits"]["memory"] == memory


@pytest.mark.parametrize(
    ("driver", "requests", "limits"),
    [
        ({}, {"cpu": "1"}, {}),  # Spark's default: the cores, no limit
        ({"cores": 3}, {"cpu": "3"}, {}),
        ({"coreRequest": "250m"}, {"cpu": "250m"}, {}),
        ({"cores": 2, "coreRequest": "0.5"}, {"cpu": "0.5"}, {}),
        ({"coreLimit": "2"}, {"cpu": "1"}, {"cpu": "2"}),
        ({"cores": 2, "coreRequest": "500m", "coreLimit": "1500m"}, {"cpu": "500m"}, {"cpu": "1500m"}),
    ],
)
def test_driver_cpu_request_and_limit(driver: dict[str, Any], requests: dict[str, str], limits: dict[str, str]) -> None:
    pod = rendered("sparkjob-kubernetes-jar.yaml", {"spec.kubernetes.driver": driver})["Pod"]
    resources = pod["spec"]["containers"][0]["resources"]
    assert resources == {
        "requests": {**requests, "memory": "1408Mi"},
        "limits": {**limits, "memory": "1408Mi"},
    }


@pytest.mark.parametrize("role", ["driver", "executor"])
@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        ({}, {"cores": "1", "request": None, "limit": None}),
        ({"cores": 2}, {"cores": "2", "request": None, "limit": None}),  # spark-submit writes neither by default
        ({"cores": 2, "coreRequest": "250m"}, {"cores": "2", "request": "250m", "limit": None}),
        ({"coreLimit": "1.5"}, {"cores": "1", "request": None, "limit": "1.5"}),
        ({"cores": 4, "coreRequest": "0.5", "coreLimit": "4"}, {"cores": "4", "request": "0.5", "limit": "4"}),
    ],
)
def test_cpu_request_and_limit_go_to_sparks_properties(
    role: str, pod: dict[str, Any], expected: dict[str, str | None]
) -> None:
    """The cores stay the task slots; the driver reads the executors' request and limit when it creates them."""
    conf = properties("sparkjob-kubernetes-jar.yaml", {"spec.kubernetes": {"driver": {}, "executor": {}, role: pod}})
    assert conf[f"spark.{role}.cores"] == expected["cores"]
    assert conf.get(f"spark.kubernetes.{role}.request.cores") == expected["request"]
    assert conf.get(f"spark.kubernetes.{role}.limit.cores") == expected["limit"]
    other = "executor" if role == "driver" else "driver"
    assert f"spark.kubernetes.{other}.request.cores" not in conf
    assert f"spark.kubernetes.{other}.limit.cores" not in conf


def test_cpu_limit_comes_first_as_in_sparks_driver_pod() -> None:
    changes = {"spec.kubernetes.driver": {"gpus": 1, "coreLimit": "2"}}
    limits = rendered("sparkjob-kubernetes-gpu.yaml", changes)["Pod"]["spec"]["containers"][0]["resources"]["limits"]
    assert list(limits.items()) == [("cpu", "2"), ("memory", "1433Mi"), ("nvidia.com/gpu", "1")]


def test_wheel_app_runs_through_the_launcher() -> None:
    args = rendered("sparkjob-kubernetes-wheel.yaml")["Pod"]["spec"]["containers"][0]["args"]
    assert args[3:] == [
        "--class",
        "org.apache.spark.deploy.PythonRunner",
        "local:///opt/kubricks/bin/run-entry-point.py",
        "etl",
        "run",
        "--date",
        "2026-11-22",
    ]
    assert properties("sparkjob-kubernetes-wheel.yaml")["spark.kubernetes.resource.type"] == "python"


def test_python_file_runs_through_the_python_runner() -> None:
    args = rendered("sparkjob-kubernetes-gpu.yaml")["Pod"]["spec"]["containers"][0]["args"]
    assert args[3:] == ["--class", "org.apache.spark.deploy.PythonRunner", "local:///opt/app/train.py"]


def test_gpus_become_limits_and_spark_resources() -> None:
    conf = properties("sparkjob-kubernetes-gpu.yaml", {"spec.kubernetes.driver.gpus": 1})
    assert conf["spark.executor.resource.gpu.amount"] == "1"
    assert conf["spark.executor.resource.gpu.vendor"] == "nvidia.com"
    assert conf["spark.executor.resource.gpu.discoveryScript"] == "/opt/kubricks/bin/gpu-discovery"
    assert conf["spark.task.resource.gpu.amount"] == "0.25"
    assert conf["spark.driver.resource.gpu.amount"] == "1"
    pod = rendered("sparkjob-kubernetes-gpu.yaml", {"spec.kubernetes.driver.gpus": 1})["Pod"]
    assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert "spark.driver.resource.gpu.amount" not in properties("sparkjob-kubernetes-gpu.yaml")


def test_dynamic_allocation_uses_shuffle_tracking() -> None:
    conf = properties("sparkjob-kubernetes-gpu.yaml")
    assert conf["spark.dynamicAllocation.enabled"] == "true"
    assert conf["spark.dynamicAllocation.shuffleTracking.enabled"] == "true"
    assert (conf["spark.dynamicAllocation.minExecutors"], conf["spark.dynamicAllocation.maxExecutors"]) == ("1", "4")
    assert "spark.dynamicAllocation.enabled" not in properties("sparkjob-kubernetes-wheel.yaml")


def test_executor_placement_goes_through_conf_and_a_pod_template() -> None:
    resource = job("sparkjob-kubernetes-gpu.yaml")
    data = config_map(Submission.of(resource, attempt(resource), IMAGE, None))["data"]
    conf = properties("sparkjob-kubernetes-gpu.yaml")
    assert conf["spark.kubernetes.executor.node.selector.nvidia.com/gpu.present"] == "true"
    assert conf["spark.kubernetes.executor.podTemplateFile"] == "/opt/spark/conf/executor-pod-template.yaml"
    template = yaml.safe_load(data["executor-pod-template.yaml"])
    assert template["spec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_executors_carry_the_jobs_labels() -> None:
    conf = properties("sparkjob-kubernetes-wheel.yaml")
    assert conf["spark.kubernetes.executor.label.kubricks.dev/sparkjob"] == "etl-daily"
    assert conf["spark.kubernetes.executor.label.kubricks.dev/attempt"] == "1"


def test_a_named_service_account_needs_no_managed_rbac() -> None:
    kinds = rendered("sparkjob-kubernetes-wheel.yaml", {"spec.kubernetes.serviceAccount": "etl-runner"})
    assert "Role" not in kinds
    assert kinds["Pod"]["spec"]["serviceAccountName"] == "etl-runner"


def test_managed_role_allows_exactly_what_the_driver_needs() -> None:
    role = rendered("sparkjob-kubernetes-wheel.yaml")["Role"]
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["pods", "services", "configmaps", "persistentvolumeclaims"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"],
        }
    ]


def test_attempt_names_are_deterministic_distinct_and_fit_a_service_name() -> None:
    first, second = Attempt("etl", "team", UID, 1), Attempt("etl", "team", UID, 2)
    assert first == Attempt("etl", "team", UID, 1)
    assert first.app_id != second.app_id
    assert first.driver_pod != second.driver_pod
    long = Attempt("a" * 200, "team", UID, 12)
    assert len(long.service) <= 63
    assert long.service.endswith("-driver-svc")


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        ("spark.a", "x=y:z", "spark.a=x\\=y\\:z"),
        ("spark.b c", "multi\nline", "spark.b\\ c=multi\\nline"),
        (
            "spark.c",
            "x\rspark.kubernetes.namespace=kube-system",
            "spark.c=x\\rspark.kubernetes.namespace\\=kube-system",
        ),
        ("spark.d", "tab\there\fform", "spark.d=tab\\there\\fform"),
        ("spark.e", " leading and inner", "spark.e=\\ leading and inner"),
        ("#spark.f", "a!b", "\\#spark.f=a\\!b"),
        ("spark.g", "back\\slash", "spark.g=back\\\\slash"),
        ("spark.h", "caf\u00e9 \U0001f600", "spark.h=caf\\u00e9 \\ud83d\\ude00"),
    ],
    ids=[
        "separators",
        "newline",
        "carriage-return",
        "tab-formfeed",
        "leading-space",
        "comment-chars",
        "backslash",
        "unicode",
    ],
)
def test_properties_are_escaped_as_javas_properties_store(key: str, value: str, line: str) -> None:
    text = render_properties({key: value})
    assert text == line + "\n"
    assert text.count("\n") == 1 and "\r" not in text, "one property, one line, whatever the value holds"


def test_driver_pod_of_a_databricks_job_is_an_error() -> None:
    resource = SparkJob.model_validate(example("sparkjob-databricks-new-cluster.yaml"))
    with pytest.raises(ValueError, match="targets Databricks"):
        driver_pod(Submission.of(resource, Attempt("x", "team", UID, 1), IMAGE, None))


def submission(changes: dict[str, Any]) -> Submission:
    resource = job("sparkjob-kubernetes-wheel.yaml", changes)
    return Submission.of(resource, attempt(resource), IMAGE, None)


BASE_DRIVER = {"cores": 1, "memory": "512m"}
BASE_EXECUTOR = {"instances": 2, "cores": 2, "memory": "1g"}


@pytest.mark.parametrize(
    ("option", "changes", "expected"),
    [
        (
            _image,
            {},
            {"spark.kubernetes.container.image": IMAGE, "spark.kubernetes.container.image.pullSecrets": "regcred"},
        ),
        (_image, {"spec.image.pullSecret": None}, {"spark.kubernetes.container.image": IMAGE}),
        (_language, {}, {"spark.kubernetes.resource.type": "python", "spark.kubernetes.memoryOverheadFactor": "0.4"}),
        (
            _language,
            {"spec.app": {"mainApplicationFile": "local:///opt/app.jar", "mainClass": "a.Main"}},
            {"spark.kubernetes.resource.type": "java", "spark.kubernetes.memoryOverheadFactor": "0.1"},
        ),
        (_pod_resources, {"spec.kubernetes.driver": BASE_DRIVER, "spec.kubernetes.executor": BASE_EXECUTOR}, {}),
        (
            _pod_resources,
            {
                "spec.kubernetes.driver": {**BASE_DRIVER, "coreRequest": "250m", "coreLimit": "2"},
                "spec.kubernetes.executor": {**BASE_EXECUTOR, "memoryOverhead": "1g"},
            },
            {
                "spark.kubernetes.driver.request.cores": "250m",
                "spark.kubernetes.driver.limit.cores": "2",
                "spark.executor.memoryOverhead": "1g",
            },
        ),
        (_gpus, {}, {}),
        (
            _gpus,
            {"spec.image.variant": "gpu", "spec.kubernetes.executor": {**BASE_EXECUTOR, "gpus": 1}},
            {
                "spark.executor.resource.gpu.amount": "1",
                "spark.executor.resource.gpu.vendor": "nvidia.com",
                "spark.executor.resource.gpu.discoveryScript": "/opt/kubricks/bin/gpu-discovery",
                "spark.task.resource.gpu.amount": "0.5",
            },
        ),
        (
            _executor_pods,
            {
                "spec.kubernetes.executor": {
                    **BASE_EXECUTOR,
                    "labels": {"team": "a"},
                    "annotations": {"note": "x"},
                    "nodeSelector": {"disk": "ssd"},
                    "env": {"MODE": "fast"},
                    "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
                }
            },
            {
                "spark.kubernetes.executor.label.team": "a",
                "spark.kubernetes.executor.annotation.note": "x",
                "spark.kubernetes.executor.node.selector.disk": "ssd",
                "spark.executorEnv.MODE": "fast",
                "spark.kubernetes.executor.podTemplateFile": "/opt/spark/conf/executor-pod-template.yaml",
            },
        ),
        (_dynamic_allocation, {}, {}),
        (
            _dynamic_allocation,
            {"spec.kubernetes.dynamicAllocation": {"enabled": True, "minExecutors": 3, "maxExecutors": 5}},
            {
                "spark.dynamicAllocation.enabled": "true",
                "spark.dynamicAllocation.shuffleTracking.enabled": "true",
                "spark.dynamicAllocation.minExecutors": "3",
                "spark.dynamicAllocation.maxExecutors": "5",
                "spark.dynamicAllocation.initialExecutors": "3",
            },
        ),
        (
            _dynamic_allocation,
            {
                "spec.kubernetes.executor": {**BASE_EXECUTOR, "instances": 9},
                "spec.kubernetes.dynamicAllocation": {"enabled": True, "minExecutors": 0, "maxExecutors": 4},
            },
            {
                "spark.dynamicAllocation.enabled": "true",
                "spark.dynamicAllocation.shuffleTracking.enabled": "true",
                "spark.dynamicAllocation.minExecutors": "0",
                "spark.dynamicAllocation.maxExecutors": "4",
                "spark.dynamicAllocation.initialExecutors": "4",
            },
        ),
    ],
    ids=[
        "image-with-pull-secret",
        "image-without",
        "python",
        "jvm",
        "resources-none",
        "resources-request-limit-overhead",
        "gpus-none",
        "gpus-executor",
        "executor-pods",
        "allocation-off",
        "allocation-starts-at-min",
        "allocation-starts-at-most-max",
    ],
)
def test_property_options(option: Any, changes: dict[str, Any], expected: dict[str, str]) -> None:
    assert option(submission(changes)) == expected


GPU_EXECUTORS = {"spec.image.variant": "gpu", "spec.kubernetes.executor": {**BASE_EXECUTOR, "gpus": 1}}


@pytest.mark.parametrize(
    ("changes", "rapids", "expected"),
    [
        (GPU_EXECUTORS, "25.04.0", {"spark.plugins": "com.nvidia.spark.SQLPlugin"}),
        (
            {**GPU_EXECUTORS, "spec.app.sparkConf": {"spark.plugins": "org.example.Mine"}},
            "25.04.0",
            {"spark.plugins": "org.example.Mine,com.nvidia.spark.SQLPlugin"},
        ),
        (GPU_EXECUTORS, None, {}),
        ({}, "25.04.0", {}),
    ],
    ids=["gpu-job-rapids-image", "joins-the-users-plugins", "image-without-rapids", "cpu-job"],
)
def test_a_gpu_job_turns_on_the_rapids_its_image_carries(
    changes: dict[str, Any], rapids: str | None, expected: dict[str, str]
) -> None:
    resource = job("sparkjob-kubernetes-wheel.yaml", changes)
    assert _rapids(Submission.of(resource, attempt(resource), IMAGE, None, rapids)) == expected
    conf = spark_properties(Submission.of(resource, attempt(resource), IMAGE, None, rapids))
    assert conf.get("spark.plugins") == (expected or resource.spec.app.spark_conf).get("spark.plugins")


def test_the_operators_executor_labels_win_over_the_users() -> None:
    mine = {"spec.kubernetes.executor": {**BASE_EXECUTOR, "labels": {"kubricks.dev/sparkjob": "someone-else"}}}
    resource = job("sparkjob-kubernetes-wheel.yaml", mine)
    conf = spark_properties(Submission.of(resource, attempt(resource), IMAGE, None))
    assert conf["spark.kubernetes.executor.label.kubricks.dev/sparkjob"] == "etl-daily"


def test_app_spark_conf_is_kept_where_kubricks_sets_nothing_and_overridden_where_it_does() -> None:
    conf = properties(
        "sparkjob-kubernetes-wheel.yaml", {"spec.app.sparkConf": {"spark.sql.x": "1", "spark.app.id": "mine"}}
    )
    assert conf["spark.sql.x"] == "1"
    assert conf["spark.app.id"] != "mine"


@pytest.mark.parametrize(
    ("changes", "requests", "limits"),
    [
        (
            {"spec.kubernetes.driver": {"cores": 2, "memory": "1g"}},
            {"cpu": "2", "memory": "1433Mi"},
            {"memory": "1433Mi"},
        ),
        (
            {
                "spec.image.variant": "gpu",
                "spec.kubernetes.driver": {
                    "cores": 1,
                    "coreRequest": "250m",
                    "coreLimit": "1",
                    "memory": "512m",
                    "gpus": 1,
                },
            },
            {"cpu": "250m", "memory": "896Mi"},
            {"cpu": "1", "memory": "896Mi", "nvidia.com/gpu": "1"},
        ),
        (
            {"spec.kubernetes.driver": {"cores": 1, "memory": "2g", "memoryOverhead": "100m"}},
            {"cpu": "1", "memory": "2148Mi"},
            {"memory": "2148Mi"},
        ),
    ],
    ids=["python-overhead-and-no-cpu-limit", "request-limit-gpu", "explicit-overhead"],
)
def test_driver_resources(changes: dict[str, Any], requests: dict[str, str], limits: dict[str, str]) -> None:
    assert _driver_resources(submission(changes)) == {"requests": requests, "limits": limits}


def test_the_drivers_selector_labels_win_over_the_users() -> None:
    mine = {"spec.kubernetes.driver": {**BASE_DRIVER, "labels": {"spark-role": "executor", "team": "a"}}}
    labels = _driver_metadata(submission(mine))["labels"]
    assert labels["spark-role"] == "driver"
    assert labels["team"] == "a"


RESTRICTED_POD = {"runAsNonRoot": True, "runAsUser": 185, "seccompProfile": {"type": "RuntimeDefault"}}
RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def security_contexts(role: str, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pod's and the Spark container's securityContext of the driver pod, or of the executor pod template."""
    resource = job("sparkjob-kubernetes-wheel.yaml", {f"spec.kubernetes.{role}.{k}": v for k, v in changes.items()})
    if role == "driver":
        pod = driver_pod(Submission.of(resource, attempt(resource), IMAGE, None))
    else:
        data = config_map(Submission.of(resource, attempt(resource), IMAGE, None))["data"]
        pod = yaml.safe_load(data["executor-pod-template.yaml"])
    (container,) = pod["spec"]["containers"]
    return pod["spec"]["securityContext"], container["securityContext"]


@pytest.mark.parametrize("role", ["driver", "executor"])
@pytest.mark.parametrize(
    ("changes", "pod", "container"),
    [
        ({}, RESTRICTED_POD, RESTRICTED_CONTAINER),
        (
            {"podSecurityContext": {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 2000}},
            {**RESTRICTED_POD, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 2000},
            RESTRICTED_CONTAINER,
        ),
        (
            {"podSecurityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "spark.json"}}},
            {**RESTRICTED_POD, "seccompProfile": {"type": "Localhost", "localhostProfile": "spark.json"}},
            RESTRICTED_CONTAINER,
        ),
        (
            {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}, "readOnlyRootFilesystem": True}},
            RESTRICTED_POD,
            {
                **RESTRICTED_CONTAINER,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                "readOnlyRootFilesystem": True,
            },
        ),
        (
            {"securityContext": {"capabilities": {"drop": ["NET_RAW"]}}},
            RESTRICTED_POD,
            {**RESTRICTED_CONTAINER, "capabilities": {"drop": ["NET_RAW"]}},
        ),
        (
            {"securityContext": {"privileged": True, "allowPrivilegeEscalation": True}},
            RESTRICTED_POD,
            {"allowPrivilegeEscalation": True, "capabilities": {"drop": ["ALL"]}, "privileged": True},
        ),
        (
            {"podSecurityContext": {"runAsNonRoot": False}, "securityContext": {"runAsUser": 0}},
            {**RESTRICTED_POD, "runAsNonRoot": False},
            {**RESTRICTED_CONTAINER, "runAsUser": 0},
        ),
    ],
    ids=["defaults", "other-user", "localhost-seccomp", "add-capability", "drop-other", "privileged", "root"],
)
def test_pods_run_restricted_unless_the_job_relaxes_a_field(
    role: str, changes: dict[str, Any], pod: dict[str, Any], container: dict[str, Any]
) -> None:
    """The job's settings merge field by field over the restricted defaults, on the driver and on the executors."""
    assert security_contexts(role, changes) == (pod, container)


def test_the_executor_pod_template_always_carries_the_security_contexts() -> None:
    """Spark builds each executor on the template's first container; a user's own template file never replaces it."""
    mine = {"spec.app.sparkConf": {"spark.kubernetes.executor.podTemplateFile": "/opt/app/mine.yaml"}}
    resource = job("sparkjob-kubernetes-jar.yaml", mine)
    conf = spark_properties(Submission.of(resource, attempt(resource), IMAGE, None))
    assert conf["spark.kubernetes.executor.podTemplateFile"] == "/opt/spark/conf/executor-pod-template.yaml"
    template = yaml.safe_load(
        config_map(Submission.of(resource, attempt(resource), IMAGE, None))["data"]["executor-pod-template.yaml"]
    )
    assert template == {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {
            "securityContext": RESTRICTED_POD,
            "containers": [{"name": "spark-kubernetes-executor", "securityContext": RESTRICTED_CONTAINER}],
        },
    }
