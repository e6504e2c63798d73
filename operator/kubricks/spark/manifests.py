"""SparkJob → what ``spark-submit --deploy-mode cluster`` would have created, without a JVM. Pure.

Spark's own Kubernetes submission client (KubernetesClientApplication and its feature steps) writes a
ConfigMap with spark.properties, the driver pod and a headless driver Service; the driver then creates
the executors itself. These builders follow the same names, labels, ports and properties, so Spark's
driver code runs unchanged. Where they differ on purpose, a comment says why.
"""

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml

from kubricks.api.base import ApiModel, memory_bytes
from kubricks.api.pods import Container
from kubricks.api.sparkjob import DriverSpec, KubernetesTarget, PodSettings, PodSpec, SparkJob
from kubricks.images.render import GPU_DISCOVERY_SCRIPT, SPARK_UID, WHEEL_LAUNCHER, rapids_plugins
from kubricks.spark.attempt import ATTEMPT_LABEL, JOB_LABEL, MANAGED_BY, Attempt, attempt_metadata, owner_reference
from kubricks.spark.queues import (
    Demand,
    Role,
    gang_annotations,
    pod_groups,
    queue_kinds,
    queue_labels,
    scheduler_name,
)
from kubricks.spark.ui import UI_PORT, event_log_properties, monitoring_properties, ui_kinds, ui_resources

# libyaml's emitter where PyYAML has it: one template per attempt, written many times faster.
SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SPARK_CONF_DIR = "/opt/spark/conf"
PROPERTIES_FILE = "spark.properties"
EXECUTOR_TEMPLATE_FILE = "executor-pod-template.yaml"
DRIVER_CONTAINER = "spark-kubernetes-driver"
EXECUTOR_CONTAINER = "spark-kubernetes-executor"
DRIVER_PORT = 7078
BLOCK_MANAGER_PORT = 7079
LOCAL_DIR = "/var/data/spark-local"
PYTHON_RUNNER = "org.apache.spark.deploy.PythonRunner"
MASTER = "k8s://https://kubernetes.default.svc:443"
MIN_OVERHEAD_MIB = 384
JVM_OVERHEAD_FACTOR = 0.1
NON_JVM_OVERHEAD_FACTOR = 0.4
GPU_RESOURCE = "nvidia.com/gpu"
GPU_VENDOR = "nvidia.com"

SERVICE_ACCOUNT = "kubricks-spark"

# What the Pod Security Standards' restricted level asks of every pod; a job's securityContext and
# podSecurityContext merge over these, and the namespace's level bounds how far (kubricks.spark.admission).
RESTRICTED_POD_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    # The image's USER: kubricks' images name it by number, others (apache/spark) by name, which the kubelet
    # cannot check runAsNonRoot against.
    "runAsUser": SPARK_UID,
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
}


def overhead_mib(spec: PodSpec, memory_mib: int, non_jvm: bool) -> int:
    if spec.memory_overhead:
        return memory_bytes(spec.memory_overhead) // 2**20
    factor = NON_JVM_OVERHEAD_FACTOR if non_jvm else JVM_OVERHEAD_FACTOR
    return max(int(factor * memory_mib), MIN_OVERHEAD_MIB)


def pod_memory_mib(spec: PodSpec, job: SparkJob) -> int:
    """A driver's or an executor's memory request (and limit): the JVM's memory and its overhead."""
    memory_mib = memory_bytes(spec.memory) // 2**20
    return memory_mib + overhead_mib(spec, memory_mib, is_python(job))


def initial_executors(kubernetes: KubernetesTarget) -> int:
    """How many executors Spark starts with: spec.kubernetes.executor.instances, within dynamic allocation's
    bounds when it is on."""
    allocation, instances = kubernetes.dynamic_allocation, kubernetes.executor.instances
    if not allocation.enabled:
        return instances
    return min(max(instances, allocation.min_executors), allocation.max_executors)


def cpu_request(spec: PodSpec) -> str:
    """The pod's CPU request, as Spark's feature steps set it: spark.kubernetes.<role>.request.cores, else the cores."""
    return spec.core_request or str(spec.cores)


def is_python(job: SparkJob) -> bool:
    app = job.spec.app
    return app.wheel is not None or (app.main_application_file or "").endswith(".py")


def main_resource(job: SparkJob) -> tuple[str, str, list[str]]:
    """(main class, resource, arguments) as spark-submit passes them to the driver."""
    app = job.spec.app
    if app.wheel:
        return (
            PYTHON_RUNNER,
            f"local://{WHEEL_LAUNCHER}",
            [app.wheel.package_name, app.wheel.entry_point, *app.arguments],
        )
    resource = app.main_application_file or ""
    if resource.endswith(".py"):
        return PYTHON_RUNNER, resource, list(app.arguments)
    return app.main_class or "", resource, list(app.arguments)


def _merged(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` over ``defaults``, field by field, one level deep: capabilities.add leaves the default drop."""
    # A copy all the way down: pods rendered from one job must share no object with each other or the defaults.
    merged = copy.deepcopy(dict(defaults))
    for key, value in overrides.items():
        merged[key] = {**defaults[key], **value} if isinstance(defaults.get(key), dict) else value
    return merged


def _security_context(
    defaults: Mapping[str, Any], template: Mapping[str, Any] | None, own: ApiModel | None
) -> dict[str, Any]:
    """kubricks' restricted defaults, under a template's settings, under the job's own fields."""
    return _merged(_merged(defaults, template or {}), own.to_json() if own else {})


def pod_security_context(spec: PodSettings) -> dict[str, Any]:
    """The pod's securityContext: the restricted defaults, the template's, then the job's podSecurityContext."""
    template_spec = (spec.template or {}).get("spec") or {}
    return _security_context(
        RESTRICTED_POD_SECURITY_CONTEXT, template_spec.get("securityContext"), spec.pod_security_context
    )


def container_security_context(spec: PodSettings) -> dict[str, Any]:
    """The Spark container's securityContext: the restricted defaults, the template's Spark container's, then the
    job's securityContext."""
    return _security_context(
        RESTRICTED_CONTAINER_SECURITY_CONTEXT,
        template_spark_container(spec).get("securityContext"),
        spec.security_context,
    )


def template_spark_container(spec: PodSettings) -> dict[str, Any]:
    """The template's first container, which Spark builds its own on."""
    containers = ((spec.template or {}).get("spec") or {}).get("containers") or [{}]
    return dict(containers[0])


def service_account(job: SparkJob) -> str:
    kubernetes = job.spec.kubernetes
    return (kubernetes.service_account if kubernetes else "") or SERVICE_ACCOUNT


def pull_secrets(job: SparkJob, image_pull_secret: str | None) -> list[str]:
    return [s for s in (job.spec.image.pull_secret or image_pull_secret,) if s]


@dataclass(frozen=True)
class Submission:
    """What one attempt's driver is rendered from; each option below reads the part it needs."""

    job: SparkJob
    kubernetes: KubernetesTarget
    attempt: Attempt
    image: str
    pull_secrets: list[str]
    rapids: str | None = None
    """The RAPIDS Accelerator version the image carries."""
    spark_config: Mapping[str, str] = field(default_factory=dict)
    """The files of spec.kubernetes.sparkConfigMap, by name."""

    @classmethod
    def of(
        cls,
        job: SparkJob,
        attempt: Attempt,
        image: str,
        image_pull_secret: str | None,
        rapids: str | None = None,
        spark_config: Mapping[str, str] | None = None,
    ) -> "Submission":
        if job.spec.kubernetes is None:
            raise ValueError("spec.kubernetes is not set: this SparkJob targets Databricks")
        return cls(
            job, job.spec.kubernetes, attempt, image, pull_secrets(job, image_pull_secret), rapids, spark_config or {}
        )

    # Each is read by most options below: merged once per submission, not once per read.
    @cached_property
    def driver(self) -> PodSpec:
        return self._scheduled("driver")

    @cached_property
    def executor(self) -> PodSpec:
        return self._scheduled("executor")

    @cached_property
    def demands(self) -> dict[Role, Demand]:
        """What the driver and the executors Spark starts with request, for a gang scheduler."""
        driver, executor = self.kubernetes.settings("driver"), self.kubernetes.settings("executor")
        return {
            "driver": Demand(cpu_request(driver), pod_memory_mib(driver, self.job), 1),
            "executor": Demand(
                cpu_request(executor), pod_memory_mib(executor, self.job), initial_executors(self.kubernetes)
            ),
        }

    def _scheduled(self, role: Role) -> PodSpec:
        """The role's settings with what its queue and batch scheduler add: ours win over the user's labels and
        annotations."""
        spec = self.kubernetes.settings(role)
        labels = queue_labels(self.kubernetes)
        annotations = gang_annotations(self.kubernetes, self.attempt, role, self.demands)
        scheduler = scheduler_name(self.kubernetes)
        if not (labels or annotations or scheduler):
            return spec
        return spec.model_copy(
            update={
                "labels": {**spec.labels, **labels},
                "annotations": {**spec.annotations, **annotations},
                "scheduler_name": scheduler or spec.scheduler_name,
            }
        )

    def roles(self) -> tuple[tuple[str, PodSpec], tuple[str, PodSpec]]:
        return ("driver", self.driver), ("executor", self.executor)


# --- spark.properties, one option per concern ------------------------------------------------------------


def _application(s: Submission) -> dict[str, str]:
    return {
        "spark.master": MASTER,
        "spark.submit.deployMode": "cluster",
        "spark.app.name": s.job.metadata.get("name", s.attempt.job),
        "spark.app.id": s.attempt.app_id,
        "spark.kubernetes.namespace": s.attempt.namespace,
        "spark.kubernetes.submitInDriver": "true",
    }


def _names_and_labels(s: Submission) -> dict[str, str]:
    return {
        "spark.kubernetes.driver.pod.name": s.attempt.driver_pod,
        "spark.kubernetes.executor.podNamePrefix": s.attempt.prefix,
        f"spark.kubernetes.executor.label.{JOB_LABEL}": s.attempt.job,
        f"spark.kubernetes.executor.label.{ATTEMPT_LABEL}": str(s.attempt.number),
    }


SPARK_PULL_POLICY = "IfNotPresent"
"""Spark's default pull policy, which spark-submit leaves unwritten."""


def _image(s: Submission) -> dict[str, str]:
    conf = {"spark.kubernetes.container.image": s.image}
    if s.job.spec.image.pull_policy != SPARK_PULL_POLICY:
        conf["spark.kubernetes.container.image.pullPolicy"] = s.job.spec.image.pull_policy
    if s.pull_secrets:
        conf["spark.kubernetes.container.image.pullSecrets"] = ",".join(s.pull_secrets)
    return conf


def _language(s: Submission) -> dict[str, str]:
    non_jvm = is_python(s.job)
    return {
        "spark.kubernetes.resource.type": "python" if non_jvm else "java",
        "spark.kubernetes.memoryOverheadFactor": str(NON_JVM_OVERHEAD_FACTOR if non_jvm else JVM_OVERHEAD_FACTOR),
    }


def _driver_endpoint(s: Submission) -> dict[str, str]:
    """Where the executors reach the driver: its headless Service; and who the driver acts as."""
    return {
        "spark.driver.host": f"{s.attempt.service}.{s.attempt.namespace}.svc",
        "spark.driver.port": str(DRIVER_PORT),
        "spark.driver.blockManager.port": str(BLOCK_MANAGER_PORT),
        "spark.kubernetes.authenticate.driver.serviceAccountName": service_account(s.job),
    }


def _sizes(s: Submission) -> dict[str, str]:
    driver, executor = s.driver, s.kubernetes.executor
    return {
        "spark.driver.cores": str(driver.cores),
        "spark.driver.memory": driver.memory,
        "spark.executor.instances": str(executor.instances),
        "spark.executor.cores": str(executor.cores),
        "spark.executor.memory": executor.memory,
        "spark.local.dir": LOCAL_DIR,
    }


def _pod_resources(s: Submission) -> dict[str, str]:
    """spark.{role}.cores stay the task slots; these size the pods (the driver creates the executors)."""
    conf = {}
    for role, spec in s.roles():
        if spec.core_request:
            conf[f"spark.kubernetes.{role}.request.cores"] = spec.core_request
        if spec.core_limit:
            conf[f"spark.kubernetes.{role}.limit.cores"] = spec.core_limit
        if spec.memory_overhead:
            conf[f"spark.{role}.memoryOverhead"] = spec.memory_overhead
    return conf


def _gpus(s: Submission) -> dict[str, str]:
    conf = {}
    for role, spec in s.roles():
        if spec.gpus:
            conf[f"spark.{role}.resource.gpu.amount"] = str(spec.gpus)
            conf[f"spark.{role}.resource.gpu.vendor"] = GPU_VENDOR
            conf[f"spark.{role}.resource.gpu.discoveryScript"] = GPU_DISCOVERY_SCRIPT
    executor = s.executor
    if executor.gpus:
        conf["spark.task.resource.gpu.amount"] = f"{executor.gpus / executor.cores:g}"
    return conf


def _executor_pods(s: Submission) -> dict[str, str]:
    """What the driver puts on the executor pods it creates through Spark's own settings; what Spark has no setting
    for (securityContexts, volumes, env from Secrets, affinity, containers...) the executor pod template carries,
    which also wins over any template the user's sparkConf names."""
    executor = s.executor
    conf = {}
    for key, value in executor.labels.items():
        conf[f"spark.kubernetes.executor.label.{key}"] = value
    for key, value in executor.annotations.items():
        conf[f"spark.kubernetes.executor.annotation.{key}"] = value
    for key, value in executor.node_selector.items():
        conf[f"spark.kubernetes.executor.node.selector.{key}"] = value
    for key, value in executor.env.items():
        conf[f"spark.executorEnv.{key}"] = value
    conf["spark.kubernetes.executor.podTemplateFile"] = f"{SPARK_CONF_DIR}/{EXECUTOR_TEMPLATE_FILE}"
    return conf


def _java_options(s: Submission) -> dict[str, str]:
    return {f"spark.{role}.extraJavaOptions": spec.java_options for role, spec in s.roles() if spec.java_options}


DEPENDENCY_PROPERTIES = {
    "jars": "spark.jars",
    "files": "spark.files",
    "py_files": "spark.submit.pyFiles",
    "archives": "spark.archives",
    "packages": "spark.jars.packages",
    "exclude_packages": "spark.jars.excludes",
    "repositories": "spark.jars.repositories",
}
IVY_DIR = f"{LOCAL_DIR}/ivy"
"""Where the driver resolves packages: the image's user may have no writable home, and the root file system may
be read-only."""


def _monitoring(s: Submission) -> dict[str, str]:
    """Spark names its metrics after the application id unless told otherwise, so every attempt would start new
    series; the job's name keeps them one, unless the job names its own."""
    properties = monitoring_properties(s.kubernetes)
    if properties and METRICS_NAMESPACE not in s.job.spec.app.spark_conf:
        properties[METRICS_NAMESPACE] = s.attempt.job
    return properties


METRICS_NAMESPACE = "spark.metrics.namespace"


def _event_log(s: Submission) -> dict[str, str]:
    return event_log_properties(s.kubernetes)


def _dependencies(s: Submission) -> dict[str, str]:
    """spec.kubernetes.deps as spark-submit's --jars, --files, ... would set them; the driver fetches them."""
    deps = s.kubernetes.deps
    conf = {key: ",".join(getattr(deps, name)) for name, key in DEPENDENCY_PROPERTIES.items() if getattr(deps, name)}
    if deps.packages:
        conf["spark.jars.ivy"] = IVY_DIR
    return conf


def _rapids(s: Submission) -> dict[str, str]:
    """A GPU job whose image carries the RAPIDS Accelerator turns it on; the GPU resources it needs are set by
    _gpus. Without this the jar sits on the classpath and the GPUs stay idle."""
    if not (s.rapids and (s.kubernetes.executor.gpus or s.kubernetes.driver.gpus)):
        return {}
    return {"spark.plugins": rapids_plugins(s.job.spec.app.spark_conf.get("spark.plugins"))}


def _dynamic_allocation(s: Submission) -> dict[str, str]:
    allocation = s.kubernetes.dynamic_allocation
    if not allocation.enabled:
        return {}
    return {
        "spark.dynamicAllocation.enabled": "true",
        "spark.dynamicAllocation.shuffleTracking.enabled": "true",
        "spark.dynamicAllocation.minExecutors": str(allocation.min_executors),
        "spark.dynamicAllocation.maxExecutors": str(allocation.max_executors),
        "spark.dynamicAllocation.initialExecutors": str(initial_executors(s.kubernetes)),
    }


PROPERTY_OPTIONS: tuple[Callable[[Submission], dict[str, str]], ...] = (
    _executor_pods,
    _application,
    _names_and_labels,
    _image,
    _language,
    _driver_endpoint,
    _sizes,
    _pod_resources,
    _gpus,
    _rapids,
    _dynamic_allocation,
    _java_options,
    _dependencies,
    _monitoring,
    _event_log,
)
"""Applied in order over app.sparkConf: the user's executor labels first, so kubricks' own names and labels,
which it finds the pods by, win over anything a user sets."""


def spark_properties(submission: Submission) -> dict[str, str]:
    """The spark.properties the driver reads, as spark-submit's cluster mode would write it: the sparkConfigMap's
    spark-defaults.conf, under the job's configuration, under what kubricks sets."""
    defaults = parse_properties(submission.spark_config.get(SPARK_DEFAULTS_FILE, ""))
    properties: dict[str, str] = {**defaults, **submission.job.spec.app.conf()}
    for option in PROPERTY_OPTIONS:
        properties.update(option(submission))
    return dict(sorted(properties.items()))


SPARK_DEFAULTS_FILE = "spark-defaults.conf"


def parse_properties(text: str) -> dict[str, str]:
    """spark-defaults.conf as Spark reads it: one property per line, the key ending at the first blank, = or :,
    # and ! lines comments."""
    properties = {}
    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry[0] in "#!":
            continue
        entry_match = PROPERTY_ENTRY.fullmatch(entry)
        if entry_match:
            properties[entry_match["key"]] = entry_match["value"]
    return properties


PROPERTY_ENTRY = re.compile(r"(?P<key>[^\s=:]+)(\s*[=:]\s*|\s+)?(?P<value>.*)")


JAVA_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}


def java_escaped(text: str, *, key: bool) -> str:
    """``text`` as java.util.Properties.store writes it: a line break of any kind (\\r included) can never
    start a property of its own, whatever a user puts in a value."""
    out = []
    for index, char in enumerate(text):
        if char in JAVA_ESCAPES:
            out.append(JAVA_ESCAPES[char])
        elif char == " " and (key or index == 0):
            out.append("\\ ")
        elif char in "=:#!":
            out.append("\\" + char)
        elif not " " <= char <= "~":
            out.append(_unicode_escaped(char))
        else:
            out.append(char)
    return "".join(out)


def _unicode_escaped(char: str) -> str:
    units = char.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2))


def render_properties(properties: dict[str, str]) -> str:
    """Java properties format, as java.util.Properties reads it."""
    return "".join(f"{java_escaped(k, key=True)}={java_escaped(v, key=False)}\n" for k, v in properties.items())


def _selector(attempt: Attempt) -> dict[str, str]:
    return {"spark-app-selector": attempt.app_id, "spark-role": "driver"}


def _tolerations(spec: PodSettings) -> list[dict[str, Any]]:
    return [t.to_json() for t in spec.tolerations]


# --- what the driver and the executor pods share -------------------------------------------------------------


def env_list(env: Mapping[str, str], value_from: Mapping[str, ApiModel]) -> list[dict[str, Any]]:
    """A container's env as Kubernetes lists it: the literal values, then those taken from elsewhere, by name."""
    return [
        *({"name": name, "value": value} for name, value in sorted(env.items())),
        *({"name": name, "valueFrom": source.to_json()} for name, source in sorted(value_from.items())),
    ]


def _spark_container_extras(spec: PodSettings) -> dict[str, Any]:
    """What the job adds to the Spark container beyond kubricks' own: env from Secrets, ConfigMaps and the pod,
    and its volumes."""
    return {
        "envFrom": [source.to_json() for source in spec.env_from],
        "volumeMounts": [mount.to_json() for mount in spec.volume_mounts],
    }


def user_container(container: Container, image: str) -> dict[str, Any]:
    """A sidecar or an init container: the job's image by default, restricted like the Spark container."""
    fields = container.to_json()
    fields.update(
        image=container.image or image,
        env=env_list(container.env, container.env_value_from),
        securityContext=_security_context(RESTRICTED_CONTAINER_SECURITY_CONTEXT, None, container.security_context),
    )
    fields.pop("envValueFrom", None)
    return _without_empty(fields)


def _mounted_volumes(s: Submission, spec: PodSettings) -> list[dict[str, Any]]:
    """The job's volumes that this pod's containers mount: one the pod does not use (a Secret that only the
    driver reads) is left out of it."""
    containers: list[PodSettings | Container] = [spec, *spec.sidecars, *spec.init_containers]
    used = {mount.name for container in containers for mount in container.volume_mounts}
    return [volume.to_json() for volume in s.kubernetes.volumes if volume.name in used]


def _pod_extras(s: Submission, spec: PodSettings) -> dict[str, Any]:
    """The pod-level fields a job may set that Spark has no setting for."""
    return {
        "affinity": spec.affinity.to_json() if spec.affinity else None,
        "tolerations": _tolerations(spec),
        "priorityClassName": spec.priority_class_name,
        "schedulerName": spec.scheduler_name,
        "terminationGracePeriodSeconds": spec.termination_grace_period_seconds,
        "hostAliases": [alias.to_json() for alias in spec.host_aliases],
        "dnsConfig": spec.dns_config.to_json() if spec.dns_config else None,
        "initContainers": [user_container(c, s.image) for c in spec.init_containers],
        "volumes": _mounted_volumes(s, spec),
    }


def over_template(template: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, Any]:
    """``ours`` over a template, as Spark builds its pods on a pod template file: maps merged (ours win), lists
    added up (the template's first), any other value ours."""
    merged = copy.deepcopy(dict(template))
    for key, value in ours.items():
        theirs = template.get(key)
        if isinstance(value, dict) and isinstance(theirs, dict):
            merged[key] = over_template(theirs, value)
        elif isinstance(value, list) and isinstance(theirs, list):
            merged[key] = [*theirs, *value]
        else:
            merged[key] = value
    return merged


def on_template(spec: PodSettings, pod: dict[str, Any]) -> dict[str, Any]:
    """A pod built on the job's template: its first container is the Spark container (ours merged over it), its
    other containers stay beside it, before the job's sidecars. The securityContexts already hold the template's
    (under the job's own), so they are taken as they are: merging again would repeat lists like supplementalGroups."""
    template = spec.template or {}
    if not template:
        return pod
    template_spec = dict(template.get("spec") or {})
    template_containers = template_spec.pop("containers", None) or [{}]
    spark, *sidecars = pod["spec"]["containers"]
    spark_container = {**over_template(template_containers[0], spark), "securityContext": spark["securityContext"]}
    template_metadata = template.get("metadata") or {}
    labels_and_annotations = {k: template_metadata[k] for k in ("labels", "annotations") if k in template_metadata}
    spec_fields = {
        **over_template(template_spec, pod["spec"]),
        "securityContext": pod["spec"]["securityContext"],
        "containers": [spark_container, *template_containers[1:], *sidecars],
    }
    return {**pod, "metadata": over_template(labels_and_annotations, pod["metadata"]), "spec": spec_fields}


# --- the executors ---------------------------------------------------------------------------------------------


def executor_pod_template(s: Submission) -> dict[str, Any]:
    """What Spark has no setting for, the executor pod template carries: securityContexts, volumes, env from
    elsewhere, affinity, containers. Spark builds the executor container on the template's first one."""
    executor = s.executor
    spark_container = {
        "name": EXECUTOR_CONTAINER,
        "env": env_list({}, executor.env_value_from),
        **_spark_container_extras(executor),
        "securityContext": container_security_context(executor),
    }
    spec = {
        "securityContext": pod_security_context(executor),
        **_pod_extras(s, executor),
        "containers": [_without_empty(spark_container), *(user_container(c, s.image) for c in executor.sidecars)],
    }
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": _without_empty(spec)}
    return _without_empty(on_template(executor, pod))


SPARK_CONFIG_VOLUME_FILES = (PROPERTIES_FILE, EXECUTOR_TEMPLATE_FILE, SPARK_DEFAULTS_FILE)
"""Files of the driver's conf directory that kubricks writes; a sparkConfigMap's own of these names are left out
(its spark-defaults.conf is read into spark.properties)."""


def config_map(s: Submission) -> dict[str, Any]:
    data = {
        PROPERTIES_FILE: render_properties(spark_properties(s)),
        EXECUTOR_TEMPLATE_FILE: yaml.dump(executor_pod_template(s), Dumper=SafeDumper, sort_keys=False),
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": attempt_metadata(s.attempt.config_map, s.attempt, owner_reference(s.job, s.attempt.uid)),
        "data": data,
        # As Spark's own: each attempt has its own, never changed, so the kubelet need not watch it.
        "immutable": True,
    }


# --- the driver pod, one option per part -------------------------------------------------------------------


def _driver_resources(s: Submission) -> dict[str, Any]:
    """As BasicDriverFeatureStep: a CPU limit only when one is set; the memory limit is the request."""
    driver, memory = s.driver, f"{pod_memory_mib(s.driver, s.job)}Mi"
    limits: dict[str, str] = {"cpu": driver.core_limit} if driver.core_limit else {}
    limits["memory"] = memory
    if driver.gpus:
        limits[GPU_RESOURCE] = str(driver.gpus)
    return {"requests": {"cpu": cpu_request(driver), "memory": memory}, "limits": limits}


def _driver_env(s: Submission) -> list[dict[str, Any]]:
    return [
        {"name": "SPARK_USER", "value": "spark"},
        {"name": "SPARK_APPLICATION_ID", "value": s.attempt.app_id},
        {
            "name": "SPARK_DRIVER_BIND_ADDRESS",
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
        },
        {"name": "SPARK_LOCAL_DIRS", "value": LOCAL_DIR},
        {"name": "SPARK_CONF_DIR", "value": SPARK_CONF_DIR},
        *env_list(s.driver.env, s.driver.env_value_from),
    ]


def _driver_args(s: Submission) -> list[str]:
    main_class, resource, arguments = main_resource(s.job)
    properties = f"{SPARK_CONF_DIR}/{PROPERTIES_FILE}"
    return ["driver", "--properties-file", properties, "--class", main_class, resource, *arguments]


def _driver_container(s: Submission) -> dict[str, Any]:
    extras = _spark_container_extras(s.driver)
    return _without_empty(
        {
            "name": DRIVER_CONTAINER,
            "image": s.image,
            "imagePullPolicy": s.job.spec.image.pull_policy,
            "args": _driver_args(s),
            "ports": [
                {"name": "driver-rpc-port", "containerPort": DRIVER_PORT, "protocol": "TCP"},
                {"name": "blockmanager", "containerPort": BLOCK_MANAGER_PORT, "protocol": "TCP"},
                {"name": "spark-ui", "containerPort": UI_PORT, "protocol": "TCP"},
            ],
            "env": _driver_env(s),
            "envFrom": extras["envFrom"],
            "resources": _driver_resources(s),
            "securityContext": container_security_context(s.driver),
            # A failed driver's last log lines become its termination message, and so the job's.
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "volumeMounts": [
                {"name": "spark-conf-volume-driver", "mountPath": SPARK_CONF_DIR},
                {"name": "spark-local-dir-1", "mountPath": LOCAL_DIR},
                *extras["volumeMounts"],
            ],
        }
    )


def _driver_metadata(s: Submission) -> dict[str, Any]:
    """The user's labels first: the selector labels the Service and the operator find the driver by win."""
    driver, attempt = s.driver, s.attempt
    labels = {
        **driver.labels,
        "spark-app-selector": attempt.app_id,
        "spark-role": "driver",
        "spark-app-name": _app_name_label(s.job.metadata.get("name", attempt.job)),
    }
    metadata = attempt_metadata(attempt.driver_pod, attempt, owner_reference(s.job, attempt.uid), labels)
    annotations = {key: _with_application_id(value, attempt.app_id) for key, value in driver.annotations.items()}
    return _without_empty({**metadata, "annotations": annotations})


def _with_application_id(annotation: str, app_id: str) -> str:
    """A driver annotation as Spark writes it: {{APP_ID}} names the application, {{EXECUTOR_ID}} nothing (the
    executors' annotations Spark substitutes itself)."""
    return annotation.replace("{{APP_ID}}", app_id).replace("{{EXECUTOR_ID}}", "")


def _conf_volume(s: Submission) -> dict[str, Any]:
    """The driver's conf directory: kubricks' ConfigMap, and with a sparkConfigMap, its files beside."""
    ours: dict[str, Any] = {"name": s.attempt.config_map}
    theirs = s.kubernetes.spark_config_map
    if not theirs:
        return {"name": "spark-conf-volume-driver", "configMap": {**ours, "defaultMode": 420}}
    files = sorted(name for name in s.spark_config if name not in SPARK_CONFIG_VOLUME_FILES)
    sources: list[dict[str, Any]] = [{"configMap": ours}]
    if files:
        sources.append({"configMap": {"name": theirs, "items": [{"key": name, "path": name} for name in files]}})
    return {"name": "spark-conf-volume-driver", "projected": {"sources": sources, "defaultMode": 420}}


def _driver_spec(s: Submission) -> dict[str, Any]:
    driver = s.driver
    extras = _pod_extras(s, driver)
    return _without_empty(
        {
            "restartPolicy": "Never",
            "serviceAccountName": service_account(s.job),
            "securityContext": pod_security_context(driver),
            "imagePullSecrets": [{"name": secret} for secret in s.pull_secrets],
            "nodeSelector": dict(driver.node_selector),
            **extras,
            "containers": [_driver_container(s), *(user_container(c, s.image) for c in driver.sidecars)],
            "volumes": [_conf_volume(s), {"name": "spark-local-dir-1", "emptyDir": {}}, *extras["volumes"]],
        }
    )


def driver_pod(s: Submission) -> dict[str, Any]:
    pod = on_template(
        s.driver, {"apiVersion": "v1", "kind": "Pod", "metadata": _driver_metadata(s), "spec": _driver_spec(s)}
    )
    # Last, as Spark's submission client adds it: the kubelet starts containers in order, each after the one before's
    # postStart hook, so a sidecar whose hook waits until it serves is up before the driver starts.
    spark, *others = pod["spec"]["containers"]
    if not others:
        return pod
    # Then kubectl logs and exec, which otherwise pick the first container, a sidecar, still mean the driver.
    annotations = {**pod["metadata"].get("annotations", {}), DEFAULT_CONTAINER_ANNOTATION: DRIVER_CONTAINER}
    return {
        **pod,
        "metadata": {**pod["metadata"], "annotations": annotations},
        "spec": {**pod["spec"], "containers": [*others, spark]},
    }


DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"


def _without_empty(fields: dict[str, Any]) -> dict[str, Any]:
    """Leaves out optional fields with nothing in them, as the API server would not store them either."""
    return {key: value for key, value in fields.items() if value not in ({}, [], None, "")}


def _app_name_label(name: str) -> str:
    """Spark's spark-app-name label: the app name made a valid label value."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name.lower())
    return cleaned[:63].strip("-_.") or "spark"


def driver_service(job: SparkJob, attempt: Attempt) -> dict[str, Any]:
    """The driver's headless Service; the job's serviceLabels first, so the operator's own win."""
    driver = job.spec.kubernetes.driver if job.spec.kubernetes else DriverSpec()
    metadata = attempt_metadata(attempt.service, attempt, owner_reference(job, attempt.uid))
    metadata["labels"] = {**driver.service_labels, **metadata["labels"]}
    if driver.service_annotations:
        metadata["annotations"] = dict(driver.service_annotations)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "clusterIP": "None",
            "selector": _selector(attempt),
            "ports": [
                {"name": "driver-rpc-port", "port": DRIVER_PORT, "targetPort": DRIVER_PORT, "protocol": "TCP"},
                {
                    "name": "blockmanager",
                    "port": BLOCK_MANAGER_PORT,
                    "targetPort": BLOCK_MANAGER_PORT,
                    "protocol": "TCP",
                },
                {"name": "spark-ui", "port": UI_PORT, "targetPort": UI_PORT, "protocol": "TCP"},
            ],
        },
    }


def driver_rbac(namespace: str) -> list[dict[str, Any]]:
    """The service account kubricks manages per namespace: the driver may manage executors, nothing else."""
    metadata = {"name": SERVICE_ACCOUNT, "namespace": namespace, "labels": dict(MANAGED_BY)}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata,
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["pods", "services", "configmaps", "persistentvolumeclaims"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SERVICE_ACCOUNT},
            "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": namespace}],
        },
    ]


def attempt_resources(
    job: SparkJob,
    attempt: Attempt,
    image: str,
    image_pull_secret: str | None,
    rapids: str | None = None,
    spark_config: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Everything one attempt creates, in creation order: the driver pod last, when its conf exists. ``rapids``
    is the RAPIDS Accelerator version the image carries, which a GPU job turns on; ``spark_config`` the files of
    the job's sparkConfigMap."""
    s = Submission.of(job, attempt, image, image_pull_secret, rapids, spark_config)
    resources = [] if s.kubernetes.service_account else driver_rbac(attempt.namespace)
    shown = ui_resources(job, s.kubernetes, attempt)
    groups = pod_groups(
        s.kubernetes, attempt, owner_reference(job, attempt.uid), s.demands, s.driver.priority_class_name
    )
    return [*resources, config_map(s), driver_service(job, attempt), *shown, *groups, driver_pod(s)]


def optional_kinds(kubernetes: KubernetesTarget) -> list[tuple[str, str]]:
    """(apiVersion, kind) of the objects beyond pods, Services and ConfigMaps that the job's attempts make, which
    an ended attempt's clean-up deletes too."""
    return [*ui_kinds(kubernetes), *queue_kinds(kubernetes)]
